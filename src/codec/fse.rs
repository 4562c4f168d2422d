//! Table-based asymmetric numeral systems (tANS) for the sequence codes: normalized
//! counts from frequencies, their compact description, the spread of symbols over the
//! states, and the encoder and decoder transition tables (FORMAT.md 7.5).

use super::bits::{BitWriter, RevReader, SliceWriter};
use super::CodecError;

/// Largest accuracy log (states = 2^log) of a sequence table.
pub const MAX_LOG: u32 = 9;

/// Counts per symbol summing to `1 << log`; a used symbol has a count of at least 1.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub log: u32,
    pub counts: Vec<u16>,
}

fn floor_log2(x: u32) -> u32 {
    31 - x.leading_zeros()
}

impl Counts {
    /// Normalizes `freqs` (at least one used symbol) to `1 << log` states, `log` chosen
    /// from the number of symbols coded.
    pub fn normalize(freqs: &[u32]) -> Counts {
        let total: u64 = freqs.iter().map(|&f| u64::from(f)).sum();
        let used = freqs.iter().filter(|&&f| f > 0).count() as u32;
        if used == 1 {
            let counts = freqs.iter().map(|&f| u16::from(f > 0)).collect();
            return Counts { log: 0, counts };
        }
        let want = 64 - (total.max(2) - 1).leading_zeros();
        let log = want
            .saturating_sub(2)
            .clamp(5, MAX_LOG)
            .max(32 - (used - 1).leading_zeros());
        let size = 1u64 << log;
        let mut counts: Vec<u16> = freqs
            .iter()
            .map(|&f| {
                if f == 0 {
                    0
                } else {
                    ((u64::from(f) * size + total / 2) / total).max(1) as u16
                }
            })
            .collect();
        let mut sum: i64 = counts.iter().map(|&c| i64::from(c)).sum();
        // Give or take the difference from the largest counts.
        while sum != size as i64 {
            let (big, _) = counts
                .iter()
                .enumerate()
                .max_by_key(|&(i, &c)| (c, std::cmp::Reverse(i)))
                .unwrap_or((0, &0));
            if sum < size as i64 {
                counts[big] += (size as i64 - sum) as u16;
                sum = size as i64;
            } else {
                let take = (sum - size as i64).min(i64::from(counts[big]) - 1).max(1);
                counts[big] -= take as u16;
                sum -= take;
            }
        }
        Counts { log, counts }
    }

    /// Estimated bits to code symbols with `freqs` under these counts; `None` when a used
    /// symbol has no count.
    pub fn cost(&self, freqs: &[u32]) -> Option<f64> {
        let mut bits = 0.0;
        for (i, &f) in freqs.iter().enumerate() {
            if f == 0 {
                continue;
            }
            let c = *self.counts.get(i)?;
            if c == 0 {
                return None;
            }
            bits += f64::from(f) * (self.log as f64 - f64::from(c).log2());
        }
        Some(bits)
    }

    /// Appends the description: accuracy log (4 bits), symbols described minus one
    /// (`sym_bits` bits), then each count but the last as an Elias-gamma code of count + 1;
    /// the last symbol takes what is left.
    pub fn write(&self, sym_bits: u32, w: &mut BitWriter<'_>) {
        let used = self
            .counts
            .iter()
            .rposition(|&c| c > 0)
            .map_or(1, |p| p + 1);
        w.write(u64::from(self.log), 4);
        w.write((used - 1) as u64, sym_bits);
        for &c in &self.counts[..used - 1] {
            let v = u32::from(c) + 1;
            let n = floor_log2(v);
            // n zero bits, then v's n + 1 bits with the top one first (reversed).
            let rev = u64::from(v.reverse_bits() >> (31 - n));
            w.write(rev << n, 2 * n + 1);
        }
    }

    /// Reads a description written by [`Counts::write`] for an alphabet of `alphabet`
    /// symbols (`sym_bits` = its log2).
    pub fn read(
        r: &mut super::bits::BitReader<'_>,
        alphabet: usize,
        sym_bits: u32,
        at: usize,
    ) -> Result<Counts, CodecError> {
        let bad = |what: String| CodecError::new(at, format!("sequence table: {what}"));
        let log = r.read(4);
        // Logs 1 and 3 would make the spread step a multiple of the table size, so the
        // spread would not reach every state (FORMAT.md 7.5.2).
        if log > MAX_LOG || log == 1 || log == 3 {
            return Err(bad(format!(
                "accuracy log is {log}, should be 0, 2 or 4 to {MAX_LOG}"
            )));
        }
        let used = r.read(sym_bits) as usize + 1;
        let size = 1u32 << log;
        let mut left = size;
        let mut counts = vec![0u16; alphabet];
        for c in counts.iter_mut().take(used - 1) {
            r.ensure(32);
            let zeros = (r.bits() | 1 << 31).trailing_zeros();
            if zeros > 10 {
                return Err(bad("count code longer than 21 bits".into()));
            }
            r.consume(zeros);
            let v = (r.read(zeros + 1) as u64).reverse_bits() >> (63 - zeros);
            let count = v as u32 - 1;
            if count > left {
                return Err(bad(format!("counts exceed {size} states")));
            }
            *c = count as u16;
            left -= count;
        }
        if left == 0 {
            return Err(bad("the last symbol has no states left".into()));
        }
        counts[used - 1] = left as u16;
        if r.overrun() {
            return Err(bad("description ends early".into()));
        }
        Ok(Counts { log, counts })
    }

