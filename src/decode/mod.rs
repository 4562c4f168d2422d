//! The streaming decoder: walks container glyphs from any reader, decodes frames on the
//! worker pool and writes them in order with bounded memory; verifies every checksum, the
//! index and the trailer of every stream in the input (streams may be concatenated, as
//! with gzip, xz and zstd). Random access by byte range and stream inspection live in
//! [`random`].
#![forbid(unsafe_code)]

pub mod random;
pub mod walk;

use std::io::{BufReader, Read, Write};
use std::time::Instant;

use crate::base::{write_all, GlyphCounts, Progress};
use crate::codec::DecodeScratch;
use crate::error::{Error, Result};
use crate::format::{GlyphHead, IndexEntry, Trailer};
use crate::frame::decode_frame_reuse;
use crate::parallel::{self, resolve_threads, Slot};
use crate::pipeline::sizing;
use crate::stats::{self, Stats};
pub use random::{decode_range, frames, inspect, FrameInfo, StreamInfo};
use walk::{Glyph, Walker};

/// A streaming decoder with its own worker pool.
pub struct Decoder {
    threads: usize,
    memory_limit: Option<u64>,
    pool: rayon::ThreadPool,
}

/// A running digest of a list of frames (encoded length, raw size), so the frames read
/// can be compared with the index without keeping either list in memory.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct FrameDigest {
    frames: u64,
    crc: u32,
}

impl FrameDigest {
    fn add(&mut self, encoded_len: u64, raw_size: u64) {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&encoded_len.to_le_bytes());
        bytes[8..].copy_from_slice(&raw_size.to_le_bytes());
        self.crc = crc32c::crc32c_append(self.crc, &bytes);
        self.frames += 1;
    }
}

/// What the index and trailer of one stream say, checked in order by the writer.
struct Closing {
    start: u64,
    index_at: u64,
    listed: FrameDigest,
    glyphs: GlyphCounts,
    trailer: Trailer,
    trailer_at: u64,
}

enum Job {
    Frame {
        frame: u64,
        at: u64,
        head: GlyphHead,
        chunk_size: u64,
    },
    Close(Box<Closing>),
}

enum Done {
    Frame {
        encoded_len: u64,
        raw_crc: u32,
        raw_size: usize,
    },
    Close(Box<Closing>),
}

/// What the writer has counted of the current stream.
#[derive(Default)]
struct Seen {
    digest: FrameDigest,
    raw: u64,
    crc: u32,
}

impl Seen {
    fn check(&self, c: &Closing) -> Result<()> {
        if c.listed.frames != self.digest.frames {
            return Err(Error::corrupt(
                None,
                c.index_at,
                format!(
                    "index lists {} frames, stream has {}",
                    c.listed.frames, self.digest.frames
                ),
            ));
        }
        if c.listed != self.digest {
            return Err(Error::corrupt(
                None,
                c.index_at,
                "index entries disagree with the frames' encoded and raw sizes",
            ));
        }
        c.trailer.check(
            self.digest.frames,
            self.raw,
            self.crc,
            c.index_at - c.start,
            c.trailer_at,
        )
    }
}

impl Decoder {
    /// Builds a decoder with `threads` workers (0 = one per core) and the default memory
    /// budget (half the available memory).
    ///
    /// # Errors
    /// The thread pool cannot be created.
    pub fn new(threads: usize) -> Result<Decoder> {
        Decoder::with_memory_limit(threads, None)
    }

    /// Builds a decoder whose frames in flight fit `memory_limit` bytes (`None`: the
    /// default budget): fewer frames run at once when a stream's frames are large.
    ///
    /// # Errors
    /// The thread pool cannot be created.
    pub fn with_memory_limit(threads: usize, memory_limit: Option<u64>) -> Result<Decoder> {
        let threads = sizing::cap_threads(resolve_threads(threads));
        let pool = parallel::worker_pool(threads, "sigma-decoder")?;
        Ok(Decoder {
            threads,
            memory_limit,
            pool,
        })
    }

