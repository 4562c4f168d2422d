//! LZ77-family parsing: finds copies of earlier bytes of the frame (its Σ-bank) and turns a
//! span of the frame into sequences (literal run, copy). One match finder per strategy:
//! `fast` (levels 1-2), `double` (level 3), `lazy` (rows and chains, levels 4-8) and
//! `optimal` (level 9); the level map is [`params`].

use super::Level;
use crate::base::pagebuf::LinkTable;

mod double;
mod fast;
mod key;
mod lazy;
mod optimal;
mod tree;

/// Shortest copy the format describes (3 bytes).
use super::sequences::MIN_MATCH as MIN_COPY;
pub use super::sequences::{Reps, Seq, REP_CODES};

/// Shortest copy the hash, chain, row and tree finders look for: they key positions by 4
/// bytes or more. Only level 9 also takes shorter copies ([`MIN_COPY`]), from a table of
/// 3-byte prefixes.
const MIN_MATCH: usize = 4;

/// log2 of the entries of level 9's table of 3-byte prefixes (the latest position of each).
const SHORT3_LOG: u32 = 16;

const NONE: u32 = u32::MAX;
/// A match this long is taken without looking at the next positions.
const LAZY_LIMIT: usize = 24;

/// How candidates for a copy are found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Strategy {
    /// One single-entry hash table; greedy, with steps that grow through literal runs.
    Fast,
    /// Single-entry tables of 8-byte and short prefixes; greedy.
    Double,
    /// Hash chains through every earlier position with the same hash of its first 4 or 5
    /// bytes ([`Params::chain_key`]).
    Chain,
    /// Rows of recent positions per hash bucket, with tags.
    Row,
    /// Hash chains, every candidate length priced, cheapest path through the block.
    Optimal,
}

/// Match-finder settings derived from a level.
#[derive(Clone, Copy, Debug)]
struct Params {
    strategy: Strategy,
    /// log2 of the entries of the (short) hash table.
    hash_log: u32,
    /// log2 of the entries of the long table: 8-byte prefixes, one position each, over
    /// the whole frame and its history (double finder; with the hash chains, it finds
    /// copies from beyond their window or depth). 0: none.
    long_log: u32,
    window_log: u32,
    /// Candidates examined per position (chain and row finders).
    depth: u32,
    /// Positions looked ahead before committing to a match (0 = greedy; the double finder
    /// looks one byte ahead of short copies when it is not 0).
    lazy: u32,
    /// A match this long ends the search.
    nice: usize,
    /// Bytes hashed by the fast and double finders' short table (their shortest copy);
    /// the lazy finders take shorter copies only from close by.
    min_len: usize,
    /// The fast and double finders step 1 + (literals so far >> step_log) positions.
    step_log: u32,
    /// Bytes the hash chains file a position under (4 or 5; see [`CHAIN_KEY5_MIN`]).
    chain_key: usize,
}

/// Frames of at least this many bytes whose literals are not costly have hash chains
/// keyed by 5 bytes instead of 4: fewer candidates that fail on the fifth byte. On 16 MB
/// of prose level 5 took 9.7% fewer instructions for 0.2% smaller output; on 1 MB of
/// libraries, whose short copies pay, output was 1.2% larger, and on 64 KB of prose
/// 0.7%.
const CHAIN_KEY5_MIN: usize = 1 << 20;

/// Distance between the history positions the fast and double finders insert (the
/// double finder into its 8-byte table only): a copy of at least this plus 8 bytes from
/// the history is found, and extended backwards over its first bytes. On 16 MB of
/// source tar in frames of 4 MiB, level 3 took 2% more instructions than with
/// independent frames and its output was 0.7% larger than with every 4th position in
/// both tables, which took 15% more (every other position: 34%).
const PRIME_STEP: usize = 8;

/// Bytes of history, at most, that the optimal parser inserts into its trees before a
/// linked frame (a tree insertion costs about as much as a search).
const PRIME_TREE: usize = 1 << 20;

/// Once a chain search has a match this long, it looks at only two more candidates.
const GOOD_MATCH: usize = 32;

/// After 2^SKIP_LOG literals in a row, the lazy finders probe every other position, and
/// so on.
const SKIP_LOG: u32 = 8;

