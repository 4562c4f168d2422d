//! The entropy decoders alone, on any bytes: a literal section (Huffman, raw or repeated
//! byte; one or four streams) or a sequence section (tANS tables in every mode and the
//! sequences they code, executed into a frame) returns the bytes it used or an error,
//! never a panic, and never claims more bytes than it was given.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sigmalang::codec::decode_entropy_section;

fuzz_target!(|data: &[u8]| {
    if data.len() < 3 {
        return;
    }
    let (spec, section) = data.split_at(3);
    let literals = spec[0] & 1 == 0;
    let count = usize::from(spec[1]) | usize::from(spec[2]) << 8 | usize::from(spec[0] >> 1) << 16;
    if let Ok(used) = decode_entropy_section(section, literals, count) {
        assert!(used <= section.len());
    }
});
