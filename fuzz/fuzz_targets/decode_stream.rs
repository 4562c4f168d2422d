//! Any byte string given to the stream decoders (in-memory, streaming, inspect) must give
//! bytes or a typed error, never a panic or an allocation beyond the format's limits; the
//! two full decoders must agree.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sigmalang::decode::{decode_range, inspect, Decoder};
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
    // Random access must agree with the full decoders wherever both accept the stream.
    if let (Ok(r), Ok(info)) = (&reference, inspect(&mut Cursor::new(data))) {
        if info.trailer.raw_size == r.data.len() as u64 {
            let mut all = Vec::new();
            let n = decode_range(&mut Cursor::new(data), 0, info.trailer.raw_size, &mut all)
                .expect("a stream both decoders accept decodes by range");
            assert_eq!((n, &all), (r.data.len() as u64, &r.data), "range decode disagrees");
            let mid = info.trailer.raw_size / 3;
            let mut part = Vec::new();
            decode_range(&mut Cursor::new(data), mid, mid * 2, &mut part).expect("a middle range");
            assert_eq!(part, r.data[mid as usize..(mid * 2) as usize]);
        }
    }
});
