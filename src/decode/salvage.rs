//! Salvage: the intact frames of a damaged stream. When the index and trailer still
//! check out, every frame is read where the index puts it and written at its original
//! offset, so only the damaged frames' bytes are lost. Otherwise the file is scanned for
//! frame glyphs (every candidate proven by its frame CRC and raw CRC); frames keep their
//! original offsets as long as everything before them was found, and the damaged
//! stretches are reported. A frame that does not decode alone is tried as a linked frame
//! after the frame right before it. Compact streams are found like frames (each proven by
//! its check). A file of several streams that all check out is decoded as it is. Memory
//! stays at two frames whatever the damage.
#![forbid(unsafe_code)]

use std::io::{Read, Seek, SeekFrom, Write};

use super::random;
use super::walk::{read_payload, IndexReader};
use super::DecodeReader;
use crate::base::GlyphCounts;
use crate::codec::DecodeScratch;
use crate::error::{Error, Result};
use crate::format::{self, IndexEntry, StreamHeader, StreamStart, Trailer, MAX_CHUNK};
use crate::frame::{decode_next, FrameAt};

/// A range of the original content that could not be recovered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Lost {
    /// First lost byte: its original offset when `exact`, else its offset in the output.
    pub start: u64,
    /// One past the last lost byte; `None` when the size is unknown.
    pub end: Option<u64>,
    /// True when `start` is the original offset (everything before it was found).
    pub exact: bool,
}

/// What salvage recovered.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Salvaged {
    /// Frames decoded and written.
    pub frames: u64,
    /// Bytes written.
    pub bytes: u64,
    /// Whether the index and trailer were intact (original offsets known for every frame).
    pub index_intact: bool,
    /// What was lost, in order.
    pub lost: Vec<Lost>,
    /// Intact frames that no entry of the stream's surviving index places (a stream
    /// spliced from two): not written, since where their bytes belong is unknown.
    pub unplaced: Vec<Unplaced>,
}

/// An intact frame found in a stream whose index places no frame like it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Unplaced {
    /// Where its glyph starts in the stream.
    pub at: u64,
    /// Bytes it decodes to.
    pub raw_size: u64,
}

/// Where salvaged bytes go.
pub trait SalvageOutput {
    /// Writes `data` at `offset` (offsets only grow).
    ///
    /// # Errors
    /// The write fails.
    fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<()>;
    /// Makes the output `len` bytes long (a lost range at the end).
    ///
    /// # Errors
    /// The write fails.
    fn finish(&mut self, len: u64) -> Result<()>;
}

/// A seekable output: lost ranges become holes.
pub struct Seekable<W>(pub W);

impl<W: Write + Seek> SalvageOutput for Seekable<W> {
    fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<()> {
        self.0
            .seek(SeekFrom::Start(offset))
            .and_then(|_| self.0.write_all(data))
            .map_err(|e| Error::io("writing output", e))
    }

    fn finish(&mut self, len: u64) -> Result<()> {
        let end = self
            .0
            .seek(SeekFrom::End(0))
            .map_err(|e| Error::io("writing output", e))?;
        if end < len {
            // One zero byte at the end makes the file `len` long; the rest is a hole.
            self.write_at(len - 1, &[0])?;
        }
        Ok(())
    }
}

/// A sequential output: lost ranges are zero-filled.
pub struct Sequential<W> {
    out: W,
    pos: u64,
}

impl<W: Write> Sequential<W> {
    /// Wraps `out`.
    pub fn new(out: W) -> Self {
        Sequential { out, pos: 0 }
    }
}

impl<W: Write> SalvageOutput for Sequential<W> {
    fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<()> {
        let io = |e| Error::io("writing output", e);
        let zeros = [0u8; 4096];
        while self.pos < offset {
            let n = (offset - self.pos).min(zeros.len() as u64) as usize;
            self.out.write_all(&zeros[..n]).map_err(io)?;
            self.pos += n as u64;
        }
        self.out.write_all(data).map_err(io)?;
        self.pos += data.len() as u64;
        Ok(())
    }

    fn finish(&mut self, len: u64) -> Result<()> {
        self.write_at(len, &[])?;
        self.out.flush().map_err(|e| Error::io("writing output", e))
    }
}

/// Most bytes of content one byte of a stream can decode to, with room to spare: a coded
/// block of up to 1 MiB takes a dozen bytes or more (one copy can span it).
const MAX_EXPANSION: u64 = 1 << 17;

/// An output that holds salvage to the content a stream of its size could have: an index
/// that lists more (crafted, or damaged in a way its checksum missed) would have the lost
/// ranges padded out to gigabytes.
struct Capped<'a> {
    out: &'a mut dyn SalvageOutput,
    most: u64,
}

impl Capped<'_> {
    fn check(&self, end: u64) -> Result<()> {
        if end > self.most {
            return Err(Error::InvalidSetting {
                detail: format!(
                    "the stream's index places content up to byte {end}, more than a stream of its size can hold ({}); salvage does not pad lost ranges that far",
                    self.most
                ),
            });
        }
        Ok(())
    }
}

