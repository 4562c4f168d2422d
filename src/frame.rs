//! One frame end to end: raw bytes to a frame glyph and back, plus the bookkeeping that
//! turns a run of frames into a complete stream (index and trailer).
#![forbid(unsafe_code)]

use crate::base::{GlyphCounts, Level};
use crate::codec::{self, DecodeScratch, EncodeScratch};
use crate::error::{Error, Result};
use crate::format::{self, FrameHeader, GlyphHead, IndexEntry, Method, StreamHeader, Trailer};

/// Reusable memory of one encoding worker.
#[derive(Default)]
pub struct FrameEncoder {
    scratch: EncodeScratch,
    header: Vec<u8>,
}

/// Room reserved for a frame glyph's head and fixed fields: head byte, 10-byte length,
/// 10-byte raw size, method, three CRCs.
const MAX_FRAME_HEADER: usize = 1 + 10 + 10 + 1 + 4 + 4 + 4;

/// What encoding one frame produced, besides its bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameSummary {
    /// The frame's index entry.
    pub entry: IndexEntry,
    /// CRC32C of the frame's raw bytes.
    pub raw_crc: u32,
}

impl FrameEncoder {
    /// Appends the frame glyph for `raw` (1..=chunk size bytes) to `out`.
    pub fn encode(&mut self, raw: &[u8], level: Level, out: &mut Vec<u8>) -> FrameSummary {
        let start = out.len();
        let raw_crc = crc32c::crc32c(raw);
        // The body is coded in place after room for the largest frame header, then moved
        // down behind the real header: no second buffer per frame.
        let body_at = start + MAX_FRAME_HEADER;
        out.resize(body_at, 0);
        let coded = codec::encode_body(raw, level, &mut self.scratch, out);
        let body_len = out.len() - body_at;
        let (method, glyphs) = if body_len < raw.len() {
            (Method::Coded, coded)
        } else {
            out.truncate(body_at);
            out.extend_from_slice(raw);
            let stored = GlyphCounts {
                primitive: 1,
                literal_bytes: raw.len() as u64,
                ..GlyphCounts::default()
            };
            (Method::Stored, stored)
        };
        let body_len = out.len() - body_at;
        self.header.clear();
        FrameHeader {
            raw_size: raw.len() as u64,
            method,
            raw_crc,
            body_crc: crc32c::crc32c(&out[body_at..]),
        }
        .write(&mut self.header, body_len);
        let head_len = self.header.len();
        out.copy_within(body_at.., start + head_len);
        out.truncate(start + head_len + body_len);
        out[start..start + head_len].copy_from_slice(&self.header);
        FrameSummary {
            entry: IndexEntry {
                encoded_len: (out.len() - start) as u64,
                raw_size: raw.len() as u64,
                glyphs,
            },
            raw_crc,
        }
    }
}

/// Decodes the frame glyph `glyph` (head `head`, frame number `frame`, stream offset
/// `at`), appending its raw bytes to `out`; checks the header and data checksums.
///
/// # Errors
/// Corruption or a checksum mismatch, naming the frame and offset.
pub fn decode_frame(
    glyph: &[u8],
    head: &GlyphHead,
    chunk_size: u64,
    frame: u64,
    at: u64,
    scratch: &mut DecodeScratch,
    out: &mut Vec<u8>,
) -> Result<FrameHeader> {
    let start = out.len();
    let result = decode_frame_at(glyph, head, chunk_size, frame, at, scratch, out, start);
    let end = result
        .as_ref()
        .map_or(start, |h| start + h.raw_size as usize);
    out.truncate(end);
    result
}

/// Like [`decode_frame`], but decodes into `buf[..raw size]` of a buffer reused across
/// frames: `buf` only ever grows (to the largest frame plus a little), so no frame pays
/// for clearing it. Returns the header; the frame's bytes are `buf[..header.raw_size]`.
///
/// # Errors
/// Corruption or a checksum mismatch, naming the frame and offset.
pub fn decode_frame_reuse(
    glyph: &[u8],
    head: &GlyphHead,
    chunk_size: u64,
    frame: u64,
    at: u64,
    scratch: &mut DecodeScratch,
    buf: &mut Vec<u8>,
) -> Result<FrameHeader> {
    decode_frame_at(glyph, head, chunk_size, frame, at, scratch, buf, 0)
}

