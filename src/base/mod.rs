//! Shared atoms that every layer uses and that import nothing else of ours: the
//! compression level, glyph counts, varints, the progress callback, output writes and
//! the decoder's growable buffers.
#![forbid(unsafe_code)]

pub mod crc;
pub mod pagebuf;
pub mod varint;

use std::io::Write;

use crate::error::{Error, Result};

/// Compression level, 1 (fastest) to 9 (strongest).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Level(u8);

impl Level {
    /// Fastest level.
    pub const MIN: Level = Level(1);
    /// Strongest level.
    pub const MAX: Level = Level(9);
    /// The default level.
    pub const DEFAULT: Level = Level(3);

    /// A level from 1 to 9, or `None`.
    pub fn new(level: u8) -> Option<Level> {
        (1..=9).contains(&level).then_some(Level(level))
    }

    /// The level as a number.
    pub fn get(self) -> u8 {
        self.0
    }
}

impl Default for Level {
    fn default() -> Self {
        Level::DEFAULT
    }
}

/// Glyph counts of encoded content, by SigmaLang glyph type.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize)]
pub struct GlyphCounts {
    /// PRIMITIVE glyphs: runs of literal bytes (a stored block counts as one).
    pub primitive: u64,
    /// REFERENCE glyphs: copies at an explicit distance.
    pub reference: u64,
    /// DELTA glyphs: copies at a recently used distance.
    pub delta: u64,
    /// ITERATION glyphs: runs of one repeated byte.
    pub iteration: u64,
    /// Bytes carried as literals.
    pub literal_bytes: u64,
    /// Bytes produced by copies (REFERENCE, DELTA, ITERATION).
    pub copied_bytes: u64,
}

impl GlyphCounts {
    /// Adds `other` into `self`.
    pub fn add(&mut self, other: &GlyphCounts) {
        self.primitive += other.primitive;
        self.reference += other.reference;
        self.delta += other.delta;
        self.iteration += other.iteration;
        self.literal_bytes += other.literal_bytes;
        self.copied_bytes += other.copied_bytes;
    }

    /// Total glyphs.
    pub fn total(&self) -> u64 {
        self.primitive + self.reference + self.delta + self.iteration
    }
}

/// Called after each frame with the raw bytes done so far.
pub type Progress<'a> = &'a (dyn Fn(u64) + Sync);

/// Writes all of `bytes` to `out`, naming the action in the error.
///
/// # Errors
/// The write fails.
pub fn write_all(out: &mut dyn Write, bytes: &[u8]) -> Result<()> {
    out.write_all(bytes)
        .map_err(|e| Error::io("writing output", e))
}

/// An append-only byte buffer that moves to an anonymous temporary file once it passes
/// `limit` bytes, so data that grows with the input (an encoder's frame index) never
/// holds more than `limit` bytes of memory.
pub struct Spool {
    mem: Vec<u8>,
    file: Option<std::io::BufWriter<std::fs::File>>,
    len: u64,
    limit: usize,
}

impl Spool {
    /// An empty spool that keeps up to `limit` bytes in memory.
    pub fn new(limit: usize) -> Spool {
        Spool {
            mem: Vec::new(),
            file: None,
            len: 0,
            limit,
        }
    }

    /// Bytes appended so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// True when nothing was appended.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends `bytes`.
    ///
    /// # Errors
    /// The temporary file cannot be created or written.
    pub fn write(&mut self, bytes: &[u8]) -> Result<()> {
        let spill = |e| Error::io("spooling the frame index", e);
        if self.file.is_none() && self.mem.len() + bytes.len() > self.limit {
            let mut f = std::io::BufWriter::new(tempfile::tempfile().map_err(spill)?);
            f.write_all(&self.mem).map_err(spill)?;
            self.mem = Vec::new();
            self.file = Some(f);
        }
        match &mut self.file {
            Some(f) => f.write_all(bytes).map_err(spill)?,
            None => self.mem.extend_from_slice(bytes),
        }
        self.len += bytes.len() as u64;
        Ok(())
    }

    /// Writes everything appended so far to `out`.
    ///
    /// # Errors
    /// Reading the temporary file or writing `out` fails.
    pub fn copy_to(&mut self, out: &mut dyn Write) -> Result<()> {
        use std::io::{Seek, SeekFrom};
        let Some(f) = &mut self.file else {
            return write_all(out, &self.mem);
        };
        let spill = |e| Error::io("reading the spooled frame index", e);
        f.flush().map_err(spill)?;
        let file = f.get_mut();
        file.seek(SeekFrom::Start(0)).map_err(spill)?;
        let copied = std::io::copy(&mut std::io::Read::take(&mut *file, self.len), out)
            .map_err(|e| Error::io("writing output", e))?;
        file.seek(SeekFrom::End(0)).map_err(spill)?;
        if copied != self.len {
            return Err(spill(std::io::Error::other("spool file is short")));
        }
        Ok(())
    }
}

/// A file name as messages show it: control characters escaped (`\n`), bytes that are not
/// UTF-8 as `\xNN` (not all as one replacement character) and a backslash doubled, so
/// that every message stays one line and no two names look the same.
pub fn name_text(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                c if c.is_control() => out.extend(c.escape_default()),
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// [`name_text`] of a path.
pub fn path_text(path: &std::path::Path) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        name_text(path.as_os_str().as_bytes())
    }
    #[cfg(not(unix))]
    {
        name_text(path.to_string_lossy().as_bytes())
    }
}

/// A time as seconds since the epoch with nine decimals, from whole seconds rounded down
/// and nanoseconds (as file systems and the metadata glyph keep it): `-2.5` s is
/// `(-3, 500_000_000)`, shown as `-2.500000000`.
pub fn seconds_text(secs: i64, nanos: u32) -> String {
    if secs < 0 && nanos > 0 {
        format!("-{}.{:09}", -(secs + 1), 1_000_000_000 - nanos)
    } else {
        format!("{secs}.{nanos:09}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spool_spills_past_its_limit_and_gives_everything_back() {
        for limit in [0, 5, 1 << 20] {
            let mut s = Spool::new(limit);
            let mut expected = Vec::new();
            for i in 0..1000u32 {
                let b = i.to_le_bytes();
                s.write(&b).unwrap();
                expected.extend_from_slice(&b);
            }
            assert_eq!(s.len(), 4000);
            let mut out = Vec::new();
            s.copy_to(&mut out).unwrap();
            assert_eq!(out, expected, "limit {limit}");
            assert_eq!(s.file.is_some(), limit < 4000);
        }
    }

    #[test]
    fn times_before_the_epoch_read_as_their_value() {
        assert_eq!(seconds_text(5, 250_000_000), "5.250000000");
        assert_eq!(seconds_text(0, 0), "0.000000000");
        assert_eq!(seconds_text(-3, 500_000_000), "-2.500000000");
        assert_eq!(seconds_text(-1, 1), "-0.999999999");
        assert_eq!(
            seconds_text(-315_521_755, 123_456_789),
            "-315521754.876543211"
        );
        assert_eq!(seconds_text(-7, 0), "-7.000000000");
    }
}
