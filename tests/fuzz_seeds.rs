//! The fuzz seed generator: real inputs for every fuzz target, each checked here to reach
//! the code its target aims at (streams decode, bodies decode, entropy sections are
//! consumed exactly, manifests read back). `SIGMA_FUZZ_SEEDS=DIR cargo test --release
//! fuzz_seeds` also writes them to DIR/<target>/ (`fuzz/run-all.sh` does this).

use std::io::Cursor;
use std::path::Path;

use sigmalang::base::varint;
use sigmalang::batch::manifest::{Reader, Record, Status};
use sigmalang::codec::EncodeScratch;
use sigmalang::codec::{decode_body, decode_entropy_section, encode_body, DecodeScratch};
use sigmalang::decode::decode_range;
use sigmalang::{memory, Level};

use crate::util::*;

/// Small inputs of different kinds (streams of them stay under the fuzzers' 70000 bytes).
fn inputs() -> Vec<Vec<u8>> {
    let format_md = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/FORMAT.md")).unwrap();
    let source = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/src/codec/block.rs")).unwrap();
    let mut table = Vec::new();
    for i in 0..900u32 {
        table.extend_from_slice(
            format!("{i},user{},{}.{:02},ok\n", i % 37, i * 7, i % 100).as_bytes(),
        );
    }
    let mut mixed = random_bytes(3000, 5);
    mixed.extend(std::iter::repeat_n(0u8, 5000));
    mixed.extend(text_bytes(8000, 6));
    mixed.extend_from_within(..6000);
    vec![
        format_md[..format_md.len().min(40_000)].to_vec(),
        source[..source.len().min(30_000)].to_vec(),
        table,
        mixed,
        text_bytes(20_000, 7),
        random_bytes(2_000, 8),
        b"abcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabcd".to_vec(),
        vec![b'x'; 4000],
        Vec::new(),
    ]
}

/// Seeds per target: (target, seed bytes).
fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    let mut out = Vec::new();
    for (i, input) in inputs().iter().enumerate() {
        out.push(("round_trip", [&[i as u8 * 29][..], input].concat()));
        for (j, level) in [1u8, 3, 6, 9].into_iter().enumerate() {
            let chunk = [4096u64, 16_384, 65_536][(i + j) % 3];
            let stream = memory::encode(input, Level::new(level).unwrap(), chunk).unwrap();
            out.push(("decode_stream", stream.clone()));
            let mid = (input.len() / 3) as u32;
            let span = (input.len() / 4) as u32;
            let spec = [mid.to_le_bytes(), span.to_le_bytes()].concat();
            out.push(("range", [&spec[..], &stream].concat()));
            let mut damaged = stream.clone();
            let at = damaged.len() / 2;
            damaged[at] ^= 0x5a;
            out.push(("salvage", damaged));
            out.push(("salvage", stream[..stream.len() * 3 / 4].to_vec()));
            out.push(("salvage", stream));

            let part = &input[..input.len().min(16_384)];
            let mut body = Vec::new();
            encode_body(
                part,
                0,
                Level::new(level).unwrap(),
                &mut EncodeScratch::default(),
                &mut body,
            );
            let n = part.len() as u32;
            out.push((
                "decode_body",
                [&[0, n as u8, (n >> 8) as u8, (n >> 16) as u8, 0][..], &body].concat(),
            ));
            out.push((
                "decode_body",
                [&[level * 2 - 1, 7, 0, 0x20, 0][..], part].concat(),
            ));
            out.extend(entropy_seeds(&body));
        }
    }
    let mut manifest = String::new();
    for (k, path) in ["a", "dir/b.log", "dir/sub/-c", "z\u{e9}"]
        .iter()
        .enumerate()
    {
        let record = Record {
            path: path.as_bytes().to_vec(),
            size: 1000 * k as u64,
            mtime: 1_700_000_000 + k as i64,
            mtime_nanos: 12_345,
            mode: (k != 2).then_some(0o644),
            crc32c: 0xdead_beef ^ k as u32,
            level: 3,
            encoded_size: 300 * k as u64,
            status: [Status::Encoded, Status::Failed, Status::Missing][k % 3],
            seconds: 0.25,
            error: (k == 1).then(|| "reading: permission denied".to_string()),
        };
        manifest.push_str(&record.to_line());
        out.push(("manifest", manifest.clone().into_bytes()));
    }
    // As batch encode writes a part: the lines as a `.sigma` stream.
    let encoded = memory::encode(manifest.as_bytes(), Level::DEFAULT, 256 << 10).unwrap();
    out.push(("manifest", encoded));
    out
}