impl SalvageOutput for Capped<'_> {
    fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<()> {
        self.check(offset.saturating_add(data.len() as u64))?;
        self.out.write_at(offset, data)
    }

    fn finish(&mut self, len: u64) -> Result<()> {
        self.check(len)?;
        self.out.finish(len)
    }
}

/// Recovers every intact frame of the (possibly damaged) stream `f` into `out`.
///
/// # Errors
/// Only I/O errors; damage is reported in the result.
pub fn salvage<F: Read + Seek>(f: &mut F, out: &mut dyn SalvageOutput) -> Result<Salvaged> {
    let size = f
        .seek(SeekFrom::End(0))
        .map_err(|e| Error::io("seeking input", e))?;
    let out = &mut Capped {
        out,
        most: size.saturating_mul(MAX_EXPANSION),
    };
    let result = match random::inspect(f) {
        // A compact stream that inspects was decoded and checked whole: nothing is lost.
        Ok(info) if info.compact.is_some() => {
            let mut content = Vec::new();
            random::decode_range(f, 0, info.trailer.raw_size, &mut content)?;
            out.write_at(0, &content)?;
            out.finish(content.len() as u64)?;
            Salvaged {
                frames: info.trailer.frames,
                bytes: content.len() as u64,
                index_intact: true,
                ..Salvaged::default()
            }
        }
        Ok(info) => {
            // The index and trailer check out: every frame found is placed by its entry
            // (which also puts swapped or duplicated frames right).
            let mut entries = Vec::new();
            random::frames(f, &info, |fr| {
                entries.push(fr.entry);
                Ok(true)
            })?;
            let crc = Some(info.trailer.content_crc);
            by_found_index(f, info.encoded_size, info.header_len, &entries, crc, out)?
        }
        Err(e @ Error::Io { .. }) => return Err(e),
        Err(_) => match whole(f, out)? {
            Some(r) => r,
            None => by_scan(f, out)?,
        },
    };
    Ok(result)
}

/// A file the random-access reader cannot take (several streams, say) that decodes and
/// checks out whole: decoded into `out`, nothing lost. `None` when it does not, before
/// anything is written.
fn whole<F: Read + Seek>(f: &mut F, out: &mut dyn SalvageOutput) -> Result<Option<Salvaged>> {
    let start = |f: &mut F| {
        f.seek(SeekFrom::Start(0))
            .map_err(|e| Error::io("seeking input", e))
    };
    start(f)?;
    let checked = match DecodeReader::new(&mut *f) {
        Ok(mut r) => std::io::copy(&mut r, &mut std::io::sink())
            .map_err(DecodeReader::<std::io::BufReader<&mut F>>::into_error),
        Err(e) => Err(e),
    };
    match checked {
        Ok(_) => {}
        Err(e @ Error::Io { .. }) => return Err(e),
        Err(_) => return Ok(None),
    }
    start(f)?;
    let mut r = DecodeReader::new(&mut *f)?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut pos = 0u64;
    loop {
        let n = r
            .read(&mut buf)
            .map_err(DecodeReader::<std::io::BufReader<&mut F>>::into_error)?;
        if n == 0 {
            break;
        }
        out.write_at(pos, &buf[..n])?;
        pos += n as u64;
    }
    out.finish(pos)?;
    Ok(Some(Salvaged {
        frames: r.frames(),
        bytes: pos,
        index_intact: true,
        ..Salvaged::default()
    }))
}

fn read_frame_at<F: Read + Seek>(f: &mut F, at: u64, len: u64, glyph: &mut Vec<u8>) -> Result<()> {
    f.seek(SeekFrom::Start(at))
        .map_err(|e| Error::io("seeking input", e))?;
    glyph.clear();
    read_payload(f, len, glyph, at)
}

/// A frame found in the file and decoded: where its glyph ends, and whether it needed
/// the frame right before it (a linked frame).
#[derive(Clone, Copy, Debug)]
struct Decoded {
    end: u64,
    raw_size: u64,
    glyphs: GlyphCounts,
    linked: bool,
    /// CRC32C of the whole glyph: copies of a frame share it.
    glyph_crc: u32,
}

/// Decodes frames found in the file one at a time, keeping the last one decoded: a frame
/// that does not decode alone is tried as a linked frame after it (also across damage
/// between the two). Either way the raw CRC proves the bytes.
#[derive(Default)]
struct Chain {
    scratch: DecodeScratch,
    /// The last frame decoded, and where its glyph ends.
    window: Vec<u8>,
    end: Option<u64>,
}

impl Chain {
    /// Decodes the frame glyph in `glyph` (found at `at`); its bytes are then
    /// [`Chain::raw`].
    fn decode(&mut self, glyph: &[u8], at: u64) -> Option<Decoded> {
        let head = format::read_head(glyph, at).ok()??;
        if !head.is(format::FRAME) || head.payload_len? + head.head_len as u64 != glyph.len() as u64
        {
            return None;
        }
        let f = FrameAt {
            glyph,
            head: &head,
            chunk_size: MAX_CHUNK,
            number: 0,
            at,
            compact: None,
        };
        let (d, linked) = match decode_next(f, false, &mut self.scratch, &mut self.window) {
            Ok(d) => (d, false),
            Err(_) if !self.window.is_empty() => {
                let d = decode_next(f, true, &mut self.scratch, &mut self.window).ok()?;
                (d, true)
            }
            Err(_) => return None,
        };
        let end = at + glyph.len() as u64;
        self.end = Some(end);
        Some(Decoded {
            end,
            raw_size: d.header.raw_size,
            glyphs: d.glyphs,
            linked,
            glyph_crc: crc32c::crc32c(glyph),
        })
    }

