//! LZ77-family parser: finds copies of earlier bytes of the frame (its Σ-bank) and turns a
//! span of the frame into sequences (literal run, copy).

use super::Level;

mod optimal;

/// Shortest copy worth a glyph.
pub const MIN_MATCH: usize = 4;
/// `off` values 1..=REP_CODES name a recent distance; larger values are distance + REP_CODES.
pub const REP_CODES: u32 = 3;
const NONE: u32 = u32::MAX;
/// A match this long is taken without looking at the next positions.
const LAZY_LIMIT: usize = 24;

/// One parsed sequence: `lit_len` literal bytes, then a copy of `match_len` bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seq {
    /// Literal bytes before the copy.
    pub lit_len: u32,
    /// Copy length (>= MIN_MATCH).
    pub match_len: u32,
    /// 1..=3: the n-th most recent distance; otherwise distance + 3.
    pub off: u32,
}

/// Repeat-distance history, most recent first. Starts fresh at every frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reps(pub [u32; 3]);

impl Default for Reps {
    fn default() -> Self {
        Reps([1, 4, 8])
    }
}

impl Reps {
    /// Resolves an `off` value to a distance and updates the history as the decoder does.
    #[inline(always)]
    pub fn resolve(&mut self, off: u32) -> u32 {
        let r = &mut self.0;
        match off {
            1 => r[0],
            2 => {
                r.swap(0, 1);
                r[0]
            }
            3 => {
                let d = r[2];
                r[2] = r[1];
                r[1] = r[0];
                r[0] = d;
                d
            }
            _ => {
                let d = off - REP_CODES;
                r[2] = r[1];
                r[1] = r[0];
                r[0] = d;
                d
            }
        }
    }
}

/// How candidates for a copy are found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Strategy {
    /// One single-entry hash table of 4-byte prefixes.
    Fast,
    /// Two hash tables: the two latest positions per 8-byte prefix (long copies) and the
    /// latest per 4-byte prefix.
    Double,
    /// Hash chains through every earlier position with the same 4-byte hash.
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
    hash_log: u32,
    window_log: u32,
    /// Candidates examined per position (chain and row finders).
    depth: u32,
    /// Positions looked ahead before committing to a match (0 = greedy).
    lazy: u32,
    /// A match this long ends the search.
    nice: usize,
}

/// Once a chain search has a match this long, it looks at only two more candidates.
const GOOD_MATCH: usize = 32;

/// After 2^SKIP_LOG literals in a row, the double finder probes every other position, and
/// so on.
const SKIP_LOG: u32 = 8;

/// A copy this long from the newest long-table candidate skips the older one.
const LONG_ENOUGH: usize = 16;

/// A repeat-distance copy this long is taken without trying the other recent distances.
const REP_ENOUGH: usize = 8;

/// Entries per row of the row match finder.
const ROW: usize = 16;

fn params(level: Level) -> Params {
    use Strategy::{Chain, Double, Fast, Optimal, Row};
    let (strategy, hash_log, window_log, depth, lazy, nice) = match level.get() {
        1 => (Fast, 15, 20, 0, 0, 32),
        2 => (Fast, 16, 20, 0, 1, 48),
        3 => (Double, 17, 20, 0, 2, 48),
        4 => (Row, 18, 22, 16, 2, 96),
        5 => (Chain, 17, 21, 24, 2, 96),
        6 => (Chain, 17, 21, 32, 2, 96),
        7 => (Chain, 18, 22, 48, 2, 128),
        8 => (Chain, 18, 22, 96, 2, 192),
        _ => (Optimal, 18, 22, 48, 2, 258),
    };
    Params {
        strategy,
        hash_log,
        window_log,
        depth,
        lazy,
        nice,
    }
}

/// Bytes of hash and chain tables for frames of `chunk` bytes at `level`.
pub fn table_memory(level: Level, chunk: usize) -> usize {
    let p = params(level);
    let entries = 1usize << table_log(p, chunk);
    match p.strategy {
        Strategy::Row => entries * 5 + entries / ROW,
        Strategy::Chain | Strategy::Optimal => {
            4 * (entries + (1usize << p.window_log).min(chunk.next_power_of_two().max(64)))
        }
        Strategy::Double => 12 * entries,
        Strategy::Fast => 4 * entries,
    }
}

