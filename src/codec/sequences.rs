//! The sequence section of a coded block: per sequence a literal length, a match length
//! and an offset, each sent as a Huffman-coded code plus extra bits, with per-alphabet
//! table modes (predefined, single symbol, new, same as before); decoding is fused with
//! executing the sequences into the frame (FORMAT.md 7.4).

use super::bits::{BitReader, BitWriter};
use super::huffman::{self, take, Encoder, MAX_CODE_LEN};
use super::{CodecError, GlyphCounts};
use crate::base::varint;

/// Shortest copy a sequence can describe.
pub const MIN_MATCH: usize = 4;
/// `off` values 1..=REP_CODES name a recent distance; larger values are distance + REP_CODES.
pub const REP_CODES: u32 = 3;
/// Symbols in each of the three sequence alphabets.
pub const SEQ_SYMS: usize = 64;

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

/// Repeat-distance history, most recent first. Starts as (1, 4, 8) at every frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reps(pub [u32; 3]);

impl Default for Reps {
    fn default() -> Self {
        Reps([1, 4, 8])
    }
}

impl Reps {
    /// Resolves an `off` value to a distance and updates the history as the decoder does.
    /// An `off` below 1 gives a distance no frame has (the decoder rejects it).
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
                let d = off.wrapping_sub(REP_CODES);
                r[2] = r[1];
                r[1] = r[0];
                r[0] = d;
                d
            }
        }
    }
}

/// Code of a length value: values below 16 are their own code; above, a code carries the
/// top two bits and the rest follow as extra bits. Returns (code, extra bits, extra value).
#[inline(always)]
pub fn len_code(v: u32) -> (usize, u32, u32) {
    if v < 16 {
        (v as usize, 0, 0)
    } else {
        let n = 31 - v.leading_zeros();
        let m = (v >> (n - 1)) & 1;
        let code = 16 + (n as usize - 4) * 2 + m as usize;
        (code, n - 1, v & ((1 << (n - 1)) - 1))
    }
}

/// (base, extra bits) of each length code.
const fn len_bases() -> [(u32, u32); SEQ_SYMS] {
    let mut t = [(0u32, 0u32); SEQ_SYMS];
    let mut code = 0;
    while code < SEQ_SYMS {
        if code < 16 {
            t[code] = (code as u32, 0);
        } else {
            let k = (code - 16) as u32;
            let n = k / 2 + 4;
            let m = k & 1;
            t[code] = ((1 << n) | (m << (n - 1)), n - 1);
        }
        code += 1;
    }
    t
}

pub const LEN_BASE: [(u32, u32); SEQ_SYMS] = len_bases();

/// (smallest value, extra bits) of each code of the three alphabets, in the units of
/// [`Seq`]: literal length, match length, `off`.
const fn value_bases() -> [[(u32, u32); SEQ_SYMS]; 3] {
    let mut t = [[(0u32, 0u32); SEQ_SYMS]; 3];
    let mut code = 0;
    while code < SEQ_SYMS {
        let (base, n) = LEN_BASE[code];
        t[0][code] = (base, n);
        t[1][code] = (base + MIN_MATCH as u32, n);
        t[2][code] = if code < 3 {
            (code as u32 + 1, 0)
        } else {
            (LEN_BASE[code - 3].0 + REP_CODES, LEN_BASE[code - 3].1)
        };
        code += 1;
    }
    t
}

const VALUE_BASE: [[(u32, u32); SEQ_SYMS]; 3] = value_bases();

/// Offset codes: 0..=2 name a repeat distance, 3.. are `len_code(distance)` + 3.
#[inline(always)]
pub fn off_code(off: u32) -> (usize, u32, u32) {
    if off <= REP_CODES {
        ((off - 1) as usize, 0, 0)
    } else {
        let (c, n, e) = len_code(off - REP_CODES);
        (c + 3, n, e)
    }
}

