//! Price-based parsing for the strongest level: every copy length found at every position
//! is weighed by its cost in bits, and the cheapest path through the block wins.
//!
//! Prices come from statistics: the literals and sequence codes of the frame's blocks so
//! far, the latest weighing the most (for a frame's first block, those of a greedy parse
//! and of a parse priced by the predefined tables' distributions and the block's bytes).
//! Each position of the path remembers its literal run and its three recent distances, so
//! a literal is priced with the change it makes to the run's length code, and a copy from
//! a recent distance with the repeat code it would be sent as.

use super::{
    common_len, hash3, log2_q8, read_u32, LitBuf, MatchFinder, Params, Reps, Seq, MIN_COPY,
    MIN_MATCH, NONE, SKIP_LOG,
};
use crate::codec::sequences::{
    len_code, off_code, DEFAULT_LL, DEFAULT_ML, DEFAULT_OF, REP_CODES, SEQ_SYMS,
};

/// Prices are in 1/256 bit.
const PRICE_LOG: u32 = 8;
const BIT: u32 = 1 << PRICE_LOG;

/// Positions without any candidate before the search starts skipping; it then probes one
/// position in `1 + misses >> SKIP_LOG`.
const SKIP_AFTER: usize = 256;

/// Literal-length prices kept in a table (longer runs are priced from their code).
const LL_CACHE: usize = 64;

/// Copies up to this long (level 9's `nice`) are tried at every length; longer ones at
/// their full length only. Trying every length up to 32 only, as before, made 1 MB of
/// register headers (long copies that end where a cheap repeat copy takes over) 2.4%
/// larger and a table 0.8% larger, for 1-8% less time.
const ML_CACHE: usize = 258;

/// One position of the block on the cheapest known path to it.
#[derive(Clone, Copy)]
struct Node {
    /// Cost of the path, with the position's literal run priced as if a copy followed.
    price: u32,
    /// Literals since the last copy on the path.
    lit_len: u32,
    /// The step that reached this position: a copy of `len` from `dist`, or one literal
    /// (`dist` 0).
    len: u32,
    dist: u32,
    /// Recent distances after the path to here.
    reps: Reps,
}

const UNREACHED: Node = Node {
    price: u32::MAX,
    lit_len: 0,
    len: 0,
    dist: 0,
    reps: Reps([0; 3]),
};

/// Bytes of [`OptimalScratch`] per position of a block.
pub(super) const BYTES_PER_POSITION: usize =
    std::mem::size_of::<Node>() + std::mem::size_of::<(u32, u32)>();

/// Symbol counts of the parsed blocks of a frame, the source of the next block's prices
/// (see [`count`]).
struct Stats {
    lit: [u32; 256],
    ll: [u32; SEQ_SYMS],
    ml: [u32; SEQ_SYMS],
    of: [u32; SEQ_SYMS],
}

impl Stats {
    const EMPTY: Stats = Stats {
        lit: [0; 256],
        ll: [0; SEQ_SYMS],
        ml: [0; SEQ_SYMS],
        of: [0; SEQ_SYMS],
    };
}

/// What each symbol costs, in 1/256 bit.
struct Prices {
    lit: [u32; 256],
    ll: [u32; SEQ_SYMS],
    ml: [u32; SEQ_SYMS],
    of: [u32; SEQ_SYMS],
    /// Full literal-length prices (code and extra bits) of short runs.
    ll_short: [u32; LL_CACHE],
    /// Full match-length prices of copies of up to [`ML_CACHE`] bytes, by length.
    ml_short: [u32; ML_CACHE + 1],
}

/// Prices of symbols seen `freq` times: `log2(total / f)`, every count one more than
/// seen so that no symbol is priced as impossible.
fn code_prices<const N: usize>(freq: &[u32; N]) -> [u32; N] {
    let total = freq.iter().map(|&f| u64::from(f) + 1).sum::<u64>();
    let top = log2_q8(total) as u32;
    freq.map(|f| top - log2_q8(u64::from(f) + 1) as u32)
}

