//! The streaming decoder: walks container glyphs from any reader, decodes frames on the
//! worker pool and writes them in order with bounded memory; verifies every checksum, the
//! index and the trailer of every stream in the input (streams may be concatenated, as
//! with gzip, xz and zstd). Random access by byte range and stream inspection live in
//! [`random`].
#![forbid(unsafe_code)]

pub mod random;
pub mod salvage;
pub mod walk;

use std::io::{BufRead, BufReader, Read, Write};
use std::time::Instant;

use crate::base::{crc, write_all, GlyphCounts, Progress};
use crate::codec::{self, DecodeScratch};
use crate::error::{Error, Result};
use crate::format::{
    CompactCheck, FrameHeader, GlyphHead, IndexEntry, Metadata, Trailer, INDEX_ENTRY_FIELDS,
};
use crate::frame::{decode_frame_into, FrameAt};
use crate::parallel::{self, resolve_threads, Slot};
use crate::pipeline::sizing;
use crate::stats::{self, Stats};
pub use random::{decode_range, decode_range_stats, frames, inspect, FrameInfo, StreamInfo};
use walk::{Glyph, Walker};

/// A streaming decoder with its own worker pool. Between streams it keeps the buffers of the
/// last one for the next; dropping it frees them.
pub struct Decoder {
    threads: usize,
    memory_limit: Option<u64>,
    pool: rayon::ThreadPool,
    reserve: parallel::Reserve<DecodeScratch>,
}

/// A running digest of a list of index entries, so the frames read can be compared with
/// the index without keeping either list in memory.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct FrameDigest {
    frames: u64,
    crc: u32,
}

impl FrameDigest {
    fn add(&mut self, entry: &IndexEntry) {
        let mut bytes = [0u8; 8 * INDEX_ENTRY_FIELDS];
        for (chunk, v) in bytes.chunks_exact_mut(8).zip(entry.fields()) {
            chunk.copy_from_slice(&v.to_le_bytes());
        }
        self.crc = crc32c::crc32c_append(self.crc, &bytes);
        self.frames += 1;
    }
}

/// What the index and trailer of one stream say, checked in order by the writer.
struct Closing {
    start: u64,
    index_at: u64,
    /// The index's entries; `None` for a compact stream, which has no index.
    listed: Option<FrameDigest>,
    trailer: Trailer,
    trailer_at: u64,
    end: u64,
}

/// One frame of a group job: where it is in the stream and in the slot's input.
struct FrameJob {
    frame: u64,
    at: u64,
    head: GlyphHead,
    gap: u64,
    /// Its glyph is `slot.input[start..end]`.
    start: usize,
    end: usize,
    /// Whether its copies reach into the frame before it (the previous one in the job).
    linked: bool,
    /// The check of the compact stream it stands for.
    compact: Option<CompactCheck>,
}

enum Job {
    /// A group of frames: the first independent, the others linked to the one before.
    Group {
        frames: Vec<FrameJob>,
        chunk_size: u64,
    },
    Close(Box<Closing>),
}

/// A decoded frame: its index entry as read, and the CRC of its bytes.
struct FrameDone {
    entry: IndexEntry,
    raw_crc: u32,
}

enum Done {
    /// The group's frames, whose bytes are `slot.decoded[..sum of raw sizes]`.
    Group(Vec<FrameDone>),
    Close(Box<Closing>),
}

/// What the writer has counted of the current stream.
#[derive(Default)]
struct Seen {
    digest: FrameDigest,
    raw: u64,
    crc: u32,
    glyphs: GlyphCounts,
}

impl Seen {
    /// Counts a decoded frame.
    fn add(&mut self, entry: &IndexEntry, raw_crc: u32) {
        self.digest.add(entry);
        self.glyphs.add(&entry.glyphs);
        self.raw += entry.raw_size;
        self.crc = crc::combine(self.crc, raw_crc, entry.raw_size);
    }

    fn check(&self, c: &Closing) -> Result<()> {
        let Some(listed) = c.listed else {
            return c.trailer.check(
                self.digest.frames,
                self.raw,
                self.crc,
                c.trailer.index_offset,
                c.trailer_at,
            );
        };
        if listed.frames != self.digest.frames {
            return Err(Error::corrupt(
                None,
                c.index_at,
                format!(
                    "index lists {} frames, stream has {}",
                    listed.frames, self.digest.frames
                ),
            ));
        }
        if listed != self.digest {
            return Err(Error::corrupt(
                None,
                c.index_at,
                "index entries disagree with the frames read (gaps, sizes or glyph counts)",
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
            reserve: parallel::Reserve::default(),
        })
    }

    /// The worker pool (batch jobs run small streams on it too).
    pub fn pool(&self) -> &rayon::ThreadPool {
        &self.pool
    }

    /// Worker threads.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// The memory budget it was given (`None`: the default one).
    pub fn memory_limit(&self) -> Option<u64> {
        self.memory_limit
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
            header.group,
            self.threads,
            self.memory_limit.or_else(sizing::default_memory_limit),
        )?;
        let mut reader = StreamReader {
            walker: Some(walker),
            metadata: None,
            end: None,
        };
        let mut writer = OrderedWriter {
            out,
            progress,
            seen: Seen::default(),
            totals: Stats::default(),
        };
        parallel::run(
            &self.pool,
            &self.reserve,
            parallel::Lanes {
                slots: plan.slots,
                workers: plan.threads,
                slot_bytes: usize::MAX,
            },
            |_, slot| reader.next_job(slot),
            decode_job,
            |_, done, slot| writer.consume(done, slot),
        )?;
        writer
            .out
            .flush()
            .map_err(|e| Error::io("writing output", e))?;
        Ok(Stats {
            bytes_in: writer.totals.encoded_size,
            bytes_out: writer.totals.raw_size,
            chunk_size: header.chunk_size,
            threads: plan.threads,
            level: header.level.get(),
            elapsed: started.elapsed(),
            peak_rss: stats::peak_rss().unwrap_or(0),
            metadata: reader.metadata,
            ..writer.totals
        })
    }
}