/// A repeat-distance copy this long is taken without trying the other recent distances.
const REP_ENOUGH: usize = 8;

/// The long table of levels 4-8 (see [`Params::long_log`]). On 50 MB of source tar,
/// whose files repeat megabytes apart, their output was 1.5-2x level 3's without it.
const LAZY_LONG_LOG: u32 = 18;

/// Entries per row of the row match finder.
const ROW: usize = 16;

/// The level map: what each level spends on finding copies.
fn params(level: Level) -> Params {
    use Strategy::{Chain, Double, Fast, Optimal};
    let base = Params {
        strategy: Fast,
        hash_log: 14,
        long_log: 0,
        window_log: 26,
        depth: 0,
        lazy: 0,
        nice: 0,
        min_len: MIN_MATCH,
        step_log: 6,
        chain_key: 4,
    };
    match level.get() {
        1 => Params { min_len: 6, ..base },
        2 => Params {
            strategy: Double,
            hash_log: 15,
            long_log: 16,
            min_len: 5,
            step_log: 7,
            ..base
        },
        3 => Params {
            strategy: Double,
            hash_log: 16,
            long_log: 17,
            lazy: 1,
            min_len: 5,
            step_log: 8,
            ..base
        },
        l @ 4..=8 => {
            // Lazy parsing over hash chains: more candidates and positions looked ahead
            // per level, each level smaller output for more time (README: "Level map").
            let (hash_log, window_log, depth, lazy, nice) = match l {
                4 => (17, 18, 8, 1, 96),
                5 => (17, 18, 16, 1, 96),
                6 => (17, 19, 24, 2, 96),
                7 => (18, 20, 32, 2, 128),
                _ => (18, 21, 64, 2, 192),
            };
            Params {
                strategy: Chain,
                hash_log,
                long_log: LAZY_LONG_LOG,
                window_log,
                depth,
                lazy,
                nice,
                min_len: 5,
                ..base
            }
        }
        _ => Params {
            strategy: Optimal,
            hash_log: 18,
            window_log: 23,
            depth: 32,
            lazy: 2,
            nice: 258,
            ..base
        },
    }
}

/// Frames of at most this many bytes are parsed by the row finder at levels 2 and 3:
/// tiny inputs take little time at any level, and their ratio counts the most.
const SMALL_FRAME: usize = 16 * 1024;

/// The settings for a frame of `frame_len` bytes at `level`.
fn params_for(level: Level, frame_len: usize) -> Params {
    match level.get() {
        // The row finder, lazy by one position.
        2 | 3 if frame_len <= SMALL_FRAME => Params {
            strategy: Strategy::Row,
            hash_log: 18,
            window_log: 22,
            depth: 8,
            lazy: 1,
            nice: 96,
            min_len: 5,
            ..params(Level::MIN)
        },
        _ => params(level),
    }
}

/// Frames of more than this many bytes are large for the double finder's tables (levels
/// 2-3): see [`for_costly_literals`] and [`for_large_text`].
const LARGE_FRAME: usize = 2 << 20;

/// The double finder's settings for a frame of `frame_len` bytes whose literals are
/// costly (binaries): 4-byte copies, and in frames of up to [`LARGE_FRAME`] bytes a short
/// table twice as large for their many distinct prefixes. In larger frames the short and
/// long tables stay within 768 KiB, so that they fit a 1 MiB cache with room to spare:
/// the larger table made 64 MiB of libraries 0.85% smaller but took 7% more time
/// (same-run pairs); on 1 MB of them it makes 0.35% of difference, and small frames take
/// little time, as for [`SMALL_FRAME`].
fn for_costly_literals(p: Params, frame_len: usize) -> Params {
    Params {
        min_len: MIN_MATCH,
        hash_log: p.hash_log + u32::from(frame_len <= LARGE_FRAME),
        ..p
    }
}

/// Largest long table of the double finder in a large frame of text: level 3's tables
/// are then 512 KiB instead of 768. On 100 MB of source tar and on 28 MB of prose that
/// took 5-8% less time (same-run pairs) for 0.7% larger output; binaries lost 1.3% for
/// 6%, so theirs stays.
const LARGE_TEXT_LONG_LOG: u32 = 16;

