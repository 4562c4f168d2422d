//! Price-based parsing for the strongest levels: every copy length found at every position
//! is weighed by its estimated cost in bits, and the cheapest path through the block wins.

use super::{common_len, read_u32, LitBuf, MatchFinder, Params, Seq, MIN_MATCH, SKIP_LOG};

/// Prices are in 1/16 bit.
const SCALE: u32 = 16;
/// Every length up to this is tried for each candidate; longer candidates are tried whole.
const ALL_LENGTHS: usize = 16;

/// Positions without any candidate before the search starts skipping; it then probes one
/// position in `1 + misses >> SKIP_LOG`.
const SKIP_AFTER: usize = 256;

/// Bytes of [`OptimalScratch`] per position of a block.
pub(super) const BYTES_PER_POSITION: usize = 16;

/// Reusable memory of the optimal parser.
#[derive(Default)]
pub(super) struct OptimalScratch {
    /// Cheapest known price to reach each position of the block.
    price: Vec<u32>,
    /// How that price was reached: (length, distance); distance 0 = one literal.
    step: Vec<(u32, u32)>,
    /// Distance of the last copy on the cheapest path to each position (the likely
    /// repeat distance there).
    last_dist: Vec<u32>,
    /// Candidates at the current position, longest last.
    cands: Vec<(u32, u32)>,
    /// Path, from the block's end back to its start.
    path: Vec<(u32, u32)>,
}

/// Extra bits of a length or distance value (see the block's length codes).
#[inline(always)]
fn extra_bits(v: u32) -> u32 {
    if v < 16 {
        0
    } else {
        30 - v.leading_zeros()
    }
}

/// Estimated price of a copy: length and offset symbols, their extra bits, and the
/// sequence's literal-length symbol.
#[inline(always)]
fn copy_price(len: usize, dist: u32, rep: bool) -> u32 {
    let len_bits = 3 + extra_bits(len as u32 - MIN_MATCH as u32);
    let off_bits = if rep { 2 } else { 5 + extra_bits(dist + 3) };
    (len_bits + off_bits + 2) * SCALE
}

/// Literal prices from the byte frequencies of `block`.
fn literal_prices(block: &[u8]) -> [u32; 256] {
    let mut freq = [0u32; 256];
    for &b in block {
        freq[b as usize] += 1;
    }
    let total = block.len().max(1) as f64;
    let mut price = [0u32; 256];
    for (p, &f) in price.iter_mut().zip(&freq) {
        let bits = (total / f64::from(f.max(1))).log2().clamp(1.0, 12.0);
        *p = (bits * f64::from(SCALE)) as u32;
    }
    price
}

impl MatchFinder {
    /// Parses `data[start..end]` along its cheapest estimated path; returns the anchor
    /// (start of the trailing literals).
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
        let n = end - start;
        let lit_price = literal_prices(&data[start..end]);
        o.price.clear();
        o.price.resize(n + 1, u32::MAX);
        o.step.clear();
        o.step.resize(n + 1, (0, 0));
        o.last_dist.clear();
        o.last_dist.resize(n + 1, 0);
        o.price[0] = 0;
        o.last_dist[0] = self.reps.0[0];
        let limit = end - MIN_MATCH;
        let mut search_from = start;
        let mut last_found = start;
        for i in start..end {
            let k = i - start;
            let base = o.price[k];
            let lp = base + lit_price[data[i] as usize];
            if lp < o.price[k + 1] {
                o.price[k + 1] = lp;
                o.step[k + 1] = (1, 0);
                o.last_dist[k + 1] = o.last_dist[k];
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
            // The repeat distance along the cheapest path to here.
            let rep = o.last_dist[k] as usize;
            if rep > 0 && rep <= i && read_u32(data, i - rep) == read_u32(data, i) {
                let len = MIN_MATCH + common_len(data, i - rep + MIN_MATCH, i + MIN_MATCH, end);
                relax_lengths(&mut o, k, MIN_MATCH - 1, len, rep as u32, base, true);
            }
            o.cands.clear();
            let cands = &mut o.cands;
            let (best, _) =
                self.find_chain(data, p, i, end, |len, dist| cands.push((len as u32, dist)));
            if best > 0 {
                last_found = i;
            }
            let mut shorter = MIN_MATCH - 1;
            for ci in 0..o.cands.len() {
                let (len, dist) = o.cands[ci];
                let len = len as usize;
                relax_lengths(&mut o, k, shorter, len, dist, base, false);
                shorter = len;
            }
            if best >= p.nice {
                // A copy this long is taken as is: no search inside it.
                search_from = i + best;
            }
        }
        // Walk back along the cheapest path, then emit it forwards.
        o.path.clear();
        let mut k = n;
        while k > 0 {
            let (len, dist) = o.step[k];
            o.path.push((len, dist));
            k -= len as usize;
        }
        let mut anchor = start;
        let mut pos = start;
        for &(len, dist) in o.path.iter().rev() {
            if dist > 0 {
                self.emit(data, anchor, pos, len as usize, dist, seqs, lits);
                anchor = pos + len as usize;
            }
            pos += len as usize;
        }
        self.optimal = o;
        anchor
    }
}

/// Relaxes copies at `dist` from position `k` (reached at price `base`) of every length
/// above `shorter` up to [`ALL_LENGTHS`], and of the full `len`.
fn relax_lengths(
    o: &mut OptimalScratch,
    k: usize,
    shorter: usize,
    len: usize,
    dist: u32,
    base: u32,
    rep: bool,
) {
    for l in shorter + 1..=len.min(ALL_LENGTHS) {
        relax(o, k, l, dist, base + copy_price(l, dist, rep));
    }
    relax(o, k, len, dist, base + copy_price(len, dist, rep));
}

/// Records reaching position `k + len` by a copy of `len` at `dist` for `price` if cheaper.
#[inline(always)]
fn relax(o: &mut OptimalScratch, k: usize, len: usize, dist: u32, price: u32) {
    let to = k + len;
    if price < o.price[to] {
        o.price[to] = price;
        o.step[to] = (len as u32, dist);
        o.last_dist[to] = dist;
    }
}