/// Weight in 1/16 of the measured prices against [`flat_prices`] for literal lengths,
/// match lengths and offsets. Chosen on 1 MiB slices of prose, a table, source tar and
/// binaries (half and half everywhere parsed 0.2-0.3% larger on prose and tar, 0.3%
/// smaller on the table).
const MEASURED_WEIGHT: [u32; 3] = [12, 10, 8];

fn widen(t: &[u16; SEQ_SYMS]) -> [u32; SEQ_SYMS] {
    t.map(u32::from)
}

/// Sequence-code prices of a model that ignores statistics: a copy costs 5 bits plus
/// extra bits for its length and 5 for a new distance (2 for a recent one), a literal
/// run nothing beyond its literals. Blended with the measured prices by
/// [`MEASURED_WEIGHT`]: measured prices alone feed on themselves (a block parsed into many
/// short copies makes short copies cheap for the next one), which made a table 3% larger.
fn flat_prices() -> [[u32; SEQ_SYMS]; 3] {
    let mut of = [5 * BIT; SEQ_SYMS];
    of[..REP_CODES as usize].fill(2 * BIT);
    [[0; SEQ_SYMS], [5 * BIT; SEQ_SYMS], of]
}

impl Prices {
    /// Prices for `block`: from the symbols of the blocks before it when there are any
    /// (with the block's own bytes as a floor for literals), else from the block's bytes
    /// and the predefined tables.
    fn new(stats: Option<&Stats>, block: &[u8]) -> Self {
        let mut lit = [0u32; 256];
        for &b in block {
            lit[b as usize] += 1;
        }
        let (ll, ml, of) = match stats {
            Some(s) => {
                for (f, &c) in lit.iter_mut().zip(&s.lit) {
                    *f += c << 8;
                }
                (s.ll, s.ml, s.of)
            }
            None => (widen(&DEFAULT_LL), widen(&DEFAULT_ML), widen(&DEFAULT_OF)),
        };
        let mut seq = [code_prices(&ll), code_prices(&ml), code_prices(&of)];
        for ((t, flat), w) in seq.iter_mut().zip(flat_prices()).zip(MEASURED_WEIGHT) {
            for (x, y) in t.iter_mut().zip(flat) {
                *x = (*x * w + y * (16 - w)) / 16;
            }
        }
        let [ll, ml, of] = seq;
        let mut p = Prices {
            lit: code_prices(&lit).map(|x| x.clamp(BIT, 12 * BIT)),
            ll,
            ml,
            of,
            ll_short: [0; LL_CACHE],
            ml_short: [0; ML_CACHE + 1],
        };
        for v in 0..LL_CACHE {
            p.ll_short[v] = p.len_price(&p.ll, v as u32);
        }
        for l in MIN_COPY..=ML_CACHE {
            p.ml_short[l] = p.len_price(&p.ml, (l - MIN_COPY) as u32);
        }
        p
    }

    #[inline(always)]
    fn len_price(&self, table: &[u32; SEQ_SYMS], v: u32) -> u32 {
        let (code, extra, _) = len_code(v);
        table[code] + (extra << PRICE_LOG)
    }

    #[inline(always)]
    fn lit_len(&self, v: u32) -> u32 {
        match self.ll_short.get(v as usize) {
            Some(&p) => p,
            None => self.len_price(&self.ll, v),
        }
    }
}

/// Reusable memory of the optimal parser.
#[derive(Default)]
pub(super) struct OptimalScratch {
    nodes: Vec<Node>,
    /// Candidates at the current position, longest last.
    cands: Vec<(u32, u32)>,
    /// Path, from the block's end back to its start.
    path: Vec<(u32, u32)>,
    /// Counts of the previous block of the frame.
    stats: Option<Box<Stats>>,
}

impl OptimalScratch {
    /// Forgets the previous block (a new frame).
    pub(super) fn reset(&mut self) {
        self.stats = None;
    }