    /// The bytes of the last frame decoded.
    fn raw(&self) -> &[u8] {
        &self.window
    }
}

fn push_lost(lost: &mut Vec<Lost>, start: u64, end: Option<u64>, exact: bool) {
    if let Some(last) = lost.last_mut() {
        if last.exact == exact && last.end == Some(start) {
            last.end = end;
            return;
        }
    }
    lost.push(Lost { start, end, exact });
}

/// The next offset at or after `from` holding a frame's or a stream header's head byte.
fn next_candidate<F: Read + Seek>(f: &mut F, from: u64, size: u64) -> Result<Option<u64>> {
    let mut head = Vec::new();
    format::write_head(&mut head, format::FRAME, 0);
    format::write_head(&mut head, format::STREAM_HEAD, 0);
    let (frame, stream) = (head[0], head[2]);
    let mut buf = vec![0u8; 64 * 1024];
    let mut pos = from;
    f.seek(SeekFrom::Start(pos))
        .map_err(|e| Error::io("seeking input", e))?;
    while pos < size {
        let n = f
            .read(&mut buf)
            .map_err(|e| Error::io("reading input", e))?;
        if n == 0 {
            break;
        }
        if let Some(i) = buf[..n].iter().position(|&b| b == frame || b == stream) {
            return Ok(Some(pos + i as u64));
        }
        pos += n as u64;
    }
    Ok(None)
}

/// The glyph head at `at`, read from at most [`format::MAX_HEAD_LEN`] bytes before `end`;
/// `None` when none parses there.
fn head_at<F: Read + Seek>(f: &mut F, at: u64, end: u64) -> Result<Option<format::GlyphHead>> {
    let mut head = [0u8; format::MAX_HEAD_LEN];
    let n = (end - at).min(head.len() as u64) as usize;
    f.seek(SeekFrom::Start(at))
        .map_err(|e| Error::io("seeking input", e))?;
    f.read_exact(&mut head[..n])
        .map_err(|e| Error::io("reading input", e))?;
    Ok(format::read_head(&head[..n], at).ok().flatten())
}

/// The frame glyph that starts at `at`, if there is an intact one (decoded by `chain`).
fn try_frame<F: Read + Seek>(
    f: &mut F,
    at: u64,
    size: u64,
    glyph: &mut Vec<u8>,
    chain: &mut Chain,
) -> Result<Option<Decoded>> {
    let len = match head_at(f, at, size)? {
        Some(h) if h.is(format::FRAME) => h
            .payload_len
            .filter(|&l| l <= format::max_frame_payload(MAX_CHUNK))
            .map(|l| l + h.head_len as u64),
        _ => None,
    };
    let Some(len) = len.filter(|&l| at + l <= size) else {
        return Ok(None);
    };
    read_frame_at(f, at, len, glyph)?;
    Ok(chain.decode(glyph, at))
}

/// The intact compact stream that starts at `at`, if there is one: where it ends, its
/// content and its frames (checked by decoding it whole).
fn try_compact<F: Read + Seek>(
    f: &mut F,
    at: u64,
    size: u64,
    glyph: &mut Vec<u8>,
) -> Result<Option<(u64, Vec<u8>, u64)>> {
    let len = match head_at(f, at, size)? {
        Some(h) if h.is(format::STREAM_HEAD) => h
            .payload_len
            .filter(|&l| l <= format::MAX_COMPACT_PAYLOAD)
            .map(|l| l + h.head_len as u64),
        _ => None,
    };
    let Some(len) = len.filter(|&l| at + l <= size) else {
        return Ok(None);
    };
    read_frame_at(f, at, len, glyph)?;
    if !matches!(format::parse_start(glyph), Ok((StreamStart::Compact(_), _))) {
        return Ok(None);
    }
    let Ok(mut r) = DecodeReader::new(&glyph[..]) else {
        return Ok(None);
    };
    let mut content = Vec::new();
    if r.read_to_end(&mut content).is_err() {
        return Ok(None);
    }
    Ok(Some((at + len, content, r.frames())))
}

/// Whether the glyph at `at`, whose head is `h`, is a compact stream (it holds content).
fn is_compact<F: Read + Seek>(f: &mut F, at: u64, h: &format::GlyphHead) -> Result<bool> {
    if !h.is(format::STREAM_HEAD) || h.payload_len.unwrap_or(0) < 7 {
        return Ok(false);
    }
    let mut group = [0u8; 1];
    f.seek(SeekFrom::Start(at + h.head_len as u64 + 6))
        .map_err(|e| Error::io("seeking input", e))?;
    f.read_exact(&mut group)
        .map_err(|e| Error::io("reading input", e))?;
    Ok(group[0] == format::COMPACT_GROUP)
}

