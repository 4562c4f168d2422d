//! Random access: the trailer found from the end in O(1), the index streamed from where
//! it points (never held in memory), and only the frames that cover a byte range read.
#![forbid(unsafe_code)]

use std::io::{BufReader, Read, Seek, SeekFrom, Write};
use std::time::Instant;

use super::walk::{read_exact_at, read_glyph_head, read_payload, IndexReader};
use crate::base::{write_all, GlyphCounts};
use crate::codec::DecodeScratch;
use crate::error::{Error, Result};
use crate::format::{
    self, Compact, CompactCheck, GlyphHead, IndexEntry, Metadata, StreamHeader, StreamStart,
    Trailer,
};
use crate::frame::{decode_next, FrameAt};
use crate::stats::{self, Stats};

/// What a stream's header, index and trailer say, read without decoding frames.
#[derive(Clone, Debug)]
pub struct StreamInfo {
    /// The stream header.
    pub header: StreamHeader,
    /// Bytes the stream header takes.
    pub header_len: u64,
    /// The trailer.
    pub trailer: Trailer,
    /// Offset of the trailer glyph (it ends the stream).
    pub trailer_at: u64,
    /// Total stream size.
    pub encoded_size: u64,
    /// Glyph totals over all frames.
    pub glyphs: GlyphCounts,
    /// Smallest and largest raw frame size (0 when there are no frames).
    pub frame_raw_min: u64,
    /// Largest raw frame size.
    pub frame_raw_max: u64,
    /// A compact stream's fields (its header, trailer and one index entry above are
    /// those it stands for).
    pub compact: Option<Compact>,
    /// The stream's metadata (name, mode, mtime), if it has any.
    pub metadata: Option<Metadata>,
    /// Whether it has a metadata glyph that does not check out (`metadata` is then
    /// `None`; decode and verify report it).
    pub metadata_damaged: bool,
}

/// One frame as the index describes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameInfo {
    /// Frame number (0-based).
    pub number: u64,
    /// Offset of the frame glyph in the stream.
    pub offset: u64,
    /// Offset of the frame's first byte in the decoded content.
    pub raw_start: u64,
    /// The index entry.
    pub entry: IndexEntry,
}

fn seek<F: Seek>(f: &mut F, to: u64) -> Result<()> {
    f.seek(SeekFrom::Start(to))
        .map(|_| ())
        .map_err(|e| Error::io("seeking input", e))
}

/// Reads the header, the trailer (found from the end in O(1)) and every index entry of a
/// seekable stream, checking the index against the trailer.
///
/// # Errors
/// Not a stream, truncation, or an index and trailer that disagree.
pub fn inspect<F: Read + Seek>(f: &mut F) -> Result<StreamInfo> {
    let size = f
        .seek(SeekFrom::End(0))
        .map_err(|e| Error::io("seeking input", e))?;
    seek(f, 0)?;
    let mut first = vec![0u8; size.min(80) as usize];
    read_exact_at(f, &mut first, 0, "stream header")?;
    // A compact stream is its first glyph: read it whole.
    if let Ok(Some(head)) = format::read_head(&first, 0) {
        let len = head.payload_len.unwrap_or(0);
        if head.is(format::STREAM_HEAD) && len <= format::MAX_COMPACT_PAYLOAD {
            let whole = (head.head_len as u64 + len).min(size);
            if whole > first.len() as u64 {
                first.resize(whole as usize, 0);
                seek(f, 0)?;
                read_exact_at(f, &mut first, 0, "stream header")?;
            }
        }
    }
    let (start, header_len) = format::parse_start(&first)?;
    let header_len = header_len as u64;
    let header = match start {
        StreamStart::Full(h) => h,
        StreamStart::Compact(c) => return inspect_compact(&first[..header_len as usize], c, size),
    };
    if size < header_len + format::MIN_TRAILER_LEN as u64 {
        return Err(Error::Truncated {
            offset: size,
            detail: "stream is shorter than a header and trailer".into(),
        });
    }
    seek(f, size - 1)?;
    let mut last = [0u8; 1];
    read_exact_at(f, &mut last, size - 1, "trailer")?;
    let trailer_len = Trailer::len_from_last_byte(last[0], size - 1)? as u64;
    let trailer_at = size
        .checked_sub(trailer_len)
        .filter(|&t| t >= header_len)
        .ok_or_else(|| Error::Truncated {
            offset: size,
            detail: "stream is shorter than a header and trailer".into(),
        })?;
    seek(f, trailer_at)?;
    let mut tail = vec![0u8; trailer_len as usize];
    read_exact_at(f, &mut tail, trailer_at, "trailer")?;
    let trailer = Trailer::parse(&tail, trailer_at)?;
    let mut info = StreamInfo {
        header,
        header_len,
        trailer,
        trailer_at,
        encoded_size: size,
        glyphs: GlyphCounts::default(),
        frame_raw_min: 0,
        frame_raw_max: 0,
        compact: None,
        metadata: None,
        metadata_damaged: false,
    };
    let (mut raw, mut min, mut max, mut end, mut n) = (0u64, u64::MAX, 0u64, header_len, 0u64);
    let mut glyphs = GlyphCounts::default();
    // The glyphs before the first frame (or the index) may hold the metadata.
    let mut first_frame = trailer.index_offset;
    walk_index(f, &info, |frame, _| {
        first_frame = first_frame.min(frame.offset);
        n += 1;
        raw += frame.entry.raw_size;
        end = frame.offset + frame.entry.encoded_len;
        min = min.min(frame.entry.raw_size);
        max = max.max(frame.entry.raw_size);
        glyphs.add(&frame.entry.glyphs);
        Ok(true)
    })?;
    info.glyphs = glyphs;
    match metadata_before(f, header_len, first_frame)? {
        Some(Ok(m)) => info.metadata = Some(m),
        Some(Err(_)) => info.metadata_damaged = true,
        None => {}
    }
    info.frame_raw_min = if n == 0 { 0 } else { min };
    info.frame_raw_max = max;
    if n != trailer.frames || raw != trailer.raw_size || end > trailer.index_offset {
        return Err(Error::corrupt(
            None,
            trailer.index_offset,
            format!(
                "index ({n} frames, {raw} bytes, ending at {end}) disagrees with trailer ({} frames, {} bytes, index at {})",
                trailer.frames, trailer.raw_size, trailer.index_offset
            ),
        ));
    }
    Ok(info)
}

