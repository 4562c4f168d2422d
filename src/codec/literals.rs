//! The literal section of a coded block: raw, one repeated byte, or Huffman coded in one
//! stream (short sections) or four interleaved streams, with a new code or the code of the
//! previous Huffman-coded literal section of the frame (FORMAT.md 7.3).

use super::bits::{BitReader, SliceWriter};
use super::huffman::{self, take, Encoder, MAX_CODE_LEN};
use super::CodecError;
use crate::base::varint;

pub const LIT_SYMS: usize = 256;
/// Literal sections of at least this many bytes are coded as four streams.
pub const FOUR_STREAMS_MIN: usize = 1024;

const MODE_RAW: u8 = 0;
const MODE_NEW: u8 = 1;
const MODE_REPEAT: u8 = 2;
const MODE_RLE: u8 = 3;

/// Symbols of each of the four streams (the last takes the rest).
#[inline]
fn segment(n: usize) -> usize {
    n.div_ceil(4)
}

/// The encoder's memory across the blocks of a frame.
#[derive(Default)]
pub struct LiteralEncoder {
    /// Code lengths of the previous Huffman-coded section of this frame (empty if none).
    prev: Vec<u8>,
    prev_enc: Encoder,
    stream: Vec<u8>,
    desc: Vec<u8>,
}

impl LiteralEncoder {
    /// Forgets the previous code (a new frame).
    pub fn reset(&mut self) {
        self.prev.clear();
    }

    /// The code in force, to put back with [`LiteralEncoder::restore`] when a block is
    /// stored instead.
    pub fn save(&self) -> (Vec<u8>, Encoder) {
        (self.prev.clone(), self.prev_enc.clone())
    }

    /// Puts back a code saved by [`LiteralEncoder::save`].
    pub fn restore(&mut self, saved: (Vec<u8>, Encoder)) {
        (self.prev, self.prev_enc) = saved;
    }

    /// Appends the section for `lits` (non-empty) to `out`.
    pub fn encode(&mut self, lits: &[u8], out: &mut Vec<u8>) {
        let n = lits.len();
        if n >= 1 << 14 && looks_random(lits) {
            out.push(MODE_RAW);
            out.extend_from_slice(lits);
            return;
        }
        let mut freqs = [0u32; LIT_SYMS];
        count(lits, &mut freqs);
        self.encode_counted(lits, &freqs, out);
    }

    /// Appends the section for `lits` (non-empty), whose byte counts are `freqs`, to
    /// `out`.
    pub fn encode_counted(&mut self, lits: &[u8], freqs: &[u32; LIT_SYMS], out: &mut Vec<u8>) {
        let n = lits.len();
        let distinct = freqs.iter().filter(|&&f| f > 0).count();
        if distinct == 1 {
            out.push(MODE_RLE);
            out.push(lits[0]);
            return;
        }
        let lengths = huffman::code_lengths(freqs, MAX_CODE_LEN);
        self.desc.clear();
        huffman::write_description(&lengths, &mut self.desc);
        let streams_overhead = if n >= FOUR_STREAMS_MIN { 9 } else { 3 };
        let new_bytes = huffman::coded_bits(freqs, &lengths).unwrap_or(u64::MAX) / 8
            + (self.desc.len() + streams_overhead) as u64;
        let repeat_bytes = huffman::coded_bits(freqs, &self.prev)
            .map_or(u64::MAX, |b| b / 8 + streams_overhead as u64);
        if new_bytes.min(repeat_bytes) + 2 >= n as u64 {
            out.push(MODE_RAW);
            out.extend_from_slice(lits);
            return;
        }
        if repeat_bytes <= new_bytes {
            out.push(MODE_REPEAT);
        } else {
            out.push(MODE_NEW);
            out.extend_from_slice(&self.desc);
            self.prev_enc = Encoder::new(&lengths);
            self.prev = lengths;
        }
        let enc = &self.prev_enc;
        let mut end = 0;
        if n < FOUR_STREAMS_MIN {
            end = write_stream(enc, lits, &mut self.stream, 0);
            varint::write(out, end as u64);
        } else {
            let seg = segment(n);
            let mut sizes = [0usize; 4];
            for (i, part) in lits.chunks(seg).enumerate() {
                let before = end;
                end = write_stream(enc, part, &mut self.stream, end);
                sizes[i] = end - before;
            }
            varint::write(out, end as u64);
            for &s in &sizes[..3] {
                varint::write(out, s as u64);
            }
        }
        out.extend_from_slice(&self.stream[..end]);
    }
}

