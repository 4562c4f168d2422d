//! A generated corpus of damaged streams: every case is rejected by every decoder
//! without a panic, and salvage recovers every frame the damage did not touch.

use std::io::Cursor;

use sigmalang::decode::salvage::{salvage, Sequential};
use sigmalang::decode::{self, FrameInfo};
use sigmalang::format::{self, Trailer};
use sigmalang::{memory, Level};

use crate::util::*;

/// The sample: eight frames behind a metadata glyph, and what the index says of them.
fn sample() -> (Vec<u8>, Vec<u8>, Vec<FrameInfo>, u64, u64) {
    let data = [text_bytes(70_000, 1), mixed_bytes(60_000, 2)].concat();
    let s = memory::encode(&data, Level::DEFAULT, 16 * 1024).unwrap();
    let (info, frames) = index_of(&s);
    assert!(frames.len() >= 8);
    (data, s, frames, info.trailer.index_offset, info.trailer_at)
}

/// A stream's header facts and its frames, as its index lists them.
fn index_of(s: &[u8]) -> (decode::StreamInfo, Vec<FrameInfo>) {
    let info = decode::inspect(&mut Cursor::new(s)).unwrap();
    let mut frames = Vec::new();
    decode::frames(&mut Cursor::new(s), &info, |f| {
        frames.push(*f);
        Ok(true)
    })
    .unwrap();
    (info, frames)
}

/// A damaged stream and the byte range of the original it changed (frames outside it
/// are untouched and must be salvaged).
struct Case {
    name: String,
    stream: Vec<u8>,
    damaged: (u64, u64),
    /// Whether the frames after the damage still sit at their original stream offsets.
    offsets_kept: bool,
}

fn cases() -> Vec<Case> {
    let (_, s, frames, index_at, trailer_at) = sample();
    let n = s.len() as u64;
    let mut v = Vec::new();
    let mut add = |name: String, stream: Vec<u8>, damaged: (u64, u64), offsets_kept: bool| {
        v.push(Case {
            name,
            stream,
            damaged,
            offsets_kept,
        })
    };
    // Truncations: at every frame boundary, inside every frame, inside index and trailer.
    for f in &frames {
        add(
            format!("cut at frame {}", f.number),
            s[..f.offset as usize].to_vec(),
            (f.offset, n),
            true,
        );
        let mid = f.offset + f.entry.encoded_len / 2;
        add(
            format!("cut inside frame {}", f.number),
            s[..mid as usize].to_vec(),
            (mid, n),
            true,
        );
    }
    for cut in [
        index_at + 1,
        (index_at + trailer_at) / 2,
        trailer_at,
        trailer_at + 3,
        n - 1,
    ] {
        add(
            format!("cut at byte {cut} (index/trailer)"),
            s[..cut as usize].to_vec(),
            (cut, n),
            true,
        );
    }
    // Bit flips in the magic, header, every frame's head, fields, body and CRCs, the
    // index and the trailer.
    let mut flips: Vec<u64> = vec![2, 3, 5, 7, 8, 9, 10, 12, 14];
    for f in &frames {
        for d in [
            0,
            1,
            2,
            3,
            5,
            9,
            13,
            f.entry.encoded_len / 2,
            f.entry.encoded_len - 1,
        ] {
            flips.push(f.offset + d);
        }
    }
    flips.extend([
        index_at,
        index_at + 1,
        index_at + 2,
        index_at + 5,
        trailer_at - 1,
        trailer_at - 4,
    ]);
    flips.extend((trailer_at..n).collect::<Vec<_>>());
    for at in flips {
        for bit in [0u8, 6] {
            let mut b = s.clone();
            b[at as usize] ^= 1 << bit;
            add(
                format!("flip bit {bit} of byte {at}"),
                b,
                (at, at + 1),
                true,
            );
        }
    }
    // Frames dropped, duplicated and swapped.
    let glyph = |i: usize| {
        let f = &frames[i];
        s[f.offset as usize..(f.offset + f.entry.encoded_len) as usize].to_vec()
    };
    let (a, b) = (frames[2].offset as usize, frames[3].offset as usize);
    let c = (frames[3].offset + frames[3].entry.encoded_len) as usize;
    // The index survives these: salvage places every intact frame where it belongs.
    add(
        "frame 2 dropped".into(),
        [&s[..a], &s[b..]].concat(),
        (a as u64, b as u64),
        true,
    );
    add(
        "frame 2 doubled".into(),
        [&s[..b], &glyph(2), &s[b..]].concat(),
        (b as u64, b as u64),
        true,
    );
    add(
        "garbage between frames 2 and 3".into(),
        [&s[..b], b"garbage!", &s[b..]].concat(),
        (b as u64, b as u64),
        true,
    );
    // Frames are linked in groups of two: a whole group moves.
    let d = frames[6].offset as usize;
    add(
        "groups of frames 2-3 and 4-5 swapped".into(),
        [&s[..a], &s[c..d], &s[a..c], &s[d..]].concat(),
        (a as u64, a as u64),
        true,
    );
    // Declared sizes that are absurd or disagree with the content.
    let mut t = s[..index_at as usize].to_vec();
    let mut entries: Vec<_> = frames.iter().map(|f| f.entry).collect();
    entries[1].raw_size = 1 << 63;
    format::write_index(&mut t, &entries);
    Trailer {
        raw_size: 1 << 63,
        frames: frames.len() as u64,
        index_offset: index_at,
        content_crc: 0,
    }
    .write(&mut t);
    add("index raw size 2^63".into(), t, (index_at, n), true);
    let mut t = s[..index_at as usize].to_vec();
    let mut entries: Vec<_> = frames.iter().map(|f| f.entry).collect();
    entries[0].encoded_len += 1;
    format::write_index(&mut t, &entries);
    let info = decode::inspect(&mut Cursor::new(&s)).unwrap();
    info.trailer.write(&mut t);
    add("index length off by one".into(), t, (index_at, n), true);
    let mut t = s.clone();
    let f = &frames[4];
    // The payload length varint (two bytes after the head byte) grows a third.
    assert!(t[f.offset as usize + 1] & 0x80 != 0 && t[f.offset as usize + 2] & 0x80 == 0);
    t[f.offset as usize + 2] |= 0x80;
    add(
        "frame 4 length varint overlong".into(),
        t,
        (f.offset, f.offset + 1),
        true,
    );
    // Concatenated garbage, a stream inside a stream.
    add(
        "trailing garbage".into(),
        [&s[..], b"garbage"].concat(),
        (n, n + 7),
        true,
    );
    let inner = memory::encode(b"inner", Level::DEFAULT, 4096).unwrap();
    let (x, y) = (frames[5].offset as usize, frames[5].offset);
    add(
        "a stream inside a stream".into(),
        [&s[..x], &inner[..], &s[x..]].concat(),
        (y, y + 1),
        false,
    );
    v
}

