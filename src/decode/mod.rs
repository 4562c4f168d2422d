//! The streaming decoder: walks container glyphs from any reader, decodes frames on the
//! worker pool and writes them in order with bounded memory; verifies every checksum, the
//! index and the trailer. Also random access by byte range, and stream inspection.
#![forbid(unsafe_code)]

use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};
use std::sync::Mutex;
use std::time::Instant;

use crate::base::GlyphCounts;
use crate::base::{write_all, Progress};
use crate::codec::DecodeScratch;
use crate::error::{Error, Result};
use crate::format::{self, GlyphHead, IndexEntry, StreamHeader, Trailer, TRAILER_LEN};
use crate::frame::{decode_frame, decode_frame_reuse};
use crate::parallel::{self, resolve_threads, slots};
use crate::stats::{self, Stats};

/// A streaming decoder with its own worker pool.
pub struct Decoder {
    threads: usize,
    pool: rayon::ThreadPool,
}

struct FrameJob {
    frame: u64,
    at: u64,
    head: GlyphHead,
    chunk_size: u64,
}

struct Closing {
    index_at: u64,
    entries: Vec<IndexEntry>,
    trailer: Trailer,
    end: u64,
}

/// Reads exactly `buf.len()` bytes, or reports truncation at `at`.
fn read_exact_at<R: Read>(r: &mut R, buf: &mut [u8], at: u64, what: &str) -> Result<()> {
    r.read_exact(buf).map_err(|e| {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            Error::Truncated {
                offset: at,
                detail: format!("stream ends inside the {what}"),
            }
        } else {
            Error::io("reading input", e)
        }
    })
}

/// Reads a glyph head at `at`; `Ok(None)` at a clean end of input.
fn read_glyph_head<R: Read>(r: &mut R, at: u64, buf: &mut Vec<u8>) -> Result<Option<GlyphHead>> {
    buf.clear();
    let mut byte = [0u8; 1];
    loop {
        let n = loop {
            match r.read(&mut byte) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Error::io("reading input", e)),
            }
        };
        if n == 0 {
            if buf.is_empty() {
                return Ok(None);
            }
            return Err(Error::Truncated {
                offset: at + buf.len() as u64,
                detail: "stream ends inside a glyph header".into(),
            });
        }
        buf.push(byte[0]);
        if let Some(head) = format::read_head(buf, at)? {
            return Ok(Some(head));
        }
    }
}

impl Decoder {
    /// Builds a decoder with `threads` workers (0 = one per core).
    ///
    /// # Errors
    /// The thread pool cannot be created.
    pub fn new(threads: usize) -> Result<Decoder> {
        let threads = resolve_threads(threads);
        let pool = parallel::worker_pool(threads, "sigma-decoder")?;
        Ok(Decoder { threads, pool })
    }

