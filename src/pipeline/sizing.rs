//! Chunk size, thread count and memory budget: the rules that turn settings and an input
//! size into a plan, and the memory estimate the plan is held to.
#![forbid(unsafe_code)]

use crate::base::Level;
use crate::codec;
use crate::error::{Error, Result};
use crate::format;
pub use crate::parallel::{resolve_threads, slots};

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;

/// Resident memory of the process before any frame work (code, runtime, thread stacks
/// touched, stdio buffers), measured on Linux x86-64.
pub const BASE_MEMORY: u64 = 3 * MIB;

/// Frame size setting.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ChunkSize {
    /// Chosen from the input size (SigmaLang's rule).
    #[default]
    Auto,
    /// Fixed size in bytes.
    Fixed(u64),
}

/// Largest frame the automatic rule makes at levels 1-8: at least the codec's reach at
/// those levels (copies reach anywhere in the frame), and small enough that two frames
/// per worker stay a few MiB.
pub const AUTO_FRAME: u64 = 4 * MIB;

/// Largest automatic frame at level 9: twice its 8 MiB window (xz makes its blocks three
/// times its dictionary). On 16 MB of prose and of source tar, level 9's output was 3.2-3.4%
/// smaller in one 16 MiB frame than in four of 4 MiB.
pub const AUTO_FRAME_STRONGEST: u64 = 16 * MIB;

/// The largest frame the automatic rule makes at `level`.
pub fn auto_frame(level: Level) -> u64 {
    if level == Level::MAX {
        AUTO_FRAME_STRONGEST
    } else {
        AUTO_FRAME
    }
}

/// The automatic frame size. SigmaLang's rule tied it to the input size (64 KiB frames
/// below 10 MB and so on), which cost small and mid-size files 5-14% of ratio: every frame
/// starts with an empty history. Here an input of up to [`auto_frame`] (4 MiB, 16 MiB at
/// level 9) is one frame, and a larger one is cut into `k = ceil(size / auto_frame)`
/// equal frames, so every worker gets the same amount of work; memory still follows the
/// input size below it (a frame is never larger than the input) and stays bounded above
/// it. When `k` leaves the last group of `group` frames short, the count is rounded down
/// to whole groups if that keeps frames within 1.5x [`auto_frame`]: a short last group
/// (with groups of 2, a last frame of its own) starts from an empty history. On 9 MB of
/// source tar, two linked frames of 4.5 MB gave 10% smaller output than three of 3 MB.
/// A pipe of unknown size gets frames of [`auto_frame`].
pub fn auto_chunk_size(level: Level, input_size: Option<u64>, group: u8) -> u64 {
    let most = auto_frame(level);
    match input_size {
        None => most,
        Some(n) => {
            let k = n.div_ceil(most).max(1);
            let g = u64::from(group.max(1));
            let whole = k / g * g;
            // Whole groups only where they still fit a group's 64 MiB, or the rounding
            // would lower the group instead.
            let fits = |frames: u64| {
                let c = n.div_ceil(frames);
                c <= most / 2 * 3 && c * g <= format::MAX_CHUNK
            };
            let frames = if k > g && whole != k && fits(whole) {
                whole
            } else {
                k
            };
            n.div_ceil(frames).clamp(format::MIN_CHUNK, most / 2 * 3)
        }
    }
}

/// Inputs of at most this many bytes (one block of the codec) are coded at levels 3-8,
/// when the frame size is automatic (so they are one frame), both at their level and with
/// level 9's parse, and the smaller frame is kept. Every frame starts with empty tables and
/// no statistics, which cost such inputs the most; the stronger parse takes milliseconds
/// here. On 64 KB of prose, source tar and shared libraries it made level 3's output 4-14%
/// smaller, below gzip -6's and zstd -3's; level 9 is not smaller on every input (counting
/// numbers, for one), hence both.
pub const SMALL_INPUT: u64 = 128 * KIB;

/// Whether an input of `size` bytes (`None` = unknown) at `level` with frame size setting
/// `chunk` is also coded with level 9's parse (see [`SMALL_INPUT`]). The stream header
/// keeps `level`.
pub fn strongest_too(level: Level, chunk: ChunkSize, size: Option<u64>) -> bool {
    matches!((chunk, size), (ChunkSize::Auto, Some(n))
        if n <= SMALL_INPUT && level >= Level::DEFAULT && level < Level::MAX)
}

