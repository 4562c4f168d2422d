//! The `.sigma` container: glyph headers and the stream header, frame, index, trailer and
//! metadata glyphs, as bytes only (no I/O). FORMAT.md is the normative description.
#![forbid(unsafe_code)]

pub use crate::base::varint;
use crate::base::{crc, GlyphCounts, Level};
use crate::error::{Error, Result};

/// Format version written by this build (and the highest it reads).
pub const VERSION: u8 = 5;
/// Magic bytes at the start of the stream header payload.
pub const MAGIC: [u8; 4] = *b"SGMA";
/// Smallest chunk (frame) size.
pub const MIN_CHUNK: u64 = 4 * 1024;
/// Largest raw frame: bounds decoder memory per frame.
pub const MAX_CHUNK: u64 = 64 * 1024 * 1024;
/// Largest trailer glyph (three 10-byte varints, two CRCs, the length byte).
pub const MAX_TRAILER_LEN: usize = 2 + 10 + 10 + 10 + 4 + 4 + 1;
/// Smallest trailer glyph.
pub const MIN_TRAILER_LEN: usize = 2 + 1 + 1 + 1 + 4 + 4 + 1;
/// Most bytes a glyph head (header byte, escape byte, 10-byte varint) takes.
pub const MAX_HEAD_LEN: usize = 12;
/// Largest payload of a metadata glyph or of a glyph this version does not know.
pub const MAX_OTHER_PAYLOAD: u64 = 64 * 1024;

/// Checks a chunk size against the format's limits.
///
/// # Errors
/// [`Error::InvalidSetting`] outside 4 KiB..=64 MiB.
pub fn check_chunk_size(chunk_size: u64) -> Result<()> {
    if (MIN_CHUNK..=MAX_CHUNK).contains(&chunk_size) {
        Ok(())
    } else {
        Err(Error::InvalidSetting {
            detail: format!(
                "chunk size is {chunk_size}, should be {}..={} bytes",
                MIN_CHUNK, MAX_CHUNK
            ),
        })
    }
}

/// Whether frame `frame` (0-based in its stream) of a stream with frame group `group` is
/// linked to the frame before it: unless it starts a group.
pub fn linked(group: u8, frame: u64) -> bool {
    !frame.is_multiple_of(u64::from(group.max(1)))
}

/// Checks a frame group against the format's limits (1 to [`MAX_GROUP`]).
///
/// # Errors
/// A group outside them.
pub fn check_group(group: u8) -> Result<()> {
    if (1..=MAX_GROUP).contains(&group) {
        Ok(())
    } else {
        Err(Error::InvalidSetting {
            detail: format!("frame group is {group}, should be 1..={MAX_GROUP}"),
        })
    }
}

/// The largest group of at most `group` frames of `chunk_size` bytes the format allows:
/// a group's frames hold at most [`MAX_CHUNK`] bytes (so a decoder's memory per group is
/// what one frame of the largest chunk size needs, and every copy distance stays below
/// 2^26).
pub fn fit_group(group: u8, chunk_size: u64) -> u8 {
    let most = (MAX_CHUNK / chunk_size.max(1)).min(u64::from(MAX_GROUP)) as u8;
    group.min(most).max(1)
}

/// Largest frame payload a stream with this chunk size may declare: the raw size, the
/// per-block overhead of stored blocks, and the fixed frame fields.
pub fn max_frame_payload(chunk_size: u64) -> u64 {
    chunk_size + chunk_size / 1024 + 64
}

/// Largest index payload for `frames` frames: the count, every entry's fields at their
/// longest, and the CRC.
pub fn max_index_payload(frames: u64) -> u64 {
    frames
        .saturating_mul((INDEX_ENTRY_FIELDS * varint::MAX_LEN) as u64)
        .saturating_add(varint::MAX_LEN as u64 + 4)
}

/// Largest whole frame glyph (head and payload) for this chunk size.
pub fn max_frame_glyph(chunk_size: u64) -> u64 {
    max_frame_payload(chunk_size) + MAX_HEAD_LEN as u64
}

/// The one set of glyph size limits every reader applies, before reading a payload:
/// frames by the chunk size, the index by the frames before it (`frames`), anything else
/// by [`MAX_OTHER_PAYLOAD`].
///
/// # Errors
/// The declared payload is larger than its limit.
pub fn check_payload(head: &GlyphHead, chunk_size: u64, frames: u64, at: u64) -> Result<()> {
    let Some(len) = head.payload_len else {
        return Ok(());
    };
    let limit = if head.is(FRAME) {
        max_frame_payload(chunk_size)
    } else if head.is(INDEX) {
        max_index_payload(frames)
    } else {
        MAX_OTHER_PAYLOAD
    };
    if len > limit {
        return Err(Error::corrupt(
            head.is(FRAME).then_some(frames),
            at,
            format!("glyph payload is {len} bytes, should be at most {limit}"),
        ));
    }
    Ok(())
}

/// Checks the CRC32C in the last four bytes of a whole glyph (covering every byte before
/// it) and returns those bytes.
///
/// # Errors
/// The glyph is too short to hold the CRC after its head, or the CRC does not match.
fn crc_checked<'a>(
    glyph: &'a [u8],
    head_len: usize,
    what: &'static str,
    at: u64,
) -> Result<&'a [u8]> {
    let Some(body_end) = glyph.len().checked_sub(4).filter(|&e| e >= head_len) else {
        return Err(short(at, what));
    };
    let (body, tail) = glyph.split_at(body_end);
    let stored = u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]);
    let computed = crc32c::crc32c(body);
    if stored != computed {
        return Err(Error::Checksum {
            what,
            frame: None,
            offset: at,
            expected: stored,
            found: computed,
        });
    }
    Ok(body)
}

