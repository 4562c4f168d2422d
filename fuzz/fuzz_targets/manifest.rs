//! The batch manifest reader on any bytes (as an encoded part, a plain part or a journal):
//! records or an error, never a panic, and every record it accepts has a path that stays
//! inside its tree and writes back the same.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sigmalang::batch::manifest::{check_relative, Reader, Record};
use std::io::Write;

fuzz_target!(|data: &[u8]| {
    // Read as an encoded part, a plain part or a journal, by the first byte.
    let name = match data.first() {
        Some(0xFF) => ".sigma-manifest.0-of-1.sigma-jsonl",
        Some(b) if b & 1 == 0 => ".sigma-manifest.0-of-1.jsonl",
        _ => ".sigma-manifest.0-of-1.jsonl.journal",
    };
    let dir = tempfile::tempdir().expect("temporary folder");
    let path = dir.path().join(name);
    std::fs::File::create(&path)
        .and_then(|mut f| f.write_all(data))
        .expect("write");
    let Ok(mut reader) = Reader::open(&path) else {
        return;
    };
    while let Ok(Some(r)) = reader.next_record() {
        assert!(check_relative(&r.path).is_ok());
        let again = Record::from_line(r.to_line().trim_end()).expect("a record writes back");
        assert_eq!(again.path, r.path);
    }
});