/// Most glyphs looked at before the first frame for the metadata glyph.
const METADATA_SEARCH: usize = 256;

/// The metadata glyph among the first glyphs in `[from, to)` (those between the stream
/// header and the first frame), read; `None` when there is none, an error when it does
/// not check out (inspection and random access go on without it).
///
/// # Errors
/// A read error.
fn metadata_before<F: Read + Seek>(
    f: &mut F,
    from: u64,
    to: u64,
) -> Result<Option<Result<Metadata>>> {
    let mut at = from;
    let mut glyph = Vec::new();
    for _ in 0..METADATA_SEARCH {
        if at >= to {
            break;
        }
        seek(f, at)?;
        let Ok(Some(head)) = read_glyph_head(f, at, &mut glyph) else {
            break;
        };
        let len = head.payload_len.unwrap_or(0);
        let end = at + head.head_len as u64 + len;
        if end > to || len > format::MAX_OTHER_PAYLOAD {
            break;
        }
        if head.is(format::METADATA) {
            read_payload(f, len, &mut glyph, at)?;
            return Ok(Some(Metadata::parse(&glyph, &head, at)));
        }
        at = end;
    }
    Ok(None)
}

/// [`inspect`] for a compact stream `glyph` of a file of `size` bytes: its one frame is
/// decoded (and so checked) for its glyph counts.
fn inspect_compact(glyph: &[u8], c: Compact, size: u64) -> Result<StreamInfo> {
    let len = glyph.len() as u64;
    if size > len {
        return Err(Error::corrupt(
            None,
            len,
            "data after a compact stream (concatenated streams decode whole: use decode or verify)",
        ));
    }
    let (frame, at) = compact_frame(glyph, &c);
    let mut glyphs = GlyphCounts::default();
    if c.frames() == 0 {
        c.checker(0).verify(crc32c::crc32c(&[]))?;
    } else {
        let head = frame_head(&frame, at, &IndexEntry::default(), 0, false)?;
        let f = FrameAt {
            glyph: &frame,
            head: &head,
            chunk_size: c.header().chunk_size,
            number: 0,
            at,
            compact: Some(c.checker(0)),
        };
        glyphs = decode_next(f, false, &mut DecodeScratch::default(), &mut Vec::new())?.glyphs;
    }
    Ok(StreamInfo {
        header: c.header(),
        header_len: len,
        trailer: c.trailer(len),
        trailer_at: len,
        encoded_size: len,
        glyphs,
        frame_raw_min: c.raw_size,
        frame_raw_max: c.raw_size,
        metadata: c.metadata.clone(),
        metadata_damaged: false,
        compact: Some(c),
    })
}

/// The frame glyph a compact stream stands for, and the offset that puts its body where
/// the compact stream's is.
fn compact_frame(glyph: &[u8], c: &Compact) -> (Vec<u8>, u64) {
    let mut frame = Vec::with_capacity(glyph.len());
    let body_at = c.frame_glyph(glyph, &mut frame);
    (frame, (c.body_at as u64).saturating_sub(body_at as u64))
}

