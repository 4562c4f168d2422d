//! Shared atoms that every layer uses and that import nothing else of ours: the
//! compression level, glyph counts, varints, the progress callback and output writes.
#![forbid(unsafe_code)]

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
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
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