    /// Adds a parsed block's symbols to the statistics (see [`count`]).
    fn count(&mut self, seqs: &[Seq], lits: &[u8], trailing: &[u8]) {
        let stats = self.stats.get_or_insert_with(|| Box::new(Stats::EMPTY));
        count(stats, seqs, lits, trailing);
    }
}

impl MatchFinder {
    /// Parses `data[start..end]` along its cheapest estimated path; returns the anchor
    /// (start of the trailing literals).
    ///
    /// A frame's first block has no previous block to price from: it is first parsed
    /// greedily and by prices without counts, then with the prices of those two parses.
    pub(super) fn parse_optimal(
        &mut self,
        data: &[u8],
        p: Params,
        start: usize,
        end: usize,
        seqs: &mut Vec<Seq>,
        lits: &mut LitBuf,
    ) -> usize {
        let mut o = std::mem::take(&mut self.optimal);
        let first = o.stats.is_none() && start == self.frame_start;
        if first {
            // The first block's prices come from two parses made only for their counts: a
            // greedy one, and one priced without counts. Prices without counts alone
            // undervalue regular copies (a price model cannot see that a run of alike
            // sequences codes in a bit or two): 128 KiB of counting numbers came out 2.2x
            // larger, and level 9 was larger than level 3 there.
            let (first_seq, first_lit, reps, kinds) =
                (seqs.len(), lits.as_slice().len(), self.reps, self.kinds);
            for greedy in [true, false] {
                if greedy {
                    self.greedy_parse(&mut o, data, p, start, end, seqs, lits);
                } else {
                    let prices = Prices::new(None, &data[start..end]);
                    self.cheapest_path(&mut o, data, p, start, end, &prices);
                    self.emit_path(&mut o, data, start, seqs, lits);
                }
                seqs.truncate(first_seq);
                lits.truncate(first_lit);
                self.reps = reps;
                self.kinds = kinds;
                self.forget_positions(data);
            }
        }
        let prices = Prices::new(o.stats.as_deref(), &data[start..end]);
        if first {
            // The first parses only primed these prices: their counts are not kept.
            o.stats = None;
        }
        self.cheapest_path(&mut o, data, p, start, end, &prices);
        let anchor = self.emit_path(&mut o, data, start, seqs, lits);
        self.optimal = o;
        anchor
    }

