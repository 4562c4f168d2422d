//! One frame end to end: raw bytes to a frame glyph and back, plus the bookkeeping that
//! turns a run of frames into a complete stream (index and trailer).
#![forbid(unsafe_code)]

use std::io::Write;

use crate::base::pagebuf::GrowBuf;
use crate::base::{crc, write_all, GlyphCounts, Level, Spool};
use crate::codec::{self, DecodeScratch, EncodeScratch};
use crate::error::{Error, Result};
use crate::format::{
    self, Compact, CompactCheck, FrameHeader, GlyphHead, IndexEntry, Method, StreamHeader, Trailer,
    INDEX_ENTRY_FIELDS,
};

/// Reusable memory of one encoding worker.
#[derive(Default)]
pub struct FrameEncoder {
    scratch: EncodeScratch,
    header: Vec<u8>,
    /// The other frames of [`FrameEncoder::encode_smallest`].
    other: Vec<u8>,
    /// The frame of [`FrameEncoder::encode_compact`].
    compact: Vec<u8>,
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
    /// Like [`FrameEncoder::encode`], coding the frame at `level` and at each of `others`,
    /// and keeping the smallest frame (the earliest of equal sizes).
    pub fn encode_smallest(
        &mut self,
        window: &[u8],
        history: usize,
        level: Level,
        others: &[Level],
        out: &mut Vec<u8>,
    ) -> FrameSummary {
        let start = out.len();
        let mut best = self.encode(window, history, level, out);
        let mut other = std::mem::take(&mut self.other);
        for &level in others {
            other.clear();
            let summary = self.encode(window, history, level, &mut other);
            if other.len() < out.len() - start {
                out.truncate(start);
                out.extend_from_slice(&other);
                best = summary;
            }
        }
        self.other = other;
        best
    }

    /// Appends the compact stream of `data` (FORMAT.md section 3.1), its one frame coded
    /// as [`FrameEncoder::encode_smallest`] codes it.
    ///
    /// # Errors
    /// Cannot happen: the frame is whole.
    pub fn encode_compact(
        &mut self,
        data: &[u8],
        level: Level,
        others: &[Level],
        metadata: Option<&format::Metadata>,
        out: &mut Vec<u8>,
    ) -> Result<()> {
        let mut frame = std::mem::take(&mut self.compact);
        frame.clear();
        if !data.is_empty() {
            self.encode_smallest(data, 0, level, others, &mut frame);
        }
        let written = write_compact(
            (!data.is_empty()).then_some(&frame[..]),
            level,
            metadata,
            out,
        );
        self.compact = frame;
        written
    }

    /// Appends the frame glyph for `window[history..]` (1..=chunk size bytes) to `out`.
    /// `window[..history]` is the previous frame of a linked frame (or its end), which
    /// copies may reach into; `history` is 0 for the first frame of a group.
    pub fn encode(
        &mut self,
        window: &[u8],
        history: usize,
        level: Level,
        out: &mut Vec<u8>,
    ) -> FrameSummary {
        let raw = &window[history..];
        let start = out.len();
        let raw_crc = crc32c::crc32c(raw);
        // The body is coded in place after room for the largest frame header, then moved
        // down behind the real header: no second buffer per frame.
        let body_at = start + MAX_FRAME_HEADER;
        out.resize(body_at, 0);
        let coded = codec::encode_body(window, history, level, &mut self.scratch, out);
        let body_len = out.len() - body_at;
        let (method, glyphs) = if body_len < raw.len() {
            (Method::Coded, coded)
        } else {
            out.truncate(body_at);
            out.extend_from_slice(raw);
            (Method::Stored, stored_counts(raw.len() as u64))
        };
        let body_len = out.len() - body_at;
        self.header.clear();
        FrameHeader {
            raw_size: raw.len() as u64,
            method,
            raw_crc,
        }
        .write(&mut self.header, body_len, crc32c::crc32c(&out[body_at..]));
        let head_len = self.header.len();
        out.copy_within(body_at.., start + head_len);
        out.truncate(start + head_len + body_len);
        out[start..start + head_len].copy_from_slice(&self.header);
        FrameSummary {
            entry: IndexEntry {
                gap: 0,
                encoded_len: (out.len() - start) as u64,
                raw_size: raw.len() as u64,
                glyphs,
            },
            raw_crc,
        }
    }
}

