//! Where the encoder cuts a parsed block into smaller coded blocks. A block's sequences
//! are grouped into leaves of about [`LEAF`] raw bytes; a span of leaves is halved while
//! coding the halves with tables of their own is estimated to cost less than coding the
//! span with one set: order-0 entropy of the literals and the three sequence codes, plus
//! the table descriptions the extra block sends. Binaries, whose code, data and string
//! sections have different statistics, gain the most; prose is rarely cut.

use super::literals::{add_tables, count_into, LIT_SYMS};
use super::sequences::{Coded, Seq, SEQ_SYMS};

/// Raw bytes of a leaf, the smallest part a block is cut into (the last leaf of a block
/// may be shorter).
const LEAF: usize = 16 * 1024;

/// Blocks with fewer sequences are not cut: too few for the statistics to tell.
pub const MIN_SEQS: usize = 64;

/// Blocks of fewer raw bytes are not cut.
pub const MIN_RAW: usize = 2 * LEAF;

/// Fraction of a span's estimated cost that halving it must save: each part costs the
/// decoder table builds and the encoder its own tables. On 16 MiB of shared libraries at
/// level 3, against planning but never cutting, cutting at any saving made the output 1.9%
/// smaller for 9% more encode and 7% more decode instructions; at 1%, 1.5% smaller for 5%
/// and 3.4%.
const MIN_GAIN: f64 = 0.01;

/// Bits of the header a coded block adds besides its tables: its kind and three sizes,
/// the table modes, the sequence stream's size and the four literal streams' sizes.
const BLOCK_HEADER_BITS: f64 = 80.0;

/// One part of a cut block: the ends (exclusive) of its sequences, literals and raw
/// bytes, counted from the block's start.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Part {
    pub seqs: usize,
    pub lits: usize,
    pub raw: usize,
}

/// Symbol counts of a span of a block: its literal bytes and its sequences' codes.
#[derive(Clone)]
pub struct Hist {
    pub lits: [u32; LIT_SYMS],
    pub codes: [[u32; SEQ_SYMS]; 3],
}

/// Counts of the literal bytes, then of the literal length, match length and offset
/// codes, in one array.
type Counts = [u32; COUNTS];
const COUNTS: usize = LIT_SYMS + 3 * SEQ_SYMS;

/// The counts of a span: the running counts at its end less those at its start.
fn span(from: &Counts, to: &Counts) -> Counts {
    let mut d = [0u32; COUNTS];
    for ((d, &a), &b) in d.iter_mut().zip(from).zip(to) {
        *d = b - a;
    }
    d
}

/// Estimated bits to code a span with counts `c` as a block of its own: entropy of each
/// alphabet plus its table's description and the block's header.
fn cost(c: &Counts) -> f64 {
    let (lits, codes) = c.split_at(LIT_SYMS);
    let mut bits = BLOCK_HEADER_BITS;
    let (lit_bits, last) = entropy(lits);
    if let Some(last) = last {
        // A Huffman description: about 3 bits per symbol up to the last one used.
        bits += lit_bits + 16.0 + 3.0 * (last + 1) as f64;
    }
    for codes in codes.chunks_exact(SEQ_SYMS) {
        let (code_bits, last) = entropy(codes);
        if code_bits > 0.0 {
            bits += code_bits + table_bits(codes, last.unwrap_or(0));
        }
    }
    bits
}

/// Order-0 entropy of `freqs` in bits (the sum over symbols of f * log2(n / f)) and the
/// last symbol used.
fn entropy(freqs: &[u32]) -> (f64, Option<usize>) {
    let (mut n, mut sum, mut last) = (0u32, 0.0f64, None);
    for (s, &f) in freqs.iter().enumerate() {
        if f > 0 {
            n += f;
            sum += f64::from(f) * log2(f);
            last = Some(s);
        }
    }
    if n == 0 {
        return (0.0, None);
    }
    (f64::from(n) * log2(n) - sum, last)
}