/// True when a sample of every 16th byte has an order-0 entropy above 7.9 bits: coding
/// would gain under 1.3%, so the section goes raw without a full count.
fn looks_random(data: &[u8]) -> bool {
    let mut freqs = [0u32; LIT_SYMS];
    let mut n = 0u32;
    for &b in data.iter().step_by(16) {
        freqs[usize::from(b)] += 1;
        n += 1;
    }
    let n = f64::from(n);
    let bits: f64 = freqs
        .iter()
        .filter(|&&f| f > 0)
        .map(|&f| {
            let f = f64::from(f);
            -f * (f / n).log2()
        })
        .sum();
    bits / n > 7.9
}

/// Adds the byte frequencies of `data` to `freqs`, counted in four interleaved tables to
/// avoid store-to-load stalls.
pub(super) fn count(data: &[u8], freqs: &mut [u32; LIT_SYMS]) {
    let mut t = [[0u32; LIT_SYMS]; 4];
    count_into(data, &mut t);
    add_tables(&t, freqs);
}

/// Adds the byte frequencies of `data` to four interleaved tables (see [`count`]).
pub(super) fn count_into(data: &[u8], t: &mut [[u32; LIT_SYMS]; 4]) {
    let mut quads = data.chunks_exact(4);
    for q in &mut quads {
        t[0][usize::from(q[0])] += 1;
        t[1][usize::from(q[1])] += 1;
        t[2][usize::from(q[2])] += 1;
        t[3][usize::from(q[3])] += 1;
    }
    for &b in quads.remainder() {
        t[0][usize::from(b)] += 1;
    }
}

/// Adds the four interleaved tables of [`count_into`] to `freqs`.
pub(super) fn add_tables(t: &[[u32; LIT_SYMS]; 4], freqs: &mut [u32]) {
    for (s, f) in freqs.iter_mut().enumerate().take(LIT_SYMS) {
        *f += t[0][s] + t[1][s] + t[2][s] + t[3][s];
    }
}

/// Writes the Huffman codes of `syms` as one bit stream at `scratch[at..]` (reusing the
/// scratch bytes); returns where the stream ends.
fn write_stream(enc: &Encoder, syms: &[u8], scratch: &mut Vec<u8>, at: usize) -> usize {
    // Codes of at most 11 bits, a last partial byte, and 8 bytes for a flush's word.
    let cap = syms.len() * 11 / 8 + 9;
    if scratch.len() < at + cap {
        scratch.resize(at + cap, 0);
    }
    let mut w = SliceWriter::new(&mut scratch[at..at + cap]);
    let mut quads = syms.chunks_exact(4);
    for q in &mut quads {
        // Four codes of at most 11 bits fit in the 57 bits a flush leaves room for.
        enc.put(&mut w, q[0]);
        enc.put(&mut w, q[1]);
        enc.put(&mut w, q[2]);
        enc.put(&mut w, q[3]);
        w.flush();
    }
    for &b in quads.remainder() {
        enc.put(&mut w, b);
        w.flush();
    }
    at + w.finish_len()
}

/// The decoder's memory across the blocks of a frame.
#[derive(Default)]
pub struct LiteralDecoder {
    /// Decoding table of the current Huffman code: `length << 8 | symbol`, indexed by
    /// the next [`MAX_CODE_LEN`] bits whatever the code's longest length (a shorter
    /// table repeated), so that an index never needs a bounds check. Empty before the
    /// frame's first Huffman-coded section.
    table: Vec<u16>,
    lengths: Vec<u8>,
}

impl LiteralDecoder {
    /// Forgets the previous code (a new frame).
    pub fn reset(&mut self) {
        self.table.clear();
    }