/// The input side: walks the container glyphs of every stream in the input and turns
/// them into jobs, in order.
struct StreamReader<R> {
    walker: Option<Walker<R>>,
    /// The first stream's metadata glyph.
    metadata: Option<Metadata>,
    /// The end of the stream (index or compact end) and its offset, when it was met while
    /// a group was read.
    end: Option<(u64, Glyph)>,
}

impl<R: BufRead> StreamReader<R> {
    /// The next group of frames to decode, or the closing checks of a stream; `None` at
    /// the end.
    fn next_job(&mut self, slot: &mut Slot) -> Result<Option<Job>> {
        let Some(w) = self.walker.as_mut() else {
            return Ok(None);
        };
        slot.input.clear();
        let chunk_size = w.header().chunk_size;
        let mut frames = Vec::new();
        let (at, end) = loop {
            if let Some(end) = self.end.take() {
                break end;
            }
            let start = slot.input.len();
            let (at, glyph) = w.next(&mut slot.input)?;
            if self.metadata.is_none() {
                self.metadata = w.metadata().cloned();
            }
            match glyph {
                Glyph::Frame {
                    frame,
                    head,
                    gap,
                    compact,
                } => {
                    frames.push(FrameJob {
                        frame,
                        at,
                        head,
                        gap,
                        start,
                        end: slot.input.len(),
                        linked: w.header().linked(frame),
                        compact,
                    });
                    if !w.header().linked(frame + 1) {
                        return Ok(Some(Job::Group { frames, chunk_size }));
                    }
                }
                end if frames.is_empty() => break (at, end),
                // The group ends with the stream: its end waits for the next call.
                end => {
                    self.end = Some((at, end));
                    return Ok(Some(Job::Group { frames, chunk_size }));
                }
            }
        };
        let closing = match end {
            Glyph::Index(head) => {
                let mut listed = FrameDigest::default();
                let (trailer, trailer_at) = w.index(&head, at, |_, e: IndexEntry| {
                    listed.add(&e);
                    Ok(())
                })?;
                Closing {
                    start: w.start(),
                    index_at: at,
                    listed: Some(listed),
                    trailer,
                    trailer_at,
                    end: w.pos(),
                }
            }
            Glyph::CompactEnd(trailer) => Closing {
                start: w.start(),
                index_at: at,
                listed: None,
                trailer,
                trailer_at: w.start(),
                end: w.pos(),
            },
            Glyph::Frame { .. } => {
                return Err(Error::Internal {
                    detail: "a frame where the stream's end was expected".into(),
                })
            }
        };
        // Another stream may follow (concatenated streams decode as one).
        let (more, next) = (w.more()?, w.pos());
        self.walker = match self.walker.take() {
            Some(w) if more => Some(Walker::begin(w.into_inner(), next)?),
            _ => None,
        };
        Ok(Some(Job::Close(Box::new(closing))))
    }
}

/// The decoded content of a stream (or of concatenated streams) as a reader: frames are
/// decoded one at a time on the calling thread, with every check [`Decoder::decode`]
/// makes (frame checksums, index, trailer, content CRC), so memory is one frame however
/// long the stream. A read that meets bad input fails with an `io::Error` whose inner
/// error is the [`Error`] (see [`DecodeReader::into_error`]); bytes already returned came
/// from frames that passed their own checks.
pub struct DecodeReader<R> {
    reader: StreamReader<R>,
    slot: Slot,
    scratch: DecodeScratch,
    seen: Seen,
    /// Bytes of the current frame (`slot.decoded[..len]`) already returned.
    pos: usize,
    len: usize,
    /// Frames decoded so far, over all streams.
    frames: u64,
}