/// Predefined code lengths, used by table mode 0 (FORMAT.md 7.4). They are Huffman code
/// lengths (limited to 11 bits, complete) of the level-3 sequence codes of 4 KiB, 64 KiB
/// and 128 KiB blocks of prose, source code, a tab-separated table and shared libraries,
/// weighted 45/35/20 by block size, with every code of a value a frame can hold given at
/// least a small count (offset code 3, distance 0, has none).
#[rustfmt::skip]
pub const DEFAULT_LL: [u8; SEQ_SYMS] = [2, 2, 3, 4, 4, 5, 5, 5, 6, 6, 6, 7, 7, 7, 7, 8, 5, 7, 7, 8, 7, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 10, 10, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
#[rustfmt::skip]
pub const DEFAULT_ML: [u8; SEQ_SYMS] = [2, 3, 3, 4, 4, 4, 5, 5, 5, 6, 6, 5, 6, 6, 7, 7, 4, 6, 7, 8, 8, 10, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 10, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
#[rustfmt::skip]
pub const DEFAULT_OF: [u8; SEQ_SYMS] = [3, 6, 7, 0, 8, 11, 11, 11, 11, 11, 10, 10, 10, 10, 10, 10, 10, 9, 9, 6, 6, 5, 6, 5, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 5, 5, 5, 5, 5, 6, 5, 7, 8, 10, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11];

const MODE_DEFAULT: u8 = 0;
const MODE_SINGLE: u8 = 1;
const MODE_NEW: u8 = 2;
const MODE_REPEAT: u8 = 3;

/// What an alphabet's table will be in this block.
struct Choice {
    mode: u8,
    lengths: Vec<u8>,
}

/// Picks the cheapest table mode for `freqs` (at least one used symbol).
fn choose(freqs: &[u32; SEQ_SYMS], prev: &[u8], default: &[u8], desc: &mut Vec<u8>) -> Choice {
    let used: Vec<usize> = (0..SEQ_SYMS).filter(|&s| freqs[s] > 0).collect();
    if let [only] = used[..] {
        // One byte of symbol, no bits per sequence, unless the table in force costs less.
        let mut lengths = vec![0u8; SEQ_SYMS];
        lengths[only] = 1;
        if prev == &lengths[..] {
            return Choice {
                mode: MODE_REPEAT,
                lengths,
            };
        }
        return Choice {
            mode: MODE_SINGLE,
            lengths,
        };
    }
    let new = huffman::code_lengths(freqs, MAX_CODE_LEN);
    desc.clear();
    huffman::write_description(&new, desc);
    let new_bits = huffman::coded_bits(freqs, &new).map_or(u64::MAX, |b| b + desc.len() as u64 * 8);
    let default_bits = huffman::coded_bits(freqs, default).unwrap_or(u64::MAX);
    let prev_bits = huffman::coded_bits(freqs, prev).unwrap_or(u64::MAX);
    if prev_bits <= default_bits && prev_bits <= new_bits {
        Choice {
            mode: MODE_REPEAT,
            lengths: prev.to_vec(),
        }
    } else if default_bits <= new_bits {
        Choice {
            mode: MODE_DEFAULT,
            lengths: default.to_vec(),
        }
    } else {
        Choice {
            mode: MODE_NEW,
            lengths: new,
        }
    }
}

/// The encoder's memory across the blocks of a frame.
#[derive(Default)]
pub struct SequenceEncoder {
    /// Code lengths in force per alphabet (LL, ML, OF); empty before the first block.
    prev: [Vec<u8>; 3],
    desc: Vec<u8>,
    stream: Vec<u8>,
    codes: Vec<[u8; 3]>,
}

impl SequenceEncoder {
    /// Forgets the tables in force (a new frame).
    pub fn reset(&mut self) {
        for p in &mut self.prev {
            p.clear();
        }
    }

    /// The tables in force, to put back with [`SequenceEncoder::restore`].
    pub fn save(&self) -> [Vec<u8>; 3] {
        self.prev.clone()
    }

    /// Puts back tables saved by [`SequenceEncoder::save`].
    pub fn restore(&mut self, saved: [Vec<u8>; 3]) {
        self.prev = saved;
    }

    /// Appends the section for `seqs` (non-empty) to `out`.
    pub fn encode(&mut self, seqs: &[Seq], out: &mut Vec<u8>) {
        let mut freqs = [[0u32; SEQ_SYMS]; 3];
        self.codes.clear();
        for q in seqs {
            let c = [
                len_code(q.lit_len).0,
                len_code(q.match_len - MIN_MATCH as u32).0,
                off_code(q.off).0,
            ];
            for (f, &c) in freqs.iter_mut().zip(&c) {
                f[c] += 1;
            }
            self.codes.push(c.map(|c| c as u8));
        }
        let defaults: [&[u8]; 3] = [&DEFAULT_LL, &DEFAULT_ML, &DEFAULT_OF];
        let mode_at = out.len();
        out.push(0);
        let mut modes = 0u8;
        let mut encoders: [Encoder; 3] = Default::default();
        for k in 0..3 {
            let choice = choose(&freqs[k], &self.prev[k], defaults[k], &mut self.desc);
            modes |= choice.mode << (2 * k);
            match choice.mode {
                MODE_NEW => out.extend_from_slice(&self.desc),
                MODE_SINGLE => {
                    let sym = choice.lengths.iter().position(|&l| l > 0).unwrap_or(0);
                    out.push(sym as u8);
                }
                _ => {}
            }
            encoders[k] = Encoder::new(&choice.lengths);
            self.prev[k] = choice.lengths;
        }
        out[mode_at] = modes;
        let [ll, ml, of] = &encoders;
        self.stream.clear();
        let mut w = BitWriter::new(&mut self.stream, seqs.len() * 6);
        for (q, c) in seqs.iter().zip(&self.codes) {
            let values = [q.lit_len, q.match_len, q.off];
            for ((enc, &code), (v, base)) in [ll, ml, of]
                .into_iter()
                .zip(c)
                .zip(values.into_iter().zip(&VALUE_BASE))
            {
                let (bits, len) = enc.code(usize::from(code));
                let (base, n) = base[usize::from(code)];
                w.write(bits | u64::from(v - base) << len, len + n);
            }
        }
        w.finish();
        varint::write(out, self.stream.len() as u64);
        out.extend_from_slice(&self.stream);
    }
}

/// A decoding table: entry = `base << 16 | extra bits << 8 | code length`.
#[derive(Default)]
struct SeqTable {
    entries: Vec<u64>,
    mask: u64,
    /// Set when `entries` hold the predefined code (so mode 0 need not rebuild them).
    is_default: bool,
    valid: bool,
}

/// Base value of each alphabet's codes: lit_len, match_len, off.
fn seq_entry(alphabet: usize, sym: usize, len: u32) -> u64 {
    let (base, extra) = match alphabet {
        0 => LEN_BASE[sym],
        1 => (LEN_BASE[sym].0 + MIN_MATCH as u32, LEN_BASE[sym].1),
        // Offset code 3 would be distance 0: it decodes to `off` 0, which no frame allows.
        _ if sym < 3 => (sym as u32 + 1, 0),
        _ if sym == 3 => (0, 0),
        _ => (LEN_BASE[sym - 3].0 + REP_CODES, LEN_BASE[sym - 3].1),
    };
    u64::from(base) << 16 | u64::from(extra) << 8 | u64::from(len)
}

impl SeqTable {
    fn build(&mut self, alphabet: usize, lengths: &[u8], at: usize) -> Result<(), CodecError> {
        let bits = huffman::check_lengths(lengths, MAX_CODE_LEN, at)?;
        huffman::fill_table(lengths, bits, &mut self.entries, |s, l| {
            seq_entry(alphabet, s, l)
        });
        self.mask = (1u64 << bits) - 1;
        self.valid = true;
        Ok(())
    }

    /// Decodes one value: the reader holds at least 11 + 26 bits.
    #[inline(always)]
    fn value(&self, r: &mut BitReader<'_>) -> u32 {
        let bits = r.bits();
        let e = self.entries[(bits & self.mask) as usize];
        let len = (e & 0xFF) as u32;
        let extra = ((e >> 8) & 0xFF) as u32;
        let v = ((bits >> len) & ((1u64 << extra) - 1)) as u32;
        r.consume(len + extra);
        (e >> 16) as u32 + v
    }
}

/// The decoder's memory across the blocks of a frame.
#[derive(Default)]
pub struct SequenceDecoder {
    tables: [SeqTable; 3],
    lengths: Vec<u8>,
}

/// Where the sequences of a block go.
pub struct Target<'a> {
    /// The frame (raw size plus slack).
    pub frame: &'a mut [u8],
    /// Next byte of the frame to write.
    pub op: usize,
    /// End of this block in the frame.
    pub block_end: usize,
    /// The block's literals (count plus slack).
    pub lits: &'a [u8],
    /// Literal count (without slack).
    pub n_lits: usize,
    /// Literals used so far.
    pub lit_pos: usize,
}

impl SequenceDecoder {
    /// Forgets the tables in force (a new frame).
    pub fn reset(&mut self) {
        for t in &mut self.tables {
            t.valid = false;
            t.is_default = false;
        }
    }

    /// Reads the tables of a section from `body[*pos..]`.
    fn read_tables(&mut self, body: &[u8], pos: &mut usize) -> Result<(), CodecError> {
        let at = *pos;
        let modes = take(body, pos, 1, "sequence table modes")?[0];
        if modes >> 6 != 0 {
            return Err(CodecError::new(
                at,
                format!("sequence table modes are {modes:#04x}, bits 6-7 should be 0"),
            ));
        }
        let defaults: [&[u8]; 3] = [&DEFAULT_LL, &DEFAULT_ML, &DEFAULT_OF];
        for (k, default) in defaults.into_iter().enumerate() {
            let table_at = *pos;
            let t = &mut self.tables[k];
            match (modes >> (2 * k)) & 3 {
                MODE_DEFAULT => {
                    if !(t.valid && t.is_default) {
                        t.build(k, default, table_at)?;
                        t.is_default = true;
                    }
                }
                MODE_SINGLE => {
                    let sym = usize::from(take(body, pos, 1, "single sequence code")?[0]);
                    if sym >= SEQ_SYMS {
                        return Err(CodecError::new(
                            table_at,
                            format!("single sequence code is {sym}, should be below {SEQ_SYMS}"),
                        ));
                    }
                    self.lengths.clear();
                    self.lengths.resize(SEQ_SYMS, 0);
                    self.lengths[sym] = 1;
                    t.build(k, &self.lengths, table_at)?;
                    t.is_default = false;
                }
                MODE_NEW => {
                    huffman::read_description(body, pos, SEQ_SYMS, &mut self.lengths)?;
                    t.build(k, &self.lengths, table_at)?;
                    t.is_default = false;
                }
                _ => {
                    if !t.valid {
                        return Err(CodecError::new(
                            table_at,
                            "sequence table repeats the previous one, but no earlier block of the frame has one".into(),
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// Reads a section of `n_seqs` (> 0) sequences from `body[*pos..]` and executes them
    /// into `t`, updating `reps` and `counts`.
    pub fn decode(
        &mut self,
        body: &[u8],
        pos: &mut usize,
        n_seqs: usize,
        t: &mut Target<'_>,
        reps: &mut Reps,
        counts: &mut GlyphCounts,
    ) -> Result<(), CodecError> {
        self.read_tables(body, pos)?;
        let len = varint::read(body, pos)
            .map_err(|e| CodecError::new(*pos, format!("sequence stream size: {e}")))?;
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        let stream_at = *pos;
        let stream = take(body, pos, len, "sequence stream")?;
        let [ll, ml, of] = &self.tables;
        let mut r = BitReader::new(stream);
        let (mut op, mut lit_pos) = (t.op, t.lit_pos);
        let (mut primitive, mut iteration, mut delta) = (0u64, 0u64, 0u64);
        let frame = &mut *t.frame;
        for i in 0..n_seqs {
            r.refill();
            let lit_len = ll.value(&mut r) as usize;
            r.ensure(37);
            let match_len = ml.value(&mut r) as usize;
            r.ensure(37);
            let off = of.value(&mut r);
            let lit_end = lit_pos + lit_len;
            let copy_at = op + lit_len;
            let end = copy_at + match_len;
            let dist = reps.resolve(off) as usize;
            if lit_end > t.n_lits || end > t.block_end || dist.wrapping_sub(1) >= copy_at {
                return Err(CodecError::new(
                    stream_at,
                    format!(
                        "sequence {i}: {lit_len} literals ({} left) and a copy of {match_len} bytes at distance {dist} ({} bytes of history, {} left in block)",
                        t.n_lits - lit_pos,
                        copy_at,
                        t.block_end.saturating_sub(copy_at)
                    ),
                ));
            }
            copy_literals(frame, op, t.lits, lit_pos, lit_len);
            copy_match(frame, copy_at, dist, match_len);
            primitive += u64::from(lit_len > 0);
            iteration += u64::from(dist == 1);
            delta += u64::from(dist != 1 && off <= REP_CODES);
            lit_pos = lit_end;
            op = end;
        }
        if r.overrun() || r.bytes_consumed() != stream.len() {
            return Err(CodecError::new(
                stream_at,
                "sequence stream ends early or has bytes left over".into(),
            ));
        }
        counts.primitive += primitive;
        counts.iteration += iteration;
        counts.delta += delta;
        counts.reference += n_seqs as u64 - iteration - delta;
        counts.copied_bytes += (op - t.op - (lit_pos - t.lit_pos)) as u64;
        t.op = op;
        t.lit_pos = lit_pos;
        Ok(())
    }
}

/// Copies `len` literals to `frame[op..]`; `frame` and `lits` have 32 spare bytes.
#[inline(always)]
fn copy_literals(frame: &mut [u8], op: usize, lits: &[u8], at: usize, len: usize) {
    if len <= 32 {
        frame[op..op + 32].copy_from_slice(&lits[at..at + 32]);
    } else {
        frame[op..op + len].copy_from_slice(&lits[at..at + len]);
    }
}

/// Writes `len` bytes copied from `dist` (1..=op) bytes back at `frame[op..]`; overlapping
/// copies repeat the pattern. May write up to 15 bytes past the copy, into the slack.
#[inline(always)]
fn copy_match(frame: &mut [u8], op: usize, dist: usize, len: usize) {
    let end = op + len;
    if dist >= 16 {
        let mut d = op;
        while d < end {
            let (before, after) = frame.split_at_mut(d);
            after[..16].copy_from_slice(&before[d - dist..d - dist + 16]);
            d += 16;
        }
    } else if dist == 1 {
        let b = frame[op - 1];
        frame[op..end].fill(b);
    } else {
        // The copy repeats with period `dist`, so any multiple of it works as a distance
        // once that many bytes exist: after `period - dist` single bytes, 16-byte chunks.
        let period = dist * 16usize.div_ceil(dist);
        let head = (period - dist).min(len);
        for i in op..op + head {
            frame[i] = frame[i - dist];
        }
        let mut d = op + head;
        while d < end {
            let (before, after) = frame.split_at_mut(d);
            after[..16].copy_from_slice(&before[d - period..d - period + 16]);
            d += 16;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_codes_round_trip() {
        for v in (0..5000u32).chain([1 << 20, (1 << 26) - 1, 123_456_789]) {
            let (c, n, e) = len_code(v);
            let (base, bits) = LEN_BASE[c];
            assert_eq!(bits, n);
            assert_eq!(base + e, v);
        }
    }

    #[test]
    fn default_tables_are_complete_codes() {
        for t in [&DEFAULT_LL, &DEFAULT_ML, &DEFAULT_OF] {
            assert_eq!(
                huffman::check_lengths(t, MAX_CODE_LEN, 0).unwrap(),
                MAX_CODE_LEN
            );
        }
    }

    #[test]
    fn overlapping_copies_repeat_their_pattern() {
        for dist in 1..40 {
            for len in [4, 5, 15, 16, 17, 31, 33, 100] {
                let mut frame: Vec<u8> = (0..dist as u8).map(|b| b + 1).collect();
                let mut expect = frame.clone();
                for i in 0..len {
                    expect.push(expect[expect.len() - dist]);
                    let _ = i;
                }
                frame.resize(dist + len + 32, 0);
                copy_match(&mut frame, dist, dist, len);
                assert_eq!(&frame[..dist + len], &expect[..], "dist {dist} len {len}");
            }
        }
    }

    #[test]
    fn sections_round_trip_with_every_table_mode() {
        // Three blocks: varied codes (new tables), the same again (repeat), one short.
        let mut x = 7u32;
        let mut blocks = Vec::new();
        for n in [3000usize, 3000, 3] {
            let seqs: Vec<Seq> = (0..n)
                .map(|i| {
                    x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                    Seq {
                        lit_len: (x >> 20) % 9,
                        match_len: 4 + (x >> 8) % 30,
                        off: if i % 3 == 0 { 1 } else { 4 + (x >> 5) % 900 },
                    }
                })
                .collect();
            blocks.push(seqs);
        }
        blocks.push(vec![
            Seq {
                lit_len: 2,
                match_len: 4,
                off: 1,
            };
            5
        ]);
        let mut enc = SequenceEncoder::default();
        let mut body = Vec::new();
        for b in &blocks {
            enc.encode(b, &mut body);
        }
        let mut dec = SequenceDecoder::default();
        let mut pos = 0;
        let mut reps = Reps::default();
        let mut counts = GlyphCounts::default();
        let mut frame = vec![0u8; 1 << 20];
        let lits = vec![b'x'; 1 << 16];
        let mut op = 1000;
        for b in &blocks {
            let n_lits: usize = b.iter().map(|q| q.lit_len as usize).sum();
            let raw: usize = n_lits + b.iter().map(|q| q.match_len as usize).sum::<usize>();
            let mut t = Target {
                frame: &mut frame,
                op,
                block_end: op + raw,
                lits: &lits,
                n_lits,
                lit_pos: 0,
            };
            dec.decode(&body, &mut pos, b.len(), &mut t, &mut reps, &mut counts)
                .unwrap();
            assert_eq!((t.op, t.lit_pos), (op + raw, n_lits));
            op += raw;
        }
        assert_eq!(pos, body.len());
        assert_eq!(counts.total() - counts.primitive, 6008);
    }
}