/// `log2(x)` for `x >= 1`, to within 1e-5, in plain arithmetic (so that every machine
/// makes the same cuts): the exponent, plus `ln(m) / ln(2)` of the mantissa `m` in [1, 2)
/// from the series `2 (t + t^3/3 + ... + t^9/9)`, `t = (m - 1) / (m + 1)`.
fn log2(x: u32) -> f64 {
    let e = 31 - x.leading_zeros();
    let m = f64::from(x) / f64::from(1u32 << e);
    let t = (m - 1.0) / (m + 1.0);
    let t2 = t * t;
    let ln = 2.0 * t * (1.0 + t2 * (1.0 / 3.0 + t2 * (1.0 / 5.0 + t2 * (1.0 / 7.0 + t2 / 9.0))));
    f64::from(e) + ln * std::f64::consts::LOG2_E
}

/// Estimated bits of a sequence table's description (FORMAT.md 7.4: a gamma code per
/// normalized count of 512 states, up to the symbol `last`).
fn table_bits(freqs: &[u32], last: usize) -> f64 {
    let n: u32 = freqs.iter().sum();
    let mut bits = 10u32;
    for &f in &freqs[..last] {
        let x = (u64::from(f) * 512 / u64::from(n.max(1))).max(u64::from(f > 0)) as u32;
        bits += 2 * (31 - (x + 1).leading_zeros()) + 1;
    }
    f64::from(bits)
}

/// Bytes the splitter and the parts it plans take for blocks of `block` bytes.
pub fn memory(block: usize) -> usize {
    let entries = block / LEAF + 2;
    entries * (std::mem::size_of::<(Part, Counts)>() + std::mem::size_of::<(Part, Hist)>())
}

/// Reusable memory of the splitter.
#[derive(Default)]
pub struct Splitter {
    /// Where each leaf ends.
    cuts: Vec<Part>,
    /// Where each leaf ends, and the block's running counts there (after a first entry
    /// of zeros for the block's start).
    ends: Vec<(Part, Counts)>,
}

impl Splitter {
    /// Cuts a parsed block (`seqs`, then the block's literals `lits`, the last of them
    /// after the last sequence; `raw` bytes in all, at least [`MIN_RAW`]) into `parts`,
    /// in order, each with its symbol counts; one part covering the whole block when
    /// cutting does not pay. Fills `coded` with the sequences' coded forms.
    pub fn plan(
        &mut self,
        seqs: &[Seq],
        coded: &mut Vec<Coded>,
        lits: &[u8],
        raw: usize,
        parts: &mut Vec<(Part, Hist)>,
    ) {
        parts.clear();
        // Leaves end at the first sequence end at least LEAF bytes after their start,
        // unless less than half a leaf would be left.
        self.cuts.clear();
        let last_cut = raw - LEAF / 2;
        let (mut lit_end, mut raw_end, mut leaf_start) = (0, 0, 0);
        for (i, q) in seqs.iter().enumerate() {
            lit_end += q.lit_len as usize;
            raw_end += (q.lit_len + q.match_len) as usize;
            if raw_end >= leaf_start + LEAF && raw_end <= last_cut {
                self.cuts.push(Part {
                    seqs: i + 1,
                    lits: lit_end,
                    raw: raw_end,
                });
                leaf_start = raw_end;
            }
        }
        self.cuts.push(Part {
            seqs: seqs.len(),
            lits: lits.len(),
            raw,
        });
        // Per leaf, one pass codes its sequences and counts their codes; the counts run
        // on from leaf to leaf.
        self.ends.clear();
        self.ends.push((Part::default(), [0; COUNTS]));
        coded.clear();
        let mut running = [0u32; COUNTS];
        let mut lit_tables = [[0u32; LIT_SYMS]; 4];
        let mut from = Part::default();
        for &to in &self.cuts {
            let codes = &mut running[LIT_SYMS..];
            coded.extend(seqs[from.seqs..to.seqs].iter().map(|q| {
                let c = Coded::new(q);
                for (k, &code) in c.codes.iter().enumerate() {
                    codes[k * SEQ_SYMS + usize::from(code) % SEQ_SYMS] += 1;
                }
                c
            }));
            count_into(&lits[from.lits..to.lits], &mut lit_tables);
            running[..LIT_SYMS].fill(0);
            add_tables(&lit_tables, &mut running[..LIT_SYMS]);
            self.ends.push((to, running));
            from = to;
        }
        self.halve(0, self.ends.len() - 1, &running, cost(&running), parts);
    }