    /// State positions in spread order: the symbol of each of the table's states, in
    /// the first `1 << log` bytes of the array (`log` at most [`MAX_LOG`]).
    fn spread(&self) -> [u8; 1 << MAX_LOG] {
        let mut table = [0u8; 1 << MAX_LOG];
        let size = 1usize << self.log;
        if size == 1 {
            table[0] = self.counts.iter().position(|&c| c > 0).unwrap_or(0) as u8;
            return table;
        }
        let mask = size - 1;
        let step = (size >> 1) + (size >> 3) + 3;
        let mut pos = 0usize;
        for (s, &c) in self.counts.iter().enumerate() {
            for _ in 0..c {
                table[pos & ((1 << MAX_LOG) - 1)] = s as u8;
                pos = (pos + step) & mask;
            }
        }
        table
    }
}

/// Decoder entry: what a state decodes to and how to reach the next state.
#[derive(Clone, Copy, Default)]
pub struct DecodeEntry {
    /// Next state = `base` + `nb` bits read.
    pub base: u16,
    pub nb: u8,
    pub symbol: u8,
}

/// Passes the decoder entry of each state of `counts`' table (log at most [`MAX_LOG`]),
/// in state order, to `entry(state, entry)`.
#[inline(always)]
pub fn decode_entries(counts: &Counts, mut entry: impl FnMut(usize, DecodeEntry)) {
    let size = 1u32 << counts.log;
    let spread = counts.spread();
    let mut next = [0u32; 256];
    for (n, &c) in next.iter_mut().zip(&counts.counts) {
        *n = u32::from(c);
    }
    for (state, &s) in spread[..size as usize].iter().enumerate() {
        let x = next[usize::from(s)];
        next[usize::from(s)] += 1;
        let nb = counts.log - floor_log2(x);
        entry(
            state,
            DecodeEntry {
                base: ((x << nb) - size) as u16,
                nb: nb as u8,
                symbol: s,
            },
        );
    }
}

/// Symbols an encoder table can hold (the sequence alphabets' size).
pub const MAX_SYMS: usize = 64;

/// Encoder side of a table.
#[derive(Clone)]
pub struct Encoder {
    /// Per symbol: `(k << 16) - (count << k)` with `k` its most bits, so that the bits
    /// a state `s` emits are `(s + that) >> 16`; and its first index into `next` minus its
    /// count. Fixed-size, so a code masked into range needs no bounds check.
    sym: [(u32, i32); MAX_SYMS],
    /// First index into `next` of each symbol's states.
    first: [u16; MAX_SYMS],
    /// Encoder states (size + position) of each symbol's states, in increasing order.
    next: Box<[u16; 1 << MAX_LOG]>,
    size: u32,
    log: u32,
}

impl Default for Encoder {
    fn default() -> Self {
        Encoder {
            sym: [(0, 0); MAX_SYMS],
            first: [0; MAX_SYMS],
            next: Box::new([0; 1 << MAX_LOG]),
            size: 1,
            log: 0,
        }
    }
}

impl Encoder {
    /// The encoder of `counts` (at most [`MAX_SYMS`] symbols, log at most [`MAX_LOG`]).
    pub fn new(counts: &Counts) -> Encoder {
        assert!(counts.counts.len() <= MAX_SYMS && counts.log <= MAX_LOG);
        let size = 1u32 << counts.log;
        let spread = counts.spread();
        let mut enc = Encoder {
            size,
            log: counts.log,
            ..Encoder::default()
        };
        let mut cum = 0u32;
        for (i, &c) in counts.counts.iter().enumerate() {
            let c = u32::from(c);
            if c > 0 {
                // A state s in [size, 2 size) emits k bits when s >= c << k, else k - 1.
                let k = counts.log - floor_log2(c);
                enc.sym[i] = ((k << 16).wrapping_sub(c << k), cum as i32 - c as i32);
            }
            enc.first[i] = cum as u16;
            cum += c;
        }
        let mut fill = enc.first;
        for (p, &s) in spread[..size as usize].iter().enumerate() {
            enc.next[usize::from(fill[usize::from(s)])] = (size + p as u32) as u16;
            fill[usize::from(s)] += 1;
        }
        enc
    }

