//! Shared helpers: deterministic sample data and library round trips.

use std::io::{Cursor, Read, Seek, SeekFrom};

use sigmalang::decode::Decoder;
use sigmalang::pipeline::{ChunkSize, Encoder, EncoderConfig, ReadMode};
use sigmalang::Level;

/// Deterministic pseudo-random bytes.
pub fn random_bytes(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// Text-like data: words, numbers and newlines with some repetition.
pub fn text_bytes(n: usize, seed: u64) -> Vec<u8> {
    const WORDS: &[&str] = &[
        "alpha", "beta", "gamma", "delta", "stream", "glyph", "frame", "the", "of", "and", "é", "Σ",
    ];
    let r = random_bytes(n / 3 + 16, seed);
    let mut out = Vec::with_capacity(n + 16);
    let mut i = 0;
    while out.len() < n {
        let b = r[i % r.len()] as usize;
        out.extend_from_slice(WORDS[b % WORDS.len()].as_bytes());
        out.push(if b.is_multiple_of(9) { b'\n' } else { b' ' });
        if b.is_multiple_of(17) {
            out.extend_from_slice(format!("{} ", b * 31).as_bytes());
        }
        i += 1;
    }
    out.truncate(n);
    out
}

/// A mix of text, binary records, runs and noise.
pub fn mixed_bytes(n: usize, seed: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(n);
    let mut part = 0u64;
    while out.len() < n {
        let len = 1000 + (seed.wrapping_add(part) % 7) as usize * 3000;
        match part % 4 {
            0 => out.extend(text_bytes(len, seed + part)),
            1 => out.extend(random_bytes(len, seed + part)),
            2 => out.extend(std::iter::repeat_n((part % 256) as u8, len)),
            _ => out.extend((0..len as u32).flat_map(|i| (i / 3).to_le_bytes())),
        }
        part += 1;
    }
    out.truncate(n);
    out
}

/// Encoder settings with a fixed chunk size.
pub fn config(level: u8, chunk: u64, threads: usize, read_mode: ReadMode) -> EncoderConfig {
    EncoderConfig {
        level: Level::new(level).unwrap(),
        chunk_size: ChunkSize::Fixed(chunk),
        threads,
        read_mode,
        memory_limit: Some(1 << 30),
        ..EncoderConfig::default()
    }
}

/// Streams `data` through the pipeline's reader path.
pub fn encode_reader(data: &[u8], level: u8, chunk: u64, threads: usize) -> Vec<u8> {
    let enc = Encoder::new(config(level, chunk, threads, ReadMode::Read)).unwrap();
    let mut out = Vec::new();
    enc.encode_reader(
        Cursor::new(data),
        Some(data.len() as u64),
        &mut out,
        &|_| {},
    )
    .unwrap();
    out
}

/// Decodes with the streaming decoder.
pub fn decode_stream(stream: &[u8], threads: usize) -> sigmalang::Result<Vec<u8>> {
    let dec = Decoder::new(threads).unwrap();
    let mut out = Vec::new();
    dec.decode(Cursor::new(stream), &mut out, &|_| {})?;
    Ok(out)
}

/// A reader that counts the bytes read through it.
pub struct CountingReader<R> {
    inner: R,
    read: u64,
}

impl<R> CountingReader<R> {
    /// Wraps `inner`.
    pub fn new(inner: R) -> Self {
        Self { inner, read: 0 }
    }

    /// Bytes read so far.
    pub fn bytes_read(&self) -> u64 {
        self.read
    }
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        Ok(n)
    }
}

impl<R: Seek> Seek for CountingReader<R> {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        self.inner.seek(pos)
    }
}

/// The JSON lines of a batch manifest part (decoded when it is a `.sigma` stream, as
/// parts are written; plain when an earlier version wrote it).
pub fn read_manifest_part(part: &std::path::Path) -> String {
    let bytes = std::fs::read(part).unwrap();
    let text = if bytes.starts_with(&[0xFF, 0x7E]) {
        sigmalang::memory::decode(&bytes).unwrap().data
    } else {
        bytes
    };
    String::from_utf8(text).unwrap()
}

/// Writes `text` as a batch manifest part, encoded as batch encode writes it.
pub fn write_manifest_part(part: &std::path::Path, text: &str) {
    let stream =
        sigmalang::memory::encode(text.as_bytes(), sigmalang::Level::DEFAULT, 256 << 10).unwrap();
    std::fs::write(part, stream).unwrap();
}