    /// Appends the parts of leaves `a..b` (whose counts are `c`, costing `bits`): the
    /// span whole, or each half's parts when that is estimated to save [`MIN_GAIN`].
    fn halve(&self, a: usize, b: usize, c: &Counts, bits: f64, parts: &mut Vec<(Part, Hist)>) {
        if b - a >= 2 {
            let m = (a + b) / 2;
            let left = span(&self.ends[a].1, &self.ends[m].1);
            let right = span(&self.ends[m].1, &self.ends[b].1);
            let (left_bits, right_bits) = (cost(&left), cost(&right));
            if left_bits + right_bits < bits * (1.0 - MIN_GAIN) {
                self.halve(a, m, &left, left_bits, parts);
                self.halve(m, b, &right, right_bits, parts);
                return;
            }
        }
        let mut hist = Hist {
            lits: [0; LIT_SYMS],
            codes: [[0; SEQ_SYMS]; 3],
        };
        let (lits, codes) = c.split_at(LIT_SYMS);
        hist.lits.copy_from_slice(lits);
        for (h, c) in hist.codes.iter_mut().zip(codes.chunks_exact(SEQ_SYMS)) {
            h.copy_from_slice(c);
        }
        parts.push((self.ends[b].0, hist));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sequences of `per_seq` literals and a 4-byte copy at `dist` each, over `lits`; and
    /// the raw bytes they cover.
    fn block(lits: &[u8], per_seq: usize, dist: u32) -> (Vec<Seq>, usize) {
        let seqs: Vec<Seq> = (0..lits.len() / per_seq)
            .map(|_| Seq {
                lit_len: per_seq as u32,
                match_len: 4,
                off: dist + 3,
            })
            .collect();
        let raw = lits.len() + 4 * seqs.len();
        (seqs, raw)
    }

    fn plan(lits: &[u8], seqs: &[Seq], raw: usize) -> Vec<Part> {
        let mut parts = Vec::new();
        let mut coded = Vec::new();
        Splitter::default().plan(seqs, &mut coded, lits, raw, &mut parts);
        assert_eq!(coded.len(), seqs.len());
        parts.into_iter().map(|(p, _)| p).collect()
    }

    #[test]
    fn a_uniform_block_stays_whole() {
        let lits: Vec<u8> = (0..100_000u32)
            .map(|i| b"etaoin shrdlu"[(i * 7 % 13) as usize])
            .collect();
        let (seqs, raw) = block(&lits, 10, 100);
        let parts = plan(&lits, &seqs, raw);
        assert_eq!(
            parts,
            [Part {
                seqs: seqs.len(),
                lits: lits.len(),
                raw
            }]
        );
    }

    #[test]
    fn a_block_is_cut_where_its_statistics_change() {
        // Text-like literals and near copies, then high bytes and far copies.
        let mut lits: Vec<u8> = (0..50_000u32)
            .map(|i| b"etaoin shrdlu"[(i * 7 % 13) as usize])
            .collect();
        lits.extend((0..50_000u32).map(|i| 0x80 | (i.wrapping_mul(2_654_435_761) >> 25) as u8));
        let (mut seqs, raw) = block(&lits, 10, 100);
        let half = seqs.len() / 2;
        for q in &mut seqs[half..] {
            q.off = 40_000 + 3;
        }
        let parts = plan(&lits, &seqs, raw);
        assert!(parts.len() >= 2, "{parts:?}");
        // The parts tile the block, in order, and one ends at the change.
        assert_eq!(
            parts.last().map(|p| (p.seqs, p.lits, p.raw)),
            Some((seqs.len(), lits.len(), raw))
        );
        assert!(parts
            .windows(2)
            .all(|w| w[0].seqs < w[1].seqs && w[0].raw < w[1].raw));
        assert!(
            parts
                .iter()
                .any(|p| p.seqs.abs_diff(half) <= seqs.len() / 8),
            "{parts:?}"
        );
    }

    #[test]
    fn log2_is_close() {
        for x in [1u32, 2, 3, 5, 100, 1000, 65_535, 1 << 20, u32::MAX] {
            let err = (log2(x) - f64::from(x).log2()).abs();
            assert!(err < 1e-5, "{x}: {err}");
        }
    }
}
