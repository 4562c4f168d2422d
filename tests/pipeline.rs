//! The streaming pipeline against the in-memory reference: same bytes for every thread
//! count and read path, and lossless round trips at the sizes that stress boundaries.

use std::io::Write;

use sigmalang::decode::{self, Decoder, FrameInfo};
use sigmalang::frame::FrameEncoder;
use sigmalang::memory;
use sigmalang::pipeline::{sizing, ChunkSize, Encoder, EncoderConfig, ReadMode};
use sigmalang::Level;

use crate::util::*;

const CHUNK: u64 = 4096;

fn encode_file(data: &[u8], level: u8, chunk: u64, threads: usize, mode: ReadMode) -> Vec<u8> {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(data).unwrap();
    f.flush().unwrap();
    let enc = Encoder::new(config(level, chunk, threads, mode)).unwrap();
    let mut out = Vec::new();
    let stats = enc.encode_file(f.path(), &mut out, &|_| {}).unwrap();
    assert_eq!(stats.raw_size, data.len() as u64);
    assert_eq!(stats.encoded_size, out.len() as u64);
    out
}

fn boundary_inputs() -> Vec<(String, Vec<u8>)> {
    let c = CHUNK as usize;
    let mut v = vec![
        ("empty".to_string(), Vec::new()),
        ("one byte".to_string(), vec![b'x']),
    ];
    for k in [1usize, 3] {
        v.push((format!("{k} chunks"), mixed_bytes(k * c, k as u64)));
        v.push((format!("{k} chunks - 1"), mixed_bytes(k * c - 1, k as u64)));
        v.push((format!("{k} chunks + 1"), mixed_bytes(k * c + 1, k as u64)));
    }
    v.push(("long line".to_string(), vec![b'a'; 5 * c + 17]));
    v.push((
        "text no newlines".to_string(),
        text_bytes(6 * c, 9)
            .iter()
            .map(|&b| if b == b'\n' { b' ' } else { b })
            .collect(),
    ));
    v.push((
        "no whitespace utf8".to_string(),
        "Σé".repeat(3 * c).into_bytes(),
    ));
    v.push(("text".to_string(), text_bytes(40_000, 4)));
    v
}

#[test]
fn every_path_and_thread_count_matches_the_reference() {
    for (name, data) in boundary_inputs() {
        let reference = memory::encode(&data, Level::DEFAULT, CHUNK).unwrap();
        for threads in [1, 2, 8] {
            for mode in [ReadMode::Mmap, ReadMode::Read] {
                let s = encode_file(&data, 3, CHUNK, threads, mode);
                assert_eq!(s, reference, "{name}: threads {threads} {mode:?}");
            }
            assert_eq!(
                encode_reader(&data, 3, CHUNK, threads),
                reference,
                "{name}: reader, threads {threads}"
            );
        }
        assert_eq!(memory::decode(&reference).unwrap().data, data, "{name}");
        for threads in [1, 2, 8] {
            assert_eq!(
                decode_stream(&reference, threads).unwrap(),
                data,
                "{name}: decode threads {threads}"
            );
        }
    }
}