/// Calls `each` for every frame of a stream that [`inspect`] has read, in order, until it
/// returns `false`.
///
/// # Errors
/// A read error, or an error of `each`.
pub fn frames<F, E>(f: &mut F, info: &StreamInfo, each: E) -> Result<()>
where
    F: Read + Seek,
    E: FnMut(&FrameInfo) -> Result<bool>,
{
    let mut each = each;
    walk_index(f, info, |frame, _| each(frame))
}

/// Streams the index the trailer points to, with each frame's place in the stream and
/// in the content (sums checked against overflow and the stream size). `each` also gets
/// the input, to read frames with; it must leave the input's position as it found it.
pub(crate) fn walk_index<F, E>(f: &mut F, info: &StreamInfo, mut each: E) -> Result<()>
where
    F: Read + Seek,
    E: FnMut(&FrameInfo, &mut F) -> Result<bool>,
{
    if let Some(c) = &info.compact {
        if c.frames() > 0 {
            let frame = FrameInfo {
                number: 0,
                offset: 0,
                raw_start: 0,
                entry: IndexEntry {
                    gap: 0,
                    encoded_len: info.encoded_size,
                    raw_size: c.raw_size,
                    glyphs: info.glyphs,
                },
            };
            each(&frame, f)?;
        }
        return Ok(());
    }
    let index_at = info.trailer.index_offset;
    let trailer_at = info.trailer_at;
    let outside = || {
        Error::corrupt(
            None,
            trailer_at,
            format!("trailer points to an index at byte {index_at}, outside the stream"),
        )
    };
    if index_at < info.header_len || index_at >= trailer_at {
        return Err(outside());
    }
    seek(f, index_at)?;
    let mut r = BufReader::with_capacity(64 * 1024, f);
    let mut head_bytes = Vec::new();
    let head = read_glyph_head(&mut r, index_at, &mut head_bytes)?
        .filter(|h| {
            h.is(format::INDEX)
                && h.payload_len.and_then(|l| l.checked_add(h.head_len as u64))
                    == Some(trailer_at - index_at)
        })
        .ok_or_else(|| {
            Error::corrupt(
                None,
                index_at,
                "no index glyph where the trailer points: damaged, or several streams concatenated (inspect and --range read one stream; decode and verify read them all)",
            )
        })?;
    let len = head.payload_len.unwrap_or(0);
    if len > format::max_index_payload(info.trailer.frames) {
        return Err(Error::corrupt(
            None,
            index_at,
            format!(
                "index payload is {len} bytes, should be at most {} for {} frames",
                format::max_index_payload(info.trailer.frames),
                info.trailer.frames
            ),
        ));
    }
    let mut index = IndexReader::new(&mut r, &head_bytes, len, index_at, info.header.chunk_size)?;
    let mut end = info.header_len;
    let mut raw_start = 0u64;
    let mut number = 0u64;
    let mut going = true;
    while going {
        let Some(entry) = index.next_entry()? else {
            break;
        };
        let past = || Error::corrupt(Some(number), index_at, "index: frames run past the index");
        let offset = end.checked_add(entry.gap).ok_or_else(past)?;
        end = offset
            .checked_add(entry.encoded_len)
            .filter(|&o| o <= index_at)
            .ok_or_else(past)?;
        let frame = FrameInfo {
            number,
            offset,
            raw_start,
            entry,
        };
        raw_start = raw_start
            .checked_add(entry.raw_size)
            .ok_or_else(|| Error::corrupt(Some(number), index_at, "index: raw sizes overflow"))?;
        going = each(&frame, index.reader().get_mut())?;
        number += 1;
    }
    if going {
        index.finish()?;
    }
    Ok(())
}

/// Writes bytes `[start, end)` of the original content to `out`, reading only the frames
/// that cover them (found through the index). Returns the bytes written.
///
/// # Errors
/// A range outside the content, or any error of the frames read.
pub fn decode_range<F: Read + Seek>(
    f: &mut F,
    start: u64,
    end: u64,
    out: &mut dyn Write,
) -> Result<u64> {
    decode_range_stats(f, start, end, out).map(|s| s.bytes_out)
}