/// The double finder's settings for a frame of more than [`LARGE_FRAME`] bytes of text.
fn for_large_text(p: Params) -> Params {
    Params {
        long_log: p.long_log.min(LARGE_TEXT_LONG_LOG),
        ..p
    }
}

/// Shortest copy the parser of `level` emits.
pub fn shortest_copy(level: Level) -> usize {
    if params(level).strategy == Strategy::Optimal {
        MIN_COPY
    } else {
        MIN_MATCH
    }
}

/// Bytes of hash and chain tables for frames of up to `chunk` bytes at `level`.
pub fn table_memory(level: Level, chunk: usize) -> usize {
    let small = chunk.min(SMALL_FRAME);
    let p = params_for(level, chunk);
    let costly = if p.strategy == Strategy::Double {
        strategy_memory(for_costly_literals(p, chunk.min(LARGE_FRAME)), chunk)
    } else {
        0
    };
    strategy_memory(p, chunk)
        .max(costly)
        .max(strategy_memory(params_for(level, small), small))
}

fn strategy_memory(p: Params, chunk: usize) -> usize {
    let entries = 1usize << table_log(p.hash_log, chunk);
    let long = if p.long_log > 0 {
        4 << table_log(p.long_log, chunk)
    } else {
        0
    };
    long + match p.strategy {
        Strategy::Row => entries * 5 + entries / ROW,
        Strategy::Chain | Strategy::Optimal => {
            let window = (1usize << p.window_log).min(chunk.next_power_of_two().max(64));
            let short3 = if p.strategy == Strategy::Optimal {
                4 << table_log(SHORT3_LOG, chunk)
            } else {
                0
            };
            4 * (entries + window * links_per_slot(p.strategy)) + short3
        }
        Strategy::Double | Strategy::Fast => 4 * entries,
    }
}

/// Bytes the parser itself needs per block of `block` bytes at `level` (the optimal
/// parser's price, step and distance arrays).
pub fn parse_memory(level: Level, block: usize) -> usize {
    if params_for(level, block).strategy == Strategy::Optimal {
        optimal::BYTES_PER_POSITION * (block + 1)
    } else {
        0
    }
}

/// Links per window slot: a hash chain's one, or a binary tree's two (optimal parser).
fn links_per_slot(strategy: Strategy) -> usize {
    if strategy == Strategy::Optimal {
        2
    } else {
        1
    }
}

/// Hash table size (log2 of entries) for a frame of `frame_len` bytes: no larger than
/// the frame needs.
fn table_log(hash_log: u32, frame_len: usize) -> u32 {
    let need = usize::BITS - frame_len.max(1).leading_zeros() + 1;
    hash_log.min(need).max(8)
}

/// Extends a copy of `len` bytes from `cand` at `pos` backwards over the literals since
/// `anchor` that match too; returns (start, length, distance).
#[inline(always)]
fn extend_back(
    data: &[u8],
    anchor: usize,
    mut pos: usize,
    mut cand: usize,
    mut len: usize,
) -> (usize, usize, usize) {
    while pos > anchor && cand > 0 && data[pos - 1] == data[cand - 1] {
        pos -= 1;
        cand -= 1;
        len += 1;
    }
    (pos, len, pos - cand)
}

/// The literals of a block, gathered with short fixed-size copies.
#[derive(Default)]
pub struct LitBuf {
    buf: Vec<u8>,
    len: usize,
}

impl LitBuf {
    /// Empties the buffer and makes room for `cap` literals.
    pub fn reset(&mut self, cap: usize) {
        if self.buf.len() < cap + 16 {
            self.buf.resize(cap + 16, 0);
        }
        self.len = 0;
    }

    /// Drops the literals after the first `len`.
    fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
    }

    /// The literals gathered so far.
    pub fn as_slice(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// Appends `data[from..to]`; at most `cap` bytes in all.
    #[inline(always)]
    fn push(&mut self, data: &[u8], from: usize, to: usize) {
        let n = to - from;
        if n <= 16 && from + 16 <= data.len() {
            self.buf[self.len..self.len + 16].copy_from_slice(&data[from..from + 16]);
        } else {
            self.buf[self.len..self.len + n].copy_from_slice(&data[from..to]);
        }
        self.len += n;
    }
}