    /// Reads a section of `n` (> 0) literals from `body[*pos..]` into `lits[..n]` (`lits`
    /// is resized to at least `n + slack`).
    pub fn decode(
        &mut self,
        body: &[u8],
        pos: &mut usize,
        n: usize,
        lits: &mut Vec<u8>,
        slack: usize,
    ) -> Result<(), CodecError> {
        if lits.len() < n + slack {
            lits.resize(n + slack, 0);
        }
        let mode_at = *pos;
        let mode = take(body, pos, 1, "literal mode")?[0];
        match mode {
            MODE_RAW => {
                lits[..n].copy_from_slice(take(body, pos, n, "raw literals")?);
                return Ok(());
            }
            MODE_RLE => {
                let b = take(body, pos, 1, "repeated literal")?[0];
                lits[..n].fill(b);
                return Ok(());
            }
            MODE_NEW => {
                huffman::read_description(body, pos, LIT_SYMS, &mut self.lengths)?;
                let bits = huffman::check_lengths(&self.lengths, MAX_CODE_LEN, mode_at)?;
                huffman::fill_table(&self.lengths, bits, &mut self.table, |s, l| {
                    (l << 8) as u16 | s as u16
                });
                // Repeat the table up to the full index width.
                let size = self.table.len();
                self.table.resize(TABLE_SIZE, 0);
                for i in size..TABLE_SIZE {
                    self.table[i] = self.table[i - size];
                }
            }
            // Checked below: the table is empty until a section describes a code.
            MODE_REPEAT => {}
            m => {
                return Err(CodecError::new(
                    mode_at,
                    format!("literal mode is {m}, should be 0-3"),
                ))
            }
        }
        let Some(table) = self.table.as_slice().first_chunk::<TABLE_SIZE>() else {
            return Err(CodecError::new(
                mode_at,
                "literals repeat a code, but no earlier block of the frame has one".into(),
            ));
        };
        let total = read_size(body, pos, "literal streams size")?;
        let sizes_at = *pos;
        let mut sizes = [total, 0, 0, 0];
        if n >= FOUR_STREAMS_MIN {
            let mut sum = 0usize;
            for s in &mut sizes[..3] {
                *s = read_size(body, pos, "literal stream size")?;
                sum = sum.saturating_add(*s);
            }
            if sum > total {
                return Err(CodecError::new(
                    sizes_at,
                    format!("literal streams 1-3 take {sum} bytes of {total}"),
                ));
            }
            sizes[3] = total - sum;
        }
        let stream_at = *pos;
        let data = take(body, pos, total, "literal streams")?;
        let ok = if n < FOUR_STREAMS_MIN {
            decode_one(table, data, &mut lits[..n])
        } else {
            let (a, rest) = data.split_at(sizes[0]);
            let (b, rest) = rest.split_at(sizes[1]);
            let (c, d) = rest.split_at(sizes[2]);
            decode_four(table, [a, b, c, d], &mut lits[..n])
        };
        if ok {
            Ok(())
        } else {
            Err(CodecError::new(
                stream_at,
                "literal stream ends early".into(),
            ))
        }
    }
}

fn read_size(body: &[u8], pos: &mut usize, what: &str) -> Result<usize, CodecError> {
    let v = varint::read(body, pos).map_err(|e| CodecError::new(*pos, format!("{what}: {e}")))?;
    usize::try_from(v)
        .ok()
        .filter(|&v| v <= body.len())
        .ok_or_else(|| CodecError::new(*pos, format!("{what} is {v}, past the body's end")))
}

/// Entries of a literal decoding table: one per value of the next [`MAX_CODE_LEN`] bits.
const TABLE_SIZE: usize = 1 << MAX_CODE_LEN;
const INDEX_MASK: u64 = TABLE_SIZE as u64 - 1;

/// The symbol at the front of `r`, consumed.
#[inline(always)]
fn next_symbol(table: &[u16; TABLE_SIZE], r: &mut BitReader<'_>) -> u8 {
    let e = table[(r.bits() & INDEX_MASK) as usize];
    r.consume(u32::from(e >> 8));
    e as u8
}

/// Decodes `out.len()` symbols from one stream; false on an overrun.
fn decode_one(table: &[u16; TABLE_SIZE], data: &[u8], out: &mut [u8]) -> bool {
    let mut r = BitReader::new(data);
    let (quads, rest) = out.as_chunks_mut::<4>();
    for q in quads {
        r.refill();
        for b in q {
            *b = next_symbol(table, &mut r);
        }
    }
    for b in rest {
        r.refill();
        *b = next_symbol(table, &mut r);
    }
    !r.overrun() && r.bytes_consumed() == data.len()
}