    /// Fills `o.nodes[..=end - start]` with the cheapest known way to reach each position.
    fn cheapest_path(
        &mut self,
        o: &mut OptimalScratch,
        data: &[u8],
        p: Params,
        start: usize,
        end: usize,
        prices: &Prices,
    ) {
        let n = end - start;
        let ll0 = prices.lit_len(0);
        o.nodes.clear();
        // Exactly: a vector's doubling would hold up to twice the largest block after a
        // smaller one (parse memory is budgeted per position).
        o.nodes.reserve_exact(n + 1);
        o.nodes.resize(n + 1, UNREACHED);
        o.nodes[0] = Node {
            price: ll0,
            lit_len: 0,
            len: 0,
            dist: 0,
            reps: self.reps,
        };
        let limit = end - MIN_MATCH;
        let mut search_from = start;
        let mut last_found = start;
        for i in start..end {
            let k = i - start;
            let node = o.nodes[k];
            let lp = node.price + prices.lit[data[i] as usize] + prices.lit_len(node.lit_len + 1)
                - prices.lit_len(node.lit_len);
            let next = &mut o.nodes[k + 1];
            if lp < next.price {
                *next = Node {
                    price: lp,
                    lit_len: node.lit_len + 1,
                    len: 1,
                    dist: 0,
                    reps: node.reps,
                };
            }
            if i > limit || i < search_from {
                continue;
            }
            // Long stretches without a copy (incompressible data) are searched ever more
            // sparsely.
            let misses = i - last_found;
            if misses > SKIP_AFTER
                && !(misses - SKIP_AFTER).is_multiple_of((misses >> SKIP_LOG) + 1)
            {
                continue;
            }
            let base = node.price + ll0;
            // Copies from the recent distances along the cheapest path to here.
            let v = read_u32(data, i);
            let mut rep_best = 0;
            for &d in &node.reps.0 {
                let d = d as usize;
                if d == 0 || d > i || (read_u32(data, i - d) ^ v) & 0xFF_FFFF != 0 {
                    continue;
                }
                let len = MIN_COPY + common_len(data, i - d + MIN_COPY, i + MIN_COPY, end);
                let (off, reps) = node.reps.send(d as u32);
                let step = Step {
                    dist: d as u32,
                    off,
                    reps,
                };
                relax_lengths(
                    &mut o.nodes,
                    prices,
                    k,
                    MIN_COPY - 1,
                    len,
                    step,
                    base,
                    p.nice,
                );
                rep_best = rep_best.max(len);
            }
            o.cands.clear();
            let cands = &mut o.cands;
            let (best, _) =
                self.find_tree(data, p, i, end, |len, dist| cands.push((len as u32, dist)));
            if best > 0 || rep_best > 0 {
                last_found = i;
            }
            let mut shorter = MIN_COPY - 1;
            // The nearest 3-byte copy: nearer than any longer one, so its length 3 is the
            // cheapest copy of 3 bytes here.
            let h3 = hash3(v, self.short3_log);
            let c3 = std::mem::replace(&mut self.short3[h3], i as u32);
            if c3 != NONE && (read_u32(data, c3 as usize) ^ v) & 0xFF_FFFF == 0 {
                let dist = (i - c3 as usize) as u32;
                if dist as usize <= self.chain_mask {
                    let (off, reps) = node.reps.send(dist);
                    let step = Step { dist, off, reps };
                    relax_lengths(
                        &mut o.nodes,
                        prices,
                        k,
                        shorter,
                        MIN_COPY,
                        step,
                        base,
                        p.nice,
                    );
                    shorter = MIN_COPY;
                }
            }
            for &(len, dist) in &o.cands {
                let len = len as usize;
                let (off, reps) = node.reps.send(dist);
                let step = Step { dist, off, reps };
                relax_lengths(&mut o.nodes, prices, k, shorter, len, step, base, p.nice);
                shorter = len;
            }
            let best = best.max(rep_best);
            if best >= p.nice {
                // A copy this long is taken as is: no search inside it, and the positions
                // it covers are not misses (sparse data kept drifting into literals).
                search_from = i + best;
                last_found = search_from;
            }
        }
    }

    /// Parses `data[start..end]` greedily (the longest copy the trees find, else a literal)
    /// into `seqs` and `lits` and counts its symbols into `o.stats`.
    #[allow(clippy::too_many_arguments)]
    fn greedy_parse(
        &mut self,
        o: &mut OptimalScratch,
        data: &[u8],
        p: Params,
        start: usize,
        end: usize,
        seqs: &mut Vec<Seq>,
        lits: &mut LitBuf,
    ) {
        let (first_seq, first_lit) = (seqs.len(), lits.as_slice().len());
        let limit = end - MIN_MATCH;
        let (mut anchor, mut i) = (start, start);
        while i <= limit {
            let (len, dist) = self.find_tree(data, p, i, end, |_, _| {});
            if len >= MIN_MATCH {
                self.emit(data, anchor, i, len, dist, seqs, lits);
                i += len;
                anchor = i;
            } else {
                i += 1;
            }
        }
        o.count(
            &seqs[first_seq..],
            &lits.as_slice()[first_lit..],
            &data[anchor..end],
        );
    }

    /// Emits the path found by [`MatchFinder::cheapest_path`] for the block at `start`
    /// and counts its symbols into `o.stats`; returns the anchor.
    fn emit_path(
        &mut self,
        o: &mut OptimalScratch,
        data: &[u8],
        start: usize,
        seqs: &mut Vec<Seq>,
        lits: &mut LitBuf,
    ) -> usize {
        o.path.clear();
        let mut k = o.nodes.len() - 1;
        o.path.reserve_exact(k);
        while k > 0 {
            let node = &o.nodes[k];
            o.path.push((node.len, node.dist));
            k -= node.len as usize;
        }
        let (first_seq, first_lit) = (seqs.len(), lits.as_slice().len());
        let mut anchor = start;
        let mut pos = start;
        for &(len, dist) in o.path.iter().rev() {
            if dist > 0 {
                self.emit(data, anchor, pos, len as usize, dist, seqs, lits);
                anchor = pos + len as usize;
            }
            pos += len as usize;
        }
        o.count(
            &seqs[first_seq..],
            &lits.as_slice()[first_lit..],
            &data[anchor..pos],
        );
        anchor
    }
}