/// SigmaLang glyph types (the header's top two bits).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GlyphType {
    /// A direct primitive.
    Primitive = 0,
    /// A pointer to something already seen.
    Reference = 1,
    /// Context-relative.
    Delta = 2,
    /// Aggregate structure.
    Composite = 3,
}

/// SigmaLang primitive ids used by the container.
pub mod ids {
    /// Trailer: totals of the stream.
    pub const QUANTITY: u8 = 0x04;
    /// Frame index: references to every frame.
    pub const REFERENCE: u8 = 0x0A;
    /// Frame: one independently coded piece of the input.
    pub const BLOCK: u8 = 0x1D;
    /// Stream header.
    pub const STREAM: u8 = 0x7E;
    /// Per-file metadata.
    pub const RECORD: u8 = 0x7F;
}

/// A decoded glyph header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GlyphHead {
    /// Glyph type.
    pub kind: GlyphType,
    /// Primitive id (0-255).
    pub id: u8,
    /// Payload length; `None` when the has-payload flag is clear.
    pub payload_len: Option<u64>,
    /// Bytes the head itself takes.
    pub head_len: usize,
}

/// The container glyphs, by (type, id).
pub const STREAM_HEAD: (GlyphType, u8) = (GlyphType::Composite, ids::STREAM);
/// Metadata glyph.
pub const METADATA: (GlyphType, u8) = (GlyphType::Composite, ids::RECORD);
/// Frame glyph.
pub const FRAME: (GlyphType, u8) = (GlyphType::Composite, ids::BLOCK);
/// Index glyph.
pub const INDEX: (GlyphType, u8) = (GlyphType::Reference, ids::REFERENCE);
/// Trailer glyph.
pub const TRAILER: (GlyphType, u8) = (GlyphType::Primitive, ids::QUANTITY);

impl GlyphHead {
    /// True when this is the glyph `(kind, id)` with a payload.
    pub fn is(&self, which: (GlyphType, u8)) -> bool {
        self.kind == which.0 && self.id == which.1 && self.payload_len.is_some()
    }
}

/// Appends a glyph head with a payload of `payload_len` bytes.
pub fn write_head(out: &mut Vec<u8>, which: (GlyphType, u8), payload_len: u64) {
    let (kind, id) = which;
    let top = ((kind as u8) << 6) | 0x20;
    if id < 31 {
        out.push(top | id);
    } else {
        out.push(top | 31);
        out.push(id);
    }
    varint::write(out, payload_len);
}

/// Parses a glyph head at the start of `data`. `Ok(None)` means more bytes are needed.
///
/// # Errors
/// An escaped id below 31, or a payload length that is not a shortest varint.
pub fn read_head(data: &[u8], at: u64) -> Result<Option<GlyphHead>> {
    let Some(&byte) = data.first() else {
        return Ok(None);
    };
    let kind = match byte >> 6 {
        0 => GlyphType::Primitive,
        1 => GlyphType::Reference,
        2 => GlyphType::Delta,
        _ => GlyphType::Composite,
    };
    let mut pos = 1;
    let id = if byte & 31 == 31 {
        let Some(&id) = data.get(1) else {
            return Ok(None);
        };
        if id < 31 {
            return Err(Error::corrupt(
                None,
                at,
                format!("glyph id {id} is escaped, should be written in the header byte"),
            ));
        }
        pos = 2;
        id
    } else {
        byte & 31
    };
    let payload_len = if byte & 0x20 != 0 {
        match varint::read(data, &mut pos) {
            Ok(v) => Some(v),
            Err(varint::VarintError::Truncated) if data.len() < MAX_HEAD_LEN => return Ok(None),
            Err(e) => return Err(Error::corrupt(None, at, format!("glyph length: {e}"))),
        }
    } else {
        None
    };
    Ok(Some(GlyphHead {
        kind,
        id,
        payload_len,
        head_len: pos,
    }))
}

fn short(at: u64, what: &str) -> Error {
    Error::corrupt(None, at, format!("{what} is shorter than its fields"))
}

// ---------------------------------------------------------------- stream header

/// Largest frame group: a linked frame follows at most this many frames less one of
/// its group, so a decoder holds at most this many frames of a group at once.
pub const MAX_GROUP: u8 = 16;

/// Shortest stream header payload: magic, version, level, group, a 1-byte chunk size
/// varint and the CRC (the chunk-size limits make 3 bytes the real minimum).
pub const MIN_HEADER_PAYLOAD: u64 = 4 + 3 + 1 + 4;
/// Longest stream header payload (a 10-byte chunk size varint).
pub const MAX_HEADER_PAYLOAD: u64 = 4 + 3 + 10 + 4;

/// Settings recorded at the start of a stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamHeader {
    /// Format version.
    pub version: u8,
    /// Level the stream was encoded with.
    pub level: Level,
    /// Nominal frame size; no frame's raw size exceeds it.
    pub chunk_size: u64,
    /// Frames per group (1 to [`MAX_GROUP`]): frame `k` of the stream is linked (may
    /// copy from the frame before it) unless `k` is a multiple of the group.
    pub group: u8,
}

impl StreamHeader {
    /// Whether frame `frame` (0-based in the stream) is linked: its copies may reach back
    /// into the whole of the frame before it.
    pub fn linked(&self, frame: u64) -> bool {
        linked(self.group, frame)
    }

    /// Appends the stream header glyph.
    pub fn write(&self, out: &mut Vec<u8>) {
        let start = out.len();
        let mut payload = Vec::with_capacity(24);
        payload.extend_from_slice(&MAGIC);
        payload.push(self.version);
        payload.push(self.level.get());
        payload.push(self.group);
        varint::write(&mut payload, self.chunk_size);
        write_head(out, STREAM_HEAD, payload.len() as u64 + 4);
        out.extend_from_slice(&payload);
        let crc = crc32c::crc32c(&out[start..]);
        out.extend_from_slice(&crc.to_le_bytes());
    }