/// True when the bytes `[from, to)` are whole well-formed glyphs that are not frames
/// or compact streams (metadata, unknown glyphs, an index and trailer, another stream's
/// header): nothing was lost there.
fn only_other_glyphs<F: Read + Seek>(f: &mut F, from: u64, to: u64) -> Result<bool> {
    let mut pos = from;
    while pos < to {
        match head_at(f, pos, to)? {
            Some(h) if !h.is(format::FRAME) => {
                let end = pos + h.head_len as u64 + h.payload_len.unwrap_or(0);
                if end > to || is_compact(f, pos, &h)? {
                    return Ok(false);
                }
                pos = end;
            }
            _ => return Ok(false),
        }
    }
    Ok(pos == to)
}

/// The raw size that damaged frame glyphs (or compact streams) filling exactly
/// `[from, to)` declare (one, or several in a row: a linked frame after a damaged one
/// cannot be decoded either), and how many frames they are, if their heads and raw size
/// fields are readable and plausible.
fn damaged_frame_size<F: Read + Seek>(
    f: &mut F,
    from: u64,
    to: u64,
    chunk: u64,
) -> Result<Option<DamagedGap>> {
    let mut gap = DamagedGap::default();
    let mut at = from;
    while at < to {
        let mut head = [0u8; 2 * format::MAX_HEAD_LEN];
        let n = (to - at).min(head.len() as u64) as usize;
        f.seek(SeekFrom::Start(at))
            .map_err(|e| Error::io("seeking input", e))?;
        f.read_exact(&mut head[..n])
            .map_err(|e| Error::io("reading input", e))?;
        let Ok(Some(h)) = format::read_head(&head[..n], at) else {
            return Ok(None);
        };
        if let Some((len, raw)) = damaged_compact(f, at, to)? {
            gap.raw += raw;
            (gap.new_stream, gap.stream_frames, gap.stream_raw) = (true, 0, 0);
            at += len;
            continue;
        }
        // Between streams: a stream header, metadata, an index or a trailer holds no
        // content.
        let between = [
            format::STREAM_HEAD,
            format::METADATA,
            format::INDEX,
            format::TRAILER,
        ];
        if between.iter().any(|&g| h.is(g)) {
            let len = h.payload_len.unwrap_or(0) + h.head_len as u64;
            if len > to - at {
                return Ok(None);
            }
            if h.is(format::STREAM_HEAD) {
                (gap.new_stream, gap.stream_frames, gap.stream_raw) = (true, 0, 0);
            }
            at += len;
            continue;
        }
        let len = h.payload_len.map(|l| l + h.head_len as u64);
        let Some(len) = len.filter(|&l| h.is(format::FRAME) && l <= to - at) else {
            return Ok(None);
        };
        let mut pos = h.head_len;
        let Some(raw) = format::varint::read(&head[..n], &mut pos)
            .ok()
            .filter(|&raw| raw > 0 && raw <= chunk)
        else {
            return Ok(None);
        };
        gap.raw += raw;
        gap.stream_frames += 1;
        gap.stream_raw += raw;
        at += len;
    }
    Ok(Some(gap))
}

/// What damaged glyphs filling a gap declare: all their raw bytes, and the frames and
/// raw bytes of those after the last stream start in the gap (`new_stream`: there is
/// one), which the current full stream's trailer counts.
#[derive(Default)]
struct DamagedGap {
    raw: u64,
    stream_frames: u64,
    stream_raw: u64,
    new_stream: bool,
}

/// The length and declared raw size of a damaged compact stream whose glyph starts at
/// `at` and ends at or before `to`, when its fields still parse.
fn damaged_compact<F: Read + Seek>(f: &mut F, at: u64, to: u64) -> Result<Option<(u64, u64)>> {
    let Some(h) = head_at(f, at, to)? else {
        return Ok(None);
    };
    let Some(len) = h.payload_len.map(|l| l + h.head_len as u64) else {
        return Ok(None);
    };
    if !h.is(format::STREAM_HEAD) || len > to - at || len > format::MAX_COMPACT_PAYLOAD + 12 {
        return Ok(None);
    }
    let mut glyph = Vec::new();
    read_frame_at(f, at, len, &mut glyph)?;
    Ok(match format::parse_start(&glyph) {
        Ok((StreamStart::Compact(c), n)) if n as u64 == len => Some((len, c.raw_size)),
        _ => None,
    })
}

/// The end of the damaged compact stream at `at` when its fields parse and its end is
/// the end of the file or the start of a frame or stream glyph.
fn skip_damaged_compact<F: Read + Seek>(f: &mut F, at: u64, size: u64) -> Result<Option<u64>> {
    let Some((len, _)) = damaged_compact(f, at, size)? else {
        return Ok(None);
    };
    let end = at + len;
    if end == size {
        return Ok(Some(end));
    }
    let mut next = [0u8; 2];
    let m = (size - end).min(2) as usize;
    f.seek(SeekFrom::Start(end))
        .map_err(|e| Error::io("seeking input", e))?;
    f.read_exact(&mut next[..m])
        .map_err(|e| Error::io("reading input", e))?;
    let (mut frame, mut stream) = (Vec::new(), Vec::new());
    format::write_head(&mut frame, format::FRAME, 0);
    format::write_head(&mut stream, format::STREAM_HEAD, 0);
    let lands = next[0] == frame[0] || (m == 2 && next[..2] == stream[..2]);
    Ok(lands.then_some(end))
}

