//! Any byte string given to the stream decoders (in-memory, streaming, inspect) must give
//! bytes or a typed error, never a panic or an allocation beyond the format's limits; the
//! two full decoders must agree.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sigmalang::decode::{inspect, Decoder};
use std::io::Cursor;
use std::sync::OnceLock;

/// One decoder (and thread pool) for the whole run.
static DECODER: OnceLock<Decoder> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let reference = sigmalang::memory::decode(data);
    let decoder = DECODER.get_or_init(|| Decoder::new(1).expect("one-thread pool"));
    let mut out = Vec::new();
    let streamed = decoder.decode(Cursor::new(data), &mut out, &|_| {});
    match (&reference, &streamed) {
        (Ok(r), Ok(_)) => assert_eq!(r.data, out, "decoders disagree"),
        (Ok(_), Err(e)) => panic!("streaming decoder refused a stream the reference accepts: {e}"),
        (Err(_), Ok(_)) => panic!("streaming decoder accepted a stream the reference refuses"),
        (Err(_), Err(_)) => {}
    }
    let _ = inspect(&mut Cursor::new(data));
});
