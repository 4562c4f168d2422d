//! Damaged streams: every decoder reports an error and never panics.

use sigmalang::memory;
use sigmalang::Level;

use crate::util::*;

fn sample() -> (Vec<u8>, Vec<u8>) {
    let data = mixed_bytes(150_000, 11);
    let s = memory::encode(&data, Level::DEFAULT, 16 * 1024).unwrap();
    (data, s)
}

#[test]
fn every_single_bit_flip_in_a_small_stream_is_detected() {
    // A compact stream (one glyph), and a stream of two frames, index and trailer.
    for (n, chunk) in [(3000, 4096), (6000, 4096)] {
        every_bit_flip_is_detected(
            &memory::encode(&text_bytes(n, 2), Level::DEFAULT, chunk).unwrap(),
        );
    }
}

fn every_bit_flip_is_detected(s: &[u8]) {
    for i in 0..s.len() {
        for bit in [0, 3, 7] {
            let mut bad = s.to_vec();
            bad[i] ^= 1 << bit;
            assert!(
                memory::decode(&bad).is_err(),
                "flip at byte {i} bit {bit} not detected"
            );
            assert!(
                decode_stream(&bad, 2).is_err(),
                "streaming: flip at byte {i} bit {bit}"
            );
        }
    }
}

#[test]
fn flips_and_truncations_never_panic() {
    let (_, s) = sample();
    let mut x = 12345u64;
    for _ in 0..400 {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let mut bad = s.clone();
        let i = (x >> 33) as usize % bad.len();
        bad[i] ^= (x >> 8) as u8 | 1;
        assert!(memory::decode(&bad).is_err());
        assert!(decode_stream(&bad, 2).is_err());
    }
    for cut in (0..s.len()).step_by(s.len() / 97 + 1) {
        assert!(memory::decode(&s[..cut]).is_err());
        assert!(decode_stream(&s[..cut], 2).is_err());
    }
}

#[test]
fn errors_name_the_frame_and_offset() {
    let (_, s) = sample();
    let mut bad = s.clone();
    let i = s.len() / 2;
    bad[i] ^= 0x40;
    let msg = decode_stream(&bad, 2).unwrap_err().to_string();
    assert!(msg.contains("frame ") && msg.contains("at byte "), "{msg}");
}

#[test]
fn random_garbage_is_not_a_stream() {
    for seed in 0..50 {
        let junk = random_bytes(1000 + seed as usize * 37, seed);
        assert!(memory::decode(&junk).is_err());
        assert!(decode_stream(&junk, 1).is_err());
    }
    let mut fake = vec![0xFF, 0x7E, 14];
    fake.extend_from_slice(b"SGMA");
    fake.extend_from_slice(&[9, 3, 0, 0x80, 0x80, 0x01, 0, 0, 0, 0]);
    let e = memory::decode(&fake).unwrap_err().to_string();
    assert!(e.contains("version is 9"), "{e}");
}

#[test]
fn corrupt_streams_reach_inspect_and_range_decoding_and_fail_there() {
    use sigmalang::decode;
    use std::io::Cursor;
    let data = text_bytes(12_000, 4);
    let s = memory::encode(&data, Level::DEFAULT, 4096).unwrap();
    let info = decode::inspect(&mut Cursor::new(&s)).unwrap();
    let frames_end = info.trailer.index_offset as usize;
    for i in 0..s.len() {
        for bit in [0, 5] {
            let mut bad = s.clone();
            bad[i] ^= 1 << bit;
            let inspected = decode::inspect(&mut Cursor::new(&bad));
            // Outside the frames, the header, index or trailer checks catch every flip.
            let in_frames = i >= info.header_len as usize && i < frames_end;
            assert!(
                in_frames || inspected.is_err(),
                "inspect missed a flip at byte {i} bit {bit}"
            );
            let mut out = Vec::new();
            let r = decode::decode_range(&mut Cursor::new(&bad), 0, data.len() as u64, &mut out);
            assert!(
                r.is_err(),
                "range decode missed a flip at byte {i} bit {bit}"
            );
            let r = decode::decode_range(&mut Cursor::new(&bad), 5000, 5100, &mut out);
            if let Ok(n) = r {
                assert_eq!(n, 100);
            }
        }
    }
}
