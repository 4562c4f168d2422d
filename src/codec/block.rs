//! Frame bodies: a frame is cut into blocks; each block is stored raw or as a literal
//! section and a sequence section (FORMAT.md 7.2), and both ends count the glyphs.

use super::huffman::take;
use super::literals::{LiteralDecoder, LiteralEncoder};
use super::lz::{LitBuf, MatchFinder};
use super::sequences::{
    Reps, Seq, SequenceDecoder, SequenceEncoder, Target, CODED_BYTES, MIN_MATCH, REP_CODES, SLACK,
};
use super::split::{self, Hist, Part, Splitter};
use super::{CodecError, GlyphCounts, Level};
use crate::base::varint;

/// Raw bytes covered by one block written by the encoder.
pub const BLOCK_SIZE: usize = 128 * 1024;
// The sequence encoder flushes its bit writer once per sequence's extra bits, which
// holds for lengths below 2^17 + 1.
const _: () = assert!(BLOCK_SIZE <= 1 << 17);
/// Lowest level whose blocks are cut into parts with tables of their own where that is
/// estimated to pay (see `split`): on 16 MiB of shared libraries level 3's output was 1.5%
/// smaller; level 1 keeps its speed (on 9 MB of prose planning took 4.4% more
/// instructions).
const SPLIT_MIN_LEVEL: u8 = 2;
/// Largest raw block a decoder accepts.
pub const MAX_BLOCK_SIZE: usize = 1 << 20;

const BLOCK_RAW: u8 = 0;
const BLOCK_CODED: u8 = 1;

/// Reusable encoder memory.
#[derive(Default)]
pub struct EncodeScratch {
    mf: MatchFinder,
    seqs: Vec<Seq>,
    lits: LitBuf,
    lit_enc: LiteralEncoder,
    seq_enc: SequenceEncoder,
    splitter: Splitter,
    parts: Vec<(Part, Hist)>,
}

/// Bytes of [`EncodeScratch`] outside the match finder, for blocks of up to `block` bytes
/// at `level`.
pub fn scratch_memory(level: Level, block: usize) -> usize {
    let max_seqs = block / super::lz::shortest_copy(level);
    // Sequences and their coded forms, literals, the literal and sequence streams, the
    // splitter's counts.
    max_seqs * (std::mem::size_of::<Seq>() + CODED_BYTES)
        + block
        + block * 11 / 8
        + max_seqs * 13
        + split::memory(block)
}

/// Reusable decoder memory.
#[derive(Default)]
pub struct DecodeScratch {
    lits: Vec<u8>,
    lit_dec: LiteralDecoder,
    seq_dec: SequenceDecoder,
}

