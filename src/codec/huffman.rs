//! Length-limited canonical Huffman codes: code lengths from frequencies, the compact
//! table description stored in a block, encoder codes and single-lookup decoding tables.

use super::bits::{BitReader, BitWriter, SliceWriter};
use super::CodecError;

/// Longest code of a literal or sequence table.
pub const MAX_CODE_LEN: u32 = 11;
/// Longest code of the pre-code that describes code lengths.
const MAX_PRE_LEN: u32 = 7;

/// Code lengths (0 = unused) for `freqs`, none longer than `max_len`. With two or more
/// used symbols the code is complete (its Kraft sum is exactly 1); a single used symbol
/// gets length 1.
pub fn code_lengths(freqs: &[u32], max_len: u32) -> Vec<u8> {
    let mut freqs: Vec<u32> = freqs.to_vec();
    loop {
        let lengths = unlimited_lengths(&freqs);
        if lengths.iter().all(|&l| u32::from(l) <= max_len) {
            return lengths;
        }
        // Flatten the distribution and retry; converges in a few rounds.
        for f in freqs.iter_mut().filter(|f| **f > 0) {
            *f = (*f >> 1).max(1);
        }
    }
}

/// Plain Huffman code lengths via the two-queue method on sorted leaves.
fn unlimited_lengths(freqs: &[u32]) -> Vec<u8> {
    let mut leaves: Vec<(u64, usize)> = freqs
        .iter()
        .enumerate()
        .filter(|(_, &f)| f > 0)
        .map(|(s, &f)| (u64::from(f), s))
        .collect();
    let mut lengths = vec![0u8; freqs.len()];
    if leaves.len() < 2 {
        if let Some(&(_, s)) = leaves.first() {
            lengths[s] = 1;
        }
        return lengths;
    }
    leaves.sort_unstable();
    let n = leaves.len();
    // Nodes 0..n are leaves, n.. are internal; parent links give depths.
    let mut weight: Vec<u64> = leaves.iter().map(|&(f, _)| f).collect();
    let mut parent = vec![0usize; 2 * n - 1];
    let (mut leaf, mut internal) = (0usize, n);
    let pick = |weight: &Vec<u64>, leaf: &mut usize, internal: &mut usize| -> usize {
        if *leaf < n && (*internal >= weight.len() || weight[*leaf] <= weight[*internal]) {
            *leaf += 1;
            *leaf - 1
        } else {
            *internal += 1;
            *internal - 1
        }
    };
    for _ in 0..n - 1 {
        let a = pick(&weight, &mut leaf, &mut internal);
        let b = pick(&weight, &mut leaf, &mut internal);
        let node = weight.len();
        weight.push(weight[a] + weight[b]);
        parent[a] = node;
        parent[b] = node;
    }
    let root = 2 * n - 2;
    let mut depth = vec![0u32; 2 * n - 1];
    for node in (0..root).rev() {
        depth[node] = depth[parent[node]] + 1;
    }
    for (i, &(_, s)) in leaves.iter().enumerate() {
        lengths[s] = depth[i].min(255) as u8;
    }
    lengths
}

/// Canonical codes, bit-reversed for the LSB-first bit stream: codes are assigned in
/// order of (length, symbol), and each code's most significant bit is sent first.
pub fn canonical_codes(lengths: &[u8]) -> Vec<u16> {
    let mut count = [0u32; 16];
    for &l in lengths {
        count[usize::from(l) & 15] += 1;
    }
    count[0] = 0;
    let mut next = [0u32; 17];
    let mut code = 0u32;
    for len in 1..16 {
        code = (code + count[len - 1]) << 1;
        next[len] = code;
    }
    lengths
        .iter()
        .map(|&l| {
            if l == 0 {
                return 0;
            }
            let c = next[usize::from(l)];
            next[usize::from(l)] += 1;
            (c.reverse_bits() >> (32 - u32::from(l))) as u16
        })
        .collect()
}