    /// Parses the stream header glyph at the start of `data` (which holds it whole, or
    /// the whole input when that is shorter); returns it and its length. A compact
    /// stream's header is the whole stream: for one, this returns the header it stands
    /// for ([`Compact::header`]) and the length of the whole glyph.
    ///
    /// # Errors
    /// As [`parse_start`].
    pub fn parse(data: &[u8]) -> Result<(StreamHeader, usize)> {
        let (start, len) = parse_start(data)?;
        Ok((start.header(), len))
    }
}

/// The first glyph of a stream: a stream header, or a whole compact stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StreamStart {
    /// A stream header; frames, the index and the trailer follow.
    Full(StreamHeader),
    /// A compact stream: nothing follows.
    Compact(Compact),
}

impl StreamStart {
    /// The stream header, or the one a compact stream stands for.
    pub fn header(&self) -> StreamHeader {
        match self {
            StreamStart::Full(h) => *h,
            StreamStart::Compact(c) => c.header(),
        }
    }
}

/// Parses the first glyph of a stream at the start of `data` (which holds it whole, or
/// the whole input when that is shorter); returns it and its length.
///
/// # Errors
/// Not a stream, a truncated glyph, an unknown version, a bad checksum or out-of-range
/// fields.
pub fn parse_start(data: &[u8]) -> Result<(StreamStart, usize)> {
    let not_sigma = || Error::NotSigma {
        found: data[..data.len().min(8)].to_vec(),
    };
    let truncated = || Error::Truncated {
        offset: data.len() as u64,
        detail: "stream ends inside the stream header".into(),
    };
    let mut expected = Vec::with_capacity(2);
    write_head(&mut expected, STREAM_HEAD, 0);
    let lead = &expected[..2];
    if data.len() < 2 {
        return Err(if !data.is_empty() && lead.starts_with(data) {
            truncated()
        } else {
            not_sigma()
        });
    }
    if &data[..2] != lead {
        return Err(not_sigma());
    }
    let head = read_head(data, 0)?.ok_or_else(truncated)?;
    let len = head.payload_len.unwrap_or(0);
    let limits = |min: u64, max: u64| {
        if (min..=max).contains(&len) {
            Ok(())
        } else {
            Err(Error::corrupt(
                None,
                0,
                format!("stream header payload is {len} bytes, should be {min}..={max}"),
            ))
        }
    };
    // Magic, version and group say which kind of first glyph this is.
    limits(
        MIN_COMPACT_PAYLOAD.min(MIN_HEADER_PAYLOAD),
        MAX_COMPACT_PAYLOAD,
    )?;
    let p = data
        .get(head.head_len..head.head_len + 7)
        .ok_or_else(truncated)?;
    if p[..4] != MAGIC {
        return Err(Error::corrupt(
            None,
            head.head_len as u64,
            format!(
                "stream header magic is {:02x} {:02x} {:02x} {:02x}, should be 53 47 4d 41 (\"SGMA\")",
                p[0], p[1], p[2], p[3]
            ),
        ));
    }
    let version = p[4];
    if version != VERSION {
        return Err(Error::UnsupportedVersion {
            found: version,
            supported: VERSION,
        });
    }
    let compact = p[6] == COMPACT_GROUP;
    if compact {
        limits(MIN_COMPACT_PAYLOAD, MAX_COMPACT_PAYLOAD)?;
    } else {
        limits(MIN_HEADER_PAYLOAD, MAX_HEADER_PAYLOAD)?;
    }
    let end = head.head_len + len as usize;
    let glyph = data.get(..end).ok_or_else(truncated)?;
    if compact {
        return Ok((
            StreamStart::Compact(Compact::parse(glyph, head.head_len)?),
            end,
        ));
    }
    let body = crc_checked(glyph, head.head_len, "stream header", 0)?;
    let level = Level::new(p[5])
        .ok_or_else(|| Error::corrupt(None, 0, format!("level is {}, should be 1-9", p[5])))?;
    let group = p[6];
    if !(1..=MAX_GROUP).contains(&group) {
        return Err(Error::corrupt(
            None,
            0,
            format!("frame group is {group}, should be 1-{MAX_GROUP}"),
        ));
    }
    let mut pos = head.head_len + 7;
    let chunk_size = varint::read(body, &mut pos)
        .map_err(|e| Error::corrupt(None, pos as u64, format!("chunk size: {e}")))?;
    if pos != body.len() {
        return Err(Error::corrupt(
            None,
            pos as u64,
            format!(
                "stream header has {} bytes after its fields",
                body.len() - pos
            ),
        ));
    }
    if !(MIN_CHUNK..=MAX_CHUNK).contains(&chunk_size) {
        return Err(Error::corrupt(
            None,
            0,
            format!("chunk size is {chunk_size}, should be {MIN_CHUNK}..={MAX_CHUNK}"),
        ));
    }
    if u64::from(group) * chunk_size > MAX_CHUNK {
        return Err(Error::corrupt(
            None,
            0,
            format!(
                "frame group {group} x chunk size {chunk_size} is {} bytes, should be at most {MAX_CHUNK}",
                u64::from(group) * chunk_size
            ),
        ));
    }
    Ok((
        StreamStart::Full(StreamHeader {
            version,
            level,
            chunk_size,
            group,
        }),
        end,
    ))
}

// ---------------------------------------------------------------- compact streams

