//! The frame body decoder, given any bytes and any declared size (kept under 1 MiB so runs
//! stay fast), returns the bytes or an error, never a panic. Half of the inputs are real
//! bodies with one byte changed or a tail cut off, so the fuzzer reaches the Huffman tables,
//! sequences and copies behind a valid block header; for the real bodies the encoder's
//! glyph counts must equal the decoder's. The fifth byte gives a history (a linked
//! frame's previous frame): that share of the input is coded as history, or, for any
//! bytes, that many 64-byte units of history sit before the output.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sigmalang::codec::{decode_body, encode_body, DecodeScratch, EncodeScratch};
use sigmalang::Level;

fuzz_target!(|data: &[u8]| {
    if data.len() < 5 {
        return;
    }
    let (spec, rest) = data.split_at(5);
    let mut out = Vec::new();
    let mut scratch = DecodeScratch::default();
    if spec[0] & 1 == 0 {
        let raw_size =
            (usize::from(spec[1]) | usize::from(spec[2]) << 8 | usize::from(spec[3]) << 16)
                % (1 << 20);
        let history = usize::from(spec[4]) * 64;
        out.extend((0..history).map(|i| i as u8));
        if decode_body(rest, history, raw_size, &mut scratch, &mut out).is_ok() {
            assert_eq!(out.len(), history + raw_size);
        }
        return;
    }
    let level = Level::new(spec[0] / 2 % 9 + 1).expect("level 1-9");
    let history = rest.len() * usize::from(spec[4]) / 256;
    let mut body = Vec::new();
    let counted = encode_body(rest, history, level, &mut EncodeScratch::default(), &mut body);
    out.extend_from_slice(&rest[..history]);
    let decoded = decode_body(&body, history, rest.len() - history, &mut scratch, &mut out)
        .expect("a valid body decodes");
    assert_eq!(out, rest);
    assert_eq!(counted, decoded, "encoder and decoder glyph counts differ");
    if body.is_empty() {
        return;
    }
    let at = (usize::from(spec[1]) | usize::from(spec[2]) << 8) % body.len();
    if spec[3] == 0 {
        body.truncate(at);
    } else {
        body[at] ^= spec[3];
    }
    out.truncate(history);
    let _ = decode_body(&body, history, rest.len() - history, &mut scratch, &mut out);
});