/// Checks that `lengths` form a usable code: each at most `max_len`, and either exactly
/// one used symbol or a complete code. Returns the longest length (0 for one symbol).
pub fn check_lengths(lengths: &[u8], max_len: u32, offset: usize) -> Result<u32, CodecError> {
    let mut kraft = 0u64;
    let mut used = 0usize;
    let mut longest = 0u32;
    for &l in lengths.iter().filter(|&&l| l > 0) {
        let l = u32::from(l);
        if l > max_len {
            return Err(CodecError::new(
                offset,
                format!("code length is {l}, should be at most {max_len}"),
            ));
        }
        kraft += 1u64 << (max_len - l);
        used += 1;
        longest = longest.max(l);
    }
    match used {
        0 => Err(CodecError::new(offset, "code has no symbols".into())),
        1 => Ok(0),
        _ if kraft != 1u64 << max_len => Err(CodecError::new(
            offset,
            format!(
                "code is {} (Kraft sum {kraft}/{}), should be complete",
                if kraft > 1u64 << max_len {
                    "over-subscribed"
                } else {
                    "incomplete"
                },
                1u64 << max_len
            ),
        )),
        _ => Ok(longest),
    }
}

/// Fills a decoding table of `1 << bits` entries (`bits` from [`check_lengths`]): entry
/// `i` is `entry(symbol, length)` of the code that is a prefix of `i`'s bits. A single
/// used symbol fills one entry with length 0.
pub fn fill_table<T: Copy>(
    lengths: &[u8],
    bits: u32,
    table: &mut Vec<T>,
    entry: impl Fn(usize, u32) -> T,
) {
    table.clear();
    let size = 1usize << bits;
    if bits == 0 {
        let sym = lengths.iter().position(|&l| l > 0).unwrap_or(0);
        table.push(entry(sym, 0));
        return;
    }
    let codes = canonical_codes(lengths);
    table.resize(size, entry(0, 0));
    for (sym, (&len, &code)) in lengths.iter().zip(&codes).enumerate() {
        if len == 0 {
            continue;
        }
        let e = entry(sym, u32::from(len));
        let step = 1usize << len;
        let mut i = usize::from(code);
        while i < size {
            table[i] = e;
            i += step;
        }
    }
}

/// Code-length tokens: 0..=11 a length, then run tokens.
const REPEAT_PREV: usize = 12;
const ZEROS_SHORT: usize = 13;
const ZEROS_LONG: usize = 14;
const LENGTH_TOKENS: usize = 15;
/// Order in which the pre-code's lengths are sent; trailing zeros are left out.
const PRE_ORDER: [usize; LENGTH_TOKENS] = [0, 13, 12, 8, 7, 9, 6, 5, 10, 4, 14, 11, 3, 2, 1];

/// (token, extra value, extra bits) for a list of code lengths.
fn length_tokens(lengths: &[u8]) -> Vec<(usize, u32, u32)> {
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < lengths.len() {
        let l = lengths[i];
        let run = lengths[i..].iter().take_while(|&&x| x == l).count();
        if l == 0 && run >= 11 {
            let n = run.min(138);
            tokens.push((ZEROS_LONG, (n - 11) as u32, 7));
            i += n;
        } else if l == 0 && run >= 3 {
            let n = run.min(10);
            tokens.push((ZEROS_SHORT, (n - 3) as u32, 3));
            i += n;
        } else if i > 0 && lengths[i - 1] == l && l != 0 && run >= 3 {
            let n = run.min(6);
            tokens.push((REPEAT_PREV, (n - 3) as u32, 2));
            i += n;
        } else {
            tokens.push((usize::from(l), 0, 0));
            i += 1;
        }
    }
    tokens
}

/// Bits of the symbol count field of a table description for an alphabet.
fn count_bits(alphabet: usize) -> u32 {
    alphabet.trailing_zeros()
}

/// Appends the description of `lengths` (an alphabet of a power-of-two size, at least one
/// used symbol, each length at most [`MAX_CODE_LEN`]) to `out`; see FORMAT.md 7.5.
pub fn write_description(lengths: &[u8], out: &mut Vec<u8>) {
    let used = lengths.iter().rposition(|&l| l > 0).map_or(1, |p| p + 1);
    let tokens = length_tokens(&lengths[..used]);
    let mut freqs = [0u32; LENGTH_TOKENS];
    for &(t, _, _) in &tokens {
        freqs[t] += 1;
    }
    let pre = code_lengths(&freqs, MAX_PRE_LEN);
    let sent = PRE_ORDER
        .iter()
        .rposition(|&t| pre[t] > 0)
        .map_or(0, |p| p + 1);
    let codes = canonical_codes(&pre);
    let single = pre.iter().filter(|&&l| l > 0).count() == 1;
    let mut w = BitWriter::new(out, 32 + tokens.len() * 2);
    w.write((used - 1) as u64, count_bits(lengths.len()));
    w.write(sent as u64, 4);
    for &t in &PRE_ORDER[..sent] {
        w.write(u64::from(pre[t]), 3);
    }
    for &(t, extra, n) in &tokens {
        let len = if single { 0 } else { u32::from(pre[t]) };
        w.put(u64::from(codes[t]), len);
        w.write(u64::from(extra), n);
    }
    w.finish();
}