    /// The state that starts coding (backwards) with `symbol` last.
    #[inline]
    pub fn first_state(&self, symbol: usize) -> u32 {
        u32::from(self.next[usize::from(self.first[symbol])])
    }

    /// Moves from `state` (which decodes the following symbol) to a state decoding
    /// `symbol`; returns the bits (value, count) the decoder reads to get back.
    #[inline(always)]
    pub fn step(&self, state: &mut u32, symbol: usize) -> (u64, u32) {
        let (delta_bits, delta_state) = self.sym[symbol % MAX_SYMS];
        let nb = state.wrapping_add(delta_bits) >> 16;
        let bits = u64::from(*state & ((1 << nb) - 1));
        let at = ((*state >> nb) as i32).wrapping_add(delta_state) as usize;
        *state = u32::from(self.next[at % (1 << MAX_LOG)]);
        (bits, nb)
    }

    /// The bits of the final state for the decoder's start: (value, count).
    pub fn final_bits(&self, state: u32) -> (u64, u32) {
        (u64::from(state - self.size), self.log)
    }
}

/// Ends a sequence stream so that [`RevReader`] reads its bits back last first: writes
/// the end marker and returns the stream's length.
pub fn finish_stream(mut w: SliceWriter<'_>) -> usize {
    w.write(1, 1);
    w.finish_len()
}

/// Opens a stream written with [`finish_stream`]; `None` when its last byte is zero.
pub fn open_stream(data: &[u8]) -> Option<RevReader<'_>> {
    let &last = data.last()?;
    if last == 0 {
        return None;
    }
    let top = (data.len() - 1) * 8 + (7 - last.leading_zeros() as usize);
    Some(RevReader::new(data, top))
}

#[cfg(test)]
mod tests {
    use super::super::bits::BitReader;
    use super::*;

    fn check_round_trip(freqs: &[u32], symbols: &[usize]) {
        let counts = Counts::normalize(freqs);
        assert_eq!(
            counts.counts.iter().map(|&c| u32::from(c)).sum::<u32>(),
            1 << counts.log
        );
        let mut desc = Vec::new();
        let mut w = BitWriter::new(&mut desc, 0);
        counts.write(6, &mut w);
        w.finish();
        let parsed = Counts::read(&mut BitReader::new(&desc), freqs.len(), 6, 0).unwrap();
        assert_eq!(parsed, counts);
        let enc = Encoder::new(&counts);
        let mut table = vec![DecodeEntry::default(); 1 << parsed.log];
        decode_entries(&parsed, |state, e| table[state] = e);
        // Encode backwards, decode forwards.
        let mut out = vec![0u8; symbols.len() * 2 + 16];
        let mut w = SliceWriter::new(&mut out);
        let mut state = enc.first_state(*symbols.last().unwrap());
        for &s in symbols[..symbols.len() - 1].iter().rev() {
            let (v, n) = enc.step(&mut state, s);
            w.write(v, n);
        }
        let (v, n) = enc.final_bits(state);
        w.write(v, n);
        let end = finish_stream(w);
        out.truncate(end);
        let mut r = open_stream(&out).unwrap();
        let mut st = r.read(counts.log) as usize;
        for (i, &s) in symbols.iter().enumerate() {
            let e = table[st];
            assert_eq!(usize::from(e.symbol), s, "symbol {i}");
            if i + 1 < symbols.len() {
                r.refill();
                st = usize::from(e.base) + r.read(u32::from(e.nb)) as usize;
            }
        }
        assert!(r.is_done());
    }

    #[test]
    fn tables_round_trip() {
        let mut x = 5u32;
        let syms: Vec<usize> = (0..4000)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                let r = (x >> 16) % 100;
                if r < 60 {
                    0
                } else if r < 90 {
                    (r % 5) as usize + 1
                } else {
                    (r % 40) as usize + 6
                }
            })
            .collect();
        let mut freqs = vec![0u32; 64];
        for &s in &syms {
            freqs[s] += 1;
        }
        check_round_trip(&freqs, &syms);
        // Nearly one symbol: it costs far less than a bit each.
        let mut skew = vec![0usize; 3000];
        skew[1234] = 7;
        let mut f = vec![0u32; 64];
        f[0] = 2999;
        f[7] = 1;
        check_round_trip(&f, &skew);
        let c = Counts::normalize(&f);
        assert!(c.cost(&f).unwrap() < 300.0);
        // One symbol: a table of one state and no bits.
        let mut one = vec![0u32; 64];
        one[9] = 50;
        check_round_trip(&one, &[9; 50]);
    }
}