/// Appends the compact stream (FORMAT.md section 3.1) for content that is the one frame
/// glyph `frame` (`None`: empty content), encoded at `level`, with `metadata` if given.
///
/// # Errors
/// `frame` is not a whole frame glyph.
pub fn write_compact(
    frame: Option<&[u8]>,
    level: Level,
    metadata: Option<&format::Metadata>,
    out: &mut Vec<u8>,
) -> Result<()> {
    let Some(glyph) = frame else {
        let crc = crc32c::crc32c(&[]);
        Compact::write(out, level, 0, Method::Stored, crc, &[], metadata);
        return Ok(());
    };
    let head = format::read_head(glyph, 0)?
        .filter(|h| h.is(format::FRAME))
        .ok_or_else(|| Error::Internal {
            detail: "a compact stream was asked for from a broken frame glyph".into(),
        })?;
    let (h, body_at) = FrameHeader::parse(glyph, &head, format::MAX_CHUNK, 0, 0)?;
    let body = &glyph[body_at..];
    Compact::write(out, level, h.raw_size, h.method, h.raw_crc, body, metadata);
    Ok(())
}

/// What decoding a frame found: its header and the glyphs its body held.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecodedFrame {
    /// The frame's fixed fields.
    pub header: FrameHeader,
    /// The glyphs decoded, counted as FORMAT.md defines them.
    pub glyphs: GlyphCounts,
}

/// Where a frame is: its glyph, head, number in the stream, stream offset, and the
/// stream's chunk size.
#[derive(Clone, Copy, Debug)]
pub struct FrameAt<'a> {
    /// The whole frame glyph.
    pub glyph: &'a [u8],
    /// Its head.
    pub head: &'a GlyphHead,
    /// The stream's chunk size.
    pub chunk_size: u64,
    /// Frame number (0-based) in the stream.
    pub number: u64,
    /// Stream offset of the glyph.
    pub at: u64,
    /// For the frame a compact stream stands for: its check, which replaces the frame's
    /// data CRC (and names the stream, not a frame, in errors).
    pub compact: Option<CompactCheck>,
}

/// Decodes a frame, appending its raw bytes to `out`; a linked frame's copies reach back
/// into the last `history` bytes of `out` (the previous frame). Checks the frame and data
/// checksums.
///
/// # Errors
/// Corruption or a checksum mismatch, naming the frame and offset.
pub fn decode_frame(
    f: FrameAt<'_>,
    history: usize,
    scratch: &mut DecodeScratch,
    out: &mut Vec<u8>,
) -> Result<DecodedFrame> {
    let start = out.len();
    let result = decode_frame_into(f, history, scratch, out, start);
    let end = result
        .as_ref()
        .map_or(start, |d| start + d.header.raw_size as usize);
    out.truncate(end);
    result
}

/// Decodes a frame after `window`, which holds the frame before it (or nothing), with
/// that frame as its history when `linked`. On success `window` holds exactly the new
/// frame's bytes; on an error it is left as it was.
///
/// # Errors
/// As [`decode_frame`].
pub fn decode_next(
    f: FrameAt<'_>,
    linked: bool,
    scratch: &mut DecodeScratch,
    window: &mut Vec<u8>,
) -> Result<DecodedFrame> {
    let prev = window.len();
    let d = decode_frame(f, if linked { prev } else { 0 }, scratch, window)?;
    window.drain(..prev);
    Ok(d)
}

/// Decodes a frame into `buf[offset..offset + raw size]` of a buffer reused across frames,
/// growing `buf` as needed (it may be left longer than that, and only ever grows, so no
/// frame pays for clearing it). A linked frame's copies reach back into the `history`
/// bytes before `offset` (the previous frame).
///
/// # Errors
/// Corruption or a checksum mismatch, naming the frame and offset; `history` above
/// `offset`.
pub fn decode_frame_into(
    f: FrameAt<'_>,
    history: usize,
    scratch: &mut DecodeScratch,
    buf: &mut impl GrowBuf,
    offset: usize,
) -> Result<DecodedFrame> {
    let (frame, at) = (f.number, f.at);
    let (header, body_at) = FrameHeader::parse(f.glyph, f.head, f.chunk_size, frame, at)?;
    let body = &f.glyph[body_at..];
    let raw = header.raw_size as usize;
    buf.grow_to(offset + raw + codec::DECODE_SLACK);
    let window = offset
        .checked_sub(history)
        .ok_or_else(|| Error::corrupt(Some(frame), at, "history of a linked frame is missing"))?;
    let dest = &mut buf[window..];
    let (glyphs, crc) = match header.method {
        Method::Stored => {
            dest[history..history + raw].copy_from_slice(body);
            (stored_counts(raw as u64), crc32c::crc32c(body))
        }
        Method::Coded => {
            codec::decode_body_into(body, history, raw, scratch, dest).map_err(|e| {
                let offset = at + (body_at + e.offset) as u64;
                match f.compact {
                    Some(_) => {
                        Error::corrupt(None, offset, format!("compact stream body: {}", e.detail))
                    }
                    None => Error::corrupt(Some(frame), offset, e.detail),
                }
            })?
        }
    };
    if let Some(check) = f.compact {
        check.verify(crc)?;
    } else if crc != header.raw_crc {
        return Err(Error::Checksum {
            what: "frame data",
            frame: Some(frame),
            offset: at,
            expected: header.raw_crc,
            found: crc,
        });
    }
    Ok(DecodedFrame { header, glyphs })
}