#[test]
fn every_group_size_matches_the_reference_on_every_path() {
    let data = mixed_bytes(200_000, 31);
    let chunk = 16 * 1024;
    for group in [1u8, 3, 16] {
        let reference = memory::encode_grouped(&data, Level::DEFAULT, chunk, group).unwrap();
        for threads in [1, 2] {
            for mode in [ReadMode::Mmap, ReadMode::Read] {
                let mut f = tempfile::NamedTempFile::new().unwrap();
                f.write_all(&data).unwrap();
                let enc = Encoder::new(EncoderConfig {
                    group,
                    ..config(3, chunk, threads, mode)
                })
                .unwrap();
                let mut out = Vec::new();
                enc.encode_file(f.path(), &mut out, &|_| {}).unwrap();
                assert_eq!(out, reference, "group {group}: threads {threads} {mode:?}");
            }
        }
        assert_eq!(decode_stream(&reference, 2).unwrap(), data, "group {group}");
        assert_eq!(
            memory::decode(&reference).unwrap().data,
            data,
            "group {group}"
        );
        // Ranges inside linked frames and across group boundaries.
        for (a, b) in [
            (0u64, 1u64),
            (16_390, 16_400),
            (40_000, 120_000),
            (199_000, 200_000),
        ] {
            let mut out = Vec::new();
            decode::decode_range(&mut std::io::Cursor::new(&reference), a, b, &mut out).unwrap();
            assert_eq!(out, &data[a as usize..b as usize], "group {group} {a}:{b}");
        }
    }
    // Linked frames are smaller than independent ones on data that repeats across them.
    let repeated = random_bytes(20_000, 5).repeat(10);
    let linked = memory::encode_grouped(&repeated, Level::DEFAULT, chunk, 2).unwrap();
    let alone = memory::encode_grouped(&repeated, Level::DEFAULT, chunk, 1).unwrap();
    assert!(
        linked.len() < alone.len(),
        "{} vs {}",
        linked.len(),
        alone.len()
    );
}

#[test]
fn empty_file_encodes_through_auto_path() {
    let s = encode_file(&[], 3, CHUNK, 2, ReadMode::Auto);
    assert_eq!(decode_stream(&s, 2).unwrap(), Vec::<u8>::new());
}

#[test]
fn every_level_round_trips_through_the_pipeline() {
    let data = mixed_bytes(300_000, 77);
    for level in 1..=9 {
        let s = encode_reader(&data, level, 64 * 1024, 2);
        assert_eq!(
            s,
            memory::encode(&data, Level::new(level).unwrap(), 64 * 1024).unwrap()
        );
        assert_eq!(decode_stream(&s, 2).unwrap(), data, "level {level}");
    }
}

#[test]
fn frames_are_cut_at_text_boundaries() {
    let data = text_bytes(100_000, 3);
    let s = memory::encode(&data, Level::DEFAULT, CHUNK).unwrap();
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(&s).unwrap();
    let info = decode::inspect(f.as_file_mut()).unwrap();
    assert!(info.trailer.frames > 3);
    let mut ends = Vec::new();
    decode::frames(f.as_file_mut(), &info, |fr| {
        ends.push((fr.raw_start + fr.entry.raw_size) as usize);
        Ok(true)
    })
    .unwrap();
    assert_eq!(ends.pop(), Some(data.len()));
    for end in ends {
        assert!(
            matches!(data[end - 1], b'\n' | b' '),
            "frame ends inside a word"
        );
    }
}

#[test]
fn range_decoding_reads_only_what_is_asked() {
    let data = mixed_bytes(200_000, 5);
    let s = memory::encode(&data, Level::DEFAULT, CHUNK).unwrap();
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(&s).unwrap();
    let info = decode::inspect(f.as_file_mut()).unwrap();
    let index_and_trailer = s.len() as u64 - info.trailer.index_offset;
    let mut frames = Vec::new();
    decode::frames(f.as_file_mut(), &info, |fr| {
        frames.push(*fr);
        Ok(true)
    })
    .unwrap();
    assert!(frames.len() > 8);
    for (a, b) in [
        (0u64, 0u64),
        (0, 1),
        (4095, 4097),
        (12_345, 99_999),
        (199_999, 200_000),
        (0, 200_000),
    ] {
        let mut out = Vec::new();
        let mut counted = CountingReader::new(f.as_file_mut());
        let n = decode::decode_range(&mut counted, a, b, &mut out).unwrap();
        assert_eq!(n, b - a);
        assert_eq!(out, &data[a as usize..b as usize]);
        // Header, trailer, the index (read twice: checked, then walked) and only the
        // frames that overlap the range, with the frame before the first of them when it
        // is linked (odd-numbered: groups of two).
        let overlaps = |fr: &FrameInfo| fr.raw_start < b && fr.raw_start + fr.entry.raw_size > a;
        let covering: u64 = frames
            .iter()
            .enumerate()
            .filter(|&(k, fr)| {
                overlaps(fr) || (k % 2 == 0 && frames.get(k + 1).is_some_and(&overlaps))
            })
            .map(|(_, fr)| fr.entry.encoded_len)
            .sum();
        let bound = 80 + 38 + 2 * index_and_trailer + covering;
        assert!(
            counted.bytes_read() <= bound,
            "range {a}:{b} read {} bytes, at most {bound} expected",
            counted.bytes_read()
        );
    }
    let mut out = Vec::new();
    assert!(decode::decode_range(f.as_file_mut(), 0, 200_001, &mut out).is_err());
}