/// The group field's value in a compact stream's header glyph.
pub const COMPACT_GROUP: u8 = 0;
/// Largest content of a compact stream.
pub const MAX_COMPACT_RAW: u64 = 128 * 1024;
/// Shortest compact stream payload: magic, version, level, group, a 1-byte raw size,
/// form and check (empty content, no metadata).
pub const MIN_COMPACT_PAYLOAD: u64 = 4 + 3 + 1 + 1 + 4;
/// Longest compact stream payload: the fixed fields with a 3-byte raw size, metadata
/// fields as long as a metadata glyph's, and a stored body of [`MAX_COMPACT_RAW`] bytes.
pub const MAX_COMPACT_PAYLOAD: u64 = 4 + 3 + 3 + 1 + MAX_METADATA_FIELDS + 4 + MAX_COMPACT_RAW;
/// Longest metadata fields (a metadata glyph's payload without its CRC).
pub const MAX_METADATA_FIELDS: u64 = MAX_OTHER_PAYLOAD - 4;
/// The form byte's bit that says metadata fields follow it.
const COMPACT_METADATA: u8 = 2;

/// A compact stream: the whole stream in one glyph (the stream header's place), for
/// content of at most [`MAX_COMPACT_RAW`] bytes: at most one frame's body, metadata
/// fields without a glyph of their own, no frame glyph, index or trailer, and one check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Compact {
    /// Level the stream was encoded with (informational).
    pub level: Level,
    /// Bytes the stream decodes to.
    pub raw_size: u64,
    /// Body coding.
    pub method: Method,
    /// CRC32C of the decoded content: what the stream's check field leaves once the
    /// glyph's other bytes are taken out of it (see [`Compact::write`]).
    pub content_crc: u32,
    /// Offset of the body in the glyph (it runs to the glyph's end).
    pub body_at: usize,
    /// The file's name, mode and mtime, when the stream carries them.
    pub metadata: Option<Metadata>,
    /// The check field, its offset in the glyph, and the CRC32C of the glyph's other
    /// bytes (fields, then body) that it continues.
    check: u32,
    check_at: usize,
    coded_crc: u32,
}

/// What a compact stream's check needs once its content is decoded, where the stream
/// starts at `start` in the input ([`Compact::checker`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CompactCheck {
    check: u32,
    coded_crc: u32,
    raw_size: u64,
    /// Input offset of the check field.
    pub offset: u64,
}

impl CompactCheck {
    /// Compares the check with content whose CRC32C is `content_crc`.
    ///
    /// # Errors
    /// A mismatch: some byte of the stream (fields, body or check) is damaged.
    pub fn verify(&self, content_crc: u32) -> Result<()> {
        let found = crc::combine(self.coded_crc, content_crc, self.raw_size);
        if found == self.check {
            return Ok(());
        }
        Err(Error::Checksum {
            what: "compact stream (its fields, body or content)",
            frame: None,
            offset: self.offset,
            expected: self.check,
            found,
        })
    }
}

impl Compact {
    /// Appends the compact stream for content of `raw_size` bytes whose CRC32C is
    /// `content_crc`, with `body` coded by `method` (empty for empty content) and
    /// `metadata` when given. Its check field is the CRC32C of every glyph byte before it,
    /// then the body, then the content: any change to the glyph is caught, as is a body
    /// that decodes wrongly.
    pub fn write(
        out: &mut Vec<u8>,
        level: Level,
        raw_size: u64,
        method: Method,
        content_crc: u32,
        body: &[u8],
        metadata: Option<&Metadata>,
    ) {
        let start = out.len();
        let mut meta = Vec::new();
        let mut form = method as u8;
        if let Some(m) = metadata {
            m.write_fields(&mut meta);
            form |= COMPACT_METADATA;
        }
        let fields = 4 + 3 + varint::len(raw_size) + 1 + meta.len() + 4;
        write_head(out, STREAM_HEAD, (fields + body.len()) as u64);
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&[VERSION, level.get(), COMPACT_GROUP]);
        varint::write(out, raw_size);
        out.push(form);
        out.extend_from_slice(&meta);
        let coded = crc::combine(
            crc32c::crc32c(&out[start..]),
            crc32c::crc32c(body),
            body.len() as u64,
        );
        let check = crc::combine(coded, content_crc, raw_size);
        out.extend_from_slice(&check.to_le_bytes());
        out.extend_from_slice(body);
    }

    /// Parses the fields after the group of a whole compact stream glyph whose head is
    /// `head_len` bytes (magic and version already checked).
    fn parse(glyph: &[u8], head_len: usize) -> Result<Compact> {
        let bad = |at: usize, detail: String| Error::corrupt(None, at as u64, detail);
        let level_at = head_len + 5;
        let level = Level::new(glyph[level_at]).ok_or_else(|| {
            bad(
                level_at,
                format!("level is {}, should be 1-9", glyph[level_at]),
            )
        })?;
        let mut pos = head_len + 7;
        let raw_size = varint::read(glyph, &mut pos)
            .map_err(|e| bad(head_len + 7, format!("raw size: {e}")))?;
        if raw_size > MAX_COMPACT_RAW {
            return Err(bad(
                head_len + 7,
                format!(
                    "compact stream raw size is {raw_size}, should be at most {MAX_COMPACT_RAW}"
                ),
            ));
        }
        let short = || {
            bad(
                glyph.len(),
                "compact stream is shorter than its fields".into(),
            )
        };
        let form_at = pos;
        let form = *glyph.get(pos).ok_or_else(short)?;
        let method = match form & !COMPACT_METADATA {
            0 => Method::Stored,
            1 => Method::Coded,
            _ => return Err(bad(pos, format!("form is {form}, should be 0 to 3"))),
        };
        pos += 1;
        let metadata = if form & COMPACT_METADATA != 0 {
            let m = Metadata::parse_fields(glyph, &mut pos)
                .map_err(|e| bad(form_at + 1, format!("metadata: {e}")))?;
            Some(m)
        } else {
            None
        };
        let check_at = pos;
        let crc = glyph.get(pos..pos + 4).ok_or_else(short)?;
        let check = u32::from_le_bytes([crc[0], crc[1], crc[2], crc[3]]);
        let body_at = pos + 4;
        let body_len = (glyph.len() - body_at) as u64;
        let coded = crc::combine(
            crc32c::crc32c(&glyph[..check_at]),
            crc32c::crc32c(&glyph[body_at..]),
            body_len,
        );
        let content_crc = check ^ crc::combine(coded, 0, raw_size);
        if method == Method::Stored && body_len != raw_size {
            return Err(bad(
                body_at,
                format!("stored body is {body_len} bytes, should be the raw size {raw_size}"),
            ));
        }
        if method == Method::Coded && (raw_size == 0 || body_len == 0) {
            return Err(bad(
                form_at,
                "a coded body needs content and at least one byte (empty content is stored)".into(),
            ));
        }
        Ok(Compact {
            level,
            raw_size,
            method,
            content_crc,
            body_at,
            metadata,
            check,
            check_at,
            coded_crc: coded,
        })
    }

    /// The check of this stream, which starts at input offset `start`.
    pub fn checker(&self, start: u64) -> CompactCheck {
        CompactCheck {
            check: self.check,
            coded_crc: self.coded_crc,
            raw_size: self.raw_size,
            offset: start + self.check_at as u64,
        }
    }

    /// The stream header this stream stands for: chunk size its raw size (at least
    /// [`MIN_CHUNK`]), frames not linked.
    pub fn header(&self) -> StreamHeader {
        StreamHeader {
            version: VERSION,
            level: self.level,
            chunk_size: self.raw_size.max(MIN_CHUNK),
            group: 1,
        }
    }

    /// Frames the stream holds: one, or none when it is empty.
    pub fn frames(&self) -> u64 {
        u64::from(self.raw_size > 0)
    }

    /// The frame glyph a compact stream `glyph` stands for, appended to `out`: the same
    /// body under a frame's fixed fields, its data CRC the content CRC. Returns the
    /// offset of the body in the glyph.
    pub fn frame_glyph(&self, glyph: &[u8], out: &mut Vec<u8>) -> usize {
        let body = &glyph[self.body_at..];
        let start = out.len();
        FrameHeader {
            raw_size: self.raw_size,
            method: self.method,
            raw_crc: self.content_crc,
        }
        .write(out, body.len(), crc32c::crc32c(body));
        let body_at = out.len() - start;
        out.extend_from_slice(body);
        body_at
    }

    /// The trailer this stream stands for, with the index "at" its end.
    pub fn trailer(&self, glyph_len: u64) -> Trailer {
        Trailer {
            raw_size: self.raw_size,
            frames: self.frames(),
            index_offset: glyph_len,
            content_crc: self.content_crc,
        }
    }
}