/// Whether a full stream's header glyph (`FF 7E`, a length, "SGMA", a version, a level
/// and a group other than 0) starts in `[from, to)`: a new stream, whose trailer counts
/// only its own frames.
fn stream_starts_in<F: Read + Seek>(f: &mut F, from: u64, to: u64) -> Result<bool> {
    let mut buf = vec![0u8; 1 << 16];
    let mut pos = from;
    while pos < to {
        f.seek(SeekFrom::Start(pos))
            .map_err(|e| Error::io("seeking input", e))?;
        let want = ((to - pos) as usize + 9).min(buf.len());
        let n = f
            .read(&mut buf[..want])
            .map_err(|e| Error::io("reading input", e))?;
        if n == 0 {
            break;
        }
        let hit = buf[..n].windows(10).enumerate().any(|(i, w)| {
            pos + (i as u64) < to
                && w[0] == 0xFF
                && w[1] == 0x7E
                && w[3..7] == format::MAGIC
                && w[9] != format::COMPACT_GROUP
        });
        if hit {
            return Ok(true);
        }
        pos += n.saturating_sub(9).max(1) as u64;
    }
    Ok(false)
}

/// The trailer at the end of the file, when it is intact.
fn trailer_at_end<F: Read + Seek>(f: &mut F, size: u64) -> Option<Trailer> {
    trailer_and_len(f, size).map(|(t, _)| t)
}

/// The trailer at the end of the file and its length, when it is intact.
fn trailer_and_len<F: Read + Seek>(f: &mut F, size: u64) -> Option<(Trailer, u64)> {
    let mut last = [0u8; 1];
    f.seek(SeekFrom::Start(size.checked_sub(1)?)).ok()?;
    f.read_exact(&mut last).ok()?;
    let len = Trailer::len_from_last_byte(last[0], 0).ok()? as u64;
    let at = size.checked_sub(len)?;
    let mut glyph = vec![0u8; len as usize];
    f.seek(SeekFrom::Start(at)).ok()?;
    f.read_exact(&mut glyph).ok()?;
    Trailer::parse(&glyph, at).ok().map(|t| (t, len))
}

/// Most bytes searched backwards from the trailer for an index whose offset the trailer
/// no longer gives right.
const INDEX_SEARCH: u64 = 64 << 20;

/// An intact index right before an intact trailer, found by its glyph head and CRC even
/// where the trailer's index offset is wrong (frames dropped or inserted before it); with
/// the trailer's content checksum.
fn find_index<F: Read + Seek>(
    f: &mut F,
    size: u64,
    chunk: u64,
) -> Result<Option<(Vec<IndexEntry>, u32)>> {
    let Some((trailer, trailer_len)) = trailer_and_len(f, size) else {
        return Ok(None);
    };
    let end = size - trailer_len;
    let span = format::max_index_payload(trailer.frames)
        .saturating_add(format::MAX_HEAD_LEN as u64)
        .min(INDEX_SEARCH)
        .min(end);
    let from = end - span;
    let mut window = vec![0u8; span as usize];
    f.seek(SeekFrom::Start(from))
        .map_err(|e| Error::io("seeking input", e))?;
    f.read_exact(&mut window)
        .map_err(|e| Error::io("reading input", e))?;
    for i in (0..window.len()).rev() {
        let Ok(Some(head)) = format::read_head(&window[i..], from + i as u64) else {
            continue;
        };
        let fits = head.is(format::INDEX)
            && head.payload_len.map(|l| l + head.head_len as u64) == Some(span - i as u64);
        if !fits {
            continue;
        }
        let payload = &window[i + head.head_len..];
        let mut r = payload;
        let Ok(mut index) = IndexReader::new(
            &mut r,
            &window[i..i + head.head_len],
            payload.len() as u64,
            from + i as u64,
            chunk,
        ) else {
            continue;
        };
        let mut entries = Vec::new();
        while let Ok(Some(e)) = index.next_entry() {
            entries.push(e);
        }
        if entries.len() as u64 == trailer.frames && index.finish().is_ok() {
            return Ok(Some((entries, trailer.content_crc)));
        }
    }
    Ok(None)
}

/// True when a second stream header follows the first (concatenated streams: an index
/// describes only its own stream).
fn has_later_stream<F: Read + Seek>(f: &mut F, size: u64) -> Result<bool> {
    let mut buf = vec![0u8; 1 << 16];
    let mut pos = 1u64;
    while pos < size {
        f.seek(SeekFrom::Start(pos))
            .map_err(|e| Error::io("seeking input", e))?;
        let n = f
            .read(&mut buf)
            .map_err(|e| Error::io("reading input", e))?;
        if n == 0 {
            break;
        }
        if buf[..n]
            .windows(7)
            .any(|w| w[0] == 0xFF && w[1] == 0x7E && w[3..7] == format::MAGIC)
        {
            return Ok(true);
        }
        pos += n.saturating_sub(6).max(1) as u64;
    }
    Ok(false)
}