#[test]
fn changing_input_is_detected() {
    use sigmalang::Error;
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(&text_bytes(200_000, 1)).unwrap();
    f.flush().unwrap();
    let path = f.path().to_path_buf();
    let enc = Encoder::new(config(3, CHUNK, 1, ReadMode::Read)).unwrap();
    let mut out = Vec::new();
    let grow = || {
        let mut g = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        g.write_all(b"more").unwrap();
    };
    let once = std::sync::Once::new();
    let r = enc.encode_file(&path, &mut out, &|done| {
        if done > 100_000 {
            once.call_once(grow);
        }
    });
    assert!(matches!(r, Err(Error::InputChanged { .. })), "{r:?}");
}

#[test]
fn decoder_thread_counts_agree_on_errors() {
    let data = mixed_bytes(100_000, 8);
    let mut s = memory::encode(&data, Level::DEFAULT, CHUNK).unwrap();
    let i = s.len() / 2;
    s[i] ^= 0x10;
    let msgs: Vec<String> = [1, 2, 8]
        .iter()
        .map(|&t| {
            let dec = Decoder::new(t).unwrap();
            dec.decode(std::io::Cursor::new(&s), &mut std::io::sink(), &|_| {})
                .unwrap_err()
                .to_string()
        })
        .collect();
    assert!(msgs.windows(2).all(|w| w[0] == w[1]), "{msgs:?}");
    assert!(msgs[0].contains("frame"), "{}", msgs[0]);
}

#[test]
fn decode_reader_reads_what_the_decoder_writes_and_reports_damage() {
    use std::io::Read;
    let a = mixed_bytes(700_000, 11);
    let b = text_bytes(90_000, 12);
    let mut stream = encode_reader(&a, 3, 64 << 10, 2);
    stream.extend(encode_reader(&b, 1, 4096, 1));
    let mut back = Vec::new();
    // Small reads cross frame and stream boundaries.
    let mut r = decode::DecodeReader::new(&stream[..]).unwrap();
    let mut buf = [0u8; 1000];
    loop {
        let n = r.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        back.extend_from_slice(&buf[..n]);
    }
    assert_eq!(back.len(), a.len() + b.len());
    assert!(back[..a.len()] == a[..] && back[a.len()..] == b[..]);
    // A damaged frame, a damaged trailer and a cut stream are errors, never short data.
    for damage in [stream.len() / 3, stream.len() - 3, usize::MAX] {
        let mut bad = stream.clone();
        if damage == usize::MAX {
            bad.truncate(stream.len() - 10);
        } else {
            bad[damage] ^= 0x10;
        }
        let mut out = Vec::new();
        let e = decode::DecodeReader::new(&bad[..])
            .unwrap()
            .read_to_end(&mut out)
            .unwrap_err();
        let e = decode::DecodeReader::<&[u8]>::into_error(e);
        assert!(
            !matches!(e, sigmalang::Error::Io { .. }),
            "damage at {damage}: {e}"
        );
    }
}

