//! Any input encodes and decodes back to itself at every level and a small chunk size, and
//! the encoding is deterministic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sigmalang::{memory, Level};

fuzz_target!(|data: &[u8]| {
    let Some((&choice, input)) = data.split_first() else {
        return;
    };
    let level = Level::new(choice % 9 + 1).expect("level 1-9");
    let chunk = if choice & 0x80 != 0 { 4096 } else { 65536 };
    let stream = memory::encode(input, level, chunk).expect("encode");
    assert_eq!(stream, memory::encode(input, level, chunk).expect("encode"));
    let decoded = memory::decode(&stream).expect("decode");
    assert_eq!(decoded.data, input);
});