/// Decodes four interleaved streams into the four segments of `out`; false on an overrun
/// or a stream with bytes left over.
fn decode_four(table: &[u16; TABLE_SIZE], data: [&[u8]; 4], out: &mut [u8]) -> bool {
    let seg = segment(out.len());
    let (o0, rest) = out.split_at_mut(seg);
    let (o1, rest) = rest.split_at_mut(seg);
    let (o2, o3) = rest.split_at_mut(seg);
    let mut r = data.map(BitReader::new);
    // Whole groups of four symbols in every stream (the last segment is the shortest).
    let whole = o3.len() / 4 * 4;
    {
        let [r0, r1, r2, r3] = &mut r;
        let (q0, q1, q2, q3) = (
            o0[..whole].as_chunks_mut::<4>().0,
            o1[..whole].as_chunks_mut::<4>().0,
            o2[..whole].as_chunks_mut::<4>().0,
            o3[..whole].as_chunks_mut::<4>().0,
        );
        for (((c0, c1), c2), c3) in q0.iter_mut().zip(q1).zip(q2).zip(q3) {
            r0.refill();
            r1.refill();
            r2.refill();
            r3.refill();
            // Four codes of at most 11 bits per stream per refill of at least 56 bits.
            for k in 0..4 {
                c0[k] = next_symbol(table, r0);
                c1[k] = next_symbol(table, r1);
                c2[k] = next_symbol(table, r2);
                c3[k] = next_symbol(table, r3);
            }
        }
    }
    let mut ok = true;
    for (rd, o) in r.iter_mut().zip([o0, o1, o2, o3]) {
        for b in &mut o[whole..] {
            rd.refill();
            *b = next_symbol(table, rd);
        }
        ok &= !rd.overrun() && rd.bytes_consumed() == rd.data_len();
    }
    ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(sections: &[Vec<u8>]) -> usize {
        let mut enc = LiteralEncoder::default();
        let mut body = Vec::new();
        for s in sections {
            enc.encode(s, &mut body);
        }
        let mut dec = LiteralDecoder::default();
        let mut pos = 0;
        let mut lits = Vec::new();
        for s in sections {
            dec.decode(&body, &mut pos, s.len(), &mut lits, 32).unwrap();
            assert_eq!(&lits[..s.len()], &s[..]);
        }
        assert_eq!(pos, body.len());
        body.len()
    }

    #[test]
    fn sections_of_every_kind_round_trip() {
        let text: Vec<u8> = b"the quick brown fox jumps over the lazy dog; "
            .iter()
            .cycle()
            .take(5000)
            .copied()
            .collect();
        let noise: Vec<u8> = (0..3000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        for n in [1, 2, 3, 5, 255, 256, 257, 1023, 1024, 1025, 1026, 5000] {
            round_trip(&[text[..n].to_vec()]);
            round_trip(&[noise[..n.min(3000)].to_vec()]);
        }
        round_trip(&[vec![9; 700], vec![1, 2], text.clone()]);
        // The second section reuses the first one's code; the third has a byte the code
        // lacks, so it gets a new code.
        let one = round_trip(&[text[..2000].to_vec()]);
        let mut sections = vec![text[..2000].to_vec(), text[100..2100].to_vec()];
        let two = round_trip(&sections);
        let mut enc = LiteralEncoder::default();
        let mut body = Vec::new();
        enc.encode(&sections[0], &mut body);
        assert_eq!(body.len(), one);
        enc.encode(&sections[1], &mut body);
        assert_eq!((body[one], body.len()), (MODE_REPEAT, two));
        sections.push([&text[..1000], &b"%"[..]].concat());
        round_trip(&sections);
        enc.encode(&sections[2], &mut body);
        assert_eq!(body[two], MODE_NEW);
    }

    #[test]
    fn repeat_without_a_code_is_an_error() {
        let body = [MODE_REPEAT, 1, 0];
        let mut pos = 0;
        let mut dec = LiteralDecoder::default();
        assert!(dec.decode(&body, &mut pos, 3, &mut Vec::new(), 32).is_err());
    }
}
