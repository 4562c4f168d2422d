//! sigmalang: the streaming encoder of SigmaLang. Turns files of any size into SigmaLang
//! glyph streams (`.sigma`) and back, bit for bit, on every core with small fixed memory.
//!
//! - [`base`]: shared atoms (level, glyph counts, varints, output writes).
//! - [`batch`]: incremental, sharded jobs over directory trees.
//! - [`bench`]: measuring settings on the user's own data.
//! - [`codec`]: the glyph codec inside a frame (pure slice functions).
//! - [`format`]: the container glyphs as bytes (FORMAT.md).
//! - [`frame`]: one frame end to end, and stream assembly.
//! - [`memory`]: the in-memory reference encoder/decoder.
//! - [`parallel`]: the bounded ordered engine both directions run on.
//! - [`output`]: atomic outputs (temporary file, sync, rename) and their cleanup.
//! - [`pipeline`]: the bounded parallel streaming encoder.
//! - [`decode`]: the bounded parallel streaming decoder, verification and random access.
#![deny(missing_docs)]
#![deny(unsafe_code)]

pub mod base;
pub mod batch;
pub mod bench;
pub mod codec;
pub mod decode;
pub mod demo;
pub mod error;
pub mod format;
pub mod frame;
pub mod memory;
pub mod output;
pub mod parallel;
pub mod pipeline;
pub mod stats;

pub use base::{GlyphCounts, Level};
pub use error::{Error, Result};