/// Encodes `data` with an automatic frame size: from a file, and from a reader whose size
/// is given or not.
fn encode_auto(data: &[u8], level: u8) -> [Vec<u8>; 3] {
    let cfg = EncoderConfig {
        chunk_size: ChunkSize::Auto,
        ..config(level, CHUNK, 2, ReadMode::Read)
    };
    let enc = Encoder::new(cfg).unwrap();
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(data).unwrap();
    let mut file = Vec::new();
    enc.encode_file(f.path(), &mut file, &|_| {}).unwrap();
    let [mut sized, mut piped] = [Vec::new(), Vec::new()];
    let len = Some(data.len() as u64);
    for (size, out) in [(len, &mut sized), (None, &mut piped)] {
        enc.encode_reader(std::io::Cursor::new(data), size, out, &|_| {})
            .unwrap();
    }
    [file, sized, piped]
}

#[test]
fn small_inputs_keep_the_smaller_of_their_level_and_level_9() {
    let small = sizing::SMALL_INPUT as usize;
    let text = text_bytes(small + 2, 12);
    for n in [0, 1, 5000, 60_000, small, small + 1, small + 2] {
        let data = &text[..n];
        let [file, sized, piped] = encode_auto(data, 3);
        assert_eq!(file, sized, "{n}");
        for s in [&file, &piped] {
            assert_eq!(memory::decode(s).unwrap().data, data, "{n}");
        }
        let mut reference = Vec::new();
        let mut enc = FrameEncoder::default();
        memory::encode_into(
            data,
            Level::DEFAULT,
            ChunkSize::Auto,
            2,
            None,
            &mut enc,
            &mut reference,
        )
        .unwrap();
        assert_eq!(file, reference, "{n}");
        if n <= small {
            // A pipe that ends within the first SMALL_INPUT bytes is a small input too.
            assert_eq!(piped, file, "{n}");
            // The smaller of level 3's and level 9's frames, behind a header that keeps
            // level 3.
            let [l9, ..] = encode_auto(data, 9);
            let chunk =
                sizing::auto_chunk_size(Level::DEFAULT, Some(n as u64), sizing::DEFAULT_GROUP);
            let l3 = memory::encode(data, Level::DEFAULT, chunk).unwrap();
            assert_eq!(file.len(), l9.len().min(l3.len()), "{n}");
            assert_eq!(memory::decode(&file).unwrap().header.level, Level::DEFAULT);
        }
    }
    // 60 KB of text: level 9's parse against level 3's own (an explicit frame size).
    let data = &text[..60_000];
    let [auto, ..] = encode_auto(data, 3);
    let fixed = memory::encode(data, Level::DEFAULT, 64 * 1024).unwrap();
    assert!(
        auto.len() < fixed.len(),
        "{} vs {}",
        auto.len(),
        fixed.len()
    );
    // A random byte every 4 KiB, zeros between: level 3's frame is the smaller (by a byte
    // or so), and it is the one kept, byte for byte.
    let mut sparse = vec![0u8; 128 * 1024];
    for (i, b) in random_bytes(32, 6).into_iter().enumerate() {
        sparse[i * 4096] = b;
    }
    let [auto, ..] = encode_auto(&sparse, 3);
    let [l9, ..] = encode_auto(&sparse, 9);
    let fixed = memory::encode(&sparse, Level::DEFAULT, sparse.len() as u64).unwrap();
    if fixed.len() <= l9.len() {
        assert_eq!(auto, fixed);
    } else {
        assert_eq!(auto.len(), l9.len());
    }
    // Levels 1 and 2 keep their own parse.
    for level in [1, 2] {
        let [auto, ..] = encode_auto(data, level);
        let l = Level::new(level).unwrap();
        assert_eq!(auto.len(), memory::encode(data, l, 60_000).unwrap().len());
    }
}