/// [`decode_range`], returning what it did: bytes written, the frames it decoded and
/// their encoded bytes (`bytes_in`), on one thread.
///
/// # Errors
/// As [`decode_range`].
pub fn decode_range_stats<F: Read + Seek>(
    f: &mut F,
    start: u64,
    end: u64,
    out: &mut dyn Write,
) -> Result<Stats> {
    let started = Instant::now();
    if start > end {
        return Err(Error::InvalidSetting {
            detail: format!("range {start}:{end} ends before it starts"),
        });
    }
    let info = inspect(f)?;
    if end > info.trailer.raw_size {
        return Err(Error::InvalidSetting {
            detail: format!(
                "range {start}:{end} is outside the content (0:{})",
                info.trailer.raw_size
            ),
        });
    }
    let mut written = 0u64;
    let (mut frames, mut read) = (0u64, 0u64);
    let mut scratch = DecodeScratch::default();
    let mut glyph = Vec::new();
    // The last frame decoded, and its number: the history of a linked frame after it.
    let mut window = Vec::new();
    let mut last: Option<u64> = None;
    // The frames of the current group before the range starts, in case a linked frame
    // of the range needs them.
    let mut before: Vec<FrameInfo> = Vec::new();
    if start < end {
        walk_index(f, &info, |fr, input| {
            let fr_end = fr.raw_start + fr.entry.raw_size;
            let header = &info.header;
            if fr_end <= start {
                if !header.linked(fr.number) {
                    before.clear();
                }
                before.push(*fr);
                return Ok(true);
            }
            // The group's frames before this one, when this one needs them and they were
            // skipped.
            let mut todo: Vec<FrameInfo> = Vec::new();
            if header.linked(fr.number) && last != Some(fr.number - 1) {
                todo.append(&mut before);
            }
            todo.push(*fr);
            for fr in &todo {
                // Read the frame, then put the input back where the index reader left it.
                let resume = input
                    .stream_position()
                    .map_err(|e| Error::io("seeking input", e))?;
                seek(input, fr.offset)?;
                glyph.clear();
                read_payload(input, fr.entry.encoded_len, &mut glyph, fr.offset)?;
                seek(input, resume)?;
                let linked = header.linked(fr.number) && last == Some(fr.number - 1);
                let mut fr = *fr;
                if let Some(c) = &info.compact {
                    let at;
                    (glyph, at) = compact_frame(&glyph, c);
                    fr.offset = at;
                    fr.entry.encoded_len = glyph.len() as u64;
                }
                decode_indexed_frame(
                    &glyph,
                    &fr,
                    info.compact.as_ref().map(|c| c.checker(0)),
                    linked,
                    header.chunk_size,
                    &mut scratch,
                    &mut window,
                )?;
                last = Some(fr.number);
                frames += 1;
                read += fr.entry.encoded_len;
            }
            let from = start.max(fr.raw_start) - fr.raw_start;
            let to = end.min(fr_end) - fr.raw_start;
            write_all(out, &window[from as usize..to as usize])?;
            written += to - from;
            Ok(fr_end < end)
        })?;
    }
    out.flush().map_err(|e| Error::io("writing output", e))?;
    if written != end - start {
        return Err(Error::corrupt(
            None,
            info.trailer.index_offset,
            format!(
                "index covers {written} of the {} bytes asked for",
                end - start
            ),
        ));
    }
    Ok(Stats {
        bytes_in: read,
        bytes_out: written,
        raw_size: written,
        encoded_size: read,
        frames,
        chunk_size: info.header.chunk_size,
        threads: 1,
        level: info.header.level.get(),
        elapsed: started.elapsed(),
        peak_rss: stats::peak_rss().unwrap_or(0),
        ..Stats::default()
    })
}

/// Decodes the frame glyph `glyph` that the index entry `fr` describes; `window` holds
/// the frame before it, its history when `linked`, and is left holding exactly `fr`'s
/// bytes.
fn decode_indexed_frame(
    glyph: &[u8],
    fr: &FrameInfo,
    compact: Option<CompactCheck>,
    linked: bool,
    chunk_size: u64,
    scratch: &mut DecodeScratch,
    window: &mut Vec<u8>,
) -> Result<()> {
    let head = frame_head(glyph, fr.offset, &fr.entry, fr.number, true)?;
    let f = FrameAt {
        glyph,
        head: &head,
        chunk_size,
        number: fr.number,
        at: fr.offset,
        compact,
    };
    let decoded = decode_next(f, linked, scratch, window)?;
    let raw = window;
    if raw.len() as u64 != fr.entry.raw_size {
        return Err(Error::corrupt(
            Some(fr.number),
            fr.offset,
            format!(
                "frame decodes to {} bytes, the index says {}",
                raw.len(),
                fr.entry.raw_size
            ),
        ));
    }
    if decoded.glyphs != fr.entry.glyphs {
        return Err(Error::corrupt(
            Some(fr.number),
            fr.offset,
            "frame's glyph counts disagree with the index",
        ));
    }
    Ok(())
}

/// The head of the frame glyph at the start of `glyph` (at offset `at`, frame `number`),
/// whose length is the entry's when `check_len`.
fn frame_head(
    glyph: &[u8],
    at: u64,
    entry: &IndexEntry,
    number: u64,
    check_len: bool,
) -> Result<GlyphHead> {
    format::read_head(glyph, at)?
        .filter(|h| {
            h.is(format::FRAME)
                && (!check_len
                    || h.payload_len.map(|l| l + h.head_len as u64) == Some(entry.encoded_len))
        })
        .ok_or_else(|| Error::corrupt(Some(number), at, "no frame glyph where the index points"))
}
