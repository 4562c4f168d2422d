//! The one container walker every reader uses: glyph heads read byte by byte, the size
//! limits of [`format::check_payload`] applied before any payload is read, payloads read
//! only as far as the input really goes (a declared size never allocates by itself), and
//! the index streamed entry by entry so no reader holds it in memory.
#![forbid(unsafe_code)]

use std::io::{self, BufRead, Read};

use crate::base::varint;
use crate::error::{Error, Result};
use crate::format::{
    self, Compact, CompactCheck, GlyphHead, IndexEntry, Metadata, StreamHeader, StreamStart,
    Trailer, INDEX_ENTRY_FIELDS, MAX_HEAD_LEN,
};

/// Reads exactly `buf.len()` bytes, or reports truncation at `at`.
///
/// # Errors
/// The input ends first, or a read fails.
pub fn read_exact_at<R: Read + ?Sized>(
    r: &mut R,
    buf: &mut [u8],
    at: u64,
    what: &str,
) -> Result<()> {
    r.read_exact(buf).map_err(|e| eof_or_io(e, at, what))
}

fn eof_or_io(e: io::Error, at: u64, what: &str) -> Error {
    if e.kind() == io::ErrorKind::UnexpectedEof {
        Error::Truncated {
            offset: at,
            detail: format!("stream ends inside the {what}"),
        }
    } else {
        Error::io("reading input", e)
    }
}

fn read_byte<R: Read + ?Sized>(r: &mut R) -> Result<Option<u8>> {
    let mut byte = [0u8; 1];
    loop {
        match r.read(&mut byte) {
            Ok(0) => return Ok(None),
            Ok(_) => return Ok(Some(byte[0])),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::io("reading input", e)),
        }
    }
}

/// Reads a glyph head at `at` into `buf`; `Ok(None)` at a clean end of input.
pub(crate) fn read_glyph_head<R: Read + ?Sized>(
    r: &mut R,
    at: u64,
    buf: &mut Vec<u8>,
) -> Result<Option<GlyphHead>> {
    buf.clear();
    loop {
        let Some(byte) = read_byte(r)? else {
            if buf.is_empty() {
                return Ok(None);
            }
            return Err(Error::Truncated {
                offset: at + buf.len() as u64,
                detail: "stream ends inside a glyph header".into(),
            });
        };
        buf.push(byte);
        if let Some(head) = format::read_head(buf, at)? {
            return Ok(Some(head));
        }
    }
}

/// Appends `len` payload bytes to `buf`, growing it only as data arrives (at most
/// doubling per step, exactly to the end), so a declared size allocates nothing by itself.
pub(crate) fn read_payload<R: Read + ?Sized>(
    r: &mut R,
    len: u64,
    buf: &mut Vec<u8>,
    at: u64,
) -> Result<()> {
    let target = buf.len() as u64 + len;
    while (buf.len() as u64) < target {
        let step = (target - buf.len() as u64).min(buf.len().max(64 * 1024) as u64);
        buf.reserve_exact(step as usize);
        let n = r
            .take(step)
            .read_to_end(buf)
            .map_err(|e| Error::io("reading input", e))?;
        if (n as u64) < step {
            return Err(Error::Truncated {
                offset: at + buf.len() as u64,
                detail: "stream ends inside a glyph payload".into(),
            });
        }
    }
    Ok(())
}

/// What [`Walker::next`] found.
#[derive(Debug)]
pub enum Glyph {
    /// A frame glyph, whole in the caller's buffer; `frame` is its number in the stream.
    Frame {
        /// Frame number (0-based) in this stream.
        frame: u64,
        /// Its head.
        head: GlyphHead,
        /// Bytes of other glyphs between the previous frame (or the header) and this one.
        gap: u64,
        /// The check of the compact stream this frame stands for.
        compact: Option<CompactCheck>,
    },
    /// The index glyph: only its head has been read; stream the entries with
    /// [`Walker::index`].
    Index(GlyphHead),
    /// The end of a compact stream (after its frame, if it has one): no index or trailer
    /// follows; the stream's totals are these.
    CompactEnd(Trailer),
}

/// A sequential reader of one stream's container glyphs.
pub struct Walker<R> {
    r: R,
    /// Offset of the stream's first byte in the input (streams may be concatenated).
    start: u64,
    /// Offset of the next unread byte in the input.
    pos: u64,
    header: StreamHeader,
    header_len: u64,
    frames: u64,
    /// Bytes of other glyphs since the last frame (or the header).
    gap: u64,
    metadata: Option<Metadata>,
    head_buf: Vec<u8>,
    /// A compact stream's glyph and fields, and whether its frame was returned.
    compact: Option<(Vec<u8>, Compact, bool)>,
}