/// Reusable match-finder memory; no allocation per frame once warmed up.
#[derive(Default)]
pub struct MatchFinder {
    head: Vec<u32>,
    /// Positions by 8-byte prefix: the double finder's long table, and the chain
    /// finder's (see [`Params::long_log`]).
    long: Vec<u32>,
    chain: LinkTable,
    row_pos: Vec<u32>,
    row_tag: Vec<u8>,
    row_head: Vec<u8>,
    row_bits: u32,
    params: Option<Params>,
    chain_mask: usize,
    next_insert: usize,
    /// Sequence-producing history shared by all blocks of a frame.
    pub reps: Reps,
    /// Kinds of the sequences of the block parsed last: with literals, at distance 1,
    /// sent as a repeat code for another distance (FORMAT.md 7.6).
    pub kinds: [u32; 3],
    /// Literals at the end of the previous block (fast and double finders' step).
    run_carry: usize,
    /// Whether the double finder's tables and the long table hold tagged entries (a
    /// window under [`key::TAGGED_BELOW`] bytes).
    tagged: bool,
    /// Where the frame starts in the parsed data (the history's length).
    frame_start: usize,
    optimal: optimal::OptimalScratch,
    /// Level 9's latest position per hash of a 3-byte prefix, and its log2 size.
    short3: Vec<u32>,
    short3_log: u32,
}

#[inline(always)]
fn read_u32(data: &[u8], pos: usize) -> u32 {
    let b = &data[pos..pos + 4];
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

#[inline(always)]
fn read_u64(data: &[u8], pos: usize) -> u64 {
    let b = &data[pos..pos + 8];
    u64::from_le_bytes(b.try_into().unwrap_or([0; 8]))
}

/// The multipliers of 8-byte prefixes' hashes ([`key::long_key`]) and of [`hash_n`].
const HASH8_MUL: u64 = 0xCF1B_BCDC_B7A5_6463;
const HASH_N_MUL: u64 = 0x9FB2_1C65_1E98_DF25;

/// Hash of the low `bytes` (4..=8) bytes of `v`.
#[inline(always)]
fn hash_n(v: u64, bytes: usize, hash_log: u32) -> usize {
    ((v << (64 - 8 * bytes)).wrapping_mul(HASH_N_MUL) >> (64 - hash_log)) as usize
}

/// Hash of the first 3 bytes of `v` (the low three).
#[inline(always)]
fn hash3(v: u32, hash_log: u32) -> usize {
    ((v << 8).wrapping_mul(2_654_435_761) >> (32 - hash_log)) as usize
}

#[inline(always)]
fn hash4(v: u32, hash_log: u32) -> usize {
    (v.wrapping_mul(2_654_435_761) >> (32 - hash_log)) as usize
}

/// Length of the common prefix of `data[a..]` and `data[b..limit]` (`a < b`).
#[inline(always)]
fn common_len(data: &[u8], a: usize, b: usize, limit: usize) -> usize {
    let max = limit - b;
    let (x, y) = (&data[a..a + max], &data[b..b + max]);
    let mut n = 0;
    for (cx, cy) in x.chunks_exact(8).zip(y.chunks_exact(8)) {
        let wx = u64::from_le_bytes(cx.try_into().unwrap_or([0; 8]));
        let wy = u64::from_le_bytes(cy.try_into().unwrap_or([0; 8]));
        let diff = wx ^ wy;
        if diff != 0 {
            return n + (diff.trailing_zeros() / 8) as usize;
        }
        n += 8;
    }
    while n < max && x[n] == y[n] {
        n += 1;
    }
    n
}

/// Length of the match at candidate `c` for `pos` (whose first four bytes are `v`), if it
/// beats `best_len`. Cheap reject first: the byte that would extend the best match must
/// agree.
#[inline(always)]
fn longer_match(
    data: &[u8],
    c: usize,
    pos: usize,
    end: usize,
    v: u32,
    best_len: usize,
) -> Option<usize> {
    if data[c + best_len] != data[pos + best_len] || read_u32(data, c) != v {
        return None;
    }
    let len = MIN_MATCH + common_len(data, c + MIN_MATCH, pos + MIN_MATCH, end);
    (len > best_len).then_some(len)
}

/// Rough bit cost of a copy at distance `dist`, for comparing candidates.
#[inline(always)]
fn dist_cost(dist: u32) -> i64 {
    i64::from(32 - dist.leading_zeros())
}

/// What a copy of `len` bytes from `dist` back is worth against literals, for choosing
/// among candidates: a byte it covers counts 4, a bit of its distance 1. A longer copy
/// from much farther back is not always the better one: choosing by this rather than by
/// length alone made levels 4-8 0.8-1.2% smaller on 16 MB of prose and 0.7-1.1% on
/// source tar, for 2-3% more instructions (README).
#[inline(always)]
fn copy_gain(len: usize, dist: u32) -> i64 {
    len as i64 * 4 - dist_cost(dist)
}

/// Bytes of a frame sampled (evenly spaced) to estimate how much its literals cost.
const ENTROPY_SAMPLES: usize = 1 << 16;

/// Order-0 entropy, in bits per byte, above which the double finder takes 4-byte copies:
/// a copy costs about 20 bits, so four literals must cost more than five bits each for a
/// 4-byte copy to pay (binaries: 6-6.5 bits; prose and source text: 3.3-5).
const SHORT_COPY_ENTROPY_Q8: u64 = 11 * 256 / 2;

/// `log2(x)` for `x >= 1` in fixed point with 8 fractional bits (integer arithmetic, so
/// every machine makes the same choice from it).
fn log2_q8(x: u64) -> u64 {
    let k = 63 - u64::from(x.max(1).leading_zeros());
    // Mantissa in [2^16, 2^17).
    let mut m = if k >= 16 {
        x >> (k - 16)
    } else {
        x << (16 - k)
    };
    let mut frac = 0;
    for bit in (0..8).rev() {
        m = (m * m) >> 16;
        if m >= 1 << 17 {
            m >>= 1;
            frac |= 1 << bit;
        }
    }
    (k << 8) | frac
}

/// Whether the order-0 entropy of (a sample of) `data` is at least
/// [`SHORT_COPY_ENTROPY_Q8`].
fn literals_are_costly(data: &[u8]) -> bool {
    let step = (data.len() / ENTROPY_SAMPLES).max(1);
    let mut counts = [0u64; 256];
    let mut n = 0u64;
    for &b in data.iter().step_by(step) {
        counts[b as usize] += 1;
        n += 1;
    }
    if n == 0 {
        return false;
    }
    let log_n = log2_q8(n);
    let bits_q8: u64 = counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| c * (log_n - log2_q8(c)))
        .sum();
    bits_q8 >= SHORT_COPY_ENTROPY_Q8 * n
}