impl<R: Read> DecodeReader<BufReader<R>> {
    /// Starts reading the stream(s) in `input`; the stream header is read and checked here.
    ///
    /// # Errors
    /// The input is not a `.sigma` stream, or its header is damaged.
    pub fn new(input: R) -> Result<Self> {
        let walker = Walker::begin(BufReader::with_capacity(64 * 1024, input), 0)?;
        Ok(DecodeReader {
            reader: StreamReader {
                walker: Some(walker),
                metadata: None,
                end: None,
            },
            slot: Slot::default(),
            scratch: DecodeScratch::default(),
            seen: Seen::default(),
            pos: 0,
            len: 0,
            frames: 0,
        })
    }
}

impl<R: BufRead> DecodeReader<R> {
    /// Frames decoded so far, over all the streams read.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// The [`Error`] inside an `io::Error` returned by `read`, if it holds one.
    pub fn into_error(e: std::io::Error) -> Error {
        match e.downcast::<Error>() {
            Ok(inner) => inner,
            Err(e) => Error::io("reading input", e),
        }
    }

    /// Decodes the next frame into the slot (checking each stream's index and trailer as
    /// they come); false at the end of the input.
    fn next_frame(&mut self) -> Result<bool> {
        loop {
            let Some(job) = self.reader.next_job(&mut self.slot)? else {
                return Ok(false);
            };
            match decode_job(job, &mut self.slot, &mut self.scratch)? {
                Done::Group(frames) => {
                    let mut len = 0;
                    for f in &frames {
                        self.seen.add(&f.entry, f.raw_crc);
                        len += f.entry.raw_size as usize;
                    }
                    (self.pos, self.len) = (0, len);
                    self.frames += frames.len() as u64;
                    return Ok(true);
                }
                Done::Close(c) => std::mem::take(&mut self.seen).check(&c)?,
            }
        }
    }
}

impl<R: BufRead> Read for DecodeReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.pos == self.len {
            if !self.next_frame().map_err(std::io::Error::other)? {
                return Ok(0);
            }
        }
        let n = buf.len().min(self.len - self.pos);
        buf[..n].copy_from_slice(&self.slot.decoded[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// A worker's part: decodes a group of frames (checking each) one after the other into
/// the slot's output, each linked frame right after the frame it copies from.
fn decode_job(job: Job, slot: &mut Slot, scratch: &mut DecodeScratch) -> Result<Done> {
    let (frames, chunk_size) = match job {
        Job::Group { frames, chunk_size } => (frames, chunk_size),
        Job::Close(c) => return Ok(Done::Close(c)),
    };
    let mut done = Vec::with_capacity(frames.len());
    // Room for the whole group at once: the raw sizes its frames declare (each at most a
    // chunk; a frame that lies fails its own checks below). Not `frames x chunk size`: a
    // buffer's whole huge pages are resident once touched, and small frames under a
    // large chunk size would take 2 MiB each.
    let declared: u64 = frames
        .iter()
        .map(|f| {
            FrameHeader::declared_raw_size(&slot.input[f.start..f.end], &f.head)
                .map_or(0, |raw| raw.min(chunk_size))
        })
        .sum();
    slot.decoded.reserve(
        usize::try_from(declared)
            .unwrap_or(usize::MAX)
            .saturating_add(codec::DECODE_SLACK),
    );
    let (mut offset, mut prev) = (0usize, 0usize);
    for f in frames {
        let at = FrameAt {
            glyph: &slot.input[f.start..f.end],
            head: &f.head,
            chunk_size,
            number: f.frame,
            at: f.at,
            compact: f.compact,
        };
        let history = if f.linked { prev } else { 0 };
        let d = decode_frame_into(at, history, scratch, &mut slot.decoded, offset)?;
        prev = d.header.raw_size as usize;
        offset += prev;
        done.push(FrameDone {
            entry: IndexEntry {
                gap: f.gap,
                encoded_len: (f.end - f.start) as u64,
                raw_size: d.header.raw_size,
                glyphs: d.glyphs,
            },
            raw_crc: d.header.raw_crc,
        });
    }
    Ok(Done::Group(done))
}

/// The output side: writes frames in order, and checks each stream's index and trailer
/// against what was written.
struct OrderedWriter<'a> {
    out: &'a mut dyn Write,
    progress: Progress<'a>,
    seen: Seen,
    totals: Stats,
}

impl OrderedWriter<'_> {
    fn consume(&mut self, done: Done, slot: &mut Slot) -> Result<()> {
        match done {
            Done::Group(frames) => {
                let mut offset = 0;
                for f in &frames {
                    let end = offset + f.entry.raw_size as usize;
                    write_all(self.out, &slot.decoded[offset..end])?;
                    self.seen.add(&f.entry, f.raw_crc);
                    offset = end;
                }
                (self.progress)(self.totals.raw_size + self.seen.raw);
            }
            Done::Close(c) => {
                let seen = std::mem::take(&mut self.seen);
                seen.check(&c)?;
                let t = &mut self.totals;
                t.content_crc = crc::combine(t.content_crc, seen.crc, seen.raw);
                t.raw_size += seen.raw;
                t.frames += seen.digest.frames;
                t.encoded_size = c.end;
                t.glyphs.add(&seen.glyphs);
            }
        }
        Ok(())
    }
}
