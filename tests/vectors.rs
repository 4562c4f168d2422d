//! Golden and conformance vectors: committed streams that every build (and every other
//! conforming decoder, such as `tools/pysigma.py`) must decode to the recorded content or
//! reject, as `tests/vectors/EXPECTED` lists. `SIGMA_WRITE_VECTORS=1 cargo test --release
//! vectors` regenerates them (only when the format version changes).

use std::fmt::Write as _;
use std::io::Cursor;
use std::path::PathBuf;

use sha2::{Digest, Sha256};
use sigmalang::decode;
use sigmalang::format::{self, GlyphType, IndexEntry, Metadata, StreamHeader, Trailer};
use sigmalang::frame::FrameEncoder;
use sigmalang::pipeline::sizing::ChunkSize;
use sigmalang::{memory, Level};

use crate::util::*;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

fn sha256(data: &[u8]) -> String {
    Sha256::digest(data).iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Builds a stream glyph by glyph, keeping the index and trailer consistent.
/// Its streams have frame groups of two: every odd-numbered frame is linked to the frame
/// before it.
struct Builder {
    out: Vec<u8>,
    entries: Vec<IndexEntry>,
    gap: u64,
    content: Vec<u8>,
    enc: FrameEncoder,
    /// The previous frame's bytes.
    prev: Vec<u8>,
    /// Code the next frame with the previous one as history even if it is not linked.
    cross: bool,
}

impl Builder {
    fn new(chunk_size: u64) -> Builder {
        let mut out = Vec::new();
        StreamHeader {
            version: format::VERSION,
            level: Level::DEFAULT,
            chunk_size,
            group: 2,
        }
        .write(&mut out);
        Builder {
            out,
            entries: Vec::new(),
            gap: 0,
            content: Vec::new(),
            enc: FrameEncoder::default(),
            prev: Vec::new(),
            cross: false,
        }
    }

    /// The next frame copies from the one before it even if it starts a group.
    fn crossing(&mut self) -> &mut Self {
        self.cross = true;
        self
    }

    /// A glyph that is not a frame (metadata, unknown).
    fn other(&mut self, glyph: &[u8]) -> &mut Self {
        self.out.extend_from_slice(glyph);
        self.gap += glyph.len() as u64;
        self
    }

    /// A frame as the encoder writes it, passed through `edit` (glyph bytes, entry).
    fn frame_with(
        &mut self,
        data: &[u8],
        level: u8,
        edit: impl FnOnce(&mut Vec<u8>, &mut IndexEntry),
    ) -> &mut Self {
        let mut glyph = Vec::new();
        let linked = self.entries.len() % 2 == 1 || std::mem::take(&mut self.cross);
        let history = if linked { self.prev.len() } else { 0 };
        let window = [&self.prev[..history], data].concat();
        let s = self
            .enc
            .encode(&window, history, Level::new(level).unwrap(), &mut glyph);
        self.prev = data.to_vec();
        let mut entry = IndexEntry {
            gap: self.gap,
            ..s.entry
        };
        edit(&mut glyph, &mut entry);
        entry.encoded_len = glyph.len() as u64;
        self.out.extend_from_slice(&glyph);
        self.entries.push(entry);
        self.content.extend_from_slice(data);
        self.gap = 0;
        self
    }

    fn frame(&mut self, data: &[u8], level: u8) -> &mut Self {
        self.frame_with(data, level, |_, _| {})
    }

    /// Index and trailer; `edit` may change the entries after the frames were written.
    fn finish_with(&mut self, edit: impl FnOnce(&mut Vec<IndexEntry>)) -> Vec<u8> {
        let index_at = self.out.len() as u64;
        let mut entries = self.entries.clone();
        edit(&mut entries);
        let mut out = self.out.clone();
        format::write_index(&mut out, &entries);
        Trailer {
            raw_size: self.content.len() as u64,
            frames: entries.len() as u64,
            index_offset: index_at,
            content_crc: crc32c::crc32c(&self.content),
        }
        .write(&mut out);
        out
    }

    fn finish(&mut self) -> Vec<u8> {
        self.finish_with(|_| {})
    }
}

/// Recomputes a frame glyph's frame CRC after its bytes were edited.
fn fix_frame_crc(glyph: &mut [u8]) {
    let head = format::read_head(glyph, 0).unwrap().unwrap();
    // The raw size varint ends at its first byte without the high bit (even when overlong).
    let pos = head.head_len
        + glyph[head.head_len..]
            .iter()
            .position(|b| b & 0x80 == 0)
            .unwrap()
        + 1;
    let crc_at = pos + 5;
    let crc = crc32c::crc32c_combine(
        crc32c::crc32c(&glyph[..crc_at]),
        crc32c::crc32c(&glyph[crc_at + 4..]),
        glyph.len() - crc_at - 4,
    );
    glyph[crc_at..crc_at + 4].copy_from_slice(&crc.to_le_bytes());
}

fn glyph(which: (GlyphType, u8), payload: &[u8]) -> Vec<u8> {
    let mut g = Vec::new();
    format::write_head(&mut g, which, payload.len() as u64);
    g.extend_from_slice(payload);
    g
}

fn metadata() -> Vec<u8> {
    let mut g = Vec::new();
    Metadata {
        name: b"notes.txt".to_vec(),
        mode: 0o640,
        mtime: 1_764_000_000,
        mtime_nanos: 123_456_789,
    }
    .write(&mut g);
    g
}

enum Expect {
    Decodes(Vec<u8>),
    /// Why, and a phrase our error message must contain.
    Rejects(&'static str, &'static str),
}

/// Every vector: (name, stream, expected outcome).
fn vectors() -> Vec<(&'static str, Vec<u8>, Expect)> {
    use Expect::*;
    let text = text_bytes(20_000, 1);
    let mixed = mixed_bytes(50_000, 2);
    let random = random_bytes(5000, 3);
    let runs = [vec![0u8; 9000], vec![7u8; 3], b"abcabcabcabc".repeat(500)].concat();
    let enc = |d: &[u8], level: u8, chunk: u64| {
        memory::encode(d, Level::new(level).unwrap(), chunk).unwrap()
    };
    let mut v = vec![
        ("empty", enc(b"", 3, 4096), Decodes(Vec::new())),
        (
            "hello",
            enc(b"hello, sigma\n", 3, 4096),
            Decodes(b"hello, sigma\n".to_vec()),
        ),
        ("text-l1", enc(&text, 1, 4096), Decodes(text.clone())),
        ("mixed-l9", enc(&mixed, 9, 16_384), Decodes(mixed.clone())),
        (
            "random-stored",
            enc(&random, 3, 4096),
            Decodes(random.clone()),
        ),
        ("runs-l6", enc(&runs, 6, 8192), Decodes(runs.clone())),
    ];
    let (a, b, c) = (&text[..4000], &text[4000..8000], &mixed[..4000]);
    let abc = [a, b, c].concat();
    // Metadata and unknown glyphs before and between frames (with and without payload,
    // short and escaped ids): skipped, and the index's gaps place the frames.
    let s = Builder::new(4096)
        .other(&metadata())
        .other(&glyph((GlyphType::Delta, 0x13), b"0123456789"))
        .frame(a, 3)
        .other(&[0x85])
        .frame(b, 1)
        .other(&glyph((GlyphType::Primitive, 200), &[0xAA; 300]))
        .other(&[0xDF, 0xC8])
        .frame(c, 9)
        .finish();
    v.push(("meta-and-unknown-glyphs", s, Decodes(abc.clone())));
    let mut concat = enc(a, 3, 4096);
    concat.extend(enc(c, 6, 4096));
    v.push(("concatenated", concat, Decodes([a, c].concat())));
    // Rejected.
    let s = Builder::new(4096)
        .frame_with(a, 3, |g, _| {
            // The frame head FD written with the escape form FF 1D.
            g.splice(0..1, [0xFF, 0x1D]);
        })
        .finish();
    v.push((
        "escaped-small-id",
        s,
        Rejects("escaped id below 31", "escaped"),
    ));
    let s = Builder::new(4096)
        .frame_with(a, 3, |g, _| {
            // The raw size varint (4000 = A0 1F) written as A0 9F 00.
            let head_len = format::read_head(g, 0).unwrap().unwrap().head_len;
            g.splice(head_len..head_len + 2, [0xA0, 0x9F, 0x00]);
            let n = g.len() - 3;
            g.splice(1..3, {
                let mut len = Vec::new();
                format::varint::write(&mut len, n as u64);
                len
            });
            fix_frame_crc(g);
        })
        .finish();
    v.push((
        "overlong-varint",
        s,
        Rejects("varint longer than needed", "shortest encoding"),
    ));
    let s = Builder::new(4096).frame(a, 3).frame(b, 3).finish_with(|e| {
        e[1].glyphs.delta += 1;
        e[1].glyphs.reference -= 1;
    });
    v.push((
        "altered-glyph-counts",
        s,
        Rejects(
            "index glyph counts disagree with the frame",
            "index entries disagree",
        ),
    ));
    let s = Builder::new(4096).frame(a, 3).finish_with(|e| e[0].gap = 1);
    v.push((
        "wrong-gap",
        s,
        Rejects(
            "index gap disagrees with the stream",
            "index entries disagree",
        ),
    ));
    let s = Builder::new(4096)
        .frame(a, 3)
        .other(&metadata())
        .frame(b, 3)
        .finish();
    v.push((
        "metadata-after-a-frame",
        s,
        Rejects("metadata after a frame", "metadata glyph where"),
    ));
    let s = Builder::new(4096)
        .other(&metadata())
        .other(&metadata())
        .frame(a, 3)
        .finish();
    v.push((
        "two-metadata-glyphs",
        s,
        Rejects("second metadata glyph", "metadata glyph where"),
    ));
    let mut s = enc(a, 3, 4096);
    s.extend_from_slice(b"\n");
    v.push((
        "trailing-garbage",
        s,
        Rejects("data after the trailer", "not another stream"),
    ));
    let s = Builder::new(4096)
        .frame_with(&random[..3000], 3, |g, e| {
            // A stored frame whose body is one byte longer than its raw size.
            g.push(0);
            let n = g.len() - 3;
            let mut len = Vec::new();
            format::varint::write(&mut len, n as u64);
            g.splice(1..3, len);
            fix_frame_crc(g);
            e.raw_size = 3000;
        })
        .finish();
    v.push((
        "stored-length-mismatch",
        s,
        Rejects(
            "stored body length is not the raw size",
            "stored frame body",
        ),
    ));
    // Two frames: a stream header, not a compact stream.
    let mut s = enc(&text[..8000], 3, 4096);
    // An extra byte in the stream header before its CRC (CRC recomputed).
    let (_, hl) = StreamHeader::parse(&s).unwrap();
    let mut h = s[..hl - 4].to_vec();
    h[2] += 1;
    h.push(0);
    let crc = crc32c::crc32c(&h);
    h.extend_from_slice(&crc.to_le_bytes());
    // The index offset in the trailer moves by one: rebuild the trailer.
    let body = s[hl..].to_vec();
    s = h;
    s.extend_from_slice(&body);
    v.push((
        "header-extra-byte",
        s,
        Rejects("stream header fields do not fill it", "after its fields"),
    ));
    v.push((
        "version-1",
        V1_HELLO.to_vec(),
        Rejects(
            "format version 1 is not supported",
            "version 1 is not supported",
        ),
    ));
    v.push((
        "version-2",
        V2_HELLO.to_vec(),
        Rejects(
            "format version 2 is not supported",
            "version 2 is not supported",
        ),
    ));
    v.push((
        "version-3",
        V3_HELLO.to_vec(),
        Rejects(
            "format version 3 is not supported",
            "version 3 is not supported",
        ),
    ));
    v.push((
        "version-4",
        V4_HELLO.to_vec(),
        Rejects(
            "format version 4 is not supported",
            "version 4 is not supported",
        ),
    ));
    // Compact streams (FORMAT.md 3.1).
    v.push((
        "compact-stored",
        enc(&random[..3000], 3, 4096),
        Decodes(random[..3000].to_vec()),
    ));
    let mut s = enc(a, 3, 4096);
    s.extend(enc(&text[..8000], 1, 4096));
    s.extend(enc(b"", 3, 4096));
    v.push((
        "concatenated-compact-and-full",
        s,
        Decodes([a, &text[..8000]].concat()),
    ));
    let mut s = enc(b"hello, sigma\n", 3, 4096);
    let n = s.len();
    s[n - 1] ^= 0x20;
    v.push((
        "compact-bad-body",
        s,
        Rejects(
            "a compact stream's body or check does not match",
            "checksum",
        ),
    ));
    let compact = |raw_size: u64, method: format::Method, body: &[u8]| {
        let mut s = Vec::new();
        format::Compact::write(&mut s, Level::DEFAULT, raw_size, method, 0, body, None);
        s
    };
    let notes = Metadata {
        name: b"notes.txt".to_vec(),
        mode: 0o640,
        mtime: 1_764_000_000,
        mtime_nanos: 123_456_789,
    };
    let mut s = Vec::new();
    memory::encode_into(
        a,
        Level::DEFAULT,
        ChunkSize::Auto,
        2,
        Some(&notes),
        &mut FrameEncoder::default(),
        &mut s,
    )
    .unwrap();
    v.push(("compact-with-metadata", s, Decodes(a.to_vec())));
    let mut s = Vec::new();
    let slash = Metadata {
        name: b"a/b".to_vec(),
        ..notes.clone()
    };
    format::Compact::write(
        &mut s,
        Level::DEFAULT,
        3,
        format::Method::Stored,
        crc32c::crc32c(b"abc"),
        b"abc",
        Some(&slash),
    );
    v.push((
        "compact-metadata-name-with-slash",
        s,
        Rejects(
            "a compact stream's metadata name is not a plain file name",
            "not a plain file name",
        ),
    ));
    v.push((
        "compact-coded-empty",
        compact(0, format::Method::Coded, &[0]),
        Rejects(
            "a compact stream codes empty content",
            "coded body needs content",
        ),
    ));
    v.push((
        "compact-over-128-kib",
        compact(131_073, format::Method::Coded, &[0]),
        Rejects(
            "a compact stream holds more than 128 KiB",
            "should be at most 131072",
        ),
    ));
    v.push((
        "compact-stored-length-mismatch",
        compact(2, format::Method::Stored, b"abc"),
        Rejects(
            "a compact stream's stored body is not its raw size",
            "should be the raw size",
        ),
    ));
    // Frame 1 is linked to frame 0 and copies all of it; frame 2 starts a group, yet
    // copies from frame 1.
    let s = Builder::new(4096).frame(a, 3).frame(a, 3).finish();
    v.push(("linked-copy", s, Decodes([a, a].concat())));
    let s = Builder::new(64 << 20).frame(a, 3).finish();
    v.push((
        "group-over-64-mib",
        s,
        Rejects(
            "frame group x chunk size above 64 MiB",
            "should be at most 67108864",
        ),
    ));
    let s = Builder::new(4096)
        .frame(a, 3)
        .frame(b, 3)
        .crossing()
        .frame(b, 3)
        .finish();
    v.push((
        "copy-across-groups",
        s,
        Rejects(
            "a group's first frame copies from the frame before it",
            "bytes before it",
        ),
    ));
    v
}

/// `hello.sigma` as format version 1 wrote it.
const V1_HELLO: &[u8] = include_bytes!("vectors/version-1.sigma");
/// `hello.sigma` as format version 2 wrote it.
const V2_HELLO: &[u8] = include_bytes!("vectors/version-2.sigma");
/// `hello.sigma` as format version 3 wrote it.
const V3_HELLO: &[u8] = include_bytes!("vectors/version-3.sigma");
/// `hello.sigma` as format version 4 wrote it.
const V4_HELLO: &[u8] = include_bytes!("vectors/version-4.sigma");

#[test]
fn vectors_decode_or_are_rejected_as_listed() {
    let expected_path = dir().join("EXPECTED");
    if std::env::var_os("SIGMA_WRITE_VECTORS").is_some() {
        let mut list = String::from(
            "# vector  outcome  (decodes: sha256 and size of the content; reject: why)\n",
        );
        for (name, stream, expect) in vectors() {
            std::fs::write(dir().join(format!("{name}.sigma")), &stream).unwrap();
            let _ = match expect {
                Expect::Decodes(d) => {
                    writeln!(list, "{name}.sigma  decodes  {}  {}", sha256(&d), d.len())
                }
                Expect::Rejects(why, _) => writeln!(list, "{name}.sigma  reject  {why}"),
            };
        }
        std::fs::write(&expected_path, list).unwrap();
    }
    let list = std::fs::read_to_string(&expected_path).expect("tests/vectors/EXPECTED");
    let needles: Vec<(String, &str)> = vectors()
        .into_iter()
        .filter_map(|(name, _, e)| match e {
            Expect::Rejects(_, needle) => Some((format!("{name}.sigma"), needle)),
            Expect::Decodes(_) => None,
        })
        .collect();
    let mut checked = 0;
    for line in list.lines().filter(|l| !l.starts_with('#')) {
        let parts: Vec<&str> = line.split_whitespace().collect();
        let (file, outcome) = (parts[0], parts[1]);
        let stream = std::fs::read(dir().join(file)).unwrap();
        let reference = memory::decode(&stream);
        let streamed = decode_stream(&stream, 2);
        match outcome {
            "decodes" => {
                let (hash, size) = (parts[2], parts[3].parse::<usize>().unwrap());
                let data = reference.unwrap_or_else(|e| panic!("{file}: {e}")).data;
                assert_eq!((sha256(&data).as_str(), data.len()), (hash, size), "{file}");
                assert_eq!(streamed.unwrap(), data, "{file}: streaming decoder");
                if !file.starts_with("concatenated") {
                    check_ranges(file, &stream, &data);
                }
            }
            _ => {
                let needle = needles.iter().find(|(n, _)| n == file).unwrap().1;
                for (who, r) in [
                    ("reference", reference.map(|d| d.data)),
                    ("streaming", streamed),
                ] {
                    let e = r.expect_err(&format!("{file}: the {who} decoder accepted it"));
                    assert!(e.to_string().contains(needle), "{file}: {who}: {e}");
                }
            }
        }
        checked += 1;
    }
    assert_eq!(checked, vectors().len());
}

/// Random access finds every frame, also behind metadata and unknown glyphs.
fn check_ranges(file: &str, stream: &[u8], data: &[u8]) {
    let n = data.len() as u64;
    for (a, b) in [
        (0, n),
        (n / 3, n / 2),
        (n.saturating_sub(7), n),
        (n / 2, n / 2),
    ] {
        let mut out = Vec::new();
        decode::decode_range(&mut Cursor::new(stream), a, b, &mut out)
            .unwrap_or_else(|e| panic!("{file}: range {a}:{b}: {e}"));
        assert_eq!(out, &data[a as usize..b as usize], "{file}: range {a}:{b}");
    }
}