// ---------------------------------------------------------------- frames

/// How a frame's body is coded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// The body is the raw bytes.
    Stored = 0,
    /// The body is coded blocks (codec).
    Coded = 1,
}

/// The fixed fields at the start of a frame glyph's payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameHeader {
    /// Bytes this frame decodes to (1..=chunk size).
    pub raw_size: u64,
    /// Body coding.
    pub method: Method,
    /// CRC32C of the decoded bytes.
    pub raw_crc: u32,
}

impl FrameHeader {
    /// Appends the frame glyph's head and fixed fields for a body of `body_len` bytes
    /// whose CRC32C is `body_crc`; the body follows. The frame CRC covers every byte of
    /// the glyph but itself: head, raw size, method, raw CRC, then the body.
    pub fn write(&self, out: &mut Vec<u8>, body_len: usize, body_crc: u32) {
        let start = out.len();
        let fields = varint::len(self.raw_size) + 1 + 4 + 4;
        write_head(out, FRAME, (fields + body_len) as u64);
        varint::write(out, self.raw_size);
        out.push(self.method as u8);
        out.extend_from_slice(&self.raw_crc.to_le_bytes());
        let head_crc = crc32c::crc32c(&out[start..]);
        let crc = crc::combine(head_crc, body_crc, body_len as u64);
        out.extend_from_slice(&crc.to_le_bytes());
    }

    /// The raw size a frame glyph declares (its first field), read without checking the
    /// rest of the glyph; `None` when the field is malformed.
    pub fn declared_raw_size(glyph: &[u8], head: &GlyphHead) -> Option<u64> {
        varint::read(glyph, &mut head.head_len.clone()).ok()
    }

    /// Parses the fixed fields of a whole frame glyph whose head is `head` and checks its
    /// CRC and limits. Returns the header and the offset of the body.
    ///
    /// # Errors
    /// A bad frame CRC, an unknown method, a raw size out of range, or a stored body whose
    /// length is not the raw size.
    pub fn parse(
        glyph: &[u8],
        head: &GlyphHead,
        chunk_size: u64,
        frame: u64,
        at: u64,
    ) -> Result<(FrameHeader, usize)> {
        let bad = |detail: String| Error::corrupt(Some(frame), at, detail);
        let short = || bad("frame is shorter than its fields".into());
        let mut pos = head.head_len;
        let raw_size = varint::read(glyph, &mut pos).map_err(|e| bad(format!("raw size: {e}")))?;
        let method = *glyph.get(pos).ok_or_else(short)?;
        let raw_crc = glyph.get(pos + 1..pos + 5).ok_or_else(short)?;
        let raw_crc = u32::from_le_bytes([raw_crc[0], raw_crc[1], raw_crc[2], raw_crc[3]]);
        let crc_at = pos + 5;
        let stored = glyph.get(crc_at..crc_at + 4).ok_or_else(short)?;
        let stored = u32::from_le_bytes([stored[0], stored[1], stored[2], stored[3]]);
        let body_at = crc_at + 4;
        let computed = crc::combine(
            crc32c::crc32c(&glyph[..crc_at]),
            crc32c::crc32c(&glyph[body_at..]),
            (glyph.len() - body_at) as u64,
        );
        if stored != computed {
            return Err(Error::Checksum {
                what: "frame",
                frame: Some(frame),
                offset: at,
                expected: stored,
                found: computed,
            });
        }
        let method = match method {
            0 => Method::Stored,
            1 => Method::Coded,
            m => return Err(bad(format!("frame method is {m}, should be 0 or 1"))),
        };
        if raw_size == 0 || raw_size > chunk_size {
            return Err(bad(format!(
                "frame raw size is {raw_size}, should be 1..={chunk_size}"
            )));
        }
        let body_len = (glyph.len() - body_at) as u64;
        if method == Method::Stored && body_len != raw_size {
            return Err(bad(format!(
                "stored frame body is {body_len} bytes, should be the raw size {raw_size}"
            )));
        }
        if body_len == 0 {
            return Err(bad("frame body is empty".into()));
        }
        Ok((
            FrameHeader {
                raw_size,
                method,
                raw_crc,
            },
            body_at,
        ))
    }
}