/// Salvage with an index found by [`find_index`]: every frame found is matched to its
/// entry (raw size and glyph counts), in order, and written where the index
/// puts it; entries without an intact frame are the lost ranges, all exact.
fn by_found_index<F: Read + Seek>(
    f: &mut F,
    size: u64,
    from: u64,
    entries: &[IndexEntry],
    content_crc: Option<u32>,
    out: &mut dyn SalvageOutput,
) -> Result<Salvaged> {
    let mut chain = Chain::default();
    let mut glyph = Vec::new();
    // Every intact frame glyph in the file: its offset and what decoding it found.
    let mut found: Vec<(u64, Decoded)> = Vec::new();
    let mut pos = from;
    while let Some(at) = next_candidate(f, pos, size)? {
        match try_frame(f, at, size, &mut glyph, &mut chain)? {
            Some(d) => {
                found.push((at, d));
                pos = d.end;
            }
            None => pos = at + 1,
        }
    }
    // Exact copies of a frame found before them: a copy is used only where the index puts
    // a frame like it (repeated content makes identical frames), and is never reported.
    let copy = copies(f, &found)?;
    let mut result = Salvaged {
        index_intact: true,
        ..Salvaged::default()
    };
    let (mut next, mut raw_start) = (0usize, 0u64);
    let mut used = vec![false; found.len()];
    // A frame found exactly where the index puts an entry, with that entry's raw size and
    // glyph counts, belongs to that entry and to no other: frames that look alike (stored
    // frames of one size) cannot stand in for a lost neighbour.
    let mut owner: Vec<Option<usize>> = vec![None; found.len()];
    let mut in_place: Vec<Option<usize>> = vec![None; entries.len()];
    let mut at = from;
    for (k, e) in entries.iter().enumerate() {
        at = at.saturating_add(e.gap);
        if let Ok(i) = found.binary_search_by_key(&at, |&(a, _)| a) {
            if (found[i].1.raw_size, found[i].1.glyphs) == (e.raw_size, e.glyphs) {
                owner[i] = Some(k);
                in_place[k] = Some(i);
            }
        }
        at = at.saturating_add(e.encoded_len);
    }
    // Each entry's frame: the one at the entry's place; else the next unused frame that
    // matches and belongs to no other entry, looking ahead first, then a little back
    // (frames moved). Raw size and glyph counts identify a frame (its decoded content is
    // proven by its raw CRC).
    let mut assign: Vec<Option<usize>> = vec![None; entries.len()];
    for (k, e) in entries.iter().enumerate() {
        let matches = |&i: &usize| {
            let (_, d) = found[i];
            !used[i]
                && !copy[i]
                && owner[i].is_none_or(|o| o == k)
                && (d.raw_size, d.glyphs) == (e.raw_size, e.glyphs)
        };
        let hit = in_place[k].or_else(|| {
            (next..found.len().min(next + 64))
                .chain(next.saturating_sub(64)..next)
                .find(matches)
        });
        if let Some(i) = hit {
            used[i] = true;
            assign[k] = Some(i);
            next = next.max(i + 1);
        }
    }
    // Frames alike in all an entry records (stored frames of one size are) cannot be told
    // apart by the index: unless the placement is confirmed, they are not placed at all
    // rather than perhaps placed wrong (and are reported).
    let key = |&(at, d): &(u64, Decoded)| (d.end - at, d.raw_size, d.glyphs);
    let mut alike: std::collections::HashMap<_, usize> = Default::default();
    for x in &found {
        *alike.entry(key(x)).or_default() += 1;
    }
    let ambiguous: Vec<bool> = (0..found.len())
        .map(|i| used[i] && alike[&key(&found[i])] > 1)
        .collect();
    if ambiguous.iter().any(|&a| a) {
        // With a frame for every entry, the trailer's content checksum must confirm them;
        // else every frame found must sit where the index puts its entry and none be a
        // copy of another (damage only made some frames unreadable: nothing moved,
        // nothing was added, nothing overwritten by a copy of a neighbour).
        let mut trusted = match content_crc {
            Some(want) if assign.iter().all(Option::is_some) => {
                content_crc_of(f, &found, &assign)? == Some(want)
            }
            _ => {
                !copy.iter().any(|&c| c)
                    && (0..found.len()).all(|i| owner[i].is_some_and(|k| assign[k] == Some(i)))
            }
        };
        if let (false, Some(want)) = (trusted, content_crc) {
            // The frames in the order found, whatever their places (a frame added or
            // dropped shifts all after it onto their neighbours' places).
            // Only a frame for every entry can be confirmed: the first entry without one
            // ends the try (so it stays linear in the frames).
            let mut in_order = Vec::with_capacity(entries.len());
            let mut j = 0;
            for e in entries {
                let fits = |i: &usize| {
                    !copy[*i]
                        && (found[*i].1.raw_size, found[*i].1.glyphs) == (e.raw_size, e.glyphs)
                };
                let Some(i) = (j..found.len()).find(fits) else {
                    break;
                };
                in_order.push(Some(i));
                j = i + 1;
            }
            if in_order.len() == entries.len()
                && content_crc_of(f, &found, &in_order)? == Some(want)
            {
                used.iter_mut().for_each(|u| *u = false);
                for i in in_order.iter().flatten() {
                    used[*i] = true;
                }
                assign = in_order;
                trusted = true;
            }
        }
        if !trusted {
            for slot in assign.iter_mut() {
                if slot.is_some_and(|i| ambiguous[i]) {
                    used[slot.take().unwrap_or_default()] = false;
                }
            }
        }
    }
    for (k, e) in entries.iter().enumerate() {
        match assign[k] {
            Some(i) => {
                // A linked frame is decoded after the frames of its group before it,
                // back to the last frame decoded.
                let mut first = i;
                while first > 0
                    && found[first].1.linked
                    && chain.end != Some(found[first - 1].1.end)
                {
                    first -= 1;
                }
                if chain.end != Some(found[i].1.end) {
                    for &(at, d) in &found[first..=i] {
                        read_frame_at(f, at, d.end - at, &mut glyph)?;
                        if chain.decode(&glyph, at).is_none() {
                            // Cannot happen for frames that decoded before; reported lost.
                            chain = Chain::default();
                            break;
                        }
                    }
                }
                if chain.end != Some(found[i].1.end) {
                    push_lost(
                        &mut result.lost,
                        raw_start,
                        Some(raw_start + e.raw_size),
                        true,
                    );
                    raw_start += e.raw_size;
                    continue;
                }
                out.write_at(raw_start, chain.raw())?;
                result.frames += 1;
                result.bytes += e.raw_size;
            }
            None => push_lost(
                &mut result.lost,
                raw_start,
                Some(raw_start + e.raw_size),
                true,
            ),
        }
        raw_start += e.raw_size;
    }
    out.finish(raw_start)?;
    result.unplaced = unplaced(&found, &used, &copy);
    Ok(result)
}