#[test]
fn every_damaged_stream_is_rejected_and_salvaged() {
    let (data, s, frames, ..) = sample();
    let cases = cases();
    assert!(cases.len() >= 100, "{} cases", cases.len());
    let mut names: Vec<&str> = cases.iter().map(|c| c.name.as_str()).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), cases.len(), "case names repeat");
    for case in &cases {
        let name = &case.name;
        let a = memory::decode(&case.stream);
        let b = decode_stream(&case.stream, 2);
        let (Err(ea), Err(eb)) = (&a, &b) else {
            panic!("{name}: a decoder accepted the stream");
        };
        for msg in [ea.to_string(), eb.to_string()] {
            assert!(
                msg.contains("byte ") || msg.contains("not a .sigma") || msg.contains("version"),
                "{name}: {msg}"
            );
        }
        // Random access never panics and never returns short data.
        if let Ok(info) = decode::inspect(&mut Cursor::new(&case.stream)) {
            let mut out = Vec::new();
            if let Ok(k) = decode::decode_range(
                &mut Cursor::new(&case.stream),
                0,
                info.trailer.raw_size,
                &mut out,
            ) {
                assert_eq!(k, info.trailer.raw_size, "{name}");
            }
        }
        // Salvage: every frame outside the damage, in its place when offsets are known.
        let mut out = Vec::new();
        let r = salvage(
            &mut Cursor::new(&case.stream),
            &mut Sequential::new(&mut out),
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            !r.lost.is_empty() || out == data,
            "{name}: nothing reported lost"
        );
        // A linked frame is lost with the frames of its group before it (groups of two).
        let intact = |f: &decode::FrameInfo| {
            f.offset + f.entry.encoded_len <= case.damaged.0 || f.offset >= case.damaged.1
        };
        let untouched: Vec<_> = frames
            .iter()
            .enumerate()
            .filter(|&(k, f)| intact(f) && (k % 2 == 0 || intact(&frames[k - 1])))
            .map(|(_, f)| f)
            .collect();
        assert!(
            r.frames as usize >= untouched.len(),
            "{name}: {} of {} untouched frames {:?}",
            r.frames,
            untouched.len(),
            r
        );
        if case.offsets_kept && r.lost.iter().all(|l| l.exact) {
            for f in untouched {
                let (lo, hi) = (
                    f.raw_start as usize,
                    (f.raw_start + f.entry.raw_size) as usize,
                );
                assert!(
                    out.len() >= hi && out[lo..hi] == data[lo..hi],
                    "{name}: frame {} not restored in place",
                    f.number
                );
            }
        }
    }
    // The untouched stream salvages to itself with nothing lost.
    let mut out = Vec::new();
    let r = salvage(&mut Cursor::new(&s), &mut Sequential::new(&mut out)).unwrap();
    assert!(r.lost.is_empty() && r.index_intact);
    assert_eq!(out, data);
}