impl MatchFinder {
    /// Prepares for a new frame, `data[history..]`, whose copies may reach back into
    /// `data[..history]`, and inserts the positions of that history into the tables.
    pub fn reset(&mut self, level: Level, data: &[u8], history: usize) {
        let frame_len = data.len() - history;
        let mut p = params_for(level, frame_len);
        if p.strategy == Strategy::Double {
            if literals_are_costly(&data[history..]) {
                p = for_costly_literals(p, frame_len);
            } else if frame_len > LARGE_FRAME {
                p = for_large_text(p);
            }
        }
        if p.strategy == Strategy::Chain
            && frame_len >= CHAIN_KEY5_MIN
            && !literals_are_costly(&data[history..])
        {
            p.chain_key = 5;
        }
        // Tables and chains cover the history too.
        let window_len = data.len();
        p.hash_log = table_log(p.hash_log, window_len);
        let entries = 1usize << p.hash_log;
        if p.strategy == Strategy::Row {
            self.row_bits = p.hash_log - ROW.trailing_zeros();
            self.row_pos.clear();
            self.row_pos.resize(entries, NONE);
            self.row_tag.clear();
            self.row_tag.resize(entries, 0);
            self.row_head.clear();
            self.row_head.resize(entries / ROW, 0);
        } else {
            self.head.clear();
            self.head.resize(entries, NONE);
        }
        self.short3.clear();
        if p.strategy == Strategy::Optimal {
            self.short3_log = table_log(SHORT3_LOG, window_len);
            self.short3.resize(1 << self.short3_log, NONE);
        }
        self.long.clear();
        if p.long_log > 0 {
            p.long_log = table_log(p.long_log, window_len);
            self.long.resize(1 << p.long_log, NONE);
        }
        if matches!(p.strategy, Strategy::Chain | Strategy::Optimal) {
            let window = (1usize << p.window_log).min(window_len.next_power_of_two().max(64));
            // A chain link per window slot, or two tree links.
            let links = window * links_per_slot(p.strategy);
            self.chain.reset(links, NONE);
            self.chain_mask = window - 1;
        }
        self.params = Some(p);
        self.tagged = window_len < key::TAGGED_BELOW;
        self.next_insert = 0;
        self.run_carry = 0;
        self.reps = Reps::default();
        self.optimal.reset();
        self.frame_start = history;
        self.prime(data, history);
    }