/// Appends the coded body of `input[history..]` to `out` and returns its glyph counts.
/// Copies may reach back into `input[..history]`, the end of the previous frame of a
/// linked frame (FORMAT.md 5); `history` is 0 for an independent frame.
///
/// # Panics
/// If `history` exceeds `input.len()`.
pub fn encode_body(
    input: &[u8],
    history: usize,
    level: Level,
    scratch: &mut EncodeScratch,
    out: &mut Vec<u8>,
) -> GlyphCounts {
    assert!(history <= input.len(), "history is part of the input");
    scratch.mf.reset(level, input, history);
    scratch.lit_enc.reset();
    scratch.seq_enc.reset();
    let mut counts = GlyphCounts::default();
    let mut start = history;
    while start < input.len() {
        let end = (start + BLOCK_SIZE).min(input.len());
        scratch.seqs.clear();
        scratch.lits.reset(end - start);
        let reps = scratch.mf.reps;
        let trailing = scratch
            .mf
            .parse(input, start, end, &mut scratch.seqs, &mut scratch.lits);
        let block_start = out.len();
        let saved = (scratch.lit_enc.save(), scratch.seq_enc.save());
        let lits = scratch.lits.as_slice();
        let seqs = &scratch.seqs[..];
        let raw = end - start;
        // Cut into parts with tables of their own where that pays (levels from 2; empty
        // `parts`: the block whole, its counts taken by the encoders).
        scratch.parts.clear();
        if level.get() >= SPLIT_MIN_LEVEL && seqs.len() >= split::MIN_SEQS && raw >= split::MIN_RAW
        {
            let coded = scratch.seq_enc.coded_mut();
            scratch
                .splitter
                .plan(seqs, coded, lits, raw, &mut scratch.parts);
        }
        let n_parts = scratch.parts.len().max(1);
        let mut block = GlyphCounts::default();
        let mut part_reps = reps;
        let mut from = Part::default();
        for k in 0..n_parts {
            let (to, hist) = match scratch.parts.get(k) {
                Some((to, hist)) => (*to, Some(hist)),
                None => (
                    Part {
                        seqs: seqs.len(),
                        lits: lits.len(),
                        raw,
                    },
                    None,
                ),
            };
            let (part_seqs, part_lits) = (&seqs[from.seqs..to.seqs], &lits[from.lits..to.lits]);
            let part_raw = to.raw - from.raw;
            out.push(BLOCK_CODED);
            varint::write(out, part_raw as u64);
            varint::write(out, part_lits.len() as u64);
            varint::write(out, part_seqs.len() as u64);
            let (lit_enc, seq_enc) = (&mut scratch.lit_enc, &mut scratch.seq_enc);
            if !part_lits.is_empty() {
                match hist {
                    Some(h) => lit_enc.encode_counted(part_lits, &h.lits, out),
                    None => lit_enc.encode(part_lits, out),
                }
            }
            if !part_seqs.is_empty() {
                match hist {
                    Some(h) => seq_enc.encode_prepared(from.seqs..to.seqs, &h.codes, out),
                    None => seq_enc.encode(part_seqs, out),
                }
            }
            let kinds = if n_parts == 1 {
                scratch.mf.kinds
            } else {
                sequence_kinds(part_seqs, &mut part_reps)
            };
            let last = k + 1 == n_parts;
            block.add(&block_counts(
                kinds,
                part_seqs.len(),
                part_lits.len(),
                part_raw,
                if last { trailing } else { 0 },
            ));
            from = to;
        }
        if out.len() - block_start < end - start + 1 + varint::len((end - start) as u64) {
            counts.add(&block);
        } else {
            // Stored: the decoder's tables and recent distances stay as they were, so the
            // encoder's do too.
            scratch.lit_enc.restore(saved.0);
            scratch.seq_enc.restore(saved.1);
            scratch.mf.reps = reps;
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

/// Kinds of `seqs` as [`MatchFinder::kinds`] counts them, from the recent distances
/// `reps` before them (left as after them): with literals, at distance 1, sent as a
/// repeat code for another distance.
fn sequence_kinds(seqs: &[Seq], reps: &mut Reps) -> [u32; 3] {
    let mut kinds = [0u32; 3];
    for q in seqs {
        let dist = reps.resolve(q.off);
        kinds[0] += u32::from(q.lit_len > 0);
        kinds[1] += u32::from(dist == 1);
        kinds[2] += u32::from(q.off <= REP_CODES && dist != 1);
    }
    kinds
}

/// Glyph counts of a coded block of `raw` bytes (FORMAT.md 7.6) from the kinds of its
/// `n_seqs` sequences (see [`MatchFinder::kinds`]), its `n_lits` literals and the
/// `trailing` ones after its last sequence.
fn block_counts(
    [primitive, iteration, delta]: [u32; 3],
    n_seqs: usize,
    n_lits: usize,
    raw: usize,
    trailing: u32,
) -> GlyphCounts {
    GlyphCounts {
        primitive: u64::from(primitive) + u64::from(trailing > 0),
        reference: (n_seqs - iteration as usize - delta as usize) as u64,
        delta: u64::from(delta),
        iteration: u64::from(iteration),
        literal_bytes: n_lits as u64,
        copied_bytes: (raw - n_lits) as u64,
    }
}

fn read_varint(body: &[u8], pos: &mut usize, what: &str) -> Result<u64, CodecError> {
    varint::read(body, pos).map_err(|e| CodecError::new(*pos, format!("{what}: {e}")))
}

/// Decodes a frame body into exactly `raw_size` bytes appended to `out`; copies may reach
/// back into the last `history` bytes already in `out` (the previous frame of a linked
/// frame). Returns the glyph counts of what it decoded.
///
/// # Errors
/// A [`CodecError`] naming the body offset of the first inconsistency; `history` larger
/// than `out`.
pub fn decode_body(
    body: &[u8],
    history: usize,
    raw_size: usize,
    scratch: &mut DecodeScratch,
    out: &mut Vec<u8>,
) -> Result<GlyphCounts, CodecError> {
    let Some(window_start) = out.len().checked_sub(history) else {
        return Err(CodecError::new(
            0,
            format!("history is {history} bytes, only {} are there", out.len()),
        ));
    };
    let frame_start = out.len();
    out.resize(frame_start + raw_size + SLACK, 0);
    let result = decode_into(body, history, raw_size, scratch, &mut out[window_start..]);
    out.truncate(frame_start + raw_size);
    result.map(|(counts, _)| counts)
}

/// Decodes a frame body into `buf[history..history + raw_size]`, with copies reaching
/// back into `buf[..history]` (the previous frame of a linked frame, else empty); `buf`
/// must be at least `history + raw_size + DECODE_SLACK` bytes (the rest is scratch
/// space). Lets a caller reuse one buffer for every frame without clearing it. Returns
/// the glyph counts and the CRC32C of the decoded bytes, taken block by block while each
/// block is still in the cache (a pass over the whole frame afterwards reads it back
/// from memory).
///
/// # Errors
/// A [`CodecError`] naming the body offset of the first inconsistency.
pub fn decode_body_into(
    body: &[u8],
    history: usize,
    raw_size: usize,
    scratch: &mut DecodeScratch,
    buf: &mut [u8],
) -> Result<(GlyphCounts, u32), CodecError> {
    let need = history + raw_size + SLACK;
    if buf.len() < need {
        return Err(CodecError::new(
            0,
            format!("output buffer is {} bytes, needs {need}", buf.len()),
        ));
    }
    decode_into(body, history, raw_size, scratch, buf)
}

/// Decodes into `frame[history..history + raw_size]` (followed by [`SLACK`] bytes).
fn decode_into(
    body: &[u8],
    history: usize,
    raw_size: usize,
    scratch: &mut DecodeScratch,
    frame: &mut [u8],
) -> Result<(GlyphCounts, u32), CodecError> {
    let mut reps = Reps::default();
    let mut crc = 0u32;
    scratch.lit_dec.reset();
    scratch.seq_dec.reset();
    let mut counts = GlyphCounts::default();
    let mut pos = 0usize;
    let mut op = history;
    let raw_end = history + raw_size;
    while op < raw_end {
        let block_at = pos;
        let kind = take(body, &mut pos, 1, "block kind")?[0];
        let raw_len = read_varint(body, &mut pos, "block size")?;
        let left = (raw_end - op) as u64;
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
        let block_start = op;
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
                decode_block(
                    body,
                    &mut pos,
                    raw_len,
                    &mut reps,
                    scratch,
                    frame,
                    &mut op,
                    &mut counts,
                )?;
            }
            k => {
                return Err(CodecError::new(
                    block_at,
                    format!("block kind is {k}, should be 0 or 1"),
                ))
            }
        }
        crc = crc32c::crc32c_append(crc, &frame[block_start..op]);
    }
    if pos != body.len() {
        return Err(CodecError::new(
            pos,
            format!("body has {} bytes after its last block", body.len() - pos),
        ));
    }
    Ok((counts, crc))
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
    counts: &mut GlyphCounts,
) -> Result<(), CodecError> {
    let counts_at = *pos;
    let n_lits = read_varint(body, pos, "literal count")?;
    let n_seqs = read_varint(body, pos, "sequence count")?;
    if n_lits > raw_len as u64 || n_seqs > (raw_len / MIN_MATCH) as u64 {
        return Err(CodecError::new(
            counts_at,
            format!("block of {raw_len} bytes claims {n_lits} literals and {n_seqs} sequences"),
        ));
    }
    let (n_lits, n_seqs) = (n_lits as usize, n_seqs as usize);
    let lits = &mut scratch.lits;
    if n_lits > 0 {
        scratch.lit_dec.decode(body, pos, n_lits, lits, SLACK)?;
    } else if lits.len() < SLACK {
        lits.resize(SLACK, 0);
    }
    let block_end = *op + raw_len;
    let mut t = Target {
        frame,
        op: *op,
        block_end,
        lits,
        n_lits,
        lit_pos: 0,
    };
    if n_seqs > 0 {
        scratch
            .seq_dec
            .decode(body, pos, n_seqs, &mut t, reps, counts)?;
    }
    let (at, lit_pos) = (t.op, t.lit_pos);
    let rest = n_lits - lit_pos;
    if at + rest != block_end {
        return Err(CodecError::new(
            counts_at,
            format!(
                "block decodes to {} bytes, should be {raw_len}",
                at + rest + raw_len - block_end
            ),
        ));
    }
    frame[at..block_end].copy_from_slice(&scratch.lits[lit_pos..n_lits]);
    *op = block_end;
    counts.literal_bytes += n_lits as u64;
    counts.primitive += u64::from(rest > 0);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(data: &[u8], level: u8) -> usize {
        let mut body = Vec::new();
        let mut es = EncodeScratch::default();
        let enc_counts = encode_body(data, 0, Level::new(level).unwrap(), &mut es, &mut body);
        let mut out = vec![9u8; 3]; // decoding appends after existing content
        let dec_counts = decode_body(
            &body,
            0,
            data.len(),
            &mut DecodeScratch::default(),
            &mut out,
        )
        .unwrap();
        assert_eq!(&out[3..], data);
        assert_eq!(enc_counts, dec_counts, "level {level}");
        assert_eq!(
            enc_counts.literal_bytes + enc_counts.copied_bytes,
            data.len() as u64
        );
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

    /// Bodies of many shapes: text, runs, noise, mixtures, at sizes around the block and
    /// stream boundaries; the encoder's glyph counts must equal the decoder's.
    #[test]
    fn encoder_and_decoder_count_the_same_glyphs() {
        let mut rnd = lcg(99u32);
        let words = [
            "alpha ", "beta ", "gamma\n", "delta\t", "{x: 1}", "0000", "\0\0",
        ];
        for case in 0..24u32 {
            let len =
                [0usize, 1, 5, 100, 4096, 70_000, 131_072, 131_073, 300_000][case as usize % 9];
            let mut data = Vec::with_capacity(len);
            while data.len() < len {
                match (case + rnd()) % 5 {
                    0 => data.extend(std::iter::repeat_n(rnd() as u8, (rnd() % 40) as usize)),
                    1 | 2 => data.extend_from_slice(words[(rnd() % 7) as usize].as_bytes()),
                    3 => data.push(rnd() as u8),
                    _ => {
                        let back = (rnd() as usize % 5000).min(data.len());
                        let at = data.len() - back;
                        let n = (rnd() % 50) as usize;
                        for i in 0..n.min(back) {
                            data.push(data[at + i]);
                        }
                    }
                }
            }
            data.truncate(len);
            for level in 1..=9 {
                round_trip(&data, level);
            }
        }
    }

    /// A block of text followed by one of binary-looking bytes is coded as more than
    /// one part, at every level that cuts, and decodes with the same glyph counts.
    #[test]
    fn a_block_whose_halves_differ_is_cut() {
        let mut rnd = lcg(7u32);
        let words = [
            "the ", "glyph ", "stream ", "of ", "frames\n", "and ", "bytes ",
        ];
        let mut data = Vec::new();
        while data.len() < BLOCK_SIZE / 2 {
            data.extend_from_slice(words[rnd() as usize % words.len()].as_bytes());
        }
        while data.len() < BLOCK_SIZE {
            if rnd().is_multiple_of(4) && data.len() > BLOCK_SIZE / 2 + 64 {
                // A short copy of recent bytes.
                let at = data.len() - 1 - rnd() as usize % 48;
                for i in 0..6 {
                    data.push(data[at + i]);
                }
            } else {
                data.push(0x80 | rnd() as u8);
            }
        }
        data.truncate(BLOCK_SIZE);
        for level in 1..=9 {
            round_trip(&data, level);
            let mut es = EncodeScratch::default();
            encode_body(
                &data,
                0,
                Level::new(level).unwrap(),
                &mut es,
                &mut Vec::new(),
            );
            let cut = es.parts.len() > 1;
            assert_eq!(cut, level >= SPLIT_MIN_LEVEL, "level {level}");
        }
    }

    /// Encodes `data[history..]` after `data[..history]` and decodes it after the same
    /// history; returns the body's length.
    fn linked_round_trip(data: &[u8], history: usize, level: u8) -> usize {
        let mut body = Vec::new();
        let level = Level::new(level).unwrap();
        let enc_counts = encode_body(
            data,
            history,
            level,
            &mut EncodeScratch::default(),
            &mut body,
        );
        let mut out = data[..history].to_vec();
        let dec_counts = decode_body(
            &body,
            history,
            data.len() - history,
            &mut DecodeScratch::default(),
            &mut out,
        )
        .unwrap();
        assert_eq!(out, data, "level {level:?} history {history}");
        assert_eq!(enc_counts, dec_counts);
        body.len()
    }

    /// `n` pseudo-random bytes.
    /// A linear congruential generator from `seed`: 24-bit values.
    fn lcg(mut x: u32) -> impl FnMut() -> u32 {
        move || {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            x >> 8
        }
    }

    fn noise(n: usize, seed: u32) -> Vec<u8> {
        let mut x = seed;
        (0..n)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                (x >> 16) as u8
            })
            .collect()
    }

    #[test]
    fn linked_bodies_copy_from_their_history() {
        let noise = noise(60_000, 7);
        // The second half repeats the first: only the history makes it cheap.
        let data = [&noise[..], &noise[..]].concat();
        for level in 1..=9 {
            let alone = round_trip(&data[noise.len()..], level);
            let linked = linked_round_trip(&data, noise.len(), level);
            assert!(linked * 20 < alone, "level {level}: {linked} vs {alone}");
        }
        // A small frame (the row finder at levels 2-3) after a long history.
        let text: Vec<u8> = (0..20_000u32)
            .flat_map(|i| format!("line {} of {}\n", i % 97, i % 13).into_bytes())
            .collect();
        for level in 1..=9 {
            linked_round_trip(&text, text.len() - 5_000, level);
        }
        // Tiny inputs and histories of every length, at every level.
        let tiny = b"abcabcabXabcab";
        for level in 1..=9 {
            for len in 0..=tiny.len() {
                for history in 0..=len {
                    linked_round_trip(&tiny[..len], history, level);
                }
            }
        }
    }

    #[test]
    fn every_level_from_3_finds_copies_beyond_its_chain_window() {
        // Levels 4-8 walk chains of 256 KiB to 2 MiB (level 4 used rows of 16 positions);
        // a copy from 2.5 MB back used to leave the second half as literals (stored).
        let noise = noise(2_500_000, 11);
        let data = [&noise[..], &noise[..]].concat();
        for level in 3..=9 {
            let size = round_trip(&data, level);
            assert!(
                size < noise.len() + noise.len() / 50,
                "level {level}: {size}"
            );
        }
    }

    #[test]
    fn a_stored_block_leaves_the_recent_distances_as_they_were() {
        // A block of noise with one short copy from 1,000 bytes back: too short to pay for
        // its coding, so the block is stored, yet its parse made 1,000 the latest distance.
        // The next block repeats with that period; its first copy, sent as a repeat code,
        // decoded with the distances before the stored block.
        let mut data = noise(BLOCK_SIZE, 7);
        let at = BLOCK_SIZE - 100;
        data.copy_within(at - 1_000..at - 1_000 + 7, at);
        let tail = noise(1_000, 8).repeat(40);
        data.extend_from_slice(&tail);
        for level in 1..=9 {
            round_trip(&data, level);
        }
    }

    #[test]
    fn level_9_takes_3_byte_copies() {
        // 3-byte words from a vocabulary of 64, each followed by a random byte: copies of
        // four bytes are rare, copies of three everywhere.
        let words = noise(3 * 64, 21);
        let picks = noise(40_000, 22);
        let data: Vec<u8> = picks
            .chunks(2)
            .flat_map(|p| {
                let w = usize::from(p[0] % 64) * 3;
                [words[w], words[w + 1], words[w + 2], p[1]]
            })
            .collect();
        let (lazy, best) = (round_trip(&data, 8), round_trip(&data, 9));
        assert!(
            best * 10 < lazy * 9,
            "level 9: {best} bytes, level 8: {lazy}"
        );
    }

    #[test]
    fn level_9_is_not_larger_than_level_3_on_counting_numbers() {
        // Priced without counts, the first block took about three literals a line: level
        // 9's output was twice level 3's.
        let data: Vec<u8> = (1..30_000u32)
            .flat_map(|i| format!("{i}\n").into_bytes())
            .collect();
        let (lazy, best) = (round_trip(&data, 3), round_trip(&data, 9));
        assert!(best < lazy, "level 9: {best} bytes, level 3: {lazy}");
    }

    #[test]
    fn level_9_does_not_drift_into_literals_on_sparse_data() {
        // A random byte every 4 KiB, zeros between: after each long copy the optimal
        // parser counted the positions it had jumped as misses and searched ever more
        // sparsely, so each period began with more literal zeros (1.8x level 1's size).
        let mut data = vec![0u8; 1 << 20];
        for (i, b) in noise(data.len() / 4096, 5).into_iter().enumerate() {
            data[i * 4096] = b;
        }
        let (fast, best) = (round_trip(&data, 1), round_trip(&data, 9));
        assert!(
            best * 2 < fast * 3,
            "level 9: {best} bytes, level 1: {fast}"
        );
    }

    #[test]
    fn long_runs_in_the_history_are_primed_in_linear_time() {
        // Priming level 9's trees used to compare each history position to the end of
        // the run: 2 MiB of zeros after 2 MiB of history took hours. Now milliseconds.
        let zeros = vec![0u8; 4 << 20];
        let size = linked_round_trip(&zeros, 2 << 20, 9);
        assert!(size < 1_000, "{size} bytes for a run of zeros");
    }

    #[test]
    fn copies_before_the_window_are_rejected() {
        // Copies at distance 64 only.
        let data = noise(64, 3).repeat(4);
        let mut body = Vec::new();
        encode_body(
            &data,
            64,
            Level::DEFAULT,
            &mut EncodeScratch::default(),
            &mut body,
        );
        let mut ds = DecodeScratch::default();
        // With the history it was coded against it decodes; with less, its first copy
        // reaches before the window.
        let mut out = data[..64].to_vec();
        decode_body(&body, 64, data.len() - 64, &mut ds, &mut out).unwrap();
        let mut out = data[32..64].to_vec();
        let e = decode_body(&body, 32, data.len() - 64, &mut ds, &mut out).unwrap_err();
        assert!(e.detail.contains("bytes before it"), "{e}");
        assert!(decode_body(&body, 64, 8, &mut ds, &mut Vec::new()).is_err());
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
            0,
            Level::DEFAULT,
            &mut EncodeScratch::default(),
            &mut body,
        );
        let mut ds = DecodeScratch::default();
        for cut in [0, 1, body.len() / 2, body.len() - 1] {
            let mut out = Vec::new();
            assert!(decode_body(&body[..cut], 0, data.len(), &mut ds, &mut out).is_err());
        }
        for i in (0..body.len()).step_by(body.len() / 50 + 1) {
            let mut bad = body.clone();
            bad[i] ^= 0x5A;
            let mut out = Vec::new();
            // Must not panic; may or may not detect (the frame CRC catches the rest).
            let _ = decode_body(&bad, 0, data.len(), &mut ds, &mut out);
        }
    }
}