/// Bytes the parser itself needs per block of `block` bytes at `level` (the optimal
/// parser's price, step and distance arrays).
pub fn parse_memory(level: Level, block: usize) -> usize {
    if params(level).strategy == Strategy::Optimal {
        optimal::BYTES_PER_POSITION * (block + 1)
    } else {
        0
    }
}

/// Hash table size (log2 of entries) for a frame of `frame_len` bytes: no larger than
/// the frame needs.
fn table_log(p: Params, frame_len: usize) -> u32 {
    let need = usize::BITS - frame_len.max(1).leading_zeros() + 1;
    p.hash_log.min(need).max(8)
}

/// Reusable match-finder memory; no allocation per frame once warmed up.
#[derive(Default)]
pub struct MatchFinder {
    head: Vec<u32>,
    /// Positions by 8-byte prefix (double finder).
    long: Vec<u32>,
    chain: Vec<u32>,
    row_pos: Vec<u32>,
    row_tag: Vec<u8>,
    row_head: Vec<u8>,
    row_bits: u32,
    params: Option<Params>,
    chain_mask: usize,
    next_insert: usize,
    /// Sequence-producing history shared by all blocks of a frame.
    pub reps: Reps,
    optimal: optimal::OptimalScratch,
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

#[inline(always)]
fn hash8(v: u64, hash_log: u32) -> usize {
    (v.wrapping_mul(0xCF1B_BCDC_B7A5_6463) >> (64 - hash_log)) as usize
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

impl MatchFinder {
    /// Prepares for a new frame of `frame_len` bytes.
    pub fn reset(&mut self, level: Level, frame_len: usize) {
        let mut p = params(level);
        p.hash_log = table_log(p, frame_len);
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
        if p.strategy == Strategy::Double {
            self.long.clear();
            self.long.resize(entries * 2, NONE);
        }
        if matches!(p.strategy, Strategy::Chain | Strategy::Optimal) {
            let window = (1usize << p.window_log).min(frame_len.next_power_of_two().max(64));
            if self.chain.len() != window {
                self.chain.clear();
                self.chain.resize(window, NONE);
                self.chain.shrink_to_fit();
            }
            self.chain_mask = window - 1;
        }
        self.params = Some(p);
        self.next_insert = 0;
        self.reps = Reps::default();
    }

    /// Parses `data[start..end]` (history from `data[..start]`) into `seqs` and `lits`.
    /// Returns the number of trailing literals (already pushed to `lits`).
    pub fn parse(
        &mut self,
        data: &[u8],
        start: usize,
        end: usize,
        seqs: &mut Vec<Seq>,
        lits: &mut Vec<u8>,
    ) -> u32 {
        let Some(p) = self.params else {
            lits.extend_from_slice(&data[start..end]);
            return (end - start) as u32;
        };
        let mut anchor = start;
        let mut pos = start;
        if end - start > MIN_MATCH {
            match p.strategy {
                Strategy::Fast => self.parse_fast(data, p, &mut pos, &mut anchor, end, seqs, lits),
                Strategy::Optimal => anchor = self.parse_optimal(data, p, start, end, seqs, lits),
                _ => self.parse_lazy(data, p, &mut pos, &mut anchor, end, seqs, lits),
            }
        }
        lits.extend_from_slice(&data[anchor..end]);
        (end - anchor) as u32
    }

    #[allow(clippy::too_many_arguments)]
    fn emit(
        &mut self,
        data: &[u8],
        anchor: usize,
        pos: usize,
        len: usize,
        dist: u32,
        seqs: &mut Vec<Seq>,
        lits: &mut Vec<u8>,
    ) {
        lits.extend_from_slice(&data[anchor..pos]);
        let r = &mut self.reps.0;
        let off = if dist == r[0] {
            1
        } else if dist == r[1] {
            2
        } else if dist == r[2] {
            3
        } else {
            dist + REP_CODES
        };
        self.reps.resolve(off);
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

    /// Greedy (or one-step lazy) parse with a single-entry hash table.
    #[allow(clippy::too_many_arguments)]
    fn parse_fast(
        &mut self,
        data: &[u8],
        p: Params,
        pos: &mut usize,
        anchor: &mut usize,
        end: usize,
        seqs: &mut Vec<Seq>,
        lits: &mut Vec<u8>,
    ) {
        let limit = end - MIN_MATCH;
        let max_dist = 1usize << p.window_log;
        let mut misses = 0usize;
        while *pos <= limit {
            let here = *pos;
            let (rep_len, rep_dist) = self.rep_match(data, here, end);
            let v = read_u32(data, here);
            let h = hash4(v, p.hash_log);
            let cand = self.head[h];
            self.head[h] = here as u32;
            let mut best_len = 0;
            let mut best_dist = 0u32;
            if cand != NONE {
                let c = cand as usize;
                if c < here && here - c <= max_dist && read_u32(data, c) == v {
                    best_len = MIN_MATCH + common_len(data, c + MIN_MATCH, here + MIN_MATCH, end);
                    best_dist = (here - c) as u32;
                }
            }
            if rep_len >= MIN_MATCH && rep_len + 1 >= best_len {
                best_len = rep_len;
                best_dist = rep_dist;
            }
            if best_len < MIN_MATCH {
                misses += 1;
                *pos += 1 + (misses >> 6);
                continue;
            }
            misses = 0;
            let (mut at, mut len, mut dist) = (here, best_len, best_dist);
            if p.lazy > 0 && at < limit && len < p.nice {
                let next = at + 1;
                let v2 = read_u32(data, next);
                let h2 = hash4(v2, p.hash_log);
                let c2 = self.head[h2];
                self.head[h2] = next as u32;
                if c2 != NONE {
                    let c = c2 as usize;
                    if c < next && next - c <= max_dist && read_u32(data, c) == v2 {
                        let l2 = MIN_MATCH + common_len(data, c + MIN_MATCH, next + MIN_MATCH, end);
                        let d2 = (next - c) as u32;
                        if (l2 as i64) * 4 - dist_cost(d2) > (len as i64) * 4 - dist_cost(dist) + 4
                        {
                            at = next;
                            len = l2;
                            dist = d2;
                        }
                    }
                }
            }
            self.emit(data, *anchor, at, len, dist, seqs, lits);
            let stop = at + len;
            // Seed the table inside the copy so the next copy can start from here.
            if stop <= limit {
                let mid = stop - 2;
                self.head[hash4(read_u32(data, mid), p.hash_log)] = mid as u32;
            }
            *pos = stop;
            *anchor = stop;
        }
    }

    /// Inserts every position below `upto` into the hash chains.
    #[inline(always)]
    fn insert_upto(&mut self, data: &[u8], upto: usize, hash_log: u32, row: bool) {
        let last = data.len().saturating_sub(MIN_MATCH);
        let upto = upto.min(last + 1);
        if row {
            while self.next_insert < upto {
                let i = self.next_insert;
                self.row_insert(read_u32(data, i), i);
                self.next_insert += 1;
            }
            return;
        }
        while self.next_insert < upto {
            let i = self.next_insert;
            let h = hash4(read_u32(data, i), hash_log);
            self.chain[i & self.chain_mask] = self.head[h];
            self.head[h] = i as u32;
            self.next_insert += 1;
        }
    }

    /// Row and tag of a 4-byte value.
    #[inline(always)]
    fn row_hash(&self, v: u32) -> (usize, u8) {
        let h = u64::from(v).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let row = (h >> (64 - self.row_bits)) as usize;
        let tag = (h >> (56 - self.row_bits)) as u8;
        (row, tag)
    }

    #[inline(always)]
    fn row_insert(&mut self, v: u32, pos: usize) {
        let (row, tag) = self.row_hash(v);
        let slot = (self.row_head[row].wrapping_sub(1) as usize) & (ROW - 1);
        self.row_head[row] = slot as u8;
        self.row_pos[row * ROW + slot] = pos as u32;
        self.row_tag[row * ROW + slot] = tag;
    }

    /// Best (length, distance) at `pos` from the row finder; inserts `pos`.
    #[inline(always)]
    fn find_row(&mut self, data: &[u8], p: Params, pos: usize, end: usize) -> (usize, u32) {
        self.insert_upto(data, pos, p.hash_log, true);
        let max_dist = 1usize << p.window_log;
        let v = read_u32(data, pos);
        let (row, tag) = self.row_hash(v);
        let base = row * ROW;
        let head = self.row_head[row] as usize;
        let tags = &self.row_tag[base..base + ROW];
        let positions = &self.row_pos[base..base + ROW];
        let mut best_len = MIN_MATCH - 1;
        let mut best_dist = 0u32;
        let max = end - pos;
        for k in 0..(p.depth as usize).min(ROW) {
            let i = (head + k) & (ROW - 1);
            if tags[i] != tag {
                continue;
            }
            let cand = positions[i];
            if cand == NONE {
                break;
            }
            let c = cand as usize;
            if c >= pos || pos - c > max_dist {
                break;
            }
            if let Some(len) = longer_match(data, c, pos, end, v, best_len) {
                best_len = len;
                best_dist = (pos - c) as u32;
                if len >= p.nice || len >= max {
                    break;
                }
            }
        }
        self.row_insert(v, pos);
        self.next_insert = pos + 1;
        if best_len < MIN_MATCH {
            (0, 0)
        } else {
            (best_len, best_dist)
        }
    }

    /// Best (length, distance) at `pos` from the hash chain; inserts `pos`.
    #[inline(always)]
    fn find(&mut self, data: &[u8], p: Params, pos: usize, end: usize) -> (usize, u32) {
        match p.strategy {
            Strategy::Row => return self.find_row(data, p, pos, end),
            Strategy::Double => return self.find_double(data, p, pos, end),
            _ => {}
        }
        self.find_chain(data, p, pos, end, |_, _| {})
    }

    /// Walks the hash chain at `pos`, calling `record(length, distance)` for each candidate
    /// longer than all before it; returns the best (length, distance); inserts `pos`.
    #[inline(always)]
    fn find_chain(
        &mut self,
        data: &[u8],
        p: Params,
        pos: usize,
        end: usize,
        mut record: impl FnMut(usize, u32),
    ) -> (usize, u32) {
        self.insert_upto(data, pos, p.hash_log, false);
        let window = self.chain_mask + 1;
        let v = read_u32(data, pos);
        let h = hash4(v, p.hash_log);
        let mut cand = self.head[h];
        let mut best_len = MIN_MATCH - 1;
        let mut best_dist = 0u32;
        let mut depth = p.depth;
        let max = end - pos;
        while cand != NONE && depth > 0 {
            let c = cand as usize;
            if c >= pos || pos - c >= window {
                break;
            }
            if let Some(len) = longer_match(data, c, pos, end, v, best_len) {
                best_len = len;
                best_dist = (pos - c) as u32;
                record(len, best_dist);
                if len >= p.nice || len >= max {
                    break;
                }
                // A good match: look only a little further for a better one.
                if len >= GOOD_MATCH {
                    depth = depth.min(2);
                }
            }
            let next = self.chain[c & self.chain_mask];
            if next >= cand {
                break;
            }
            cand = next;
            depth -= 1;
        }
        self.chain[pos & self.chain_mask] = self.head[h];
        self.head[h] = pos as u32;
        self.next_insert = pos + 1;
        if best_len < MIN_MATCH {
            (0, 0)
        } else {
            (best_len, best_dist)
        }
    }

    /// Best candidate at `pos`, preferring the repeat distance when it is about as long.
    #[inline(always)]
    fn best_at(&mut self, data: &[u8], p: Params, pos: usize, end: usize) -> (usize, u32, i64) {
        let (rep_len, rep_dist) = self.rep_match(data, pos, end);
        let (len, dist) = self.find(data, p, pos, end);
        let rep_gain = rep_len as i64 * 4 - 1;
        let gain = if len > 0 {
            len as i64 * 4 - dist_cost(dist)
        } else {
            i64::MIN
        };
        if rep_len >= MIN_MATCH && rep_gain >= gain {
            (rep_len, rep_dist, rep_gain)
        } else {
            (len, dist, gain)
        }
    }

    /// Best (length, distance) at `pos` from the long and short tables; inserts `pos`.
    #[inline(always)]
    fn find_double(&mut self, data: &[u8], p: Params, pos: usize, end: usize) -> (usize, u32) {
        let max_dist = 1usize << p.window_log;
        if pos + 8 <= end {
            let v8 = read_u64(data, pos);
            let [c0, c1] = self.push_long(v8, p.hash_log, pos);
            let mut best = (0, 0);
            for cand in [c0, c1] {
                if best.0 >= LONG_ENOUGH {
                    break;
                }
                let c = cand as usize;
                if cand != NONE && c < pos && pos - c <= max_dist && read_u64(data, c) == v8 {
                    let len = 8 + common_len(data, c + 8, pos + 8, end);
                    if len > best.0 {
                        best = (len, (pos - c) as u32);
                    }
                }
            }
            if best.0 > 0 {
                self.head[hash4(v8 as u32, p.hash_log)] = pos as u32;
                return best;
            }
        }
        let v = read_u32(data, pos);
        let h = hash4(v, p.hash_log);
        let cand = self.head[h];
        self.head[h] = pos as u32;
        let c = cand as usize;
        if cand != NONE && c < pos && pos - c <= max_dist && read_u32(data, c) == v {
            let len = MIN_MATCH + common_len(data, c + MIN_MATCH, pos + MIN_MATCH, end);
            return (len, (pos - c) as u32);
        }
        (0, 0)
    }

    /// Records positions inside a copy just taken, so later copies can start there.
    #[inline(always)]
    fn seed_double(&mut self, data: &[u8], p: Params, from: usize, to: usize, end: usize) {
        for i in from..to.min(end.saturating_sub(7)) {
            let v8 = read_u64(data, i);
            self.push_long(v8, p.hash_log, i);
            self.head[hash4(v8 as u32, p.hash_log)] = i as u32;
        }
    }

    /// Makes `pos` the newest of the two positions in the long-table bucket of `v8`;
    /// returns the two it held before (newest first).
    #[inline(always)]
    fn push_long(&mut self, v8: u64, hash_log: u32, pos: usize) -> [u32; 2] {
        let h = hash8(v8, hash_log) * 2;
        let before = [self.long[h], self.long[h + 1]];
        self.long[h + 1] = before[0];
        self.long[h] = pos as u32;
        before
    }

    /// Parse with lazy evaluation over the chain, row or double finder.
    #[allow(clippy::too_many_arguments)]
    fn parse_lazy(
        &mut self,
        data: &[u8],
        p: Params,
        pos: &mut usize,
        anchor: &mut usize,
        end: usize,
        seqs: &mut Vec<Seq>,
        lits: &mut Vec<u8>,
    ) {
        let limit = end - MIN_MATCH;
        let skips = p.strategy == Strategy::Double;
        while *pos <= limit {
            let (mut len, mut dist, mut gain) = self.best_at(data, p, *pos, end);
            if len < MIN_MATCH {
                // Long literal runs (incompressible data) are searched ever more sparsely
                // (the chain and row finders insert every position, so they search all).
                *pos += 1 + if skips {
                    (*pos - *anchor) >> SKIP_LOG
                } else {
                    0
                };
                continue;
            }
            let mut at = *pos;
            let mut steps = 0;
            while steps < p.lazy && len < LAZY_LIMIT && at < limit {
                let (l2, d2, g2) = self.best_at(data, p, at + 1, end);
                if l2 >= MIN_MATCH && g2 > gain + 4 {
                    at += 1;
                    len = l2;
                    dist = d2;
                    gain = g2;
                    steps = 0;
                } else {
                    steps += 1;
                    if steps < p.lazy && at + 2 <= limit {
                        let (l3, d3, g3) = self.best_at(data, p, at + 2, end);
                        if l3 >= MIN_MATCH && g3 > gain + 8 {
                            at += 2;
                            len = l3;
                            dist = d3;
                            gain = g3;
                            steps = 0;
                            continue;
                        }
                    }
                    break;
                }
            }
            self.emit(data, *anchor, at, len, dist, seqs, lits);
            if p.strategy == Strategy::Double {
                self.seed_double(data, p, at + 1 + p.lazy as usize, at + len, end);
            }
            *pos = at + len;
            *anchor = *pos;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Replays sequences the way the decoder does.
    fn replay(seqs: &[Seq], lits: &[u8], trailing: u32) -> Vec<u8> {
        let mut out = Vec::new();
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
    fn every_level_parses_back_to_input() {
        let mut data = Vec::new();
        for i in 0..20_000u32 {
            data.extend_from_slice(format!("line {} of {}\n", i % 97, i % 13).as_bytes());
        }
        data.extend(std::iter::repeat_n(7u8, 5000));
        for level in 1..=9 {
            let mut mf = MatchFinder::default();
            mf.reset(Level::new(level).unwrap(), data.len());
            let (mut seqs, mut lits) = (Vec::new(), Vec::new());
            let trailing = mf.parse(&data, 0, data.len(), &mut seqs, &mut lits);
            assert_eq!(replay(&seqs, &lits, trailing), data, "level {level}");
            assert!(
                lits.len() < data.len() / 10,
                "level {level} found few copies"
            );
        }
    }
}