    /// Decodes the stream(s) in `input` into `out`, verifying everything.
    ///
    /// # Errors
    /// I/O errors, truncation, corruption and checksum mismatches, naming frame and offset;
    /// a memory limit too small for one frame of the stream.
    pub fn decode<R: Read + Send>(
        &self,
        input: R,
        out: &mut dyn Write,
        progress: Progress<'_>,
    ) -> Result<Stats> {
        let started = Instant::now();
        let walker = Walker::begin(BufReader::with_capacity(64 * 1024, input), 0)?;
        let header = *walker.header();
        let plan = sizing::decode_plan(
            header.chunk_size,
            self.threads,
            self.memory_limit.or_else(sizing::default_memory_limit),
        )?;
        let mut walker = Some(walker);
        let produce = move |_seq: u64, slot: &mut Slot| -> Result<Option<Job>> {
            let Some(w) = walker.as_mut() else {
                return Ok(None);
            };
            let (at, glyph) = w.next(&mut slot.input)?;
            let head = match glyph {
                Glyph::Frame { frame, head } => {
                    return Ok(Some(Job::Frame {
                        frame,
                        at,
                        head,
                        chunk_size: w.header().chunk_size,
                    }))
                }
                Glyph::Index(head) => head,
            };
            let mut listed = FrameDigest::default();
            let mut glyphs = GlyphCounts::default();
            let (trailer, trailer_at) = w.index(&head, at, |_, e: IndexEntry| {
                listed.add(e.encoded_len, e.raw_size);
                glyphs.add(&e.glyphs);
                Ok(())
            })?;
            let closing = Closing {
                start: w.start(),
                index_at: at,
                listed,
                glyphs,
                trailer,
                trailer_at,
            };
            // Another stream may follow (concatenated streams decode as one).
            let (more, next) = (w.more()?, w.pos());
            walker = match walker.take() {
                Some(w) if more => Some(Walker::begin(w.into_inner(), next)?),
                _ => None,
            };
            Ok(Some(Job::Close(Box::new(closing))))
        };
        let work = |job: Job, slot: &mut Slot, scratch: &mut DecodeScratch| -> Result<Done> {
            match job {
                Job::Frame {
                    frame,
                    at,
                    head,
                    chunk_size,
                } => {
                    let h = decode_frame_reuse(
                        &slot.input,
                        &head,
                        chunk_size,
                        frame,
                        at,
                        scratch,
                        &mut slot.output,
                    )?;
                    Ok(Done::Frame {
                        encoded_len: slot.input.len() as u64,
                        raw_crc: h.raw_crc,
                        raw_size: h.raw_size as usize,
                    })
                }
                Job::Close(c) => Ok(Done::Close(c)),
            }
        };
        let mut seen = Seen::default();
        let mut totals = Stats::default();
        parallel::run(&self.pool, plan.slots, produce, work, |_, done, slot| {
            match done {
                Done::Frame {
                    encoded_len,
                    raw_crc,
                    raw_size,
                } => {
                    write_all(out, &slot.output[..raw_size])?;
                    let n = raw_size as u64;
                    seen.digest.add(encoded_len, n);
                    seen.raw += n;
                    seen.crc = crc32c::crc32c_combine(seen.crc, raw_crc, raw_size);
                    progress(totals.raw_size + seen.raw);
                }
                Done::Close(c) => {
                    seen.check(&c)?;
                    totals.raw_size += seen.raw;
                    totals.frames += seen.digest.frames;
                    totals.encoded_size = c.trailer_at + crate::format::TRAILER_LEN as u64;
                    totals.glyphs.add(&c.glyphs);
                    seen = Seen::default();
                }
            }
            Ok(())
        })?;
        out.flush().map_err(|e| Error::io("writing output", e))?;
        Ok(Stats {
            bytes_in: totals.encoded_size,
            bytes_out: totals.raw_size,
            chunk_size: header.chunk_size,
            threads: plan.threads,
            level: header.level.get(),
            elapsed: started.elapsed(),
            peak_rss: stats::peak_rss().unwrap_or(0),
            ..totals
        })
    }
}