/// Whether an input of `size` bytes (`None` = unknown) cut into `chunk_size`-byte frames
/// is written as a compact stream (when it carries no metadata): it is one frame, or
/// empty, of at most [`format::MAX_COMPACT_RAW`] bytes, so the stream needs no frame
/// glyph, index or trailer (FORMAT.md section 3.1).
pub fn compact(size: Option<u64>, chunk_size: u64) -> bool {
    size.is_some_and(|n| n <= format::MAX_COMPACT_RAW && n <= chunk_size)
}

/// Most worker threads a pool gets: more than a few per core only costs start-up time
/// and memory.
pub fn cap_threads(threads: usize) -> usize {
    threads.min((4 * num_cpus::get()).clamp(8, 256))
}

/// Frames a decoder keeps in flight, and the workers that keeps busy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecodePlan {
    /// Frames in flight.
    pub slots: usize,
    /// Workers busy at once.
    pub threads: usize,
}

/// Frames per group the encoder makes unless told otherwise: every other frame is
/// linked to the one before it, so half the frames start with a frame of history while
/// groups still decode in parallel and a byte range costs at most two frames of work
/// more than before.
pub const DEFAULT_GROUP: u8 = 2;

/// Memory one decoding slot needs for frames of `chunk` bytes in groups of `group`: the
/// group's frame glyphs read whole, and its decoded bytes.
pub fn decode_slot_memory(chunk: u64, group: u8) -> u64 {
    u64::from(group) * (format::max_frame_glyph(chunk) + chunk) + codec::DECODE_SLACK as u64
}

/// Bytes an encoding worker parses at once for frames of `chunk` bytes in groups of
/// `group`: the frame, and the frame before it when frames are linked.
pub fn encode_window(chunk: u64, group: u8) -> u64 {
    if group > 1 {
        2 * chunk
    } else {
        chunk
    }
}

/// Fits the frames a decoder keeps in flight to `memory_limit`: two per thread, fewer
/// when the stream's frames are large.
///
/// # Errors
/// A limit that cannot hold even one frame.
pub fn decode_plan(
    chunk: u64,
    group: u8,
    threads: usize,
    memory_limit: Option<u64>,
) -> Result<DecodePlan> {
    let per_slot = decode_slot_memory(chunk, group);
    let mut slots = slots(threads) as u64;
    if let Some(limit) = memory_limit {
        let fit = limit.saturating_sub(BASE_MEMORY) / per_slot;
        if fit == 0 {
            return Err(Error::InvalidSetting {
                detail: format!(
                    "memory limit {limit} bytes is too small to decode groups of {group} frames of {chunk} bytes (needs about {})",
                    BASE_MEMORY + per_slot
                ),
            });
        }
        slots = slots.min(fit);
    }
    let slots = slots as usize;
    Ok(DecodePlan {
        slots,
        threads: slots.div_ceil(2).min(threads.max(1)),
    })
}

/// The resolved settings of one encode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// Frame size.
    pub chunk_size: u64,
    /// Whether the frame is also coded with level 9's parse ([`strongest_too`]).
    pub strongest_too: bool,
    /// Whether the input is one frame small enough for a compact stream ([`compact`]);
    /// the stream is compact unless it carries metadata.
    pub compact: bool,
    /// Frames per group.
    pub group: u8,
    /// Workers encoding at once.
    pub threads: usize,
    /// Estimated peak resident memory of the process.
    pub estimate: u64,
    /// What the memory budget changed, for the user.
    pub notes: Vec<String>,
}

impl Plan {
    /// Frames in flight: two per worker, so a worker that finishes early can start the
    /// next frame while the writer waits for an earlier one.
    pub fn slots(&self) -> usize {
        slots(self.threads)
    }
}

/// Estimated peak resident memory of encoding with `threads` workers and `chunk`-byte
/// frames in groups of `group`: the base, then per worker its match-finder tables (over
/// the frame and its history), then per slot its input (a slot keeps its buffer until
/// the writer has written its frame: the frame and, for linked frames, the frame before
/// it) and one encoded frame, counted at half a chunk (2:1). Incompressible input keeps
/// stored frames of a full chunk and may need up to `slots x chunk / 2` more.
pub fn estimate(level: Level, chunk: u64, group: u8, threads: usize) -> u64 {
    let slots = slots(threads) as u64;
    let window = encode_window(chunk, group);
    let per_worker = codec::encoder_memory(level, window as usize) as u64;
    BASE_MEMORY + threads as u64 * per_worker + slots * (window + chunk / 2)
}