/// Decodes a frame into `buf[offset..offset + raw size]`, growing `buf` as needed (it may
/// be left longer than that).
#[allow(clippy::too_many_arguments)]
fn decode_frame_at(
    glyph: &[u8],
    head: &GlyphHead,
    chunk_size: u64,
    frame: u64,
    at: u64,
    scratch: &mut DecodeScratch,
    buf: &mut Vec<u8>,
    offset: usize,
) -> Result<FrameHeader> {
    let (header, body_at) = FrameHeader::parse(glyph, head, chunk_size, frame, at)?;
    let body = &glyph[body_at..];
    let raw = header.raw_size as usize;
    if buf.len() < offset + raw + codec::DECODE_SLACK {
        buf.resize(offset + raw + codec::DECODE_SLACK, 0);
    }
    let dest = &mut buf[offset..];
    match header.method {
        Method::Stored => {
            if body.len() != raw {
                return Err(Error::corrupt(
                    Some(frame),
                    at,
                    format!("stored frame body is {} bytes, should be {raw}", body.len()),
                ));
            }
            dest[..raw].copy_from_slice(body);
        }
        Method::Coded => {
            codec::decode_body_into(body, raw, scratch, dest).map_err(|e| {
                Error::corrupt(Some(frame), at + (body_at + e.offset) as u64, e.detail)
            })?;
        }
    }
    let crc = crc32c::crc32c(&dest[..raw]);
    if crc != header.raw_crc {
        return Err(Error::Checksum {
            what: "frame data",
            frame: Some(frame),
            offset: at,
            expected: header.raw_crc,
            found: crc,
        });
    }
    Ok(header)
}

/// Tracks the frames written so far and produces the closing index and trailer.
#[derive(Debug)]
pub struct StreamAssembler {
    entries: Vec<IndexEntry>,
    written: u64,
    raw_size: u64,
    content_crc: u32,
    glyphs: GlyphCounts,
}

impl StreamAssembler {
    /// Writes the stream header into `out` and starts counting.
    pub fn begin(header: &StreamHeader, out: &mut Vec<u8>) -> StreamAssembler {
        let start = out.len();
        header.write(out);
        StreamAssembler {
            entries: Vec::new(),
            written: (out.len() - start) as u64,
            raw_size: 0,
            content_crc: 0,
            glyphs: GlyphCounts::default(),
        }
    }

    /// Records a frame written right after the previous one.
    pub fn add_frame(&mut self, frame: &FrameSummary) {
        self.entries.push(frame.entry);
        self.written += frame.entry.encoded_len;
        self.raw_size += frame.entry.raw_size;
        self.content_crc = crc32c::crc32c_combine(
            self.content_crc,
            frame.raw_crc,
            frame.entry.raw_size as usize,
        );
        self.glyphs.add(&frame.entry.glyphs);
    }

    /// Raw bytes covered so far.
    pub fn raw_size(&self) -> u64 {
        self.raw_size
    }

    /// Frames so far.
    pub fn frames(&self) -> u64 {
        self.entries.len() as u64
    }

    /// Glyph totals so far.
    pub fn glyphs(&self) -> GlyphCounts {
        self.glyphs
    }

    /// Appends the index and trailer to `out`; returns the total stream length.
    pub fn finish(&self, out: &mut Vec<u8>) -> u64 {
        let start = out.len();
        format::write_index(out, &self.entries);
        Trailer {
            raw_size: self.raw_size,
            frames: self.entries.len() as u64,
            index_offset: self.written,
            content_crc: self.content_crc,
        }
        .write(out);
        self.written + (out.len() - start) as u64
    }
}