/// The literal and sequence sections of a body's first coded block, as `entropy` seeds.
fn entropy_seeds(body: &[u8]) -> Vec<(&'static str, Vec<u8>)> {
    if body.first() != Some(&1) {
        return Vec::new();
    }
    let mut pos = 1;
    let _raw = varint::read(body, &mut pos).unwrap();
    let n_lits = varint::read(body, &mut pos).unwrap() as usize;
    let n_seqs = varint::read(body, &mut pos).unwrap() as usize;
    let spec = |literals: bool, n: usize| {
        [
            (n >> 16 << 1) as u8 | u8::from(!literals),
            n as u8,
            (n >> 8) as u8,
        ]
    };
    let mut out = Vec::new();
    if n_lits > 0 {
        let used = decode_entropy_section(&body[pos..], true, n_lits).expect("literal section");
        out.push((
            "entropy",
            [&spec(true, n_lits)[..], &body[pos..pos + used]].concat(),
        ));
        pos += used;
    }
    if n_seqs > 0 && n_seqs <= (64 << 10) / 4 {
        let rest = &body[pos..];
        if let Ok(used) = decode_entropy_section(rest, false, n_seqs) {
            out.push((
                "entropy",
                [&spec(false, n_seqs)[..], &rest[..used]].concat(),
            ));
        }
    }
    out
}

#[test]
fn fuzz_seeds_reach_their_targets() {
    let seeds = seeds();
    let mut per_target = std::collections::BTreeMap::<&str, usize>::new();
    for (target, seed) in &seeds {
        *per_target.entry(target).or_default() += 1;
        match *target {
            "decode_stream" => assert!(memory::decode(seed).is_ok()),
            "range" => {
                let a = u64::from(u32::from_le_bytes(seed[..4].try_into().unwrap()));
                let b = a + u64::from(u32::from_le_bytes(seed[4..8].try_into().unwrap()));
                let full = memory::decode(&seed[8..]).unwrap().data;
                let mut out = Vec::new();
                decode_range(&mut Cursor::new(&seed[8..]), a, b, &mut out).unwrap();
                assert_eq!(out, full[a as usize..b as usize]);
            }
            "decode_body" if seed[0] == 0 => {
                let n =
                    usize::from(seed[1]) | usize::from(seed[2]) << 8 | usize::from(seed[3]) << 16;
                decode_body(
                    &seed[5..],
                    0,
                    n,
                    &mut DecodeScratch::default(),
                    &mut Vec::new(),
                )
                .unwrap();
            }
            "manifest" => {
                let dir = tempfile::tempdir().unwrap();
                // Named as the part or the journal its bytes would be.
                let path = dir.path().join(if seed.starts_with(&[0xFF, 0x7E]) {
                    ".sigma-manifest.0-of-1.sigma-jsonl"
                } else {
                    ".sigma-manifest.0-of-1.jsonl.journal"
                });
                std::fs::write(&path, seed).unwrap();
                let mut reader = Reader::open(&path).unwrap();
                let mut n = 0;
                while reader.next_record().unwrap().is_some() {
                    n += 1;
                }
                let text = if seed.starts_with(&[0xFF, 0x7E]) {
                    memory::decode(seed).unwrap().data
                } else {
                    seed.clone()
                };
                assert_eq!(n, text.iter().filter(|&&b| b == b'\n').count());
            }
            _ => {}
        }
        assert!(seed.len() < 70_000, "{target} seed of {} bytes", seed.len());
    }
    for target in [
        "decode_stream",
        "decode_body",
        "round_trip",
        "salvage",
        "range",
        "manifest",
        "entropy",
    ] {
        assert!(
            per_target.get(target).copied().unwrap_or(0) >= 4,
            "{target}: {per_target:?}"
        );
    }
    if let Some(dir) = std::env::var_os("SIGMA_FUZZ_SEEDS") {
        for (i, (target, seed)) in seeds.iter().enumerate() {
            let d = Path::new(&dir).join(target);
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(d.join(format!("seed-{i:04}")), seed).unwrap();
        }
    }
}
