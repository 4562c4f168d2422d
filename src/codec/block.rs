//! Frame bodies: a frame is cut into blocks; each block is stored raw or as
//! entropy-coded glyph sequences (see FORMAT.md, "Frame body").

use super::bits::{BitReader, BitWriter};
use super::huffman::{self, take, Table, MAX_CODE_LEN};
use super::lz::{MatchFinder, Reps, Seq, MIN_MATCH};
use super::{CodecError, GlyphCounts, Level};
use crate::base::varint;

/// Raw bytes covered by one block written by the encoder.
pub const BLOCK_SIZE: usize = 128 * 1024;
/// Largest raw block a decoder accepts.
pub const MAX_BLOCK_SIZE: usize = 1 << 20;

const BLOCK_RAW: u8 = 0;
const BLOCK_CODED: u8 = 1;
const LITS_RAW: u8 = 0;
const LITS_CODED: u8 = 1;

/// Symbols in the length and offset alphabets.
const LEN_SYMS: usize = 64;
const LIT_SYMS: usize = 256;

/// Code of a length value: values below 16 are their own code; above, a code carries the
/// top two bits and the rest follow as extra bits.
#[inline(always)]
fn len_code(v: u32) -> (usize, u32, u32) {
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
const fn len_bases() -> [(u32, u32); LEN_SYMS] {
    let mut t = [(0u32, 0u32); LEN_SYMS];
    let mut code = 0;
    while code < LEN_SYMS {
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

const LEN_BASE: [(u32, u32); LEN_SYMS] = len_bases();

/// Offset codes: 0..=2 name a repeat distance, 3.. are `len_code(distance)` + 3.
#[inline(always)]
fn off_code(off: u32) -> (usize, u32, u32) {
    if off <= 3 {
        ((off - 1) as usize, 0, 0)
    } else {
        let (c, n, e) = len_code(off - 3);
        (c + 3, n, e)
    }
}

/// Reusable encoder memory.
#[derive(Default)]
pub struct EncodeScratch {
    mf: MatchFinder,
    seqs: Vec<Seq>,
    lits: Vec<u8>,
    lit_stream: Vec<u8>,
    seq_stream: Vec<u8>,
}

/// Reusable decoder memory.
#[derive(Default)]
pub struct DecodeScratch {
    lits: Vec<u8>,
}

/// Appends the coded body of `input` to `out` and returns its glyph counts.
pub fn encode_body(
    input: &[u8],
    level: Level,
    scratch: &mut EncodeScratch,
    out: &mut Vec<u8>,
) -> GlyphCounts {
    scratch.mf.reset(level, input.len());
    let mut counts = GlyphCounts::default();
    let mut start = 0;
    while start < input.len() {
        let end = (start + BLOCK_SIZE).min(input.len());
        scratch.seqs.clear();
        scratch.lits.clear();
        let reps_before = scratch.mf.reps;
        let trailing = scratch
            .mf
            .parse(input, start, end, &mut scratch.seqs, &mut scratch.lits);
        let block_start = out.len();
        let coded = encode_block(scratch, end - start, out);
        if coded && out.len() - block_start < end - start {
            counts.add(&block_counts(&scratch.seqs, reps_before, trailing));
        } else {
            out.truncate(block_start);
            out.push(BLOCK_RAW);
            varint::write(out, (end - start) as u64);
            out.extend_from_slice(&input[start..end]);
            counts.primitive += 1;
            counts.literal_bytes += (end - start) as u64;
        }
        start = end;
    }
    counts
}

fn block_counts(seqs: &[Seq], mut reps: Reps, trailing: u32) -> GlyphCounts {
    let mut c = GlyphCounts::default();
    for s in seqs {
        if s.lit_len > 0 {
            c.primitive += 1;
            c.literal_bytes += u64::from(s.lit_len);
        }
        let dist = reps.resolve(s.off);
        if dist == 1 {
            c.iteration += 1;
        } else if s.off <= 3 {
            c.delta += 1;
        } else {
            c.reference += 1;
        }
        c.copied_bytes += u64::from(s.match_len);
    }
    if trailing > 0 {
        c.primitive += 1;
        c.literal_bytes += u64::from(trailing);
    }
    c
}

/// Writes one coded block from the parsed sequences; false when coding cannot help.
fn encode_block(s: &mut EncodeScratch, raw_len: usize, out: &mut Vec<u8>) -> bool {
    out.push(BLOCK_CODED);
    varint::write(out, raw_len as u64);
    varint::write(out, s.lits.len() as u64);
    varint::write(out, s.seqs.len() as u64);

    // Literals.
    s.lit_stream.clear();
    if !s.lits.is_empty() {
        let mut freqs = [0u32; LIT_SYMS];
        for &b in &s.lits {
            freqs[b as usize] += 1;
        }
        let table = Table::for_freqs(&freqs);
        let enc = huffman::Encoder::new(&table, LIT_SYMS);
        let bits: u64 = freqs
            .iter()
            .enumerate()
            .map(|(sym, &f)| u64::from(f) * enc.cost(sym))
            .sum();
        if bits / 8 + 40 < s.lits.len() as u64 {
            out.push(LITS_CODED);
            table.write(out);
            let mut w = BitWriter::new(&mut s.lit_stream);
            for &b in &s.lits {
                enc.put(&mut w, b as usize);
            }
            w.finish();
            varint::write(out, s.lit_stream.len() as u64);
            out.extend_from_slice(&s.lit_stream);
        } else {
            out.push(LITS_RAW);
            out.extend_from_slice(&s.lits);
        }
    }

    // Sequences.
    if !s.seqs.is_empty() {
        let mut ll_f = [0u32; LEN_SYMS];
        let mut ml_f = [0u32; LEN_SYMS];
        let mut of_f = [0u32; LEN_SYMS];
        for q in &s.seqs {
            ll_f[len_code(q.lit_len).0] += 1;
            ml_f[len_code(q.match_len - MIN_MATCH as u32).0] += 1;
            of_f[off_code(q.off).0] += 1;
        }
        let tables = [
            Table::for_freqs(&ll_f),
            Table::for_freqs(&ml_f),
            Table::for_freqs(&of_f),
        ];
        for t in &tables {
            t.write(out);
        }
        let [ll, ml, of] = tables.map(|t| huffman::Encoder::new(&t, LEN_SYMS));
        s.seq_stream.clear();
        let mut w = BitWriter::new(&mut s.seq_stream);
        for q in &s.seqs {
            let (c, n, e) = len_code(q.lit_len);
            ll.put(&mut w, c);
            w.write(e, n);
            let (c, n, e) = len_code(q.match_len - MIN_MATCH as u32);
            ml.put(&mut w, c);
            w.write(e, n);
            let (c, n, e) = off_code(q.off);
            of.put(&mut w, c);
            w.write(e, n);
        }
        w.finish();
        varint::write(out, s.seq_stream.len() as u64);
        out.extend_from_slice(&s.seq_stream);
    }
    true
}

fn read_varint(body: &[u8], pos: &mut usize, what: &str) -> Result<u64, CodecError> {
    varint::read(body, pos).map_err(|e| CodecError::new(*pos, format!("{what}: {e}")))
}

/// Spare bytes after the decoded frame and the literal buffer, so short copies can move
/// 16 bytes at a time; they are trimmed before returning.
pub const SLACK: usize = 32;

/// Decodes a frame body into exactly `raw_size` bytes appended to `out`.
///
/// # Errors
/// A [`CodecError`] naming the body offset of the first inconsistency.
pub fn decode_body(
    body: &[u8],
    raw_size: usize,
    scratch: &mut DecodeScratch,
    out: &mut Vec<u8>,
) -> Result<GlyphCounts, CodecError> {
    let frame_start = out.len();
    out.resize(frame_start + raw_size + SLACK, 0);
    let result = decode_into(body, raw_size, scratch, &mut out[frame_start..]);
    out.truncate(frame_start + raw_size);
    result
}

/// Decodes a frame body into `frame[..raw_size]`; `frame` must be at least
/// `raw_size + DECODE_SLACK` bytes (the rest is scratch space). Lets a caller reuse one
/// buffer for every frame without clearing it.
///
/// # Errors
/// A [`CodecError`] naming the body offset of the first inconsistency.
pub fn decode_body_into(
    body: &[u8],
    raw_size: usize,
    scratch: &mut DecodeScratch,
    frame: &mut [u8],
) -> Result<GlyphCounts, CodecError> {
    if frame.len() < raw_size + SLACK {
        return Err(CodecError::new(
            0,
            format!(
                "output buffer is {} bytes, needs {}",
                frame.len(),
                raw_size + SLACK
            ),
        ));
    }
    decode_into(body, raw_size, scratch, frame)
}

/// Decodes into `frame` (`raw_size` bytes plus [`SLACK`]).
fn decode_into(
    body: &[u8],
    raw_size: usize,
    scratch: &mut DecodeScratch,
    frame: &mut [u8],
) -> Result<GlyphCounts, CodecError> {
    let mut reps = Reps::default();
    let mut pos = 0usize;
    let mut op = 0usize;
    let mut counts = GlyphCounts::default();
    while op < raw_size {
        let block_at = pos;
        let kind = take(body, &mut pos, 1, "block kind")?[0];
        let raw_len = read_varint(body, &mut pos, "block size")?;
        let left = (raw_size - op) as u64;
        if raw_len == 0 || raw_len > left || raw_len > MAX_BLOCK_SIZE as u64 {
            return Err(CodecError::new(
                block_at,
                format!(
                    "block size is {raw_len}, should be 1..={}",
                    left.min(MAX_BLOCK_SIZE as u64)
                ),
            ));
        }
        let raw_len = raw_len as usize;
        match kind {
            BLOCK_RAW => {
                frame[op..op + raw_len].copy_from_slice(take(
                    body,
                    &mut pos,
                    raw_len,
                    "raw block",
                )?);
                op += raw_len;
                counts.primitive += 1;
                counts.literal_bytes += raw_len as u64;
            }
            BLOCK_CODED => {
                let c = decode_block(body, &mut pos, raw_len, &mut reps, scratch, frame, &mut op)?;
                counts.add(&c);
            }
            k => {
                return Err(CodecError::new(
                    block_at,
                    format!("block kind is {k}, should be 0 or 1"),
                ))
            }
        }
    }
    if pos != body.len() {
        return Err(CodecError::new(
            pos,
            format!("body has {} bytes after its last block", body.len() - pos),
        ));
    }
    Ok(counts)
}

#[allow(clippy::too_many_arguments)]
fn decode_block(
    body: &[u8],
    pos: &mut usize,
    raw_len: usize,
    reps: &mut Reps,
    scratch: &mut DecodeScratch,
    frame: &mut [u8],
    op: &mut usize,
) -> Result<GlyphCounts, CodecError> {
    let mut counts = GlyphCounts::default();
    let n_lits = read_varint(body, pos, "literal count")?;
    let n_seqs = read_varint(body, pos, "sequence count")?;
    if n_lits > raw_len as u64 || n_seqs > (raw_len / MIN_MATCH) as u64 {
        return Err(CodecError::new(
            *pos,
            format!("block of {raw_len} bytes claims {n_lits} literals and {n_seqs} sequences"),
        ));
    }
    let (n_lits, n_seqs) = (n_lits as usize, n_seqs as usize);
    let lits = &mut scratch.lits;
    lits.clear();
    if n_lits > 0 {
        let mode_at = *pos;
        match take(body, pos, 1, "literal mode")?[0] {
            LITS_RAW => lits.extend_from_slice(take(body, pos, n_lits, "raw literals")?),
            LITS_CODED => {
                let table = Table::read(body, pos, LIT_SYMS)?;
                let dec = huffman::Decoder::new(&table, *pos)?;
                let len = read_varint(body, pos, "literal stream size")? as usize;
                let stream_at = *pos;
                let stream = take(body, pos, len, "literal stream")?;
                decode_literals(&dec, stream, n_lits, lits)
                    .map_err(|()| CodecError::new(stream_at, "corrupt literal stream".into()))?;
            }
            m => {
                return Err(CodecError::new(
                    mode_at,
                    format!("literal mode is {m}, should be 0 or 1"),
                ))
            }
        }
    }
    lits.resize(n_lits + SLACK, 0);
    let block_end = *op + raw_len;
    let mut lit_pos = 0usize;
    if n_seqs > 0 {
        let ll = huffman::Decoder::new(&Table::read(body, pos, LEN_SYMS)?, *pos)?;
        let ml = huffman::Decoder::new(&Table::read(body, pos, LEN_SYMS)?, *pos)?;
        let of = huffman::Decoder::new(&Table::read(body, pos, LEN_SYMS)?, *pos)?;
        let len = read_varint(body, pos, "sequence stream size")? as usize;
        let stream_at = *pos;
        let stream = take(body, pos, len, "sequence stream")?;
        let bad = |what: String| CodecError::new(stream_at, what);
        let mut r = BitReader::new(stream);
        for i in 0..n_seqs {
            r.refill();
            let llc = ll
                .get(&mut r)
                .ok_or_else(|| bad(format!("sequence {i}: bad literal-length code")))?;
            let (base, n) = LEN_BASE[llc];
            let lit_len = (base + r.read(n)) as usize;
            r.ensure(2 * MAX_CODE_LEN);
            let mlc = ml
                .get(&mut r)
                .ok_or_else(|| bad(format!("sequence {i}: bad match-length code")))?;
            let (base, n) = LEN_BASE[mlc];
            let match_len = (base + r.read(n)) as usize + MIN_MATCH;
            r.ensure(2 * MAX_CODE_LEN);
            let ofc = of
                .get(&mut r)
                .ok_or_else(|| bad(format!("sequence {i}: bad offset code")))?;
            let repeat = ofc < 3;
            let off = if ofc < 3 {
                ofc as u32 + 1
            } else {
                let (base, n) = LEN_BASE.get(ofc - 3).copied().unwrap_or((0, 0));
                (base + r.read(n)).saturating_add(3)
            };
            if lit_len > n_lits - lit_pos || lit_len > block_end - *op {
                return Err(bad(format!(
                    "sequence {i}: literal run is {lit_len}, should be at most {}",
                    (n_lits - lit_pos).min(block_end - *op)
                )));
            }
            copy_literals(frame, *op, lits, lit_pos, lit_len);
            lit_pos += lit_len;
            *op += lit_len;
            let dist = reps.resolve(off) as usize;
            if dist == 0 || dist > *op || match_len > block_end - *op {
                return Err(bad(format!(
                    "sequence {i}: copy of {match_len} bytes at distance {dist} with {} bytes of history and {} left in block",
                    *op,
                    block_end - *op
                )));
            }
            copy_match(frame, *op, dist, match_len);
            *op += match_len;
            if lit_len > 0 {
                counts.primitive += 1;
            }
            if dist == 1 {
                counts.iteration += 1;
            } else if repeat {
                counts.delta += 1;
            } else {
                counts.reference += 1;
            }
            counts.copied_bytes += match_len as u64;
        }
        if r.overrun() {
            return Err(bad("sequence stream ends early".into()));
        }
    }
    let rest = n_lits - lit_pos;
    if *op + rest != block_end {
        return Err(CodecError::new(
            *pos,
            format!(
                "block decodes to {} bytes, should be {raw_len}",
                *op + rest + raw_len - block_end
            ),
        ));
    }
    frame[*op..block_end].copy_from_slice(&lits[lit_pos..n_lits]);
    *op = block_end;
    if rest > 0 {
        counts.primitive += 1;
    }
    counts.literal_bytes += n_lits as u64;
    Ok(counts)
}

fn decode_literals(
    dec: &huffman::Decoder,
    stream: &[u8],
    n: usize,
    lits: &mut Vec<u8>,
) -> Result<(), ()> {
    lits.resize(n, 0);
    if let Some(sym) = dec.single() {
        lits.fill(sym as u8);
        return Ok(());
    }
    let mut r = BitReader::new(stream);
    let mut chunks = lits.chunks_exact_mut(4);
    for quad in &mut chunks {
        r.refill();
        for b in quad.iter_mut() {
            *b = dec.get(&mut r).ok_or(())? as u8;
        }
    }
    for b in chunks.into_remainder() {
        r.refill();
        *b = dec.get(&mut r).ok_or(())? as u8;
    }
    if r.overrun() {
        return Err(());
    }
    Ok(())
}

/// Copies `len` literals to `frame[op..]`; `frame` and `lits` have [`SLACK`] spare bytes.
#[inline(always)]
fn copy_literals(frame: &mut [u8], op: usize, lits: &[u8], at: usize, len: usize) {
    if len <= 16 {
        frame[op..op + 16].copy_from_slice(&lits[at..at + 16]);
    } else {
        frame[op..op + len].copy_from_slice(&lits[at..at + len]);
    }
}

/// Writes `len` bytes copied from `dist` bytes back at `frame[op..]`; overlapping copies
/// repeat the pattern. May write up to 15 bytes past the copy, into the slack.
#[inline(always)]
fn copy_match(frame: &mut [u8], op: usize, dist: usize, len: usize) {
    let src = op - dist;
    if dist >= 16 {
        let end = op + len;
        let (mut s, mut d) = (src, op);
        while d < end {
            let (before, after) = frame.split_at_mut(d);
            after[..16].copy_from_slice(&before[s..s + 16]);
            s += 16;
            d += 16;
        }
    } else if dist == 1 {
        let b = frame[src];
        frame[op..op + len].fill(b);
    } else {
        for i in 0..len {
            frame[op + i] = frame[src + i];
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

    fn round_trip(data: &[u8], level: u8) -> usize {
        let mut body = Vec::new();
        let mut es = EncodeScratch::default();
        encode_body(data, Level::new(level).unwrap(), &mut es, &mut body);
        let mut out = vec![9u8; 3]; // decoding appends after existing content
        decode_body(&body, data.len(), &mut DecodeScratch::default(), &mut out).unwrap();
        assert_eq!(&out[3..], data);
        body.len()
    }

    #[test]
    fn bodies_round_trip_and_compress() {
        let text: Vec<u8> = (0..300_000u32)
            .flat_map(|i| format!("{} fn item_{}() {{}}\n", i % 11, i % 300).into_bytes())
            .take(400_000)
            .collect();
        for level in 1..=9 {
            let size = round_trip(&text, level);
            assert!(size < text.len() / 5, "level {level}: {size}");
        }
        round_trip(&[], 3);
        round_trip(&[1], 3);
        round_trip(&[0; 1_000_000], 3);
    }

    #[test]
    fn optimal_parse_beats_lazy_on_structured_text() {
        let mut data = Vec::new();
        let mut x = 12_345u32;
        for i in 0..40_000u32 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let level = ["info", "warn", "error", "debug"][(x >> 16) as usize % 4];
            let user = (x >> 8) % 5000;
            let ts = 1_700_000_000 + i * 7;
            data.extend_from_slice(
                format!("{{\"ts\":{ts},\"level\":\"{level}\",\"user\":{user}}}\n").as_bytes(),
            );
        }
        let lazy = round_trip(&data, 8);
        let optimal = round_trip(&data, 9);
        assert!(optimal < lazy, "level 9 {optimal} vs level 8 {lazy}");
    }

    #[test]
    fn truncated_and_garbled_bodies_fail_cleanly() {
        let data: Vec<u8> = (0..50_000u32)
            .map(|i| (i % 251) as u8 ^ (i / 7) as u8)
            .collect();
        let mut body = Vec::new();
        encode_body(
            &data,
            Level::DEFAULT,
            &mut EncodeScratch::default(),
            &mut body,
        );
        let mut ds = DecodeScratch::default();
        for cut in [0, 1, body.len() / 2, body.len() - 1] {
            let mut out = Vec::new();
            assert!(decode_body(&body[..cut], data.len(), &mut ds, &mut out).is_err());
        }
        for i in (0..body.len()).step_by(body.len() / 50 + 1) {
            let mut bad = body.clone();
            bad[i] ^= 0x5A;
            let mut out = Vec::new();
            // Must not panic; may or may not detect (the frame CRC catches the rest).
            let _ = decode_body(&bad, data.len(), &mut ds, &mut out);
        }
    }
}
