//! The sequence section of a coded block: per sequence a literal length, a match length
//! and an offset, each sent as a code plus extra bits; the three code streams are tANS
//! coded (see `fse`) in one bit stream read backwards, with per-alphabet table modes
//! (predefined, single symbol, new, same as before) (FORMAT.md 7.4). A section decodes in
//! two tight passes, each a function of its own so that its state stays in registers: one
//! reads the sequences, the next checks and executes them into the frame.

use std::hint::select_unpredictable;

use super::bits::{BitReader, BitWriter, RevReader, SliceWriter, REFILL_BITS};
use super::fse::{self, Counts};
use super::huffman::take;
use super::{CodecError, GlyphCounts};
use crate::base::varint;

/// Shortest copy a sequence can describe (the match finders of levels 1-8 find copies of
/// 4 bytes and more; level 9 also 3-byte copies).
pub const MIN_MATCH: usize = 3;
/// `off` values 1..=REP_CODES name a recent distance; larger values are distance + REP_CODES.
pub const REP_CODES: u32 = 3;
/// Spare bytes after the decoded frame and the literal buffer, so short copies can move
/// 16 or 32 bytes at a time.
pub const SLACK: usize = 32;
/// Symbols in each of the three sequence alphabets.
pub const SEQ_SYMS: usize = fse::MAX_SYMS;

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
    /// The `off` value a copy from `dist` is sent as, and the history after it (the
    /// encoder's side of [`Reps::resolve`]).
    #[inline(always)]
    pub fn send(self, dist: u32) -> (u32, Reps) {
        let r = self.0;
        if dist == r[0] {
            (1, self)
        } else if dist == r[1] {
            (2, Reps([r[1], r[0], r[2]]))
        } else if dist == r[2] {
            (3, Reps([r[2], r[0], r[1]]))
        } else {
            (dist + REP_CODES, Reps([dist, r[0], r[1]]))
        }
    }

    /// Resolves an `off` value to a distance and updates the history as the decoder does.
    /// An `off` below 1 gives a distance no frame has (the decoder rejects it).
    #[inline(always)]
    pub fn resolve(&mut self, off: u32) -> u32 {
        // The history as three values, so that a caller's loop keeps them in registers.
        let [r0, r1, r2] = self.0;
        // Selects rather than branches: repeat codes are common and hard to predict.
        let rep = select_unpredictable(off == 1, r0, select_unpredictable(off == 2, r1, r2));
        let dist = select_unpredictable(
            off.wrapping_sub(1) < REP_CODES,
            rep,
            off.wrapping_sub(REP_CODES),
        );
        let second = if off == 1 { r1 } else { r0 };
        let third = if off.wrapping_sub(1) < 2 { r2 } else { r1 };
        self.0 = [dist, second, third];
        dist
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
        } else if code == 3 {
            // Distance 0: decodes to `off` 0, which no frame allows.
            (0, 0)
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

/// Predefined tables (mode 0), 512 states each: the level-3 sequence codes of 4 KiB,
/// 64 KiB and 128 KiB blocks of prose, source code, a tab-separated table and shared
/// libraries, weighted 45/35/20 by block size, normalized, with every code of a value a
/// frame can hold given at least one state (offset code 3, distance 0, has none).
#[rustfmt::skip]
pub const DEFAULT_LL: [u16; SEQ_SYMS] = [155, 114, 58, 32, 22, 17, 14, 10, 8, 7, 5, 5, 4, 3, 3, 2, 11, 4, 4, 2, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
#[rustfmt::skip]
pub const DEFAULT_ML: [u16; SEQ_SYMS] = [24, 93, 67, 47, 35, 33, 24, 23, 18, 12, 10, 10, 20, 9, 7, 5, 32, 6, 4, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
#[rustfmt::skip]
pub const DEFAULT_OF: [u16; SEQ_SYMS] = [43, 11, 4, 0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 7, 8, 13, 12, 18, 14, 30, 19, 27, 19, 30, 21, 31, 21, 26, 15, 17, 13, 18, 13, 17, 11, 12, 4, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0];

/// Log2 of the sequence alphabets: bits of a symbol in a table description.
const SYM_BITS: u32 = 6;
/// Accuracy log of the predefined tables.
const DEFAULT_LOG: u32 = 9;

fn default_counts(k: usize) -> Counts {
    let t = [&DEFAULT_LL, &DEFAULT_ML, &DEFAULT_OF][k];
    Counts {
        log: DEFAULT_LOG,
        counts: t.to_vec(),
    }
}

const MODE_DEFAULT: u8 = 0;
const MODE_SINGLE: u8 = 1;
const MODE_NEW: u8 = 2;
const MODE_REPEAT: u8 = 3;

/// Bits of the gamma code of a count (see [`Counts::write`]).
fn description_bits(c: &Counts) -> f64 {
    let used = c.counts.iter().rposition(|&x| x > 0).map_or(1, |p| p + 1);
    let codes: u32 = c.counts[..used - 1]
        .iter()
        .map(|&x| 2 * (31 - (u32::from(x) + 1).leading_zeros()) + 1)
        .sum();
    f64::from(4 + SYM_BITS + codes)
}

/// Picks the cheapest table mode for `freqs` (at least one used symbol); returns the
/// mode and the table.
fn choose(freqs: &[u32; SEQ_SYMS], prev: Option<&Counts>, k: usize) -> (u8, Counts) {
    let new = Counts::normalize(freqs);
    if new.log == 0 {
        // One symbol: six bits of description and none per sequence.
        if prev == Some(&new) {
            return (MODE_REPEAT, new);
        }
        return (MODE_SINGLE, new);
    }
    let default = default_counts(k);
    let new_bits = new.cost(freqs).unwrap_or(f64::MAX) + description_bits(&new);
    let default_bits = default.cost(freqs).unwrap_or(f64::MAX);
    let prev_bits = prev.and_then(|p| p.cost(freqs)).unwrap_or(f64::MAX);
    if prev_bits <= default_bits && prev_bits <= new_bits {
        (MODE_REPEAT, prev.cloned().unwrap_or_default())
    } else if default_bits <= new_bits {
        (MODE_DEFAULT, default)
    } else {
        (MODE_NEW, new)
    }
}

/// The encoder's memory across the blocks of a frame.
#[derive(Default)]
pub struct SequenceEncoder {
    /// Tables in force per alphabet (LL, ML, OF); `None` before the first block.
    prev: [Option<Counts>; 3],
    stream: Vec<u8>,
    coded: Vec<Coded>,
}

/// Bytes of encoder scratch per sequence of a block (its coded form).
pub const CODED_BYTES: usize = std::mem::size_of::<Coded>();

/// A sequence ready for the stream: its three codes and all its extra bits (literal
/// length, match length, offset, in the order the decoder reads them).
#[derive(Clone, Copy)]
pub struct Coded {
    extra: u64,
    extra_bits: u8,
    /// Literal length, match length and offset codes.
    pub codes: [u8; 3],
}

impl Coded {
    /// The codes and extra bits of `q`.
    #[inline(always)]
    pub fn new(q: &Seq) -> Self {
        let (lc, ln, le) = len_code(q.lit_len);
        let (mc, mn, me) = len_code(q.match_len - MIN_MATCH as u32);
        let (oc, on, oe) = off_code(q.off);
        // Blocks of at most 128 KiB: literal and match lengths take at most 16 extra
        // bits, offsets 25, so all three fit one field of at most 57 bits.
        Coded {
            extra: u64::from(le) | u64::from(me) << ln | u64::from(oe) << (ln + mn),
            extra_bits: (ln + mn + on) as u8,
            codes: [lc as u8, mc as u8, oc as u8],
        }
    }
}

impl SequenceEncoder {
    /// Forgets the tables in force (a new frame).
    pub fn reset(&mut self) {
        self.prev = Default::default();
    }

    /// The tables in force, to put back with [`SequenceEncoder::restore`].
    pub fn save(&self) -> [Option<Counts>; 3] {
        self.prev.clone()
    }

    /// Puts back tables saved by [`SequenceEncoder::save`].
    pub fn restore(&mut self, saved: [Option<Counts>; 3]) {
        self.prev = saved;
    }

    /// Appends the section for `seqs` (non-empty) to `out`.
    pub fn encode(&mut self, seqs: &[Seq], out: &mut Vec<u8>) {
        let mut freqs = [[0u32; SEQ_SYMS]; 3];
        self.coded.clear();
        self.coded.extend(seqs.iter().map(|q| {
            let c = Coded::new(q);
            for (f, &code) in freqs.iter_mut().zip(&c.codes) {
                f[usize::from(code)] += 1;
            }
            c
        }));
        self.encode_prepared(0..seqs.len(), &freqs, out);
    }

    /// The coded forms of the block's sequences, for [`SequenceEncoder::encode_prepared`]
    /// to take ranges of (cleared and filled by the caller).
    pub fn coded_mut(&mut self) -> &mut Vec<Coded> {
        &mut self.coded
    }

    /// Appends the section for the sequences coded in [`SequenceEncoder::coded_mut`]'s
    /// `range` (non-empty), whose code counts are `freqs`, to `out`.
    pub fn encode_prepared(
        &mut self,
        range: std::ops::Range<usize>,
        freqs: &[[u32; SEQ_SYMS]; 3],
        out: &mut Vec<u8>,
    ) {
        let mode_at = out.len();
        out.push(0);
        let mut modes = 0u8;
        let mut encoders: [fse::Encoder; 3] = Default::default();
        let mut w = BitWriter::new(out, 64);
        let mut described = false;
        for k in 0..3 {
            let (mode, counts) = choose(&freqs[k], self.prev[k].as_ref(), k);
            modes |= mode << (2 * k);
            match mode {
                MODE_NEW => {
                    counts.write(SYM_BITS, &mut w);
                    described = true;
                }
                MODE_SINGLE => {
                    let sym = counts.counts.iter().position(|&c| c > 0).unwrap_or(0);
                    w.write(sym as u64, SYM_BITS);
                    described = true;
                }
                _ => {}
            }
            encoders[k] = fse::Encoder::new(&counts);
            self.prev[k] = Some(counts);
        }
        w.finish();
        if !described {
            out.truncate(mode_at + 1);
        }
        out[mode_at] = modes;
        let [ll, ml, of] = &encoders;
        // At most 3 x 9 state bits and 57 extra bits per sequence: 11 bytes.
        let coded = &self.coded[range];
        let n = coded.len();
        // Plus 8 bytes of the final states and end marker, and 8 for a flush's word.
        let cap = n * 11 + 16;
        if self.stream.len() < cap {
            self.stream.resize(cap, 0);
        }
        let mut w = SliceWriter::new(&mut self.stream[..cap]);
        // Backwards: the decoder reads the stream from its end.
        let last = coded[n - 1];
        let mut states = [
            ll.first_state(usize::from(last.codes[0])),
            ml.first_state(usize::from(last.codes[1])),
            of.first_state(usize::from(last.codes[2])),
        ];
        w.put(last.extra, u32::from(last.extra_bits));
        w.flush();
        for q in coded[..n - 1].iter().rev() {
            let (v, nb) = of.step(&mut states[2], usize::from(q.codes[2]));
            w.put(v, nb);
            let (v, nb) = ml.step(&mut states[1], usize::from(q.codes[1]));
            w.put(v, nb);
            let (v, nb) = ll.step(&mut states[0], usize::from(q.codes[0]));
            w.put(v, nb);
            // At most 7 + 27 bits pending: the extra bits fit too unless they exceed 30.
            if q.extra_bits > 30 {
                w.flush();
            }
            w.put(q.extra, u32::from(q.extra_bits));
            w.flush();
        }
        for (enc, &st) in [of, ml, ll]
            .into_iter()
            .zip([&states[2], &states[1], &states[0]])
        {
            let (v, nb) = enc.final_bits(st);
            w.write(v, nb);
        }
        let len = fse::finish_stream(w);
        varint::write(out, len as u64);
        out.extend_from_slice(&self.stream[..len]);
    }
}

/// States of one sequence table; the three tables sit side by side in one array, so that
/// a state is an index into it.
const TABLE_SLOTS: usize = 1 << fse::MAX_LOG;

/// A decoding table's description; its entries live in [`SequenceDecoder::entries`].
#[derive(Default)]
struct SeqTable {
    log: u32,
    /// Set when the entries hold the predefined table (so mode 0 need not rebuild them).
    is_default: bool,
    valid: bool,
}

/// What a state decodes to: the value is `value` plus `extra` bits read, the next state
/// `next` (already offset to its own table) plus `state_bits` bits read. Fields of their
/// own, so that each is one load.
#[derive(Clone, Copy, Default)]
struct SeqEntry {
    value: u32,
    next: u16,
    extra: u8,
    state_bits: u8,
}

/// The decoder's memory across the blocks of a frame.
pub struct SequenceDecoder {
    tables: [SeqTable; 3],
    /// Decoding entries of the literal length, match length and offset tables, at
    /// `k * TABLE_SLOTS`.
    entries: Box<[SeqEntry; 4 * TABLE_SLOTS]>,
    /// The block's sequences as read: (literal length, match length, `off`). Grown,
    /// never cleared: every slot used is written first.
    decoded: Vec<[u32; 3]>,
}

impl Default for SequenceDecoder {
    fn default() -> Self {
        Self {
            tables: Default::default(),
            entries: Box::new([SeqEntry::default(); 4 * TABLE_SLOTS]),
            decoded: Vec::new(),
        }
    }
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

    /// Fills table `k` (0 literal length, 1 match length, 2 offset) from `counts`.
    fn build(&mut self, k: usize, counts: &Counts) {
        let offset = k * TABLE_SLOTS;
        let slots = &mut self.entries[offset..offset + TABLE_SLOTS];
        let bases = &VALUE_BASE[k];
        fse::decode_entries(counts, |state, e| {
            let (base, extra) = bases[usize::from(e.symbol) % SEQ_SYMS];
            slots[state % TABLE_SLOTS] = SeqEntry {
                value: base,
                next: e.base + offset as u16,
                extra: extra as u8,
                state_bits: e.nb,
            };
        });
        self.tables[k].log = counts.log;
        self.tables[k].valid = true;
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
        let mode = |k: usize| (modes >> (2 * k)) & 3;
        let described = (0..3).any(|k| matches!(mode(k), MODE_NEW | MODE_SINGLE));
        let desc_at = *pos;
        let mut r = BitReader::new(body.get(desc_at..).unwrap_or(&[]));
        for k in 0..3 {
            match mode(k) {
                MODE_DEFAULT => {
                    if !(self.tables[k].valid && self.tables[k].is_default) {
                        self.build(k, &default_counts(k));
                        self.tables[k].is_default = true;
                    }
                }
                MODE_SINGLE => {
                    let sym = r.read(SYM_BITS) as usize;
                    let mut counts = vec![0u16; SEQ_SYMS];
                    counts[sym] = 1;
                    self.build(k, &Counts { log: 0, counts });
                    self.tables[k].is_default = false;
                }
                MODE_NEW => {
                    let counts = Counts::read(&mut r, SEQ_SYMS, SYM_BITS, desc_at)?;
                    self.build(k, &counts);
                    self.tables[k].is_default = false;
                }
                _ => {
                    if !self.tables[k].valid {
                        return Err(CodecError::new(
                            at,
                            "sequence table repeats the previous one, but no earlier block of the frame has one".into(),
                        ));
                    }
                }
            }
        }
        if described {
            if r.overrun() {
                return Err(CodecError::new(
                    desc_at,
                    "sequence table descriptions end early".into(),
                ));
            }
            *pos = desc_at + r.bytes_consumed();
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
        let bad_stream = || {
            CodecError::new(
                stream_at,
                "sequence stream: last byte is zero or missing".into(),
            )
        };
        let mut r = fse::open_stream(stream).ok_or_else(bad_stream)?;
        let [ll, ml, of] = &self.tables;
        let states = [
            r.read(ll.log) as usize,
            TABLE_SLOTS + r.read(ml.log) as usize,
            2 * TABLE_SLOTS + r.read(of.log) as usize,
        ];
        if self.decoded.len() < n_seqs {
            self.decoded.resize(n_seqs, [0; 3]);
        }
        let decoded = &mut self.decoded[..n_seqs];
        read_sequences(&self.entries, &mut r, states, decoded);
        let start = Run {
            op: t.op,
            lit_pos: t.lit_pos,
            reps: *reps,
        };
        let frame = &mut t.frame[..t.block_end + SLACK];
        let (run, kinds) = run_sequences(decoded, frame, &t.lits[..t.n_lits + SLACK], start)
            .map_err(|f| {
                let history = f.op + f.lit_len;
                CodecError::new(
                    stream_at,
                    format!(
                        "sequence {}: {} literals ({} left) and a copy of {} bytes at distance {} ({history} bytes before it, {} left in block)",
                        f.index, f.lit_len, t.n_lits - f.lit_pos, f.match_len, f.dist,
                        t.block_end.saturating_sub(history)
                    ),
                )
            })?;
        if !r.is_done() {
            return Err(CodecError::new(
                stream_at,
                "sequence stream ends early or has bits left over".into(),
            ));
        }
        *reps = run.reps;
        let [primitive, iteration, delta] = kinds.map(u64::from);
        counts.primitive += primitive;
        counts.iteration += iteration;
        counts.delta += delta;
        counts.reference += n_seqs as u64 - iteration - delta;
        counts.copied_bytes += (run.op - t.op - (run.lit_pos - t.lit_pos)) as u64;
        t.op = run.op;
        t.lit_pos = run.lit_pos;
        Ok(())
    }
}

/// Where the sequence loop stands: next frame byte, next literal and the distance history.
#[derive(Clone, Copy)]
struct Run {
    op: usize,
    lit_pos: usize,
    reps: Reps,
}

/// A sequence that does not fit its block, and the frame byte and literal it starts at.
struct Fault {
    index: usize,
    lit_len: usize,
    match_len: usize,
    dist: usize,
    op: usize,
    lit_pos: usize,
}

/// Reads one sequence per slot of `out` from `r`, states starting at `states`:
/// (literal length, match length, `off`). A malformed stream gives garbage values (the
/// caller checks them) and a reader that is not done.
#[inline(never)]
fn read_sequences(
    entries: &[SeqEntry; 4 * TABLE_SLOTS],
    r: &mut RevReader<'_>,
    states: [usize; 3],
    out: &mut [[u32; 3]],
) {
    let [mut sl, mut sm, mut so] = states;
    // A local copy keeps the reader in registers.
    let mut rd = r.clone();
    let Some((last, most)) = out.split_last_mut() else {
        return;
    };
    const MASK: usize = 4 * TABLE_SLOTS - 1;
    for slot in most {
        let (el, em, eo) = (entries[sl & MASK], entries[sm & MASK], entries[so & MASK]);
        let extra = [eo, em, el].map(|e| u32::from(e.extra));
        if extra[0] + extra[1] + extra[2] > ONE_WINDOW_EXTRA {
            // Rare: the fields may not all be in one refill's window. `read_one` looks
            // the entries up again: passing it those loaded above, or sharing the state
            // updates below between both paths, made the loop 2.2-2.6% more instructions.
            *slot = read_one(entries, [sl, sm, so], &mut rd);
            sl = usize::from(el.next) + rd.read(u32::from(el.state_bits)) as usize;
            sm = usize::from(em.next) + rd.read(u32::from(em.state_bits)) as usize;
            so = usize::from(eo.next) + rd.read(u32::from(eo.state_bits)) as usize;
            continue;
        }
        // Most sequences: all six fields from one window.
        rd.refill();
        let [o, m, l, bl, bm, bo] = rd.read_six([
            extra[0],
            extra[1],
            extra[2],
            u32::from(el.state_bits),
            u32::from(em.state_bits),
            u32::from(eo.state_bits),
        ]);
        *slot = [el.value + l, em.value + m, eo.value + o];
        sl = usize::from(el.next) + bl as usize;
        sm = usize::from(em.next) + bm as usize;
        so = usize::from(eo.next) + bo as usize;
    }
    *last = read_one(entries, [sl, sm, so], &mut rd);
    *r = rd;
}

/// Most extra bits a sequence's three values may have for all six of its fields to be
/// read from one refill's window: the three state reads that follow take up to
/// `fse::MAX_LOG` bits each.
const ONE_WINDOW_EXTRA: u32 = REFILL_BITS - 3 * fse::MAX_LOG;

/// One sequence's values from states `sl`, `sm`, `so` (the state reads are the
/// caller's). When its extra bits exceed [`ONE_WINDOW_EXTRA`], the window is refilled
/// after two of them (at most 26 + 26 bits, then 26 more and 27 state bits).
#[inline(always)]
fn read_one(
    entries: &[SeqEntry; 4 * TABLE_SLOTS],
    [sl, sm, so]: [usize; 3],
    rd: &mut RevReader<'_>,
) -> [u32; 3] {
    const MASK: usize = 4 * TABLE_SLOTS - 1;
    let (el, em, eo) = (entries[sl & MASK], entries[sm & MASK], entries[so & MASK]);
    let extra = [eo, em, el].map(|e| u32::from(e.extra));
    rd.refill();
    let off = eo.value + rd.read(extra[0]);
    let match_len = em.value + rd.read(extra[1]);
    if extra[0] + extra[1] + extra[2] > ONE_WINDOW_EXTRA {
        rd.refill();
    }
    let lit_len = el.value + rd.read(extra[2]);
    [lit_len, match_len, off]
}

/// Executes `seqs` into `frame` (the frame up to the block's end, plus slack) from `lits`
/// (the block's literals plus slack), starting at `start`; returns where it ends and the
/// counts of sequences with literals, at distance 1, and sent as repeat codes for another
/// distance; or the first sequence that does not fit. Each executed sequence's `off` is
/// replaced by its distance, with bit 31 set when it was a repeat code.
#[inline(never)]
fn run_sequences(
    seqs: &mut [[u32; 3]],
    frame: &mut [u8],
    lits: &[u8],
    start: Run,
) -> Result<(Run, [u32; 3]), Fault> {
    let block_end = frame.len() - SLACK;
    let n_lits = lits.len() - SLACK;
    let Run {
        mut op,
        mut lit_pos,
        mut reps,
    } = start;
    for (i, slot) in seqs.iter_mut().enumerate() {
        let [lit_len, match_len, off] = *slot;
        let (lit_len, match_len) = (lit_len as usize, match_len as usize);
        let copy_at = op + lit_len;
        let end = copy_at + match_len;
        let dist = reps.resolve(off) as usize;
        if lit_pos + lit_len > n_lits || end > block_end || dist.wrapping_sub(1) >= copy_at {
            return Err(Fault {
                index: i,
                lit_len,
                match_len,
                dist,
                op,
                lit_pos,
            });
        }
        copy_literals(frame, op, lits, lit_pos, lit_len);
        copy_match(frame, copy_at, dist, match_len);
        // Bit 31 marks a copy sent as a repeat code (distances are below 2^27).
        slot[2] = dist as u32 | u32::from(off <= REP_CODES) << 31;
        lit_pos += lit_len;
        op = end;
    }
    let [mut primitive, mut iteration, mut delta] = [0u32; 3];
    // Counted in a pass of their own, which the compiler vectorizes.
    for &[lit_len, _, d] in seqs.iter() {
        primitive += u32::from(lit_len != 0);
        iteration += u32::from(d & 0x7FFF_FFFF == 1);
        // A repeat code (bit 31) for a distance other than 1.
        delta += u32::from(d > 0x8000_0001);
    }
    Ok((Run { op, lit_pos, reps }, [primitive, iteration, delta]))
}

/// Copies `len` literals to `frame[op..]`; `frame` and `lits` have 32 spare bytes.
#[inline(always)]
fn copy_literals(frame: &mut [u8], op: usize, lits: &[u8], at: usize, len: usize) {
    if len <= 32 {
        frame[op..op + 32].copy_from_slice(&lits[at..at + 32]);
    } else {
        copy_long(&mut frame[op..op + len], &lits[at..at + len]);
    }
}

/// A long literal run, kept out of line so the short copy stays a fixed 32-byte move.
#[inline(never)]
fn copy_long(to: &mut [u8], from: &[u8]) {
    to.copy_from_slice(from);
}

/// For a distance of 2 to 15, its smallest multiple of at least 16 (no division per copy;
/// distance 1 is a fill, 0 never reaches a copy).
const PERIODS: [u8; 16] = {
    let mut p = [0u8; 16];
    let mut d = 1;
    while d < 16 {
        p[d] = (d * 16usize.div_ceil(d)) as u8;
        d += 1;
    }
    p
};

/// Writes `len` bytes copied from `dist` (1..=op) bytes back at `frame[op..]`; overlapping
/// copies repeat the pattern. May write up to 31 bytes past the copy, into the slack.
#[inline(always)]
fn copy_match(frame: &mut [u8], op: usize, dist: usize, len: usize) {
    let end = op + len;
    if dist >= 32 {
        // Most copies: one 32-byte move, then more for long copies.
        frame.copy_within(op - dist..op - dist + 32, op);
        let mut d = op + 32;
        while d < end {
            frame.copy_within(d - dist..d - dist + 32, d);
            d += 32;
        }
    } else if dist >= 16 {
        let mut d = op;
        while d < end {
            frame.copy_within(d - dist..d - dist + 16, d);
            d += 16;
        }
    } else if dist == 1 {
        let b = frame[op - 1];
        frame[op..end].fill(b);
    } else {
        // The copy repeats with period `dist`, so any multiple of it works as a distance
        // once that many bytes exist: after `period - dist` single bytes, 16-byte chunks.
        let period = usize::from(PERIODS[dist]);
        let head = (period - dist).min(len);
        for i in op..op + head {
            frame[i] = frame[i - dist];
        }
        let mut d = op + head;
        while d < end {
            frame.copy_within(d - period..d - period + 16, d);
            d += 16;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sent_distance_resolves_back_with_the_same_history() {
        let r = Reps([5, 9, 20]);
        assert_eq!(r.send(5), (1, r));
        assert_eq!(r.send(9), (2, Reps([9, 5, 20])));
        assert_eq!(r.send(20), (3, Reps([20, 5, 9])));
        assert_eq!(r.send(7), (7 + REP_CODES, Reps([7, 5, 9])));
        for dist in [5, 9, 20, 7, 1] {
            let (off, after) = r.send(dist);
            let mut resolved = r;
            assert_eq!(resolved.resolve(off), dist);
            assert_eq!(resolved, after);
        }
    }

    #[test]
    fn length_codes_round_trip() {
        for v in (0..5000u32).chain([1 << 20, (1 << 26) - 1, 123_456_789]) {
            let (c, n, e) = len_code(v);
            let (base, bits) = LEN_BASE[c];
            assert_eq!(bits, n);
            assert_eq!(base + e, v);
        }
    }

    /// Decodes one section of `n` sequences from `body` with a fresh decoder.
    fn decode_one(body: &[u8], n: usize) -> Result<usize, CodecError> {
        let mut frame = vec![0u8; 4096];
        let lits = vec![b'a'; 4096];
        let mut t = Target {
            frame: &mut frame,
            op: 0,
            block_end: 4000,
            lits: &lits,
            n_lits: 1000,
            lit_pos: 0,
        };
        let mut pos = 0;
        SequenceDecoder::default().decode(
            body,
            &mut pos,
            n,
            &mut t,
            &mut Reps::default(),
            &mut GlyphCounts::default(),
        )?;
        Ok(pos)
    }

    #[test]
    fn malformed_sections_are_rejected() {
        // A valid section: one sequence (4 literals, a copy of 4 at distance 1).
        let mut enc = SequenceEncoder::default();
        let mut body = Vec::new();
        let one = [Seq {
            lit_len: 4,
            match_len: 4,
            off: 4,
        }];
        enc.encode(&one, &mut body);
        assert_eq!(decode_one(&body, 1).unwrap(), body.len());
        // Reserved mode bits.
        let mut bad = body.clone();
        bad[0] |= 0x40;
        assert!(decode_one(&bad, 1).is_err());
        // "Same table as before" in a frame's first section.
        for k in 0..3 {
            let mut bad = body.clone();
            bad[0] |= MODE_REPEAT << (2 * k);
            assert!(decode_one(&bad, 1).is_err(), "alphabet {k}");
        }
        // A stream whose last byte is zero (no end marker), or with a byte too many.
        let mut bad = body.clone();
        *bad.last_mut().unwrap() = 0;
        assert!(decode_one(&bad, 1).is_err());
        // More or fewer sequences claimed than the stream holds.
        let three: Vec<Seq> = (0..3)
            .map(|i| Seq {
                lit_len: 1 + i,
                match_len: 4 + 7 * i,
                off: 4 + 2 * i,
            })
            .collect();
        let mut body3 = Vec::new();
        SequenceEncoder::default().encode(&three, &mut body3);
        assert_eq!(decode_one(&body3, 3).unwrap(), body3.len());
        assert!(decode_one(&body3, 2).is_err());
        assert!(decode_one(&body3, 4).is_err());
        // Offset code 3 (distance 0) in a single-symbol OF table.
        let bad = [MODE_SINGLE << 4, 3, 1, 0x01];
        assert!(decode_one(&bad, 1).is_err());
    }

    #[test]
    fn default_tables_fill_their_states() {
        for k in 0..3 {
            let c = default_counts(k);
            assert_eq!(c.counts.iter().map(|&x| u32::from(x)).sum::<u32>(), 512);
            assert!(c.counts.iter().take(50).all(|&x| x > 0) || k == 2);
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