    /// The long table's key for the 8-byte prefix `v`, tagged in tagged windows.
    #[inline(always)]
    fn long_key(&self, v: u64, log: u32) -> key::Key {
        if self.tagged {
            key::long_key::<true>(v, log)
        } else {
            key::long_key::<false>(v, log)
        }
    }

    /// Inserts positions of `data[..history]` into the tables, so that the frame after
    /// it finds copies there. The single-entry tables of levels 1-3 take every 8th
    /// position (the double finder's 8-byte table only; a copy found there is extended
    /// backwards); the chains and rows take every position within their window; the
    /// optimal parser's trees take the last [`PRIME_TREE`] bytes.
    fn prime(&mut self, data: &[u8], history: usize) {
        let Some(p) = self.params else { return };
        if data.len() < 8 {
            // Too short to hold a copy worth finding (and hashing reads 8 bytes).
            return;
        }
        let last = history.min(data.len() - 8);
        match p.strategy {
            Strategy::Fast => {
                let mask = self.head.len() - 1;
                for i in (0..last).step_by(PRIME_STEP) {
                    self.head[hash_n(read_u64(data, i), p.min_len, p.hash_log) & mask] = i as u32;
                }
            }
            Strategy::Double | Strategy::Chain | Strategy::Row => {
                // The long table takes every 8th position of the history (a copy found
                // there is extended backwards); the chains or rows every position the
                // frame's copies can reach through them.
                if !self.long.is_empty() {
                    let mask = self.long.len() - 1;
                    for i in (0..last).step_by(PRIME_STEP) {
                        let key = self.long_key(read_u64(data, i), p.long_log);
                        self.long[key.slot & mask] = key.entry(i);
                    }
                }
                if p.strategy == Strategy::Double {
                    return;
                }
                let from = history.saturating_sub(1 << p.window_log);
                self.next_insert = from;
                self.insert_upto(data, history, p, p.strategy == Strategy::Row);
            }
            Strategy::Optimal => {
                let from = history.saturating_sub(PRIME_TREE);
                let end = history.min(data.len().saturating_sub(MIN_MATCH));
                for pos in from..end {
                    self.find_tree(data, p, pos, pos, |_, _| {});
                    self.short3[hash3(read_u32(data, pos), self.short3_log)] = pos as u32;
                }
                self.next_insert = history;
            }
        }
    }

    /// Forgets every position inserted into the trees after the history (a frame's
    /// first block parsed again): the history's positions are inserted again.
    fn forget_positions(&mut self, data: &[u8]) {
        self.head.fill(NONE);
        self.chain.fill(NONE);
        self.long.fill(NONE);
        self.short3.fill(NONE);
        self.next_insert = 0;
        self.prime(data, self.frame_start);
    }