/// The glyphs of a stored frame: one PRIMITIVE run of all its bytes.
pub fn stored_counts(raw_size: u64) -> GlyphCounts {
    GlyphCounts {
        primitive: 1,
        literal_bytes: raw_size,
        ..GlyphCounts::default()
    }
}

/// Most bytes of the frame index an encoder keeps in memory; more go to a temporary file.
pub const INDEX_MEMORY: usize = 1 << 20;

/// Tracks the frames written so far and produces the closing index and trailer. The index
/// entries are spooled (memory stays bounded whatever the number of frames).
pub struct StreamAssembler {
    index: Spool,
    index_crc: u32,
    frames: u64,
    written: u64,
    gap: u64,
    raw_size: u64,
    content_crc: u32,
    glyphs: GlyphCounts,
    entry: Vec<u8>,
}

impl StreamAssembler {
    /// Writes the stream header into `out` and starts counting.
    pub fn begin(header: &StreamHeader, out: &mut Vec<u8>) -> StreamAssembler {
        let start = out.len();
        header.write(out);
        StreamAssembler {
            index: Spool::new(INDEX_MEMORY),
            index_crc: 0,
            frames: 0,
            written: (out.len() - start) as u64,
            gap: 0,
            raw_size: 0,
            content_crc: 0,
            glyphs: GlyphCounts::default(),
            entry: Vec::with_capacity(INDEX_ENTRY_FIELDS * 10),
        }
    }

    /// Counts `bytes` of other glyphs (metadata) written before the next frame.
    pub fn add_other(&mut self, bytes: u64) {
        self.written += bytes;
        self.gap += bytes;
    }

    /// Records a frame written after everything counted so far.
    ///
    /// # Errors
    /// The index spool cannot be written.
    pub fn add_frame(&mut self, frame: &FrameSummary) -> Result<()> {
        let entry = IndexEntry {
            gap: self.gap,
            ..frame.entry
        };
        self.entry.clear();
        entry.write(&mut self.entry);
        self.index.write(&self.entry)?;
        self.index_crc = crc32c::crc32c_append(self.index_crc, &self.entry);
        self.gap = 0;
        self.frames += 1;
        self.written += entry.encoded_len;
        self.raw_size += entry.raw_size;
        self.content_crc = crc::combine(self.content_crc, frame.raw_crc, entry.raw_size);
        self.glyphs.add(&entry.glyphs);
        Ok(())
    }

    /// Raw bytes covered so far.
    pub fn raw_size(&self) -> u64 {
        self.raw_size
    }

    /// Frames so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// CRC32C of the content so far.
    pub fn content_crc(&self) -> u32 {
        self.content_crc
    }

    /// Glyph totals so far.
    pub fn glyphs(&self) -> GlyphCounts {
        self.glyphs
    }

    /// Writes the index and trailer to `out`; returns the total stream length.
    ///
    /// # Errors
    /// Writing fails.
    pub fn finish(&mut self, out: &mut dyn Write) -> Result<u64> {
        let index_at = self.written;
        let mut head = Vec::with_capacity(32);
        format::write_index_head(&mut head, self.frames, self.index.len());
        write_all(out, &head)?;
        self.index.copy_to(out)?;
        let crc = crc::combine(crc32c::crc32c(&head), self.index_crc, self.index.len());
        let mut tail = crc.to_le_bytes().to_vec();
        Trailer {
            raw_size: self.raw_size,
            frames: self.frames,
            index_offset: index_at,
            content_crc: self.content_crc,
        }
        .write(&mut tail);
        write_all(out, &tail)?;
        Ok(index_at + head.len() as u64 + self.index.len() + tail.len() as u64)
    }
}
