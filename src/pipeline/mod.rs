//! The streaming encoder: source (mapped windows or a reader), boundary pre-scan,
//! bounded slot pool, rayon workers and the ordered writer.
//!
//! Memory model: at most `slots = 2 x workers` frames are in flight. Each slot holds its
//! frame's input (one mapped chunk, or a chunk-sized buffer on the read path, after the
//! frame before it for a linked frame) and its encoded frame until the writer has written
//! it; each running worker holds its match-finder tables and a body buffer. The reader
//! keeps a copy of the previous frame while the next one is linked to it. Nothing grows
//! with the input size.

pub mod prescan;
pub mod sizing;
pub mod source;

use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;
use std::sync::Mutex;
use std::time::{Instant, SystemTime};

pub use crate::base::Progress;
use crate::base::{write_all, Level};
use crate::error::{Error, Result};
use crate::format::{Metadata, StreamHeader, VERSION};
use crate::frame::{write_compact, FrameEncoder, FrameSummary, StreamAssembler};
use crate::parallel;
use crate::stats::{self, Stats};
pub use sizing::{ChunkSize, Plan};
use source::{Cut, MappedSource, ReadBuffers, ReaderSource};

/// How a regular file is read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReadMode {
    /// Plain reads (the safe default: a file that shrinks while read is an error, not a
    /// SIGBUS).
    #[default]
    Auto,
    /// Always map (fails for inputs that cannot be mapped).
    Mmap,
    /// Always use buffered reads.
    Read,
}

/// Settings of an encoder.
#[derive(Clone, Debug)]
pub struct EncoderConfig {
    /// Compression level.
    pub level: Level,
    /// Frame size.
    pub chunk_size: ChunkSize,
    /// Worker threads; 0 means one per core.
    pub threads: usize,
    /// Read path for regular files.
    pub read_mode: ReadMode,
    /// Memory budget in bytes; `None` means a default derived from available memory.
    pub memory_limit: Option<u64>,
    /// Frames per group (1 = every frame independent); see [`sizing::DEFAULT_GROUP`].
    pub group: u8,
}

impl Default for EncoderConfig {
    fn default() -> Self {
        Self {
            level: Level::DEFAULT,
            chunk_size: ChunkSize::Auto,
            threads: 0,
            read_mode: ReadMode::Auto,
            memory_limit: None,
            group: sizing::DEFAULT_GROUP,
        }
    }
}

/// A streaming encoder with its own worker pool. Between inputs it keeps the buffers and
/// match-finder tables of the last one (about its plan's estimate) for the next; dropping
/// it frees them.
pub struct Encoder {
    config: EncoderConfig,
    threads: usize,
    pool: rayon::ThreadPool,
    reserve: parallel::Reserve<FrameEncoder>,
    read_buffers: Mutex<ReadBuffers>,
}

enum Job {
    Mapped(memmap2::Mmap, Cut),
    Buffered(Cut),
}

impl Encoder {
    /// Builds an encoder and its worker pool.
    ///
    /// # Errors
    /// The thread pool cannot be created.
    pub fn new(config: EncoderConfig) -> Result<Encoder> {
        let threads = sizing::cap_threads(parallel::resolve_threads(config.threads));
        let pool = parallel::worker_pool(threads, "sigma-worker")?;
        Ok(Encoder {
            config,
            threads,
            pool,
            reserve: parallel::Reserve::default(),
            read_buffers: Mutex::default(),
        })
    }

    /// The worker pool (batch jobs run small files on it too).
    pub fn pool(&self) -> &rayon::ThreadPool {
        &self.pool
    }

    /// The slots and match-finder states the encoder keeps between inputs (batch jobs
    /// code small files with them too, so that they are not allocated twice).
    pub fn reserve(&self) -> &parallel::Reserve<FrameEncoder> {
        &self.reserve
    }

    /// The compression level.
    pub fn level(&self) -> Level {
        self.config.level
    }

    /// The settings this encoder will use for an input of `size` bytes (`None` = unknown).
    ///
    /// # Errors
    /// An invalid chunk size, or a memory limit too small for any setting.
    pub fn plan(&self, size: Option<u64>) -> Result<Plan> {
        sizing::plan(
            self.config.level,
            self.config.chunk_size,
            self.config.group,
            self.threads,
            self.config.memory_limit,
            size,
        )
    }

    /// Encodes the file at `path` into `out`.
    ///
    /// # Errors
    /// I/O errors, or [`Error::InputChanged`] when the file changes while it is read.
    pub fn encode_file(
        &self,
        path: &Path,
        out: &mut dyn Write,
        progress: Progress<'_>,
    ) -> Result<Stats> {
        self.encode_file_with(path, out, progress, None)
    }