/// The container glyph a head is, if any: (type, id) pairs of the container are reserved
/// and only valid in their place.
fn container_name(head: &GlyphHead) -> Option<&'static str> {
    let which = (head.kind, head.id);
    [
        (format::STREAM_HEAD, "stream header"),
        (format::METADATA, "metadata"),
        (format::FRAME, "frame"),
        (format::INDEX, "index"),
        (format::TRAILER, "trailer"),
    ]
    .iter()
    .find(|(g, _)| *g == which)
    .map(|(_, name)| *name)
}

impl<R: BufRead> Walker<R> {
    /// Reads the stream header at the reader's position, which is byte `start` of the
    /// input.
    ///
    /// # Errors
    /// Not a stream, or a bad stream header.
    pub fn begin(mut r: R, start: u64) -> Result<Walker<R>> {
        let mut buf = Vec::with_capacity(80);
        // Read as much of a header as is there; the header parser names what is wrong.
        let head = match read_glyph_head(&mut r, start, &mut buf) {
            // A read that fails (a folder) is the error, not what was read before it.
            Err(e @ Error::Io { .. }) => return Err(e),
            head => head,
        };
        if let Ok(Some(head)) = head {
            let len = head.payload_len.unwrap_or(0);
            if head.is(format::STREAM_HEAD) && len <= format::MAX_COMPACT_PAYLOAD {
                if let Err(e @ Error::Io { .. }) = read_payload(&mut r, len, &mut buf, start) {
                    return Err(e);
                }
            }
        }
        let (first, header_len) = format::parse_start(&buf).map_err(|e| at_offset(e, start))?;
        let (header, metadata, compact) = match first {
            StreamStart::Full(h) => (h, None, None),
            StreamStart::Compact(c) => (c.header(), c.metadata.clone(), Some((buf, c, false))),
        };
        Ok(Walker {
            r,
            start,
            pos: start + header_len as u64,
            header,
            header_len: header_len as u64,
            frames: 0,
            gap: 0,
            metadata,
            head_buf: Vec::with_capacity(MAX_HEAD_LEN),
            compact,
        })
    }

    /// The stream header.
    pub fn header(&self) -> &StreamHeader {
        &self.header
    }

    /// Bytes the stream header takes.
    pub fn header_len(&self) -> u64 {
        self.header_len
    }

    /// The stream's metadata glyph, once read.
    pub fn metadata(&self) -> Option<&Metadata> {
        self.metadata.as_ref()
    }

    /// Offset of this stream's first byte in the input.
    pub fn start(&self) -> u64 {
        self.start
    }

    /// Offset of the next unread byte in the input.
    pub fn pos(&self) -> u64 {
        self.pos
    }

    /// Reads up to the next frame or the index. A frame is read whole and appended to
    /// `buf` (whatever `buf` held stays in front of it); metadata is checked and kept;
    /// glyphs this version does not know are skipped.
    ///
    /// # Errors
    /// Truncation, a glyph over its size limit, a container glyph out of place, or bad
    /// metadata.
    pub fn next(&mut self, buf: &mut Vec<u8>) -> Result<(u64, Glyph)> {
        if let Some((glyph, c, done)) = self.compact.as_mut() {
            return compact_next(glyph, c, done, self.start, buf);
        }
        let base = buf.len();
        loop {
            buf.truncate(base);
            let at = self.pos;
            let head =
                read_glyph_head(&mut self.r, at, &mut self.head_buf)?.ok_or(Error::Truncated {
                    offset: at,
                    detail: "stream ends before its index and trailer".into(),
                })?;
            format::check_payload(&head, self.header.chunk_size, self.frames, at)?;
            let name = container_name(&head);
            // Container glyphs always have a payload, and only their own place.
            let misplaced = match name {
                Some(_) if head.payload_len.is_none() => true,
                Some("stream header" | "trailer") => true,
                Some("metadata") => self.frames > 0 || self.metadata.is_some(),
                _ => false,
            };
            if let (true, Some(name)) = (misplaced, name) {
                return Err(Error::corrupt(
                    None,
                    at,
                    format!(
                        "{name} glyph where frames, metadata before them, or the index should be"
                    ),
                ));
            }
            self.pos += head.head_len as u64;
            let Some(len) = head.payload_len else {
                self.gap += head.head_len as u64;
                continue;
            };
            if head.is(format::INDEX) {
                return Ok((at, Glyph::Index(head)));
            }
            buf.extend_from_slice(&self.head_buf);
            // `read_payload` counts offsets from `buf`'s start; the glyph starts at `base`.
            read_payload(&mut self.r, len, buf, at).map_err(|e| match e {
                Error::Truncated { offset, detail } => Error::Truncated {
                    offset: offset - base as u64,
                    detail: if head.is(format::FRAME) {
                        format!("frame {}: {detail}", self.frames)
                    } else {
                        detail
                    },
                },
                e => e,
            })?;
            self.pos += len;
            if head.is(format::FRAME) {
                self.frames += 1;
                let gap = std::mem::take(&mut self.gap);
                return Ok((
                    at,
                    Glyph::Frame {
                        frame: self.frames - 1,
                        head,
                        gap,
                        compact: None,
                    },
                ));
            }
            self.gap += (buf.len() - base) as u64;
            if head.is(format::METADATA) {
                self.metadata = Some(Metadata::parse(&buf[base..], &head, at)?);
            }
        }
    }

