//! The glyph codec: turns the bytes of one frame into SigmaLang glyphs and entropy codes
//! them; pure slice-to-buffer functions with no I/O.
//!
//! A frame is parsed into glyphs: PRIMITIVE (a run of literal bytes), REFERENCE (a copy of
//! earlier bytes of the same frame at a new distance), DELTA (a copy at one of the last
//! three distances) and ITERATION (a run of one repeated byte, i.e. distance 1). The glyph
//! sequence is entropy coded per block with canonical Huffman codes, in separate streams
//! for literals and for (literal length, match length, offset) codes. See FORMAT.md.
#![forbid(unsafe_code)]

mod bits;
mod block;
mod huffman;
mod lz;

pub use block::{
    decode_body, decode_body_into, encode_body, DecodeScratch, EncodeScratch, SLACK as DECODE_SLACK,
};

use std::fmt;

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

/// A malformed frame body: what is wrong and the byte offset inside the body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodecError {
    /// Byte offset within the frame body where the problem was found.
    pub offset: usize,
    /// What is wrong, phrased "X is A, should be B" where possible.
    pub detail: String,
}

impl CodecError {
    pub(crate) fn new(offset: usize, detail: String) -> Self {
        Self { offset, detail }
    }
}

impl fmt::Display for CodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at body byte {})", self.detail, self.offset)
    }
}

impl std::error::Error for CodecError {}

/// Bytes of match-finder tables an encoder at `level` holds for frames of `chunk` bytes.
pub fn encoder_memory(level: Level, chunk: usize) -> usize {
    lz::table_memory(level, chunk)
        + lz::parse_memory(level, block::BLOCK_SIZE)
        + block::BLOCK_SIZE * 2
}