#[test]
fn one_frame_of_at_most_128_kib_is_a_compact_stream() {
    use sigmalang::format::{self, StreamStart};
    let max = format::MAX_COMPACT_RAW as usize;
    let text = text_bytes(max + 1, 13);
    let compact = |s: &[u8]| match format::parse_start(s).unwrap() {
        (StreamStart::Compact(c), len) => {
            assert_eq!(len, s.len(), "a compact stream is one glyph");
            Some(c)
        }
        (StreamStart::Full(_), _) => None,
    };
    for n in [0, 1, 4000, max, max + 1] {
        let data = &text[..n];
        let [file, _, piped] = encode_auto(data, 3);
        assert!(
            n > max || piped == file,
            "{n}: a pipe that ends early is coded as a file"
        );
        assert!(memory::decode(&file).unwrap().data == data, "{n}");
        let Some(c) = compact(&file) else {
            assert_eq!(n, max + 1, "only over 128 KiB is a stream header written");
            continue;
        };
        assert_eq!((c.raw_size, c.level), (n as u64, Level::DEFAULT));
        // Head, magic, version, level, group, raw size, method, check: 18 bytes below
        // 16 KiB of content, at most 20 (3-byte varints) above.
        let most = if n < 16_000 { 18 } else { 20 };
        assert!(
            c.body_at <= most,
            "{n}: {} bytes before the body",
            c.body_at
        );
        if n == 0 {
            assert_eq!(file.len(), 16);
        }
        // Inspection and random access see one frame (none when empty).
        let info = decode::inspect(&mut std::io::Cursor::new(&file)).unwrap();
        assert_eq!(info.compact, Some(c.clone()));
        assert_eq!(info.trailer.frames, u64::from(n > 0));
        assert_eq!(info.glyphs, memory::decode(&file).unwrap().glyphs);
        let mut listed = Vec::new();
        decode::frames(&mut std::io::Cursor::new(&file), &info, |f| {
            listed.push(f.entry.raw_size);
            Ok(true)
        })
        .unwrap();
        assert_eq!(listed, if n > 0 { vec![n as u64] } else { vec![] });
        let (a, b) = (n / 3, n / 2);
        let mut part = Vec::new();
        decode::decode_range(
            &mut std::io::Cursor::new(&file),
            a as u64,
            b as u64,
            &mut part,
        )
        .unwrap();
        assert_eq!(part, &data[a..b], "{n}");
    }
    // Metadata goes into a compact stream; more than one frame needs the stream header.
    let data = &text[..5000];
    let meta = sigmalang::format::Metadata {
        name: b"a".to_vec(),
        ..Default::default()
    };
    let with = |chunk, metadata| {
        let mut s = Vec::new();
        memory::encode_into(
            data,
            Level::DEFAULT,
            chunk,
            2,
            metadata,
            &mut FrameEncoder::default(),
            &mut s,
        )
        .unwrap();
        s
    };
    let with_meta = with(ChunkSize::Auto, Some(&meta));
    assert_eq!(compact(&with_meta).unwrap().metadata, Some(meta.clone()));
    assert_eq!(
        memory::decode(&with_meta).unwrap().metadata,
        Some(meta.clone())
    );
    assert!(compact(&with(ChunkSize::Fixed(4096), Some(&meta))).is_none());
    assert!(compact(&with(ChunkSize::Fixed(4096), None)).is_none());
    assert!(compact(&with(ChunkSize::Fixed(1 << 20), None)).is_some());
}

#[test]
fn a_size_hint_too_small_for_the_input_gives_a_full_stream() {
    // Told 1,000 bytes (a compact stream's size) and given 20,000 in 4 KiB frames: the
    // second frame turns the stream into the full form, written whole.
    let data = text_bytes(20_000, 14);
    let enc = Encoder::new(config(3, CHUNK, 2, ReadMode::Read)).unwrap();
    let mut out = Vec::new();
    enc.encode_reader(std::io::Cursor::new(&data), Some(1000), &mut out, &|_| {})
        .unwrap();
    let d = memory::decode(&out).unwrap();
    assert_eq!((d.data, d.frames), (data, 5));
}