    /// Streams the entries of the index whose head `head` (at `at`) [`Walker::next`]
    /// returned into `each`, checks the index checksum, then reads and returns the
    /// trailer and its offset.
    ///
    /// # Errors
    /// A malformed or truncated index or trailer, or an error of `each`.
    pub fn index<F>(&mut self, head: &GlyphHead, at: u64, mut each: F) -> Result<(Trailer, u64)>
    where
        F: FnMut(u64, IndexEntry) -> Result<()>,
    {
        let len = head.payload_len.unwrap_or(0);
        let mut index =
            IndexReader::new(&mut self.r, &self.head_buf, len, at, self.header.chunk_size)?;
        let mut n = 0;
        while let Some(entry) = index.next_entry()? {
            each(n, entry)?;
            n += 1;
        }
        index.finish()?;
        self.pos += len;
        let trailer_at = self.pos;
        let mut glyph = Vec::with_capacity(format::MAX_TRAILER_LEN);
        let head = read_glyph_head(&mut self.r, trailer_at, &mut glyph)?
            .filter(|h| h.is(format::TRAILER))
            .ok_or_else(|| Error::Truncated {
                offset: trailer_at,
                detail: "stream ends where its trailer should be".into(),
            })?;
        let len = head.payload_len.unwrap_or(0);
        if len + head.head_len as u64 > format::MAX_TRAILER_LEN as u64 {
            return Err(Error::corrupt(
                None,
                trailer_at,
                format!("trailer payload is {len} bytes, too long for a trailer"),
            ));
        }
        read_payload(&mut self.r, len, &mut glyph, trailer_at)?;
        self.pos += glyph.len() as u64;
        Ok((Trailer::parse(&glyph, trailer_at)?, trailer_at))
    }

    /// True when the input holds more bytes (another stream may follow).
    ///
    /// # Errors
    /// A read error.
    pub fn more(&mut self) -> Result<bool> {
        loop {
            match self.r.fill_buf() {
                Ok(b) => return Ok(!b.is_empty()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Error::io("reading input", e)),
            }
        }
    }

    /// Gives back the reader, positioned after what was read.
    pub fn into_inner(self) -> R {
        self.r
    }
}

/// The next of a compact stream's glyphs as a full stream would have them: its frame
/// (rebuilt in `buf` from the same body, at an offset that puts the body where it is in
/// the input), then its end.
fn compact_next(
    glyph: &[u8],
    c: &Compact,
    done: &mut bool,
    start: u64,
    buf: &mut Vec<u8>,
) -> Result<(u64, Glyph)> {
    let end = start + glyph.len() as u64;
    if c.frames() == 0 {
        c.checker(start).verify(crc32c::crc32c(&[]))?;
    }
    if std::mem::replace(done, true) || c.frames() == 0 {
        return Ok((end, Glyph::CompactEnd(c.trailer(glyph.len() as u64))));
    }
    let base = buf.len();
    let body_at = c.frame_glyph(glyph, buf);
    let at = (start + c.body_at as u64).saturating_sub(body_at as u64);
    let head = format::read_head(&buf[base..], at)?
        .filter(|h| h.is(format::FRAME))
        .ok_or_else(|| Error::Internal {
            detail: "a compact stream's frame glyph was not rebuilt".into(),
        })?;
    Ok((
        at,
        Glyph::Frame {
            frame: 0,
            head,
            gap: 0,
            compact: Some(c.checker(start)),
        },
    ))
}

