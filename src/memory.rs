//! The in-memory reference encoder and decoder: a whole stream held in memory, one
//! thread. The streaming pipeline must produce and accept exactly the same bytes.
#![forbid(unsafe_code)]

use crate::base::{GlyphCounts, Level};
use crate::codec::DecodeScratch;
use crate::decode::walk::{Glyph, Walker};
use crate::error::{Error, Result};
use crate::format::{self, IndexEntry, Metadata, StreamHeader, VERSION};
use crate::frame::{decode_frame, FrameAt, FrameEncoder, StreamAssembler};
use crate::pipeline::prescan;
use crate::pipeline::sizing::{self, ChunkSize, DEFAULT_GROUP};

/// Encodes `data` into a complete `.sigma` stream with frames of `chunk_size` bytes in
/// groups of [`DEFAULT_GROUP`].
///
/// # Errors
/// A chunk size outside the format's limits.
pub fn encode(data: &[u8], level: Level, chunk_size: u64) -> Result<Vec<u8>> {
    encode_grouped(data, level, chunk_size, DEFAULT_GROUP)
}

/// Encodes `data` into a complete `.sigma` stream with frames of `chunk_size` bytes in
/// groups of `group`.
///
/// # Errors
/// A chunk size or group outside the format's limits.
pub fn encode_grouped(data: &[u8], level: Level, chunk_size: u64, group: u8) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(data.len() / 2 + 64);
    encode_into(
        data,
        level,
        ChunkSize::Fixed(chunk_size),
        group,
        None,
        &mut FrameEncoder::default(),
        &mut out,
    )?;
    Ok(out)
}

/// Appends the complete stream for `data` to `out`, with `metadata` when given, using
/// (and keeping) the encoder state `enc`: what a batch worker does for each small file.
/// The bytes are those the streaming pipeline writes for the same input and settings
/// (an automatic frame size follows the size of `data`).
///
/// # Errors
/// A chunk size or group outside the format's limits.
pub fn encode_into(
    data: &[u8],
    level: Level,
    chunk: ChunkSize,
    group: u8,
    metadata: Option<&Metadata>,
    enc: &mut FrameEncoder,
    out: &mut Vec<u8>,
) -> Result<u64> {
    let size = Some(data.len() as u64);
    let chunk_size = match chunk {
        ChunkSize::Auto => sizing::auto_chunk_size(level, size, group),
        ChunkSize::Fixed(n) => n,
    };
    let others: &[Level] = if sizing::strongest_too(level, chunk, size) {
        &[Level::MAX]
    } else {
        &[]
    };
    format::check_chunk_size(chunk_size)?;
    format::check_group(group)?;
    let group = format::fit_group(group, chunk_size);
    let start = out.len();
    if sizing::compact(size, chunk_size) {
        enc.encode_compact(data, level, others, metadata, out)?;
        return Ok((out.len() - start) as u64);
    }
    let header = StreamHeader {
        version: VERSION,
        level,
        chunk_size,
        group,
    };
    let mut asm = StreamAssembler::begin(&header, out);
    if let Some(m) = metadata {
        let before = out.len();
        m.write(out);
        asm.add_other((out.len() - before) as u64);
    }
    let (mut pos, mut prev) = (0, 0);
    for (k, len) in prescan::cuts(data, chunk_size as usize)
        .into_iter()
        .enumerate()
    {
        let history = if header.linked(k as u64) { prev } else { 0 };
        let summary =
            enc.encode_smallest(&data[pos - history..pos + len], history, level, others, out);
        asm.add_frame(&summary)?;
        (pos, prev) = (pos + len, len);
    }
    asm.finish(out)?;
    Ok((out.len() - start) as u64)
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
    /// The (first) stream's metadata glyph.
    pub metadata: Option<Metadata>,
}

/// Decodes and fully verifies a complete stream (or concatenated streams) held in
/// memory, one frame after another on this thread.
///
/// # Errors
/// Any corruption, truncation or checksum mismatch, naming frame and offset.
pub fn decode(stream: &[u8]) -> Result<Decoded> {
    decode_at_most(stream, u64::MAX)
}

