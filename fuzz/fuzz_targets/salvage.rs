//! Salvage on any bytes: never a panic, never an error but for an intact header of another
//! format version, never more output than the format allows, and on a stream the decoder
//! accepts, exactly the decoded content with nothing reported lost.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sigmalang::decode::salvage::{salvage, Sequential};
use std::io::Cursor;

fuzz_target!(|data: &[u8]| {
    let mut out = Vec::new();
    let r = match salvage(&mut Cursor::new(data), &mut Sequential::new(&mut out)) {
        Ok(r) => r,
        // An intact header of another format version: its frames are not this version's.
        Err(sigmalang::Error::UnsupportedVersion { .. }) => return,
        Err(e) => panic!("salvage reports damage, it does not fail on it: {e}"),
    };
    assert!(out.len() as u64 >= r.bytes);
    if let Ok(d) = sigmalang::memory::decode(data) {
        if r.lost.is_empty() {
            assert_eq!(out, d.data, "salvage of an intact stream differs from decoding it");
        }
    }
});