    /// Decodes the stream `input` into `out`, verifying everything.
    ///
    /// # Errors
    /// I/O errors, truncation, corruption and checksum mismatches, naming frame and offset.
    pub fn decode<R: Read + Send>(
        &self,
        input: R,
        out: &mut dyn Write,
        progress: Progress<'_>,
    ) -> Result<Stats> {
        let started = Instant::now();
        let mut r = BufReader::with_capacity(64 * 1024, input);
        let mut first = vec![0u8; format::MAX_HEAD_LEN];
        let head =
            read_glyph_head(&mut r, 0, &mut first)?.ok_or(Error::NotSigma { found: Vec::new() })?;
        let header_len = head.head_len as u64 + head.payload_len.unwrap_or(0);
        if !head.is(format::STREAM_HEAD) || header_len > 80 {
            return Err(Error::NotSigma {
                found: first.clone(),
            });
        }
        let mut header_bytes = first.clone();
        header_bytes.resize(header_len as usize, 0);
        read_exact_at(
            &mut r,
            &mut header_bytes[head.head_len..],
            head.head_len as u64,
            "stream header",
        )?;
        let (header, _) = StreamHeader::parse(&header_bytes)?;
        let chunk_size = header.chunk_size;
        let closing: Mutex<Option<Closing>> = Mutex::new(None);
        let closing_ref = &closing;
        let mut pos = header_len;
        let mut frames = 0u64;
        let mut head_buf = Vec::new();
        let produce = move |_seq: u64, slot: &mut parallel::Slot| -> Result<Option<FrameJob>> {
            loop {
                let at = pos;
                let Some(head) = read_glyph_head(&mut r, at, &mut head_buf)? else {
                    return Err(Error::Truncated {
                        offset: at,
                        detail: "stream ends before its index and trailer".into(),
                    });
                };
                let Some(len) = head.payload_len else {
                    pos += head.head_len as u64;
                    continue;
                };
                let limit = if head.is(format::FRAME) {
                    format::max_frame_payload(chunk_size)
                } else if head.is(format::INDEX) {
                    format::max_index_payload(frames)
                } else {
                    format::MAX_METADATA
                };
                if len > limit {
                    return Err(Error::corrupt(
                        head.is(format::FRAME).then_some(frames),
                        at,
                        format!("glyph payload is {len} bytes, should be at most {limit}"),
                    ));
                }
                slot.input.clear();
                slot.input.extend_from_slice(&head_buf);
                slot.input.resize(head.head_len + len as usize, 0);
                read_exact_at(
                    &mut r,
                    &mut slot.input[head.head_len..],
                    at,
                    "glyph payload",
                )?;
                pos += slot.input.len() as u64;
                if head.is(format::FRAME) {
                    frames += 1;
                    return Ok(Some(FrameJob {
                        frame: frames - 1,
                        at,
                        head,
                        chunk_size,
                    }));
                }
                if head.is(format::INDEX) {
                    let entries = format::parse_index(&slot.input, &head, at)?;
                    let mut tail = [0u8; TRAILER_LEN];
                    read_exact_at(&mut r, &mut tail, pos, "trailer")?;
                    let trailer = Trailer::parse(&tail, pos)?;
                    let end = pos + TRAILER_LEN as u64;
                    let mut extra = [0u8; 1];
                    if r.read(&mut extra)
                        .map_err(|e| Error::io("reading input", e))?
                        != 0
                    {
                        return Err(Error::corrupt(None, end, "data after the trailer"));
                    }
                    if let Ok(mut c) = closing_ref.lock() {
                        *c = Some(Closing {
                            index_at: at,
                            entries,
                            trailer,
                            end,
                        });
                    }
                    return Ok(None);
                }
                if head.is(format::METADATA) {
                    format::Metadata::parse(&slot.input, &head, at)?;
                }
            }
        };
        let work = |job: FrameJob,
                    slot: &mut parallel::Slot,
                    scratch: &mut DecodeScratch|
         -> Result<(u64, u32, usize)> {
            let header = decode_frame_reuse(
                &slot.input,
                &job.head,
                job.chunk_size,
                job.frame,
                job.at,
                scratch,
                &mut slot.output,
            )?;
            Ok((
                slot.input.len() as u64,
                header.raw_crc,
                header.raw_size as usize,
            ))
        };
        let mut seen: Vec<(u64, u64)> = Vec::new();
        let mut raw = 0u64;
        let mut crc = 0u32;
        parallel::run(
            &self.pool,
            slots(self.threads),
            produce,
            work,
            |_, (enc_len, frame_crc, len), slot| {
                write_all(out, &slot.output[..len])?;
                let n = len as u64;
                seen.push((enc_len, n));
                raw += n;
                crc = crc32c::crc32c_combine(crc, frame_crc, n as usize);
                progress(raw);
                Ok(())
            },
        )?;
        out.flush().map_err(|e| Error::io("writing output", e))?;
        let closing = closing
            .into_inner()
            .ok()
            .flatten()
            .ok_or_else(|| Error::Truncated {
                offset: 0,
                detail: "stream has no index".into(),
            })?;
        check_closing(&closing, &seen, raw, crc)?;
        let mut glyphs = GlyphCounts::default();
        closing.entries.iter().for_each(|e| glyphs.add(&e.glyphs));
        Ok(Stats {
            bytes_in: closing.end,
            bytes_out: raw,
            raw_size: raw,
            encoded_size: closing.end,
            frames: seen.len() as u64,
            glyphs,
            chunk_size: header.chunk_size,
            threads: self.threads,
            level: header.level.get(),
            elapsed: started.elapsed(),
            peak_rss: stats::peak_rss().unwrap_or(0),
        })
    }
}