    /// Parses `data[start..end]` (history from `data[..start]`) into `seqs` and `lits`
    /// (reset by the caller to hold the block). Returns the number of trailing literals
    /// (already pushed to `lits`).
    pub fn parse(
        &mut self,
        data: &[u8],
        start: usize,
        end: usize,
        seqs: &mut Vec<Seq>,
        lits: &mut LitBuf,
    ) -> u32 {
        self.kinds = [0; 3];
        let Some(p) = self.params else {
            lits.push(data, start, end);
            return (end - start) as u32;
        };
        let mut anchor = start;
        if end - start > 16 {
            anchor = match p.strategy {
                // The prefix length as a constant: 6 at level 1; 5 at levels 2 and 3, 4
                // for costly literals.
                Strategy::Fast => self.parse_fast::<6>(data, p, start, end, seqs, lits),
                Strategy::Double => {
                    debug_assert_eq!(self.tagged, data.len() < key::TAGGED_BELOW);
                    match (p.min_len, self.tagged) {
                        (4, true) => self.parse_double::<4, true>(data, p, start, end, seqs, lits),
                        (4, false) => {
                            self.parse_double::<4, false>(data, p, start, end, seqs, lits)
                        }
                        (_, true) => self.parse_double::<5, true>(data, p, start, end, seqs, lits),
                        (_, false) => {
                            self.parse_double::<5, false>(data, p, start, end, seqs, lits)
                        }
                    }
                }
                Strategy::Optimal => self.parse_optimal(data, p, start, end, seqs, lits),
                _ => self.parse_lazy(data, p, start, end, seqs, lits),
            };
        }
        lits.push(data, anchor, end);
        (end - anchor) as u32
    }