// ---------------------------------------------------------------- index

/// One frame's entry in the index.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IndexEntry {
    /// Bytes of other glyphs between the end of the previous frame (or of the stream
    /// header) and this frame; usually 0.
    pub gap: u64,
    /// Bytes of the whole frame glyph.
    pub encoded_len: u64,
    /// Bytes the frame decodes to.
    pub raw_size: u64,
    /// The frame's glyphs.
    pub glyphs: GlyphCounts,
}

/// Varints per index entry.
pub const INDEX_ENTRY_FIELDS: usize = 8;

impl IndexEntry {
    /// The entry's fields in their order in the index: gap, encoded length, raw size,
    /// then the PRIMITIVE, REFERENCE, DELTA and ITERATION counts and the literal bytes.
    pub fn fields(&self) -> [u64; INDEX_ENTRY_FIELDS] {
        [
            self.gap,
            self.encoded_len,
            self.raw_size,
            self.glyphs.primitive,
            self.glyphs.reference,
            self.glyphs.delta,
            self.glyphs.iteration,
            self.glyphs.literal_bytes,
        ]
    }

    /// Appends the entry's fields as varints.
    pub fn write(&self, out: &mut Vec<u8>) {
        for v in self.fields() {
            varint::write(out, v);
        }
    }

    /// Builds an entry from its fields, checking each against the limits of a stream with
    /// this chunk size.
    ///
    /// # Errors
    /// A raw size outside 1..=chunk size, an encoded length no frame can have, more
    /// literal bytes than raw bytes, or more glyphs than the frame has bytes.
    pub fn from_fields(
        f: [u64; INDEX_ENTRY_FIELDS],
        chunk_size: u64,
        frame: u64,
        at: u64,
    ) -> Result<IndexEntry> {
        let [gap, encoded_len, raw_size, primitive, reference, delta, iteration, literal_bytes] = f;
        let bad = |detail: String| Error::corrupt(Some(frame), at, format!("index: {detail}"));
        if raw_size == 0 || raw_size > chunk_size {
            return Err(bad(format!(
                "raw size is {raw_size}, should be 1..={chunk_size}"
            )));
        }
        if encoded_len < MIN_FRAME_GLYPH || encoded_len > max_frame_glyph(chunk_size) {
            return Err(bad(format!(
                "encoded length is {encoded_len}, should be {MIN_FRAME_GLYPH}..={}",
                max_frame_glyph(chunk_size)
            )));
        }
        if literal_bytes > raw_size {
            return Err(bad(format!(
                "literal bytes are {literal_bytes}, should be at most the raw size {raw_size}"
            )));
        }
        // Every glyph covers at least one byte.
        let glyphs = [primitive, reference, delta, iteration]
            .iter()
            .try_fold(0u64, |a, &g| a.checked_add(g));
        if glyphs.is_none_or(|g| g > raw_size) {
            return Err(bad(format!("glyph counts exceed the raw size {raw_size}")));
        }
        Ok(IndexEntry {
            gap,
            encoded_len,
            raw_size,
            glyphs: GlyphCounts {
                primitive,
                reference,
                delta,
                iteration,
                literal_bytes,
                copied_bytes: raw_size - literal_bytes,
            },
        })
    }
}

/// Smallest whole frame glyph: head, raw size, method, two CRCs and one body byte.
pub const MIN_FRAME_GLYPH: u64 = 2 + 1 + 1 + 8 + 1;

/// Appends the index glyph for `count` entries whose fields are `entries` (as written by
/// [`IndexEntry::write`]) and whose CRC32C is `entries_crc`.
pub fn write_index_head(out: &mut Vec<u8>, count: u64, entries_len: u64) {
    let payload = varint::len(count) as u64 + entries_len + 4;
    write_head(out, INDEX, payload);
    varint::write(out, count);
}

/// Appends the whole index glyph for `entries`.
pub fn write_index(out: &mut Vec<u8>, entries: &[IndexEntry]) {
    let mut body = Vec::with_capacity(entries.len() * 12);
    entries.iter().for_each(|e| e.write(&mut body));
    let start = out.len();
    write_index_head(out, entries.len() as u64, body.len() as u64);
    out.extend_from_slice(&body);
    let crc = crc32c::crc32c(&out[start..]);
    out.extend_from_slice(&crc.to_le_bytes());
}

// ---------------------------------------------------------------- trailer

/// Totals at the very end of a stream, found in O(1) from the end of the file: its last
/// byte is the trailer glyph's length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trailer {
    /// Total decoded bytes.
    pub raw_size: u64,
    /// Number of frames.
    pub frames: u64,
    /// Byte offset of the index glyph from the start of the stream.
    pub index_offset: u64,
    /// CRC32C of the whole decoded content.
    pub content_crc: u32,
}