fn check_closing(c: &Closing, seen: &[(u64, u64)], raw: u64, crc: u32) -> Result<()> {
    let at = c.index_at;
    if c.entries.len() != seen.len() {
        return Err(Error::corrupt(
            None,
            at,
            format!(
                "index lists {} frames, stream has {}",
                c.entries.len(),
                seen.len()
            ),
        ));
    }
    for (i, (e, s)) in c.entries.iter().zip(seen).enumerate() {
        if (e.encoded_len, e.raw_size) != *s {
            return Err(Error::corrupt(
                Some(i as u64),
                at,
                format!(
                    "index entry says {} encoded / {} raw bytes, frame has {} / {}",
                    e.encoded_len, e.raw_size, s.0, s.1
                ),
            ));
        }
    }
    let t = &c.trailer;
    let trailer_at = c.end - TRAILER_LEN as u64;
    if t.frames != seen.len() as u64 || t.raw_size != raw || t.index_offset != c.index_at {
        return Err(Error::corrupt(
            None,
            trailer_at,
            format!(
                "trailer says {} frames, {} bytes, index at {}; stream has {}, {raw}, {}",
                t.frames,
                t.raw_size,
                t.index_offset,
                seen.len(),
                c.index_at
            ),
        ));
    }
    if t.content_crc != crc {
        return Err(Error::Checksum {
            what: "content",
            frame: None,
            offset: trailer_at,
            expected: t.content_crc,
            found: crc,
        });
    }
    Ok(())
}

/// What a stream's header, index and trailer say, read without decoding frames.
#[derive(Clone, Debug)]
pub struct StreamInfo {
    /// The stream header.
    pub header: StreamHeader,
    /// The trailer.
    pub trailer: Trailer,
    /// One entry per frame.
    pub entries: Vec<IndexEntry>,
    /// Stream offset of each frame.
    pub offsets: Vec<u64>,
    /// Total stream size.
    pub encoded_size: u64,
}

impl StreamInfo {
    /// Glyph totals over all frames.
    pub fn glyphs(&self) -> GlyphCounts {
        let mut g = GlyphCounts::default();
        self.entries.iter().for_each(|e| g.add(&e.glyphs));
        g
    }
}