/// Moves an error of a stream that starts at `start` to input offsets.
fn at_offset(e: Error, start: u64) -> Error {
    if start == 0 {
        return e;
    }
    match e {
        Error::NotSigma { found } => Error::corrupt(
            None,
            start,
            format!(
                "data after the end of a stream (its trailer, or a compact stream) is not another stream (starts with {})",
                found
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
        ),
        Error::Corrupt {
            frame,
            offset,
            detail,
        } => Error::Corrupt {
            frame,
            offset: offset + start,
            detail,
        },
        Error::Truncated { offset, detail } => Error::Truncated {
            offset: offset + start,
            detail,
        },
        Error::Checksum {
            what,
            frame,
            offset,
            expected,
            found,
        } => Error::Checksum {
            what,
            frame,
            offset: offset + start,
            expected,
            found,
        },
        other => other,
    }
}

/// Reads index entries one at a time from a reader positioned just after the index
/// glyph's head, checking every entry and, at the end, the index checksum.
pub struct IndexReader<'r, R: ?Sized> {
    r: &'r mut R,
    /// Payload bytes left before the checksum.
    left: u64,
    crc: u32,
    count: u64,
    read: u64,
    at: u64,
    chunk_size: u64,
}

impl<'r, R: Read + ?Sized> IndexReader<'r, R> {
    /// Starts reading an index whose head bytes are `head` and payload is `payload_len`
    /// bytes, at stream offset `at`, in a stream of `chunk_size`-byte frames.
    ///
    /// # Errors
    /// A payload too short for its count and checksum.
    pub fn new(
        r: &'r mut R,
        head: &[u8],
        payload_len: u64,
        at: u64,
        chunk_size: u64,
    ) -> Result<Self> {
        let Some(left) = payload_len.checked_sub(4) else {
            return Err(Error::corrupt(None, at, "index is shorter than its fields"));
        };
        let mut index = IndexReader {
            r,
            left,
            crc: crc32c::crc32c(head),
            count: 0,
            read: 0,
            at,
            chunk_size,
        };
        let count = index.varint()?;
        let min_bytes = count.saturating_mul(INDEX_ENTRY_FIELDS as u64);
        if min_bytes > index.left {
            return Err(Error::corrupt(
                None,
                at,
                format!("index: {count} entries cannot fit in {payload_len} bytes"),
            ));
        }
        index.count = count;
        Ok(index)
    }

    /// The underlying reader (for reading elsewhere between entries; put its position
    /// back before the next entry).
    pub fn reader(&mut self) -> &mut R {
        self.r
    }

    /// Entries the index declares.
    pub fn count(&self) -> u64 {
        self.count
    }

    fn varint(&mut self) -> Result<u64> {
        let mut bytes = [0u8; varint::MAX_LEN];
        let mut n = 0;
        loop {
            if self.left == 0 {
                return Err(Error::corrupt(
                    None,
                    self.at,
                    "index: entries run past the index glyph",
                ));
            }
            let Some(b) = read_byte(self.r)? else {
                return Err(Error::Truncated {
                    offset: self.at,
                    detail: "stream ends inside the index".into(),
                });
            };
            self.left -= 1;
            bytes[n] = b;
            n += 1;
            if b & 0x80 == 0 || n == varint::MAX_LEN {
                break;
            }
        }
        self.crc = crc32c::crc32c_append(self.crc, &bytes[..n]);
        varint::read(&bytes[..n], &mut 0)
            .map_err(|e| Error::corrupt(None, self.at, format!("index: {e}")))
    }

    /// The next entry, or `None` after the last.
    ///
    /// # Errors
    /// A malformed entry.
    pub fn next_entry(&mut self) -> Result<Option<IndexEntry>> {
        if self.read == self.count {
            return Ok(None);
        }
        let mut f = [0u64; INDEX_ENTRY_FIELDS];
        for v in &mut f {
            *v = self.varint()?;
        }
        let entry = IndexEntry::from_fields(f, self.chunk_size, self.read, self.at)?;
        self.read += 1;
        Ok(Some(entry))
    }

    /// Checks that every entry was read, nothing follows the last one, and the checksum.
    ///
    /// # Errors
    /// Leftover bytes or a checksum mismatch.
    pub fn finish(self) -> Result<()> {
        if self.read != self.count || self.left != 0 {
            return Err(Error::corrupt(
                None,
                self.at,
                format!("index: {} bytes after the last entry", self.left),
            ));
        }
        let mut stored = [0u8; 4];
        read_exact_at(self.r, &mut stored, self.at, "index")?;
        let stored = u32::from_le_bytes(stored);
        if stored != self.crc {
            return Err(Error::Checksum {
                what: "index",
                frame: None,
                offset: self.at,
                expected: stored,
                found: self.crc,
            });
        }
        Ok(())
    }
}