/// CRC32C of the content the frames `assign` gives the entries would make, or `None`
/// when an entry has none or a frame does not decode.
fn content_crc_of<F: Read + Seek>(
    f: &mut F,
    found: &[(u64, Decoded)],
    assign: &[Option<usize>],
) -> Result<Option<u32>> {
    let (mut chain, mut glyph, mut crc) = (Chain::default(), Vec::new(), 0u32);
    for &i in assign {
        let Some(i) = i else { return Ok(None) };
        let (at, d) = found[i];
        read_frame_at(f, at, d.end - at, &mut glyph)?;
        if chain.decode(&glyph, at).is_none() {
            return Ok(None);
        }
        crc = crc32c::crc32c_append(crc, chain.raw());
    }
    Ok(Some(crc))
}

/// Earlier frames of the same glyph length and CRC that a frame is compared with byte for
/// byte to find it a copy (the nearest first).
const COPY_LOOKS: usize = 4;

/// For each frame of `found`, whether its glyph bytes equal those of one found before it.
fn copies<F: Read + Seek>(f: &mut F, found: &[(u64, Decoded)]) -> Result<Vec<bool>> {
    let key = |&(at, d): &(u64, Decoded)| (d.end - at, d.glyph_crc);
    let mut earlier: std::collections::HashMap<_, Vec<usize>> = Default::default();
    let (mut a, mut b) = (Vec::new(), Vec::new());
    let mut copy = vec![false; found.len()];
    for (i, x) in found.iter().enumerate() {
        let alike = earlier.entry(key(x)).or_default();
        if !alike.is_empty() {
            read_frame_at(f, x.0, x.1.end - x.0, &mut a)?;
        }
        for &j in alike.iter().rev().take(COPY_LOOKS) {
            let (at, d) = found[j];
            read_frame_at(f, at, d.end - at, &mut b)?;
            if a == b {
                copy[i] = true;
                break;
            }
        }
        if !copy[i] {
            alike.push(i);
        }
    }
    Ok(copy)
}

/// The frames of `found` that were not used, copies of others left out.
fn unplaced(found: &[(u64, Decoded)], used: &[bool], copy: &[bool]) -> Vec<Unplaced> {
    found
        .iter()
        .zip(used.iter().zip(copy))
        .filter(|&(_, (&u, &c))| !u && !c)
        .map(|(&(at, d), _)| Unplaced {
            at,
            raw_size: d.raw_size,
        })
        .collect()
}

/// The error for a stream whose intact header (its CRC checks out) names another format
/// version: its frames cannot be read as this version's.
fn other_version(first: &[u8]) -> Option<Error> {
    let e = StreamHeader::parse(first).err()?;
    let total = 3 + usize::from(*first.get(2)?);
    let intact = matches!(e, Error::UnsupportedVersion { .. })
        && first.len() >= total
        && first[2] < 0x80
        && crc32c::crc32c(&first[..total - 4]).to_le_bytes() == first[total - 4..total];
    intact.then_some(e)
}