    /// Like [`Encoder::encode_file`], writing `metadata` (name, mode, mtime) into the
    /// stream when given.
    ///
    /// # Errors
    /// I/O errors, or [`Error::InputChanged`] when the file changes while it is read.
    pub fn encode_file_with(
        &self,
        path: &Path,
        out: &mut dyn Write,
        progress: Progress<'_>,
        metadata: Option<&Metadata>,
    ) -> Result<Stats> {
        let file = File::open(path).map_err(|e| Error::io("opening input", e))?;
        self.encode_opened(file, path, out, progress, metadata)
    }

    /// Like [`Encoder::encode_file_with`], for `file`, opened from `path` by the caller.
    ///
    /// # Errors
    /// I/O errors, or [`Error::InputChanged`] when the file changes while it is read.
    pub fn encode_opened(
        &self,
        file: File,
        path: &Path,
        out: &mut dyn Write,
        progress: Progress<'_>,
        metadata: Option<&Metadata>,
    ) -> Result<Stats> {
        let before = file
            .metadata()
            .map_err(|e| Error::io("reading input metadata", e))?;
        // A regular file whose size says nothing about its content (empty, or in /proc or
        // /sys) is read to its end like a pipe.
        let sized = before.is_file() && before.len() > 0 && !is_pseudo_file(path);
        let use_map = match self.config.read_mode {
            ReadMode::Mmap => {
                if !before.is_file() {
                    return Err(Error::InvalidSetting {
                        detail: "--mmap needs a regular file".into(),
                    });
                }
                // Nothing to map in an empty or pseudo file: it is read.
                sized
            }
            ReadMode::Read => false,
            // Plain reads by default: a file truncated under a memory map would end the
            // process with SIGBUS; `--mmap` opts in.
            ReadMode::Auto => false,
        };
        let mut reader = file
            .try_clone()
            .map_err(|e| Error::io("opening input", e))?;
        let (head, size) = if sized {
            (Vec::new(), Some(before.len()))
        } else {
            read_head(&mut reader)?
        };
        let plan = self.plan(size)?;
        let stats = if use_map {
            let mut src =
                MappedSource::new(reader, before.len(), plan.chunk_size as usize, plan.group);
            self.run(&plan, out, progress, metadata, move |_slot| {
                Ok(src.next_frame()?.map(|(map, cut)| Job::Mapped(map, cut)))
            })?
        } else {
            let reader = std::io::Cursor::new(head).chain(reader);
            self.run_reader(reader, &plan, out, progress, metadata)?
        };
        if sized {
            let after = file
                .metadata()
                .map_err(|e| Error::io("reading input metadata", e))?;
            check_unchanged(&before, &after, stats.raw_size)?;
        }
        Ok(stats)
    }

    /// Encodes everything `reader` yields into `out`. `size` selects the automatic chunk
    /// size when known. When it is not, the first [`sizing::SMALL_INPUT`] bytes and one
    /// more are read first: an input that ends there is encoded as a file of its size
    /// would be.
    ///
    /// # Errors
    /// I/O errors.
    pub fn encode_reader<R: Read + Send>(
        &self,
        mut reader: R,
        size: Option<u64>,
        out: &mut dyn Write,
        progress: Progress<'_>,
    ) -> Result<Stats> {
        let (head, size) = match size {
            Some(n) => (Vec::new(), Some(n)),
            None => read_head(&mut reader)?,
        };
        let reader = std::io::Cursor::new(head).chain(reader);
        let plan = self.plan(size)?;
        self.run_reader(reader, &plan, out, progress, None)
    }

    /// Runs the pipeline over `reader`, with the read buffers of the input before.
    fn run_reader<R: Read + Send>(
        &self,
        reader: R,
        plan: &Plan,
        out: &mut dyn Write,
        progress: Progress<'_>,
        metadata: Option<&Metadata>,
    ) -> Result<Stats> {
        let buffers = self
            .read_buffers
            .lock()
            .map(|mut b| std::mem::take(&mut *b))
            .unwrap_or_default();
        let mut src =
            ReaderSource::with_buffers(reader, plan.chunk_size as usize, plan.group, buffers);
        let stats = self.run(plan, out, progress, metadata, |slot| {
            Ok(src.next_frame(&mut slot.read)?.map(Job::Buffered))
        });
        if let Ok(mut b) = self.read_buffers.lock() {
            *b = src.into_buffers();
        }
        stats
    }