impl Trailer {
    /// Appends the trailer glyph.
    pub fn write(&self, out: &mut Vec<u8>) {
        let mut payload = Vec::with_capacity(MAX_TRAILER_LEN);
        varint::write(&mut payload, self.raw_size);
        varint::write(&mut payload, self.frames);
        varint::write(&mut payload, self.index_offset);
        payload.extend_from_slice(&self.content_crc.to_le_bytes());
        let start = out.len();
        write_head(out, TRAILER, payload.len() as u64 + 5);
        out.extend_from_slice(&payload);
        let crc = crc32c::crc32c(&out[start..]);
        out.extend_from_slice(&crc.to_le_bytes());
        let total = out.len() - start + 1;
        out.push(total as u8);
    }

    /// The trailer's length, from the last byte of a stream.
    ///
    /// # Errors
    /// A length no trailer can have.
    pub fn len_from_last_byte(last: u8, at: u64) -> Result<usize> {
        let len = usize::from(last);
        if !(MIN_TRAILER_LEN..=MAX_TRAILER_LEN).contains(&len) {
            return Err(Error::corrupt(
                None,
                at,
                format!(
                    "trailer: the last byte says {len}, should be {MIN_TRAILER_LEN}..={MAX_TRAILER_LEN} (stream truncated?)"
                ),
            ));
        }
        Ok(len)
    }

    /// Parses a whole trailer glyph found at offset `at`.
    ///
    /// # Errors
    /// Anything but a well-formed trailer.
    pub fn parse(glyph: &[u8], at: u64) -> Result<Trailer> {
        let bad = |detail: &str| Error::corrupt(None, at, format!("trailer: {detail}"));
        let n = glyph.len();
        let head = read_head(glyph, at)?.filter(|h| {
            h.is(TRAILER) && h.payload_len.map(|l| l + h.head_len as u64) == Some(n as u64)
        });
        let Some(head) = head else {
            return Err(bad(
                "no trailer glyph at the end (stream truncated, or another stream follows: decode and verify read concatenated streams)",
            ));
        };
        if usize::from(glyph[n - 1]) != n {
            return Err(bad("its last byte is not its length"));
        }
        let body = crc_checked(&glyph[..n - 1], head.head_len, "trailer", at)?;
        let mut pos = head.head_len;
        let mut field = || varint::read(body, &mut pos).map_err(|e| bad(&e.to_string()));
        let (raw_size, frames, index_offset) = (field()?, field()?, field()?);
        if body.len() != pos + 4 {
            return Err(bad("fields do not fill the glyph"));
        }
        Ok(Trailer {
            raw_size,
            frames,
            index_offset,
            content_crc: u32::from_le_bytes([
                body[pos],
                body[pos + 1],
                body[pos + 2],
                body[pos + 3],
            ]),
        })
    }

    /// Checks the trailer against what a sequential reader counted: `frames` frames of
    /// `raw_size` bytes in all with combined CRC `content_crc`, and the index at
    /// `index_at` (from the stream's start). `at` is the trailer's offset.
    ///
    /// # Errors
    /// Any disagreement.
    pub fn check(
        &self,
        frames: u64,
        raw_size: u64,
        content_crc: u32,
        index_at: u64,
        at: u64,
    ) -> Result<()> {
        if self.frames != frames || self.raw_size != raw_size || self.index_offset != index_at {
            return Err(Error::corrupt(
                None,
                at,
                format!(
                    "trailer says {} frames, {} bytes, index at {}; stream has {frames}, {raw_size}, {index_at}",
                    self.frames, self.raw_size, self.index_offset
                ),
            ));
        }
        if self.content_crc != content_crc {
            return Err(Error::Checksum {
                what: "content",
                frame: None,
                offset: at,
                expected: self.content_crc,
                found: content_crc,
            });
        }
        Ok(())
    }
}

// ---------------------------------------------------------------- metadata

/// Optional per-file metadata, stored between the stream header and the first frame.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Metadata {
    /// Original file name (no directories), as bytes (any encoding).
    pub name: Vec<u8>,
    /// Unix permission bits (at most 0o7777).
    pub mode: u32,
    /// Modification time, seconds since the Unix epoch (negative before it).
    pub mtime: i64,
    /// Nanoseconds of the modification time (below 10^9).
    pub mtime_nanos: u32,
}

/// Zigzag: signed to unsigned so small magnitudes stay short.
fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

impl Metadata {
    /// Appends the metadata glyph.
    pub fn write(&self, out: &mut Vec<u8>) {
        let mut payload = Vec::with_capacity(self.name.len() + 24);
        self.write_fields(&mut payload);
        let start = out.len();
        write_head(out, METADATA, payload.len() as u64 + 4);
        out.extend_from_slice(&payload);
        let crc = crc32c::crc32c(&out[start..]);
        out.extend_from_slice(&crc.to_le_bytes());
    }

    /// Parses a whole metadata glyph.
    ///
    /// # Errors
    /// A bad checksum, or fields that are malformed, out of range or do not fill the glyph.
    pub fn parse(glyph: &[u8], head: &GlyphHead, at: u64) -> Result<Metadata> {
        let bad = |detail: String| Error::corrupt(None, at, format!("metadata: {detail}"));
        let body = crc_checked(glyph, head.head_len, "metadata", at)?;
        let mut pos = head.head_len;
        let m = Metadata::parse_fields(body, &mut pos).map_err(bad)?;
        if pos != body.len() {
            return Err(bad(format!("{} bytes after its fields", body.len() - pos)));
        }
        Ok(m)
    }

    /// Appends the fields (name length, name, mode, mtime, nanoseconds), no CRC.
    pub fn write_fields(&self, out: &mut Vec<u8>) {
        varint::write(out, self.name.len() as u64);
        out.extend_from_slice(&self.name);
        varint::write(out, u64::from(self.mode));
        varint::write(out, zigzag(self.mtime));
        varint::write(out, u64::from(self.mtime_nanos));
    }