fn by_scan<F: Read + Seek>(f: &mut F, out: &mut dyn SalvageOutput) -> Result<Salvaged> {
    let size = f
        .seek(SeekFrom::End(0))
        .map_err(|e| Error::io("seeking input", e))?;
    let mut first = vec![0u8; size.min(32) as usize];
    f.seek(SeekFrom::Start(0))
        .map_err(|e| Error::io("seeking input", e))?;
    f.read_exact(&mut first)
        .map_err(|e| Error::io("reading input", e))?;
    if let Some(e) = other_version(&first) {
        return Err(e);
    }
    // A compact stream's first glyph is its content, not a header to skip.
    let (header_len, chunk) = match format::parse_start(&first) {
        Ok((StreamStart::Full(h), n)) => (n as u64, h.chunk_size),
        _ => (0, MAX_CHUNK),
    };
    // An index that survived, away from where the trailer says: place frames by it.
    if !has_later_stream(f, size)? {
        if let Some((entries, crc)) = find_index(f, size, chunk)? {
            return by_found_index(f, size, header_len, &entries, Some(crc), out);
        }
    }
    let mut result = Salvaged::default();
    let mut chain = Chain::default();
    let mut glyph = Vec::new();
    // Raw offset of the next frame: exact while nothing before it was lost.
    let (mut raw_at, mut exact) = (0u64, true);
    // A damaged stream header loses no content: the first frame may start right after
    // where the longest header would end.
    // Not when it is a (damaged) compact stream: that held content.
    let looks_compact = matches!(format::read_head(&first, 0), Ok(Some(h))
        if h.is(format::STREAM_HEAD) && first.get(h.head_len + 6) == Some(&format::COMPACT_GROUP));
    let header_room = if header_len > 0 {
        header_len
    } else if looks_compact {
        0
    } else {
        2 + format::MAX_HEADER_PAYLOAD + 1
    };
    // End of the last intact frame (or of the header).
    let mut last_end = header_len;
    let mut from = header_len;
    // Whether the last thing found is a compact stream (it needs no trailer after it).
    let mut last_compact = false;
    // Frames and raw bytes (found or lost) of the current full stream, for its trailer.
    let (mut stream_frames, mut stream_raw) = (0u64, 0u64);
    while let Some(at) = next_candidate(f, from, size)? {
        let (end, raw_size, frames, compact) =
            if let Some(d) = try_frame(f, at, size, &mut glyph, &mut chain)? {
                (d.end, d.raw_size, 1, None)
            } else if let Some((end, content, frames)) = try_compact(f, at, size, &mut glyph)? {
                // A new stream: nothing after it links to the frame before it.
                chain = Chain::default();
                (end, content.len() as u64, frames, Some(content))
            } else {
                // A damaged compact stream whose end lands on the next glyph (or the end
                // of the file) is passed over whole: its body may hold anything, even
                // another stream.
                from = match skip_damaged_compact(f, at, size)? {
                    Some(end) => end,
                    None => at + 1,
                };
                continue;
            };
        let header_gap = result.frames == 0 && header_len == 0 && at <= header_room;
        if at > last_end && !header_gap && !only_other_glyphs(f, last_end, at)? {
            // Damaged frames whose heads still tile the gap keep offsets exact: their
            // raw size fields say how much was lost.
            match damaged_frame_size(f, last_end, at, chunk)? {
                Some(gap) if exact => {
                    if gap.raw > 0 {
                        push_lost(&mut result.lost, raw_at, Some(raw_at + gap.raw), true);
                    }
                    raw_at += gap.raw;
                    if gap.new_stream {
                        (stream_frames, stream_raw) = (0, 0);
                    }
                    stream_frames += gap.stream_frames;
                    stream_raw += gap.stream_raw;
                }
                _ => {
                    push_lost(&mut result.lost, raw_at, None, exact);
                    exact = false;
                }
            }
        } else if at > last_end && stream_starts_in(f, last_end, at)? {
            (stream_frames, stream_raw) = (0, 0);
        }
        out.write_at(raw_at, compact.as_deref().unwrap_or(chain.raw()))?;
        raw_at += raw_size;
        result.frames += frames;
        result.bytes += raw_size;
        last_compact = compact.is_some();
        if last_compact {
            (stream_frames, stream_raw) = (0, 0);
        } else {
            stream_frames += 1;
            stream_raw += raw_size;
        }
        last_end = end;
        from = last_end;
    }
    // After the last frame: only an intact trailer that agrees with what was found (and
    // whole glyphs up to it) shows that nothing more was lost.
    let complete = exact
        && ((last_compact && last_end == size)
            || (trailer_at_end(f, size)
                .is_some_and(|t| t.frames == stream_frames && t.raw_size == stream_raw)
                && only_other_glyphs(f, last_end, size)?));
    if !complete {
        // What is left may be exactly one damaged compact stream whose size is known.
        let known = match exact && last_end < size {
            // (Nothing follows a compact stream: it must fill the rest.)
            true => damaged_compact(f, last_end, size)?
                .filter(|&(len, _)| last_end + len == size)
                .map(|(_, raw)| raw),
            false => None,
        };
        // (An empty one lost nothing; the damage is still reported.)
        if known != Some(0) {
            push_lost(&mut result.lost, raw_at, known.map(|n| raw_at + n), exact);
        }
        if let Some(n) = known {
            raw_at += n;
        }
    }
    out.finish(raw_at)?;
    Ok(result)
}