/// [`decode`], for a stream expected to hold at most `limit` bytes: a frame that would
/// take the content past them is an error before it is decoded, so a small stream that
/// claims gigabytes allocates nothing for them.
///
/// # Errors
/// As [`decode`], and content over `limit` bytes.
pub fn decode_at_most(stream: &[u8], limit: u64) -> Result<Decoded> {
    let mut data = Vec::new();
    let mut scratch = DecodeScratch::default();
    let mut glyphs = GlyphCounts::default();
    let mut frames = 0u64;
    let mut first: Option<StreamHeader> = None;
    let mut metadata: Option<Metadata> = None;
    let mut start = 0usize;
    let mut glyph = Vec::new();
    'streams: while first.is_none() || start < stream.len() {
        let mut w = Walker::begin(&stream[start..], start as u64)?;
        first.get_or_insert(*w.header());
        let chunk_size = w.header().chunk_size;
        let from = data.len();
        let header = *w.header();
        let mut seen: Vec<IndexEntry> = Vec::new();
        let (index_at, head) = loop {
            glyph.clear();
            let next = w.next(&mut glyph)?;
            if metadata.is_none() {
                metadata = w.metadata().cloned();
            }
            match next {
                (
                    at,
                    Glyph::Frame {
                        frame,
                        head,
                        gap,
                        compact,
                    },
                ) => {
                    let before = data.len();
                    let declared = format::FrameHeader::declared_raw_size(&glyph, &head);
                    if declared.is_some_and(|n| before as u64 + n > limit) {
                        return Err(Error::corrupt(
                            Some(frame),
                            at,
                            format!("frame takes the content past {limit} bytes, the most this stream should hold"),
                        ));
                    }
                    let history = match seen.last() {
                        Some(prev) if header.linked(frame) => prev.raw_size as usize,
                        _ => 0,
                    };
                    let f = FrameAt {
                        glyph: &glyph,
                        head: &head,
                        chunk_size,
                        number: frame,
                        at,
                        compact,
                    };
                    let d = decode_frame(f, history, &mut scratch, &mut data)?;
                    seen.push(IndexEntry {
                        gap,
                        encoded_len: glyph.len() as u64,
                        raw_size: (data.len() - before) as u64,
                        glyphs: d.glyphs,
                    });
                }
                (at, Glyph::Index(head)) => break (at, head),
                (_, Glyph::CompactEnd(trailer)) => {
                    let content = &data[from..];
                    trailer.check(
                        seen.len() as u64,
                        content.len() as u64,
                        crc32c::crc32c(content),
                        trailer.index_offset,
                        start as u64,
                    )?;
                    glyphs.add(&seen.iter().fold(GlyphCounts::default(), |mut g, e| {
                        g.add(&e.glyphs);
                        g
                    }));
                    frames += seen.len() as u64;
                    start = w.pos() as usize;
                    continue 'streams;
                }
            }
        };
        let mut listed = Vec::new();
        let (trailer, trailer_at) = w.index(&head, index_at, |_, e| {
            listed.push(e);
            glyphs.add(&e.glyphs);
            Ok(())
        })?;
        if listed.len() != seen.len() {
            return Err(Error::corrupt(
                None,
                index_at,
                format!(
                    "index lists {} frames, stream has {}",
                    listed.len(),
                    seen.len()
                ),
            ));
        }
        if listed != seen {
            return Err(Error::corrupt(
                None,
                index_at,
                "index entries disagree with the frames read (gaps, sizes or glyph counts)",
            ));
        }
        let content = &data[from..];
        trailer.check(
            seen.len() as u64,
            content.len() as u64,
            crc32c::crc32c(content),
            index_at - start as u64,
            trailer_at,
        )?;
        frames += seen.len() as u64;
        start = w.pos() as usize;
    }
    let header = first.ok_or(Error::NotSigma { found: Vec::new() })?;
    Ok(Decoded {
        data,
        header,
        glyphs,
        frames,
        metadata,
    })
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