    /// Parses the fields at `data[*pos..]`, advancing `*pos` past them; the error is
    /// what is wrong.
    fn parse_fields(data: &[u8], pos: &mut usize) -> Result<Metadata, String> {
        let start = *pos;
        let name_len = varint::read(data, pos).map_err(|e| e.to_string())?;
        let name_end = usize::try_from(name_len)
            .ok()
            .and_then(|n| pos.checked_add(n))
            .filter(|&e| e <= data.len())
            .ok_or("name runs past the glyph")?;
        let name = data[*pos..name_end].to_vec();
        if name.contains(&b'/') || name.contains(&0) || name == b"." || name == b".." {
            return Err("name is not a plain file name".into());
        }
        *pos = name_end;
        let mut field = || varint::read(data, pos).map_err(|e| e.to_string());
        let (mode, mtime, nanos) = (field()?, field()?, field()?);
        if mode > 0o7777 {
            return Err(format!("mode is {mode:o}, should be at most 7777"));
        }
        if nanos >= 1_000_000_000 {
            return Err(format!(
                "mtime nanoseconds are {nanos}, should be below 1000000000"
            ));
        }
        if (*pos - start) as u64 > MAX_METADATA_FIELDS {
            return Err(format!(
                "fields take {} bytes, should be at most {MAX_METADATA_FIELDS}",
                *pos - start
            ));
        }
        Ok(Metadata {
            name,
            mode: mode as u32,
            mtime: unzigzag(mtime),
            mtime_nanos: nanos as u32,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glyph_heads_follow_sigmalang_layout() {
        let mut out = Vec::new();
        write_head(&mut out, FRAME, 300);
        assert_eq!(out[0], 0b1111_1101);
        let h = read_head(&out, 0).unwrap().unwrap();
        assert_eq!(
            (h.kind, h.id, h.payload_len, h.head_len),
            (GlyphType::Composite, 0x1D, Some(300), 3)
        );
        out.clear();
        write_head(&mut out, STREAM_HEAD, 10);
        assert_eq!(&out[..2], &[0xFF, 0x7E]);
        assert_eq!(read_head(&out[..1], 0).unwrap(), None);
    }

    #[test]
    fn header_trailer_index_metadata_round_trip() {
        let h = StreamHeader {
            version: VERSION,
            level: Level::DEFAULT,
            chunk_size: 1 << 20,
            group: 2,
        };
        let mut out = Vec::new();
        h.write(&mut out);
        assert_eq!(StreamHeader::parse(&out).unwrap(), (h, out.len()));
        // A group of frames holds at most 64 MiB.
        let mut big = Vec::new();
        StreamHeader {
            chunk_size: MAX_CHUNK,
            ..h
        }
        .write(&mut big);
        assert!(StreamHeader::parse(&big).is_err());
        assert_eq!(fit_group(2, MAX_CHUNK), 1);
        assert_eq!(fit_group(16, 4 << 20), 16);
        assert_eq!(fit_group(16, 8 << 20), 8);
        assert_eq!(fit_group(3, 24 << 20), 2);
        let mut bad = out.clone();
        bad[7] = 9;
        assert!(matches!(
            StreamHeader::parse(&bad),
            Err(Error::UnsupportedVersion { found: 9, .. })
        ));

        for t in [
            Trailer {
                raw_size: 5 << 32,
                frames: 7,
                index_offset: 123,
                content_crc: 0xDEAD_BEEF,
            },
            Trailer {
                raw_size: u64::MAX,
                frames: u64::MAX,
                index_offset: u64::MAX,
                content_crc: 0,
            },
            Trailer {
                raw_size: 0,
                frames: 0,
                index_offset: 17,
                content_crc: 0,
            },
        ] {
            let mut tb = Vec::new();
            t.write(&mut tb);
            let n = Trailer::len_from_last_byte(*tb.last().unwrap(), 0).unwrap();
            assert_eq!(n, tb.len());
            assert_eq!(Trailer::parse(&tb, 0).unwrap(), t);
            tb[3] ^= 1;
            assert!(Trailer::parse(&tb, 0).is_err());
        }

        let entries = vec![
            IndexEntry {
                gap: 2,
                encoded_len: 100,
                raw_size: 4096,
                glyphs: GlyphCounts {
                    primitive: 3,
                    reference: 4,
                    delta: 5,
                    iteration: 6,
                    literal_bytes: 96,
                    copied_bytes: 4000,
                },
            };
            3
        ];
        let mut ib = Vec::new();
        write_index(&mut ib, &entries);
        let head = read_head(&ib, 0).unwrap().unwrap();
        let mut r = &ib[head.head_len..];
        let mut index = crate::decode::walk::IndexReader::new(
            &mut r,
            &ib[..head.head_len],
            head.payload_len.unwrap(),
            0,
            1 << 20,
        )
        .unwrap();
        let mut read = Vec::new();
        while let Some(e) = index.next_entry().unwrap() {
            read.push(e);
        }
        index.finish().unwrap();
        assert_eq!(read, entries);

        let m = Metadata {
            name: b"a\xff.txt".to_vec(),
            mode: 0o644,
            mtime: -1_700_000_000,
            mtime_nanos: 999_999_999,
        };
        let mut mb = Vec::new();
        m.write(&mut mb);
        let head = read_head(&mb, 0).unwrap().unwrap();
        assert_eq!(Metadata::parse(&mb, &head, 0).unwrap(), m);
    }

    #[test]
    fn escaped_small_ids_are_refused() {
        // FF 1D would be a frame (COMPOSITE, BLOCK) written with the escape form.
        assert!(read_head(&[0xFF, 0x1D, 0x05], 0).is_err());
        assert!(read_head(&[0xFF, 0x1F, 0x05], 0).unwrap().is_some());
    }
}