    /// Records the literals `data[anchor..pos]` and a copy of `len` bytes from `dist`
    /// back, sent as a repeat code when `dist` is a recent distance.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn emit(
        &mut self,
        data: &[u8],
        anchor: usize,
        pos: usize,
        len: usize,
        dist: u32,
        seqs: &mut Vec<Seq>,
        lits: &mut LitBuf,
    ) {
        lits.push(data, anchor, pos);
        let (off, reps) = self.reps.send(dist);
        self.reps = reps;
        let [primitive, iteration, delta] = &mut self.kinds;
        *primitive += u32::from(pos > anchor);
        *iteration += u32::from(dist == 1);
        *delta += u32::from(off <= REP_CODES && dist != 1);
        seqs.push(Seq {
            lit_len: (pos - anchor) as u32,
            match_len: len as u32,
            off,
        });
    }

    /// Longest copy at `pos` from one of the recent distances: (length, distance).
    #[inline(always)]
    fn rep_match(&self, data: &[u8], pos: usize, end: usize) -> (usize, u32) {
        let mut best = (0, 0);
        if pos + MIN_MATCH > end {
            return best;
        }
        let v = read_u32(data, pos);
        for &d in &self.reps.0 {
            let du = d as usize;
            if du == 0 || du > pos || read_u32(data, pos - du) != v {
                continue;
            }
            let len = MIN_MATCH + common_len(data, pos - du + MIN_MATCH, pos + MIN_MATCH, end);
            if len > best.0 {
                best = (len, d);
            }
            if len >= REP_ENOUGH {
                break;
            }
        }
        best
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    /// Pseudo-random bytes from `seed` (a linear congruential generator), one per call.
    pub(super) fn lcg_bytes(mut x: u32) -> impl FnMut() -> u8 {
        move || {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (x >> 16) as u8
        }
    }

    /// Replays sequences after `history` the way the decoder does.
    fn replay(history: &[u8], seqs: &[Seq], lits: &[u8], trailing: u32) -> Vec<u8> {
        let mut out = history.to_vec();
        let mut reps = Reps::default();
        let mut li = 0usize;
        for s in seqs {
            out.extend_from_slice(&lits[li..li + s.lit_len as usize]);
            li += s.lit_len as usize;
            let d = reps.resolve(s.off) as usize;
            for _ in 0..s.match_len {
                out.push(out[out.len() - d]);
            }
        }
        assert_eq!(lits.len() - li, trailing as usize);
        out.extend_from_slice(&lits[li..]);
        out
    }

    #[test]
    fn log2_q8_is_exact_enough() {
        for x in [
            1u64,
            2,
            3,
            5,
            7,
            100,
            4096,
            65_535,
            1 << 26,
            u32::MAX as u64,
        ] {
            let want = ((x as f64).log2() * 256.0) as i64;
            let got = log2_q8(x) as i64;
            assert!((got - want).abs() <= 1, "log2({x}): {got} vs {want}");
        }
    }

    #[test]
    fn literal_cost_separates_text_from_binary() {
        let text = b"the quick brown fox jumps over the lazy dog; ".repeat(200);
        assert!(!literals_are_costly(&text));
        let mut next = lcg_bytes(12345);
        let noise: Vec<u8> = (0..8192).map(|_| next()).collect();
        assert!(literals_are_costly(&noise));
        assert!(!literals_are_costly(&[]));
    }

    #[test]
    fn every_level_parses_back_to_input() {
        let mut data = Vec::new();
        for i in 0..20_000u32 {
            data.extend_from_slice(format!("line {} of {}\n", i % 97, i % 13).as_bytes());
        }
        data.extend(std::iter::repeat_n(7u8, 5000));
        for level in 1..=9 {
            let mut mf = MatchFinder::default();
            mf.reset(Level::new(level).unwrap(), &data, 0);
            let (mut seqs, mut lits) = (Vec::new(), LitBuf::default());
            lits.reset(data.len());
            let trailing = mf.parse(&data, 0, data.len(), &mut seqs, &mut lits);
            let lits = lits.as_slice();
            assert_eq!(replay(&[], &seqs, lits, trailing), data, "level {level}");
            assert!(
                lits.len() < data.len() / 10,
                "level {level} found few copies"
            );
        }
    }

    #[test]
    fn costly_frames_get_the_larger_short_table_only_when_small() {
        let mut next = lcg_bytes(5);
        let noise: Vec<u8> = (0..3 << 20).map(|_| next()).collect();
        let level3 = params(Level::new(3).unwrap()).hash_log;
        for (len, extra) in [(1 << 20, 1), (LARGE_FRAME, 1), (3 << 20, 0)] {
            let mut mf = MatchFinder::default();
            mf.reset(Level::new(3).unwrap(), &noise[..len], 0);
            let p = mf.params.unwrap();
            assert_eq!(
                (p.min_len, p.hash_log),
                (MIN_MATCH, level3 + extra),
                "{len} bytes"
            );
            assert!(
                4 * mf.head.len() + 4 * mf.long.len() <= table_memory(Level::new(3).unwrap(), len)
            );
        }
    }

    #[test]
    fn large_text_frames_get_the_smaller_long_table() {
        let mut text = Vec::new();
        let mut i = 0u32;
        while text.len() < 3 << 20 {
            text.extend_from_slice(format!("line {} of {}\n", i % 997, i % 13).as_bytes());
            i += 1;
        }
        let level3 = params(Level::new(3).unwrap());
        for (len, long_log) in [
            (LARGE_FRAME, level3.long_log),
            (3 << 20, LARGE_TEXT_LONG_LOG),
        ] {
            let mut mf = MatchFinder::default();
            mf.reset(Level::new(3).unwrap(), &text[..len], 0);
            let p = mf.params.unwrap();
            assert_eq!(
                (p.long_log, p.hash_log),
                (long_log, level3.hash_log),
                "{len} bytes"
            );
        }
    }

    #[test]
    fn tagged_tables_copy_from_history_on_both_sides_of_the_tag_limit() {
        // Noise, then a frame that repeats the history's last MiB: every copy reaches
        // into the primed history (for level 5, beyond its chains: through the long
        // table), in windows with tagged entries and without.
        let mut next = lcg_bytes(9);
        let noise: Vec<u8> = (0..key::TAGGED_BELOW + (2 << 20)).map(|_| next()).collect();
        // The second window's copies come from positions of 2^24 and more.
        let windows = [
            (key::TAGGED_BELOW - (2 << 20), true),
            (key::TAGGED_BELOW + (2 << 20), false),
        ];
        for (history, tagged) in windows {
            let mut data = noise[..history].to_vec();
            data.extend_from_within(history - (1 << 20)..history);
            for level in [2, 3, 5] {
                let mut mf = MatchFinder::default();
                mf.reset(Level::new(level).unwrap(), &data, history);
                // Positions of 2^24 and more do not fit beside a tag.
                assert_eq!(mf.tagged, tagged, "window {}", data.len());
                let (mut seqs, mut lits) = (Vec::new(), LitBuf::default());
                lits.reset(data.len() - history);
                let trailing = mf.parse(&data, history, data.len(), &mut seqs, &mut lits);
                let lits = lits.as_slice();
                let out = replay(&data[..history], &seqs, lits, trailing);
                assert!(out == data, "level {level}, window {}", data.len());
                assert!(lits.len() < 1024, "level {level}: {} literals", lits.len());
            }
        }
    }
}