/// Reads a description written by [`write_description`] for an alphabet of `alphabet`
/// symbols from `data[*pos..]` into `lengths`, advancing `pos` past its last byte.
pub fn read_description(
    data: &[u8],
    pos: &mut usize,
    alphabet: usize,
    lengths: &mut Vec<u8>,
) -> Result<(), CodecError> {
    let at = *pos;
    let bad = |what: &str| CodecError::new(at, format!("code lengths: {what}"));
    let rest = data.get(at..).unwrap_or(&[]);
    let mut r = BitReader::new(rest);
    let used = r.read(count_bits(alphabet)) as usize + 1;
    let sent = r.read(4) as usize;
    let mut pre = [0u8; LENGTH_TOKENS];
    for &t in &PRE_ORDER[..sent] {
        pre[t] = r.read(3) as u8;
    }
    let bits = check_lengths(&pre, MAX_PRE_LEN, at)?;
    let mut table: Vec<u16> = Vec::new();
    fill_table(&pre, bits, &mut table, |sym, len| {
        (len << 8) as u16 | sym as u16
    });
    let mask = (1u64 << bits) - 1;
    lengths.clear();
    while lengths.len() < used {
        r.refill();
        let e = table[(r.bits() & mask) as usize];
        r.consume(u32::from(e >> 8));
        let (value, count) = match usize::from(e & 0xFF) {
            REPEAT_PREV => {
                let prev = *lengths
                    .last()
                    .ok_or_else(|| bad("repeat with nothing before it"))?;
                (prev, 3 + r.read(2) as usize)
            }
            ZEROS_SHORT => (0, 3 + r.read(3) as usize),
            ZEROS_LONG => (0, 11 + r.read(7) as usize),
            l => (l as u8, 1),
        };
        if lengths.len() + count > used {
            return Err(bad("more lengths than symbols"));
        }
        lengths.extend(std::iter::repeat_n(value, count));
        if r.overrun() {
            return Err(bad("description ends early"));
        }
    }
    if r.overrun() {
        return Err(bad("description ends early"));
    }
    *pos = at + r.bytes_consumed();
    lengths.resize(alphabet, 0);
    Ok(())
}

/// Takes `n` bytes at `*pos`, advancing it, or fails naming `what`.
pub fn take<'a>(
    data: &'a [u8],
    pos: &mut usize,
    n: usize,
    what: &str,
) -> Result<&'a [u8], CodecError> {
    let end = pos.checked_add(n).filter(|&e| e <= data.len());
    match end {
        Some(end) => {
            let s = &data[*pos..end];
            *pos = end;
            Ok(s)
        }
        None => Err(CodecError::new(
            *pos,
            format!(
                "{what} needs {n} bytes, {} left",
                data.len().saturating_sub(*pos)
            ),
        )),
    }
}

/// Encoder side of a code: per symbol, its bit-reversed code and length.
#[derive(Clone)]
pub struct Encoder {
    /// `code | length << 16` per byte value (symbols past the alphabet have none).
    entries: Box<[u32; 256]>,
}

impl Default for Encoder {
    fn default() -> Self {
        Encoder {
            entries: Box::new([0; 256]),
        }
    }
}

impl Encoder {
    /// The encoder for code `lengths` (at most 256 symbols; a single used symbol costs
    /// no bits).
    pub fn new(lengths: &[u8]) -> Encoder {
        let single = lengths.iter().filter(|&&l| l > 0).count() == 1;
        let codes = canonical_codes(lengths);
        let mut enc = Encoder::default();
        if !single {
            for ((e, &l), &c) in enc.entries.iter_mut().zip(lengths).zip(&codes) {
                *e = u32::from(c) | u32::from(l) << 16;
            }
        }
        enc
    }