    fn run<P>(
        &self,
        plan: &Plan,
        out: &mut dyn Write,
        progress: Progress<'_>,
        metadata: Option<&Metadata>,
        mut next: P,
    ) -> Result<Stats>
    where
        P: FnMut(&mut parallel::Slot) -> Result<Option<Job>> + Send,
    {
        let started = Instant::now();
        let level = self.config.level;
        let others: &[Level] = if plan.strongest_too {
            &[Level::MAX]
        } else {
            &[]
        };
        let header = StreamHeader {
            version: VERSION,
            level,
            chunk_size: plan.chunk_size,
            group: plan.group,
        };
        // A compact stream is written whole at the end, from its one frame.
        // (A sized input that turns out longer than its size falls back to the full form
        // at its second frame: nothing has been written yet.)
        let mut compact = plan.compact;
        let mut single: Option<Vec<u8>> = None;
        let mut head = Vec::new();
        let mut asm = StreamAssembler::begin(&header, &mut head);
        if let Some(m) = metadata {
            let before = head.len();
            m.write(&mut head);
            asm.add_other((head.len() - before) as u64);
        }
        if !compact {
            write_all(out, &head)?;
        }
        parallel::run(
            &self.pool,
            &self.reserve,
            parallel::Lanes {
                slots: plan.slots(),
                workers: plan.threads,
                // A slot's input: the frame, its history and one byte more; its output:
                // the encoded frame, at most a stored chunk.
                slot_bytes: (sizing::encode_window(plan.chunk_size, plan.group) + plan.chunk_size)
                    as usize,
            },
            move |_, slot| next(slot),
            move |job: Job, slot, enc: &mut FrameEncoder| -> Result<FrameSummary> {
                slot.output.clear();
                let (window, history) = match &job {
                    Job::Mapped(map, cut) => (&map[..cut.history + cut.len], cut.history),
                    Job::Buffered(cut) => (&slot.read[..], cut.history),
                };
                let summary = enc.encode_smallest(window, history, level, others, &mut slot.output);
                // The mapping is dropped here: its pages leave our resident set.
                drop(job);
                Ok(summary)
            },
            |_, summary, slot| {
                if compact && single.is_some() {
                    compact = false;
                    write_all(out, &head)?;
                    write_all(out, single.as_deref().unwrap_or_default())?;
                }
                if compact {
                    single = Some(slot.output.clone());
                } else {
                    write_all(out, &slot.output)?;
                }
                asm.add_frame(&summary)?;
                progress(asm.raw_size());
                Ok(())
            },
        )?;
        let total = if compact {
            let mut stream = Vec::new();
            write_compact(single.as_deref(), level, metadata, &mut stream)?;
            write_all(out, &stream)?;
            stream.len() as u64
        } else {
            asm.finish(out)?
        };
        out.flush().map_err(|e| Error::io("writing output", e))?;
        Ok(Stats {
            bytes_in: asm.raw_size(),
            bytes_out: total,
            raw_size: asm.raw_size(),
            encoded_size: total,
            frames: asm.frames(),
            content_crc: asm.content_crc(),
            glyphs: asm.glyphs(),
            chunk_size: plan.chunk_size,
            threads: plan.threads,
            level: level.get(),
            elapsed: started.elapsed(),
            peak_rss: stats::peak_rss().unwrap_or(0),
            metadata: metadata.cloned(),
            notes: plan.notes.clone(),
        })
    }
}

/// Reads the first [`sizing::SMALL_INPUT`] bytes of an input of unknown size and one
/// more; returns them, and the input's size when it ended there.
fn read_head<R: Read>(reader: &mut R) -> Result<(Vec<u8>, Option<u64>)> {
    let mut head = Vec::new();
    reader
        .take(sizing::SMALL_INPUT + 1)
        .read_to_end(&mut head)
        .map_err(|e| Error::io("reading input", e))?;
    let n = head.len() as u64;
    Ok((head, (n <= sizing::SMALL_INPUT).then_some(n)))
}

/// The metadata glyph for a file: its name (without directories), mode and mtime.
///
/// # Errors
/// The file's attributes cannot be read.
pub fn file_metadata(path: &Path) -> Result<Metadata> {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path).map_err(|e| Error::io("reading input metadata", e))?;
    Ok(Metadata {
        name: path
            .file_name()
            .map(|n| n.as_bytes().to_vec())
            .unwrap_or_default(),
        mode: m.mode() & 0o7777,
        mtime: m.mtime(),
        mtime_nanos: m.mtime_nsec().clamp(0, 999_999_999) as u32,
    })
}

/// True for files of the kernel's pseudo file systems, whose reported size is not their
/// content's.
fn is_pseudo_file(path: &Path) -> bool {
    std::fs::canonicalize(path)
        .map(|p| p.starts_with("/proc") || p.starts_with("/sys"))
        .unwrap_or(false)
}

fn check_unchanged(before: &std::fs::Metadata, after: &std::fs::Metadata, read: u64) -> Result<()> {
    let mtime = |m: &std::fs::Metadata| m.modified().unwrap_or(SystemTime::UNIX_EPOCH);
    if before.len() != after.len() || read != before.len() {
        return Err(Error::InputChanged {
            detail: format!(
                "size was {}, is {}, {} bytes were read",
                before.len(),
                after.len(),
                read
            ),
        });
    }
    if mtime(before) != mtime(after) {
        return Err(Error::InputChanged {
            detail: "modification time changed".into(),
        });
    }
    Ok(())
}
