//! Range decoding with any range of any bytes: never a panic, and when it succeeds,
//! exactly end - start bytes that agree with a full decode.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sigmalang::decode::decode_range;
use std::io::Cursor;

fuzz_target!(|input: &[u8]| {
    if input.len() < 8 {
        return;
    }
    let (spec, data) = input.split_at(8);
    let a = u64::from(u32::from_le_bytes([spec[0], spec[1], spec[2], spec[3]]));
    let b = a + u64::from(u32::from_le_bytes([spec[4], spec[5], spec[6], spec[7]]) % 70_000);
    let mut out = Vec::new();
    if let Ok(n) = decode_range(&mut Cursor::new(data), a, b, &mut out) {
        assert_eq!((n, out.len() as u64), (b - a, b - a));
        if let Ok(d) = sigmalang::memory::decode(data) {
            assert_eq!(out, d.data[a as usize..b as usize], "range disagrees with a full decode");
        }
    }
});