/// Reads the header, trailer (found from the end in O(1)) and index of a seekable stream.
///
/// # Errors
/// Not a stream, truncation or inconsistent index and trailer.
pub fn inspect<F: Read + Seek>(f: &mut F) -> Result<StreamInfo> {
    let size = f
        .seek(SeekFrom::End(0))
        .map_err(|e| Error::io("seeking input", e))?;
    f.seek(SeekFrom::Start(0))
        .map_err(|e| Error::io("seeking input", e))?;
    let mut first = vec![0u8; (size.min(80)) as usize];
    read_exact_at(f, &mut first, 0, "stream header")?;
    let (header, header_len) = StreamHeader::parse(&first)?;
    if size < (header_len + TRAILER_LEN) as u64 {
        return Err(Error::Truncated {
            offset: size,
            detail: "stream is shorter than a header and trailer".into(),
        });
    }
    let trailer_at = size - TRAILER_LEN as u64;
    f.seek(SeekFrom::Start(trailer_at))
        .map_err(|e| Error::io("seeking input", e))?;
    let mut tail = [0u8; TRAILER_LEN];
    read_exact_at(f, &mut tail, trailer_at, "trailer")?;
    let trailer = Trailer::parse(&tail, trailer_at)?;
    let index_len = trailer_at.checked_sub(trailer.index_offset).filter(|&l| {
        trailer.index_offset >= header_len as u64
            && l <= format::max_index_payload(trailer.frames) + format::MAX_HEAD_LEN as u64
    });
    let Some(index_len) = index_len else {
        return Err(Error::corrupt(
            None,
            trailer_at,
            format!(
                "trailer points to an index at byte {}, outside the stream",
                trailer.index_offset
            ),
        ));
    };
    f.seek(SeekFrom::Start(trailer.index_offset))
        .map_err(|e| Error::io("seeking input", e))?;
    let mut glyph = vec![0u8; index_len as usize];
    read_exact_at(f, &mut glyph, trailer.index_offset, "index")?;
    let head = format::read_head(&glyph, trailer.index_offset)?
        .filter(|h| {
            h.is(format::INDEX) && h.head_len as u64 + h.payload_len.unwrap_or(0) == index_len
        })
        .ok_or_else(|| {
            Error::corrupt(
                None,
                trailer.index_offset,
                "no index glyph where the trailer points",
            )
        })?;
    let entries = format::parse_index(&glyph, &head, trailer.index_offset)?;
    let mut offsets = Vec::with_capacity(entries.len());
    let mut at = header_len as u64;
    let mut raw = 0u64;
    for e in &entries {
        offsets.push(at);
        at = at.saturating_add(e.encoded_len);
        raw = raw.saturating_add(e.raw_size);
    }
    if entries.len() as u64 != trailer.frames
        || raw != trailer.raw_size
        || at > trailer.index_offset
    {
        return Err(Error::corrupt(
            None,
            trailer.index_offset,
            format!(
                "index ({} frames, {raw} bytes, ending at {at}) disagrees with trailer ({} frames, {} bytes, index at {})",
                entries.len(),
                trailer.frames,
                trailer.raw_size,
                trailer.index_offset
            ),
        ));
    }
    Ok(StreamInfo {
        header,
        trailer,
        entries,
        offsets,
        encoded_size: size,
    })
}

/// Writes bytes `[start, end)` of the original content to `out`, reading only the frames
/// that cover them (found through the index).
///
/// # Errors
/// A range outside the content, or any error of the frames read.
pub fn decode_range(f: &mut File, start: u64, end: u64, out: &mut dyn Write) -> Result<u64> {
    let info = inspect(f)?;
    if start > end || end > info.trailer.raw_size {
        return Err(Error::InvalidSetting {
            detail: format!(
                "range {start}:{end} is outside the content (0:{})",
                info.trailer.raw_size
            ),
        });
    }
    let mut scratch = DecodeScratch::default();
    let mut glyph = Vec::new();
    let mut raw = Vec::new();
    let mut frame_start = 0u64;
    let mut written = 0u64;
    for (i, e) in info.entries.iter().enumerate() {
        let frame_end = frame_start + e.raw_size;
        if frame_end > start && frame_start < end {
            let at = info.offsets[i];
            if e.encoded_len
                > format::max_frame_payload(info.header.chunk_size) + format::MAX_HEAD_LEN as u64
            {
                return Err(Error::corrupt(
                    Some(i as u64),
                    at,
                    "index entry is larger than a frame can be",
                ));
            }
            f.seek(SeekFrom::Start(at))
                .map_err(|e| Error::io("seeking input", e))?;
            glyph.resize(e.encoded_len as usize, 0);
            read_exact_at(f, &mut glyph, at, "frame")?;
            let head = format::read_head(&glyph, at)?
                .filter(|h| h.is(format::FRAME))
                .ok_or_else(|| {
                    Error::corrupt(Some(i as u64), at, "no frame glyph where the index points")
                })?;
            raw.clear();
            decode_frame(
                &glyph,
                &head,
                info.header.chunk_size,
                i as u64,
                at,
                &mut scratch,
                &mut raw,
            )?;
            if raw.len() as u64 != e.raw_size {
                return Err(Error::corrupt(
                    Some(i as u64),
                    at,
                    "frame size disagrees with the index",
                ));
            }
            let from = start.max(frame_start) - frame_start;
            let to = end.min(frame_end) - frame_start;
            write_all(out, &raw[from as usize..to as usize])?;
            written += to - from;
        }
        if frame_start >= end {
            break;
        }
        frame_start = frame_end;
    }
    out.flush().map_err(|e| Error::io("writing output", e))?;
    Ok(written)
}
