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
mod fse;
mod huffman;
mod literals;
mod lz;
mod sequences;
mod split;

pub use block::{decode_body, decode_body_into, encode_body, DecodeScratch, EncodeScratch};
pub use sequences::SLACK as DECODE_SLACK;

use std::fmt;

pub use crate::base::{GlyphCounts, Level};

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

/// Bytes of match-finder tables and scratch an encoder at `level` holds for frames of
/// `chunk` bytes (blocks are no larger than the frame).
pub fn encoder_memory(level: Level, chunk: usize) -> usize {
    let block = block::BLOCK_SIZE.min(chunk);
    lz::table_memory(level, chunk)
        + lz::parse_memory(level, block)
        + block::scratch_memory(level, block)
}

/// Decodes one entropy-coded section on its own, for the fuzzer: a literal section of
/// `count` literals (`literals` true) or a sequence section of `count` sequences executed
/// into a zeroed 64 KiB frame against 4 KiB of literals. Returns the bytes of `section`
/// consumed or the error; never panics on any input.
#[doc(hidden)]
pub fn decode_entropy_section(
    section: &[u8],
    literals: bool,
    count: usize,
) -> Result<usize, CodecError> {
    let mut pos = 0;
    if literals {
        let mut lits = Vec::new();
        let count = count.clamp(1, block::MAX_BLOCK_SIZE);
        literals::LiteralDecoder::default().decode(
            section,
            &mut pos,
            count,
            &mut lits,
            DECODE_SLACK,
        )?;
        return Ok(pos);
    }
    let mut frame = vec![0u8; (64 << 10) + DECODE_SLACK];
    let lits = vec![b'a'; (4 << 10) + DECODE_SLACK];
    let mut target = sequences::Target {
        frame: &mut frame,
        op: 0,
        block_end: 64 << 10,
        lits: &lits,
        n_lits: 4 << 10,
        lit_pos: 0,
    };
    sequences::SequenceDecoder::default().decode(
        section,
        &mut pos,
        count.clamp(1, (64 << 10) / sequences::MIN_MATCH),
        &mut target,
        &mut sequences::Reps::default(),
        &mut GlyphCounts::default(),
    )?;
    Ok(pos)
}