#[test]
fn salvage_from_the_command_line() {
    use std::os::unix::fs::MetadataExt;
    let (data, s, frames, ..) = sample();
    let dir = tempfile::tempdir().unwrap();
    let mut bad = s.clone();
    let f = &frames[3];
    bad[(f.offset + f.entry.encoded_len / 2) as usize] ^= 4;
    let p = dir.path().join("bad.sigma");
    std::fs::write(&p, &bad).unwrap();
    let out = dir.path().join("bad");
    let r = std::process::Command::new(assert_cmd::cargo::cargo_bin("sigma"))
        .args(["decode", "--salvage", "--json"])
        .arg(&p)
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(1));
    let err = String::from_utf8_lossy(&r.stderr);
    let json: serde_json::Value = serde_json::from_str(err.lines().next().unwrap()).unwrap();
    let lost = &json["salvage"]["lost"][0];
    assert_eq!(lost["start"], f.raw_start);
    assert_eq!(lost["end"], f.raw_start + f.entry.raw_size);
    assert!(err.contains("bad.sigma") && err.contains("lost"), "{err}");
    // The output keeps every other byte in place; the lost frame is a hole of zeros.
    let got = std::fs::read(&out).unwrap();
    assert_eq!(got.len(), data.len());
    let (lo, hi) = (
        f.raw_start as usize,
        (f.raw_start + f.entry.raw_size) as usize,
    );
    assert_eq!(&got[..lo], &data[..lo]);
    assert_eq!(&got[hi..], &data[hi..]);
    assert!(got[lo..hi].iter().all(|&b| b == 0));
    assert!(std::fs::metadata(&out).unwrap().blocks() * 512 < data.len() as u64 + 8192);
}

/// Stored frames of one size look alike (same raw size and glyph counts): salvage must
/// place each by where the index puts it, never a neighbour in a lost one's place.
#[test]
fn salvage_never_puts_a_lookalike_frame_in_a_lost_ones_place() {
    let data = random_bytes(64 * 1024, 21);
    let s = memory::encode_grouped(&data, Level::DEFAULT, 4096, 1).unwrap();
    let (_, frames) = index_of(&s);
    for victim in [1usize, 5, frames.len() - 2] {
        let f = frames[victim];
        let mut bad = s.clone();
        bad[(f.offset + f.entry.encoded_len / 2) as usize] ^= 0x40;
        let mut out = Vec::new();
        let r = salvage(&mut Cursor::new(&bad), &mut Sequential::new(&mut out)).unwrap();
        let (a, b) = (
            f.raw_start as usize,
            (f.raw_start + f.entry.raw_size) as usize,
        );
        assert_eq!(r.lost.len(), 1, "frame {victim}");
        assert_eq!((r.lost[0].start, r.lost[0].end), (a as u64, Some(b as u64)));
        assert_eq!(out.len(), data.len());
        assert_eq!(&out[..a], &data[..a], "frame {victim}");
        assert_eq!(&out[b..], &data[b..], "frame {victim}");
    }
}

#[test]
fn salvage_finds_compact_streams_among_other_streams() {
    let small = text_bytes(4000, 21);
    let big = mixed_bytes(150_000, 22);
    let c = memory::encode(&small, Level::DEFAULT, 4096).unwrap();
    let f = memory::encode(&big, Level::DEFAULT, 16 * 1024).unwrap();
    let run = |file: &[u8]| {
        let mut out = Vec::new();
        let r = salvage(&mut Cursor::new(file), &mut Sequential::new(&mut out)).unwrap();
        (r, out)
    };
    // Intact concatenations: everything, nothing lost.
    for parts in [vec![&c, &f], vec![&f, &c], vec![&c, &c], vec![&f, &c, &f]] {
        let file = parts
            .iter()
            .flat_map(|p| p.iter().copied())
            .collect::<Vec<u8>>();
        let (r, out) = run(&file);
        assert!(r.lost.is_empty(), "{:?}", r.lost);
        assert_eq!(out, memory::decode(&file).unwrap().data);
    }
    // A damaged compact stream before or between full streams is reported lost, never
    // passed over.
    let mut dc = c.clone();
    let n = dc.len();
    dc[n / 2] ^= 0x10;
    for (file, lost_at) in [
        ([&dc[..], &f].concat(), 0),
        ([&f, &dc[..], &f].concat(), big.len() as u64),
    ] {
        let (r, out) = run(&file);
        let end = lost_at + small.len() as u64;
        assert_eq!(r.lost.len(), 1, "{:?}", r.lost);
        assert_eq!((r.lost[0].start, r.lost[0].end), (lost_at, Some(end)));
        assert!(out.ends_with(&big), "the full stream after it is recovered");
        assert_eq!(out.len() as u64, end + big.len() as u64);
    }
    // A damaged compact stream is passed over whole: a stream stored inside it is not
    // taken for content.
    let nested = memory::encode(&c, Level::DEFAULT, 4096).unwrap();
    let mut bad = nested.clone();
    bad[nested.len() - c.len() - 2] ^= 1;
    let (r, out) = run(&bad);
    assert_eq!((r.frames, r.lost.len()), (0, 1));
    assert_eq!(r.lost[0].end, Some(c.len() as u64));
    assert!(out.iter().all(|&b| b == 0));
    // Alone, its declared size is the lost range.
    let (r, _) = run(&dc);
    assert_eq!(
        (r.lost[0].start, r.lost[0].end, r.lost.len()),
        (0, Some(small.len() as u64), 1)
    );
}