/// Upper bound of [`estimate`] for incompressible input (every encoded frame a stored
/// chunk); the memory budget is checked against this.
pub fn estimate_bound(level: Level, chunk: u64, group: u8, threads: usize) -> u64 {
    estimate(level, chunk, group, threads) + slots(threads) as u64 * chunk / 2
}

/// What a load-everything encoder needs for `size` bytes: the input, an output as large
/// as the input in the worst case, and one set of match-finder tables.
pub fn full_load_estimate(level: Level, size: u64) -> u64 {
    let chunk = size.clamp(format::MIN_CHUNK, format::MAX_CHUNK);
    BASE_MEMORY + 2 * size + codec::encoder_memory(level, chunk as usize) as u64
}

/// Half of the memory available to this process (system and cgroup), or `None`.
pub fn default_memory_limit() -> Option<u64> {
    let mut sys = sysinfo::System::new().ok()?;
    sys.refresh_memory();
    let mut avail = sys.available_memory();
    if let Some(cg) = sys.cgroup_limits() {
        avail = avail.min(cg.free_memory);
    }
    (avail > 0).then_some(avail / 2)
}

/// Resolves settings for an input of `size` bytes. A budget first lowers threads, then
/// halves the chunk size (not below 64 KiB), and says so in `notes`.
///
/// # Errors
/// A chunk size outside the format's limits, or a budget nothing fits in.
pub fn plan(
    level: Level,
    chunk: ChunkSize,
    group: u8,
    threads: usize,
    memory_limit: Option<u64>,
    size: Option<u64>,
) -> Result<Plan> {
    let mut chunk_size = match chunk {
        ChunkSize::Auto => auto_chunk_size(level, size, group),
        ChunkSize::Fixed(n) => n,
    };
    format::check_chunk_size(chunk_size)?;
    format::check_group(group)?;
    // A group of frames holds at most 64 MiB: fewer frames per group for larger chunks.
    let asked_group = group;
    let mut group = format::fit_group(group, chunk_size);
    let mut threads = cap_threads(resolve_threads(threads));
    let mut notes = Vec::new();
    let limit = memory_limit.or_else(default_memory_limit);
    // A small input tries level 9's parse only if that fits an explicit budget as one
    // frame on one thread (not the default one, which follows the free memory: the bytes
    // must not).
    let strongest_too = strongest_too(level, chunk, size)
        && memory_limit.is_none_or(|l| estimate_bound(Level::MAX, chunk_size, group, 1) <= l);
    let level = if strongest_too { Level::MAX } else { level };
    if let Some(limit) = limit {
        let wanted = (threads, chunk_size);
        while estimate_bound(level, chunk_size, group, threads) > limit && threads > 1 {
            threads -= 1;
        }
        while estimate_bound(level, chunk_size, group, threads) > limit && chunk_size > 64 * KIB {
            chunk_size = (chunk_size / 2).max(64 * KIB);
            group = format::fit_group(group, chunk_size);
        }
        if estimate_bound(level, chunk_size, group, threads) > limit {
            return Err(Error::InvalidSetting {
                detail: format!(
                    "memory limit {} bytes is too small: 1 thread with {} KiB chunks needs about {} bytes",
                    limit,
                    chunk_size / KIB,
                    estimate_bound(level, chunk_size, group, threads)
                ),
            });
        }
        if (threads, chunk_size) != wanted {
            notes.push(format!(
                "memory limit {} MiB: using {} thread(s) (asked {}) and {} KiB chunks (asked {} KiB)",
                limit / MIB,
                threads,
                wanted.0,
                chunk_size / KIB,
                wanted.1 / KIB
            ));
        }
    }
    // Said only when the input may have more than one frame (else no group is made).
    if group < asked_group && size.is_none_or(|n| n > chunk_size) {
        notes.push(format!(
            "frame group {group} (asked {asked_group}): a group holds at most 64 MiB of {} KiB frames",
            chunk_size / KIB
        ));
    }
    Ok(Plan {
        chunk_size,
        strongest_too,
        compact: compact(size, chunk_size),
        threads,
        estimate: estimate(level, chunk_size, group, threads),
        group,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_rule_makes_one_frame_or_whole_groups_of_equal_frames() {
        let l3 = Level::new(3).unwrap();
        let auto = |n| auto_chunk_size(l3, n, DEFAULT_GROUP);
        assert_eq!(auto(Some(0)), format::MIN_CHUNK);
        assert_eq!(auto(Some(1000)), format::MIN_CHUNK);
        assert_eq!(auto(Some(3 * MIB)), 3 * MIB);
        assert_eq!(auto(Some(4 * MIB)), 4 * MIB);
        assert_eq!(auto(Some(5 * MIB)), 5 * MIB / 2);
        // Three frames would leave the last alone: two (one linked group) instead.
        assert_eq!(auto(Some(9_000_000)), 4_500_000);
        assert_eq!(auto(Some(12 * MIB)), 6 * MIB);
        assert_eq!(auto(Some(16 * MIB)), 4 * MIB);
        assert_eq!(auto(Some(18 * MIB)), 18 * MIB / 4);
        assert_eq!(auto(Some(2048 * MIB)), 4 * MIB);
        assert_eq!(auto(None), 4 * MIB);
        for n in [
            1u64,
            4095,
            4097,
            7 * MIB + 3,
            9 * MIB,
            21 * MIB + 5,
            1 << 40,
        ] {
            let c = auto(Some(n));
            let frames = n.div_ceil(c);
            assert!(c <= 6 * MIB, "{n}");
            assert!(frames == 1 || frames % 2 == 0, "{n}: {frames} frames");
        }
        // Other group sizes: whole groups when the frames stay within 6 MiB.
        assert_eq!(auto_chunk_size(l3, Some(9_000_000), 1), 3_000_000);
        assert_eq!(auto_chunk_size(l3, Some(20 * MIB), 4), 5 * MIB);
        assert_eq!(auto_chunk_size(l3, Some(28 * MIB), 4), 4 * MIB);
        assert_eq!(
            auto_chunk_size(l3, Some(27 * MIB), 4),
            (27 * MIB).div_ceil(7)
        );
        // Never at the cost of the group asked for (a group holds at most 64 MiB).
        let l9 = Level::new(9).unwrap();
        assert_eq!(auto_chunk_size(l9, Some(70 * MIB), 4), 14 * MIB);
        assert_eq!(auto_chunk_size(l3, Some(68 * MIB), 16), 68 * MIB / 17);
        for level in 1..=8 {
            let l = Level::new(level).unwrap();
            assert_eq!(auto_chunk_size(l, Some(2048 * MIB), DEFAULT_GROUP), 4 * MIB);
        }
    }

    #[test]
    fn level_9_frames_reach_16_mib() {
        let l9 = Level::new(9).unwrap();
        let auto = |n| auto_chunk_size(l9, n, DEFAULT_GROUP);
        assert_eq!(auto(Some(9_000_000)), 9_000_000);
        assert_eq!(auto(Some(16 * MIB)), 16 * MIB);
        assert_eq!(auto(Some(17 * MIB)), 17 * MIB / 2);
        assert_eq!(auto(Some(40 * MIB)), 20 * MIB);
        assert_eq!(auto(Some(2048 * MIB)), 16 * MIB);
        assert_eq!(auto(None), 16 * MIB);
    }

    #[test]
    fn budget_lowers_threads_then_chunk() {
        let l = Level::DEFAULT;
        let p = plan(
            l,
            ChunkSize::Fixed(4 * MIB),
            2,
            4,
            Some(estimate_bound(l, 4 * MIB, 2, 2)),
            None,
        )
        .unwrap();
        assert_eq!((p.threads, p.chunk_size), (2, 4 * MIB));
        assert!(!p.notes.is_empty());
        let p = plan(
            l,
            ChunkSize::Fixed(4 * MIB),
            2,
            4,
            Some(estimate_bound(l, MIB, 2, 1)),
            None,
        )
        .unwrap();
        assert_eq!((p.threads, p.chunk_size), (1, MIB));
        assert!(plan(l, ChunkSize::Fixed(4 * MIB), 2, 4, Some(MIB), None).is_err());
    }
}