/// Weight in 1/16 that the counts of earlier blocks keep when a block's are added: the
/// prices follow the last few blocks, not the last one alone. With the last block's counts
/// alone, one block parsed into odd copies priced the next one after it, and binaries
/// could drift for many blocks (deeper searches made level 9's output larger there). On
/// 16 MB each: shared libraries 2.1% smaller, a table 1.0%, source tar 0.04%, prose the
/// same; 9 MB of tar 0.9% smaller; 1 MB inputs 0.05-0.2% larger (keeping all counts:
/// libraries 2.6% smaller, but prose and tar 0.2% larger).
const KEEP_SIXTEENTHS: u64 = 12;

/// Adds the symbol counts of `seqs` and the literals `lits` and `trailing` to `stats`,
/// after scaling its counts by [`KEEP_SIXTEENTHS`].
fn count(stats: &mut Stats, seqs: &[Seq], lits: &[u8], trailing: &[u8]) {
    let keep = |x: &mut u32| *x = (u64::from(*x) * KEEP_SIXTEENTHS / 16) as u32;
    stats.lit.iter_mut().for_each(keep);
    stats.ll.iter_mut().for_each(keep);
    stats.ml.iter_mut().for_each(keep);
    stats.of.iter_mut().for_each(keep);
    for &b in lits.iter().chain(trailing) {
        stats.lit[b as usize] += 1;
    }
    for s in seqs {
        stats.ll[len_code(s.lit_len).0] += 1;
        stats.ml[len_code(s.match_len - MIN_COPY as u32).0] += 1;
        stats.of[off_code(s.off).0] += 1;
    }
}

/// A copy's distance, the `off` value it is sent as and the recent distances after it.
#[derive(Clone, Copy)]
struct Step {
    dist: u32,
    off: u32,
    reps: Reps,
}

/// Relaxes copies of `step` from position `k` (reached at `base`, the next literal run's
/// price included) of every length above `shorter` up to `len`; a copy of `nice` bytes or
/// more only at its full length.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn relax_lengths(
    nodes: &mut [Node],
    prices: &Prices,
    k: usize,
    shorter: usize,
    len: usize,
    step: Step,
    base: u32,
    nice: usize,
) {
    let (code, extra, _) = off_code(step.off);
    let base = base + prices.of[code] + (extra << PRICE_LOG);
    let node = |l: usize, price: u32| Node {
        price,
        lit_len: 0,
        len: l as u32,
        dist: step.dist,
        reps: step.reps,
    };
    if len >= nice || len > ML_CACHE {
        let price = base + prices.len_price(&prices.ml, (len - MIN_COPY) as u32);
        if price < nodes[k + len].price {
            nodes[k + len] = node(len, price);
        }
        if len >= nice {
            return;
        }
    }
    // Every shorter length, priced from the table.
    let top = len.min(ML_CACHE);
    if top <= shorter {
        return;
    }
    let targets = &mut nodes[k + shorter + 1..=k + top];
    let ml = &prices.ml_short[shorter + 1..=top];
    for (l, (to, &m)) in (shorter + 1..).zip(targets.iter_mut().zip(ml)) {
        let price = base + m;
        if price < to.price {
            *to = node(l, price);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_follow_frequencies() {
        let p = code_prices(&[2047u32, 1023, 1023, 0]);
        let near = |x: u32, want: u32| x.abs_diff(want) <= 2;
        assert!(near(p[0], BIT), "{}", p[0]);
        assert!(near(p[1], 2 * BIT), "{}", p[1]);
        assert!(near(p[3], 12 * BIT), "{}", p[3]);
    }
}
