//! Property tests: every kind of input, at every level, round-trips bit for bit, and the
//! encoder is deterministic.

use proptest::prelude::*;
use sigmalang::memory;
use sigmalang::Level;

use crate::util::*;

/// Sizes around the codec's and container's internal boundaries.
const EDGES: &[usize] = &[
    0, 1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 63, 64, 255, 256, 4095, 4096, 4097, 65_535, 65_536,
    131_071, 131_072, 131_073, 262_145,
];

fn data_strategy() -> impl Strategy<Value = Vec<u8>> {
    let size = prop_oneof![
        proptest::sample::select(EDGES.to_vec()),
        0usize..20_000,
        20_000usize..400_000,
    ];
    (size, 0u8..4, any::<u64>()).prop_map(|(n, kind, seed)| match kind {
        0 => random_bytes(n, seed),
        1 => text_bytes(n, seed),
        2 => mixed_bytes(n, seed),
        _ => {
            // Repetitive: a short random pattern repeated with rare changes.
            let pat = random_bytes(1 + (seed % 40) as usize, seed);
            let mut v: Vec<u8> = pat.iter().cycle().take(n).copied().collect();
            for i in (0..n).step_by(997) {
                v[i] ^= 1;
            }
            v
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// The same bytes for any thread count and read path, equal to the in-memory
    /// reference encoder's.
    #[test]
    fn identical_bytes_for_any_thread_count(data in data_strategy(), level in 1u8..=9, chunk_kib in 4u64..64) {
        let chunk = chunk_kib * 1024;
        let reference = memory::encode(&data, Level::new(level).unwrap(), chunk).unwrap();
        for threads in [1, 2, 5] {
            prop_assert_eq!(&encode_reader(&data, level, chunk, threads), &reference, "threads {}", threads);
        }
        prop_assert_eq!(&decode_stream(&reference, 3).unwrap(), &data);
    }

    #[test]
    fn round_trip_every_level(data in data_strategy(), level in 1u8..=9, chunk_kib in 4u64..96) {
        let chunk = chunk_kib * 1024;
        let level = Level::new(level).unwrap();
        let s = memory::encode(&data, level, chunk).unwrap();
        prop_assert_eq!(&memory::decode(&s).unwrap().data, &data);
        prop_assert_eq!(&memory::encode(&data, level, chunk).unwrap(), &s);
        // Incompressible data never grows by more than 0.1% plus a small constant.
        prop_assert!(s.len() as u64 <= data.len() as u64 + data.len() as u64 / 1000 + 128 + 40 * (data.len() as u64 / chunk + 1));
    }
}

#[test]
fn edge_sizes_at_every_level_and_a_few_mib() {
    for &n in EDGES {
        let data = mixed_bytes(n, n as u64);
        for level in 1..=9 {
            let s = memory::encode(&data, Level::new(level).unwrap(), 64 * 1024).unwrap();
            assert_eq!(
                memory::decode(&s).unwrap().data,
                data,
                "size {n} level {level}"
            );
        }
    }
    let big = mixed_bytes(3 << 20, 42);
    for level in [1, 3, 6, 9] {
        let s = memory::encode(&big, Level::new(level).unwrap(), 1 << 20).unwrap();
        assert_eq!(memory::decode(&s).unwrap().data, big, "level {level}");
    }
}

#[test]
fn frames_of_many_blocks_round_trip_at_every_level() {
    // 1 MiB frames hold eight 128 KiB blocks each; mixed data gives raw and coded blocks.
    let data = mixed_bytes(2 << 20, 9);
    for level in 1..=9 {
        let s = memory::encode(&data, Level::new(level).unwrap(), 1 << 20).unwrap();
        assert_eq!(memory::decode(&s).unwrap().data, data, "level {level}");
        assert_eq!(decode_stream(&s, 2).unwrap(), data, "level {level}");
    }
}

#[test]
fn incompressible_input_grows_by_at_most_a_tenth_of_a_percent() {
    let data = random_bytes(4 << 20, 1);
    let s = memory::encode(&data, Level::DEFAULT, 1 << 20).unwrap();
    assert!(
        s.len() <= data.len() + data.len() / 1000 + 256,
        "{} -> {}",
        data.len(),
        s.len()
    );
}
