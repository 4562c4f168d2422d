//! The in-memory reference encoder and decoder: a whole stream held in memory, one
//! thread. The streaming pipeline must produce and accept exactly the same bytes.
#![forbid(unsafe_code)]

use crate::base::{GlyphCounts, Level};
use crate::codec::DecodeScratch;
use crate::error::{Error, Result};
use crate::format::{self, StreamHeader, Trailer, TRAILER_LEN, VERSION};
use crate::frame::{decode_frame, FrameEncoder, StreamAssembler};
use crate::pipeline::prescan;

/// Encodes `data` into a complete `.sigma` stream.
///
/// # Errors
/// A chunk size outside the format's limits.
pub fn encode(data: &[u8], level: Level, chunk_size: u64) -> Result<Vec<u8>> {
    format::check_chunk_size(chunk_size)?;
    let mut out = Vec::with_capacity(data.len() / 2 + 64);
    let header = StreamHeader {
        version: VERSION,
        level,
        chunk_size,
    };
    let mut asm = StreamAssembler::begin(&header, &mut out);
    let mut enc = FrameEncoder::default();
    let mut start = 0;
    for len in prescan::cuts(data, chunk_size as usize) {
        let summary = enc.encode(&data[start..start + len], level, &mut out);
        asm.add_frame(&summary);
        start += len;
    }
    asm.finish(&mut out);
    Ok(out)
}

/// A decoded stream and what it held.
#[derive(Debug)]
pub struct Decoded {
    /// The decoded content.
    pub data: Vec<u8>,
    /// The stream header.
    pub header: StreamHeader,
    /// Glyph totals from the index.
    pub glyphs: GlyphCounts,
    /// Frames in the stream.
    pub frames: u64,
}

fn truncated(offset: usize, detail: &str) -> Error {
    Error::Truncated {
        offset: offset as u64,
        detail: detail.into(),
    }
}

/// Decodes and fully verifies a complete stream held in memory.
///
/// # Errors
/// Any corruption, truncation or checksum mismatch, naming frame and offset.
pub fn decode(stream: &[u8]) -> Result<Decoded> {
    let (header, mut pos) = StreamHeader::parse(stream)?;
    let mut data = Vec::new();
    let mut scratch = DecodeScratch::default();
    let mut seen: Vec<(u64, u64)> = Vec::new();
    loop {
        let head = format::read_head(&stream[pos..], pos as u64)?
            .ok_or_else(|| truncated(stream.len(), "glyph header"))?;
        let Some(len) = head.payload_len else {
            pos += head.head_len;
            continue;
        };
        let end = (pos + head.head_len)
            .checked_add(usize::try_from(len).unwrap_or(usize::MAX))
            .filter(|&e| e <= stream.len())
            .ok_or_else(|| truncated(stream.len(), "glyph payload"))?;
        let glyph = &stream[pos..end];
        if head.is(format::FRAME) {
            let frame = seen.len() as u64;
            if len > format::max_frame_payload(header.chunk_size) {
                return Err(Error::corrupt(
                    Some(frame),
                    pos as u64,
                    format!("frame payload is {len} bytes, above the limit for this chunk size"),
                ));
            }
            let before = data.len();
            decode_frame(
                glyph,
                &head,
                header.chunk_size,
                frame,
                pos as u64,
                &mut scratch,
                &mut data,
            )?;
            seen.push(((end - pos) as u64, (data.len() - before) as u64));
        } else if head.is(format::INDEX) {
            let index_at = pos;
            let entries = format::parse_index(glyph, &head, pos as u64)?;
            let listed: Vec<(u64, u64)> = entries
                .iter()
                .map(|e| (e.encoded_len, e.raw_size))
                .collect();
            if listed != seen {
                return Err(Error::corrupt(
                    None,
                    pos as u64,
                    format!(
                        "index lists {} frames that do not match the {} frames read",
                        listed.len(),
                        seen.len()
                    ),
                ));
            }
            let tail = stream.get(end..).unwrap_or(&[]);
            if tail.len() != TRAILER_LEN {
                return Err(truncated(stream.len(), "trailer"));
            }
            let trailer = Trailer::parse(tail, end as u64)?;
            check_trailer(
                &trailer,
                index_at as u64,
                &data,
                seen.len() as u64,
                end as u64,
            )?;
            let mut glyphs = GlyphCounts::default();
            entries.iter().for_each(|e| glyphs.add(&e.glyphs));
            return Ok(Decoded {
                data,
                header,
                glyphs,
                frames: seen.len() as u64,
            });
        } else if head.is(format::METADATA) {
            format::Metadata::parse(glyph, &head, pos as u64)?;
        }
        pos = end;
    }
}

fn check_trailer(t: &Trailer, index_at: u64, data: &[u8], frames: u64, at: u64) -> Result<()> {
    if t.index_offset != index_at || t.frames != frames || t.raw_size != data.len() as u64 {
        return Err(Error::corrupt(
            None,
            at,
            format!(
                "trailer says {} frames, {} bytes, index at {}; stream has {frames}, {}, {index_at}",
                t.frames,
                t.raw_size,
                t.index_offset,
                data.len()
            ),
        ));
    }
    let crc = crc32c::crc32c(data);
    if crc != t.content_crc {
        return Err(Error::Checksum {
            what: "content",
            frame: None,
            offset: at,
            expected: t.content_crc,
            found: crc,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_small_inputs() {
        for data in [&b""[..], b"a", b"hello hello hello hello", &[0u8; 70_000]] {
            let s = encode(data, Level::DEFAULT, 4096).unwrap();
            assert_eq!(decode(&s).unwrap().data, data);
        }
    }

    #[test]
    fn truncation_is_reported() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 97) as u8).collect();
        let s = encode(&data, Level::DEFAULT, 16384).unwrap();
        for cut in [0, 5, s.len() / 2, s.len() - 1] {
            assert!(decode(&s[..cut]).is_err(), "cut {cut}");
        }
    }
}