    /// (code, length) of `sym`.
    #[inline(always)]
    pub fn code(&self, sym: u8) -> (u64, u32) {
        let e = self.entries[usize::from(sym)];
        (u64::from(e & 0xFFFF), e >> 16)
    }

    /// Adds `sym`'s code to `w` (without flushing).
    #[inline(always)]
    pub fn put(&self, w: &mut SliceWriter<'_>, sym: u8) {
        let (c, l) = self.code(sym);
        w.put(c, l);
    }
}

/// Bits that coding symbols with `freqs` takes with code `lengths`, or `None` when a
/// used symbol has no code.
pub fn coded_bits(freqs: &[u32], lengths: &[u8]) -> Option<u64> {
    if lengths.len() < freqs.len() {
        return None;
    }
    let single = lengths.iter().filter(|&&l| l > 0).count() == 1;
    let mut bits = 0u64;
    for (&f, &l) in freqs.iter().zip(lengths) {
        if f > 0 {
            if l == 0 {
                return None;
            }
            if !single {
                bits += u64::from(f) * u64::from(l);
            }
        }
    }
    Some(bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fib_freqs() -> Vec<u32> {
        let mut freqs = vec![0u32; 64];
        let (mut a, mut b) = (1u32, 1u32);
        for f in freqs.iter_mut().take(30) {
            *f = a;
            let c = a.saturating_add(b);
            a = b;
            b = c;
        }
        freqs
    }

    #[test]
    fn lengths_are_limited_and_complete() {
        // Fibonacci frequencies force very deep plain Huffman trees.
        let lengths = code_lengths(&fib_freqs(), MAX_CODE_LEN);
        assert_eq!(
            check_lengths(&lengths, MAX_CODE_LEN, 0).unwrap(),
            MAX_CODE_LEN
        );
    }

    #[test]
    fn descriptions_round_trip_and_symbols_decode() {
        for freqs in [
            fib_freqs(),
            (0..256u32).map(|i| (i * 7919) % 97 + (i % 3)).collect(),
            (0..256u32)
                .map(|i| u32::from(i == 65 || i == 200))
                .collect(),
        ] {
            let lengths = code_lengths(&freqs, MAX_CODE_LEN);
            let mut desc = vec![0xAB];
            write_description(&lengths, &mut desc);
            desc.push(0xCD);
            let mut pos = 1;
            let mut parsed = Vec::new();
            read_description(&desc, &mut pos, lengths.len(), &mut parsed).unwrap();
            assert_eq!(parsed, lengths);
            assert_eq!(desc[pos], 0xCD);
            let bits = check_lengths(&parsed, MAX_CODE_LEN, 0).unwrap();
            let mut table: Vec<u16> = Vec::new();
            fill_table(&parsed, bits, &mut table, |s, l| (l << 8) as u16 | s as u16);
            let enc = Encoder::new(&lengths);
            let syms: Vec<usize> = (0..5000usize)
                .map(|i| (i * i + 3 * i) % freqs.len())
                .filter(|&s| freqs[s] > 0)
                .collect();
            let mut out = vec![0u8; syms.len() * 2 + 8];
            let mut w = SliceWriter::new(&mut out);
            for &s in &syms {
                enc.put(&mut w, s as u8);
                w.flush();
            }
            let len = w.finish_len();
            out.truncate(len);
            let mut r = BitReader::new(&out);
            for &s in &syms {
                r.refill();
                let e = table[(r.bits() & ((1 << bits) - 1)) as usize];
                r.consume(u32::from(e >> 8));
                assert_eq!(usize::from(e & 0xFF), s);
            }
            assert!(!r.overrun());
        }
    }

    #[test]
    fn bad_codes_are_errors() {
        assert!(check_lengths(&[1, 1, 1], MAX_CODE_LEN, 0).is_err());
        assert!(check_lengths(&[1, 2], MAX_CODE_LEN, 0).is_err());
        assert!(check_lengths(&[0, 0], MAX_CODE_LEN, 0).is_err());
        assert!(check_lengths(&[12, 1], MAX_CODE_LEN, 0).is_err());
        assert_eq!(check_lengths(&[0, 3], MAX_CODE_LEN, 0).unwrap(), 0);
        assert_eq!(check_lengths(&[1, 2, 2], MAX_CODE_LEN, 0).unwrap(), 2);
    }
}
