//! A sparse file larger than 4 GiB: 64-bit offsets through every read path.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom, Write};

use sigmalang::decode::{self, Decoder};
use sigmalang::pipeline::{Encoder, ReadMode};

use crate::util::*;

/// Compares everything written with a reader's content.
struct Compare<R: Read> {
    expected: R,
    offset: u64,
    buf: Vec<u8>,
}

impl<R: Read> Write for Compare<R> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.resize(data.len(), 0);
        self.expected.read_exact(&mut self.buf)?;
        if self.buf != data {
            return Err(std::io::Error::other(format!(
                "mismatch near byte {}",
                self.offset
            )));
        }
        self.offset += data.len() as u64;
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn sparse_file_over_4_gib_round_trips_on_every_path() {
    const SIZE: u64 = (4 << 30) + (3 << 20) + 12_345;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sparse.bin");
    let mut f = File::create(&path).unwrap();
    f.set_len(SIZE).unwrap();
    let marks = [0u64, 1 << 31, (1 << 32) - 50_000, SIZE - 70_000];
    for (i, &at) in marks.iter().enumerate() {
        f.seek(SeekFrom::Start(at)).unwrap();
        f.write_all(&mixed_bytes(60_000, i as u64)).unwrap();
    }
    drop(f);

    let chunk = 4 << 20;
    let mut streams = Vec::new();
    for mode in [ReadMode::Mmap, ReadMode::Read] {
        let enc = Encoder::new(config(1, chunk, 2, mode)).unwrap();
        let mut out = Vec::new();
        let stats = enc.encode_file(&path, &mut out, &|_| {}).unwrap();
        assert_eq!(stats.raw_size, SIZE);
        streams.push(out);
    }
    let enc = Encoder::new(config(1, chunk, 2, ReadMode::Read)).unwrap();
    let mut out = Vec::new();
    enc.encode_reader(
        BufReader::new(File::open(&path).unwrap()),
        None,
        &mut out,
        &|_| {},
    )
    .unwrap();
    streams.push(out);
    assert!(
        streams.windows(2).all(|w| w[0] == w[1]),
        "read paths disagree"
    );

    let sigma = dir.path().join("sparse.bin.sigma");
    std::fs::write(&sigma, &streams[0]).unwrap();
    let mut cmp = Compare {
        expected: BufReader::with_capacity(1 << 20, File::open(&path).unwrap()),
        offset: 0,
        buf: Vec::new(),
    };
    let stats = Decoder::new(2)
        .unwrap()
        .decode(File::open(&sigma).unwrap(), &mut cmp, &|_| {})
        .unwrap();
    assert_eq!((stats.raw_size, cmp.offset), (SIZE, SIZE));

    // Random access across the 4 GiB line.
    let (a, b) = ((1u64 << 32) - 40_000, (1u64 << 32) + 10_000);
    let mut got = Vec::new();
    decode::decode_range(&mut File::open(&sigma).unwrap(), a, b, &mut got).unwrap();
    let mut want = vec![0u8; (b - a) as usize];
    let mut f = File::open(&path).unwrap();
    f.seek(SeekFrom::Start(a)).unwrap();
    f.read_exact(&mut want).unwrap();
    assert_eq!(got, want);
}
