//! The batch manifest reader on any bytes: records or an error, never a panic, and every
//! record it accepts has a path that stays inside its tree and writes back the same.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sigmalang::batch::manifest::{check_relative, Reader, Record};
use std::io::Write;

fuzz_target!(|data: &[u8]| {
    let mut f = tempfile::NamedTempFile::new().expect("temporary file");
    f.write_all(data).expect("write");
    let Ok(mut reader) = Reader::open(f.path()) else {
        return;
    };
    while let Ok(Some(r)) = reader.next_record() {
        assert!(check_relative(&r.path).is_ok());
        let again = Record::from_line(r.to_line().trim_end()).expect("a record writes back");
        assert_eq!(again.path, r.path);
    }
});
