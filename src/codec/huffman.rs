//! Length-limited canonical Huffman coding: code lengths from frequencies, the table
//! description stored in a block, and single-lookup decoding tables.

use super::bits::{BitReader, BitWriter};
use super::CodecError;

/// Longest code; decoding uses one table of `1 << MAX_CODE_LEN` entries.
pub const MAX_CODE_LEN: u32 = 11;
const TABLE_SIZE: usize = 1 << MAX_CODE_LEN;

/// Code lengths (0 = unused) for `freqs`, no longer than [`MAX_CODE_LEN`]. Needs at least
/// two used symbols.
pub fn code_lengths(freqs: &[u32]) -> Vec<u8> {
    let mut freqs: Vec<u32> = freqs.to_vec();
    loop {
        let lengths = unlimited_lengths(&freqs);
        if lengths.iter().all(|&l| u32::from(l) <= MAX_CODE_LEN) {
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

/// Canonical codes, bit-reversed for the LSB-first bit stream.
fn canonical_codes(lengths: &[u8]) -> Vec<u16> {
    let mut count = [0u32; MAX_CODE_LEN as usize + 1];
    for &l in lengths {
        count[l as usize] += 1;
    }
    count[0] = 0;
    let mut next = [0u32; MAX_CODE_LEN as usize + 2];
    let mut code = 0u32;
    for len in 1..=MAX_CODE_LEN as usize {
        code = (code + count[len - 1]) << 1;
        next[len] = code;
    }
    lengths
        .iter()
        .map(|&l| {
            if l == 0 {
                return 0;
            }
            let c = next[l as usize];
            next[l as usize] += 1;
            (c.reverse_bits() >> (32 - u32::from(l))) as u16
        })
        .collect()
}

/// How one alphabet of a block is coded.
#[derive(Clone, Debug)]
pub enum Table {
    /// Every symbol is the same; no bits are spent per symbol.
    Single(u16),
    /// Canonical Huffman code with these lengths.
    Huffman(Vec<u8>),
}

impl Table {
    /// The best table for these symbol frequencies (at least one symbol used).
    pub fn for_freqs(freqs: &[u32]) -> Table {
        let used: Vec<usize> = (0..freqs.len()).filter(|&s| freqs[s] > 0).collect();
        if used.len() == 1 {
            Table::Single(used[0] as u16)
        } else {
            Table::Huffman(code_lengths(freqs))
        }
    }

    /// Serializes the table: mode byte, then the symbol (single) or a count of lengths
    /// and the lengths as 4-bit nibbles.
    pub fn write(&self, out: &mut Vec<u8>) {
        match self {
            Table::Single(sym) => {
                out.push(0);
                out.extend_from_slice(&sym.to_le_bytes());
            }
            Table::Huffman(lengths) => {
                let used = lengths.iter().rposition(|&l| l > 0).map_or(0, |p| p + 1);
                out.push(1);
                out.extend_from_slice(&(used as u16).to_le_bytes());
                write_lengths(&lengths[..used], out);
            }
        }
    }

    /// Parses a table for an alphabet of `alphabet` symbols from `data[*pos..]`.
    pub fn read(data: &[u8], pos: &mut usize, alphabet: usize) -> Result<Table, CodecError> {
        let mode = take(data, pos, 1, "table mode")?[0];
        match mode {
            0 => {
                let b = take(data, pos, 2, "table symbol")?;
                let sym = u16::from_le_bytes([b[0], b[1]]);
                if usize::from(sym) >= alphabet {
                    return Err(CodecError::new(
                        *pos,
                        format!("single symbol is {sym}, should be below {alphabet}"),
                    ));
                }
                Ok(Table::Single(sym))
            }
            1 => {
                let b = take(data, pos, 2, "table size")?;
                let used = usize::from(u16::from_le_bytes([b[0], b[1]]));
                if used > alphabet || used < 2 {
                    return Err(CodecError::new(
                        *pos,
                        format!("table size is {used}, should be 2..={alphabet}"),
                    ));
                }
                let mut lengths = read_lengths(data, pos, used)?;
                lengths.resize(alphabet, 0);
                Ok(Table::Huffman(lengths))
            }
            m => Err(CodecError::new(
                *pos,
                format!("table mode is {m}, should be 0 or 1"),
            )),
        }
    }
}

/// Code-length tokens: 0..=11 a length, then run tokens (deflate's idea).
const REPEAT_PREV: usize = 12;
const ZEROS_SHORT: usize = 13;
const ZEROS_LONG: usize = 14;
const LENGTH_TOKENS: usize = 15;

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
            tokens.push((ZEROS_SHORT, (run - 3) as u32, 3));
            i += run;
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

/// Writes code lengths: the token code's 15 lengths as nibbles, the token stream's byte
/// length (u16), then the token stream.
fn write_lengths(lengths: &[u8], out: &mut Vec<u8>) {
    let tokens = length_tokens(lengths);
    let mut freqs = [0u32; LENGTH_TOKENS];
    for &(t, _, _) in &tokens {
        freqs[t] += 1;
    }
    let pre = code_lengths(&freqs);
    for pair in pre.chunks(2) {
        out.push(pair[0] | (pair.get(1).copied().unwrap_or(0) << 4));
    }
    let enc = Encoder::new(&Table::Huffman(pre), LENGTH_TOKENS);
    let mut bits = Vec::new();
    let mut w = BitWriter::new(&mut bits);
    for &(t, extra, n) in &tokens {
        enc.put(&mut w, t);
        w.write(extra, n);
    }
    w.finish();
    out.extend_from_slice(&(bits.len() as u16).to_le_bytes());
    out.extend_from_slice(&bits);
}

/// Reads `used` code lengths written by [`write_lengths`].
fn read_lengths(data: &[u8], pos: &mut usize, used: usize) -> Result<Vec<u8>, CodecError> {
    let at = *pos;
    let packed = take(data, pos, LENGTH_TOKENS.div_ceil(2), "length code")?;
    let pre: Vec<u8> = (0..LENGTH_TOKENS)
        .map(|i| (packed[i / 2] >> ((i % 2) * 4)) & 0x0F)
        .collect();
    let dec = Decoder::new(&Table::Huffman(pre), at)?;
    let b = take(data, pos, 2, "code length stream size")?;
    let n = usize::from(u16::from_le_bytes([b[0], b[1]]));
    let stream = take(data, pos, n, "code length stream")?;
    let bad = |what: &str| CodecError::new(at, format!("code lengths: {what}"));
    let mut r = BitReader::new(stream);
    let mut lengths = Vec::with_capacity(used);
    while lengths.len() < used {
        r.refill();
        let t = dec.get(&mut r).ok_or_else(|| bad("invalid token"))?;
        let (value, count) = match t {
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
    }
    if r.overrun() {
        return Err(bad("stream ends early"));
    }
    Ok(lengths)
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

/// Encoder side of a [`Table`].
pub struct Encoder {
    codes: Vec<u16>,
    lengths: Vec<u8>,
}

impl Encoder {
    /// Builds the encoder for `table` over an alphabet of `alphabet` symbols.
    pub fn new(table: &Table, alphabet: usize) -> Encoder {
        match table {
            Table::Single(_) => Encoder {
                codes: vec![0; alphabet],
                lengths: vec![0; alphabet],
            },
            Table::Huffman(lengths) => Encoder {
                codes: canonical_codes(lengths),
                lengths: lengths.clone(),
            },
        }
    }

    /// Writes `sym`'s code.
    #[inline(always)]
    pub fn put(&self, w: &mut BitWriter<'_>, sym: usize) {
        w.write(u32::from(self.codes[sym]), u32::from(self.lengths[sym]));
    }

    /// Bits `sym` costs.
    #[inline(always)]
    pub fn cost(&self, sym: usize) -> u64 {
        u64::from(self.lengths[sym])
    }
}

/// Decoder side of a [`Table`]: one lookup per symbol.
pub struct Decoder {
    /// Entry = symbol << 4 | code length; [`UNASSIGNED`] marks a code no symbol has. A
    /// single-symbol table has length 0 everywhere (the symbol costs no bits).
    table: Box<[u16; TABLE_SIZE]>,
}

/// Decoder table entry of a code that is not assigned (its length field is never valid).
const UNASSIGNED: u16 = 0x0F;

impl Decoder {
    /// Builds the lookup table; fails on an over-subscribed code.
    pub fn new(table: &Table, offset: usize) -> Result<Decoder, CodecError> {
        match table {
            Table::Single(sym) => Ok(Decoder {
                table: Box::new([*sym << 4; TABLE_SIZE]),
            }),
            Table::Huffman(lengths) => {
                let mut kraft = 0u32;
                for &l in lengths.iter().filter(|&&l| l > 0) {
                    if u32::from(l) > MAX_CODE_LEN {
                        return Err(CodecError::new(
                            offset,
                            format!("code length is {l}, should be at most {MAX_CODE_LEN}"),
                        ));
                    }
                    kraft += 1 << (MAX_CODE_LEN - u32::from(l));
                }
                if kraft > TABLE_SIZE as u32 {
                    return Err(CodecError::new(
                        offset,
                        "over-subscribed Huffman code".into(),
                    ));
                }
                let codes = canonical_codes(lengths);
                let mut table = Box::new([UNASSIGNED; TABLE_SIZE]);
                for (sym, (&len, &code)) in lengths.iter().zip(&codes).enumerate() {
                    if len == 0 {
                        continue;
                    }
                    let step = 1usize << len;
                    let mut i = usize::from(code);
                    while i < TABLE_SIZE {
                        table[i] = ((sym as u16) << 4) | u16::from(len);
                        i += step;
                    }
                }
                Ok(Decoder { table })
            }
        }
    }

    /// The only symbol of a single-symbol table.
    pub fn single(&self) -> Option<usize> {
        // Only a single-symbol table has valid entries of length 0.
        let entry = self.table[0];
        (entry & 0x0F == 0).then(|| usize::from(entry >> 4))
    }

    /// Decodes one symbol; the reader must hold at least [`MAX_CODE_LEN`] bits.
    /// Returns `None` for an unassigned code.
    #[inline(always)]
    pub fn get(&self, r: &mut BitReader<'_>) -> Option<usize> {
        let entry = self.table[r.peek(MAX_CODE_LEN) as usize & (TABLE_SIZE - 1)];
        if entry == UNASSIGNED {
            return None;
        }
        r.consume(u32::from(entry & 0x0F));
        Some(usize::from(entry >> 4))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_are_limited_and_complete() {
        // Fibonacci frequencies force very deep plain Huffman trees.
        let mut freqs = vec![0u32; 40];
        let (mut a, mut b) = (1u32, 1u32);
        for f in freqs.iter_mut().take(30) {
            *f = a;
            let c = a.saturating_add(b);
            a = b;
            b = c;
        }
        let lengths = code_lengths(&freqs);
        assert!(lengths.iter().all(|&l| u32::from(l) <= MAX_CODE_LEN));
        let kraft: u32 = lengths
            .iter()
            .filter(|&&l| l > 0)
            .map(|&l| 1 << (MAX_CODE_LEN - u32::from(l)))
            .sum();
        assert_eq!(kraft, 1 << MAX_CODE_LEN);
    }

    #[test]
    fn encode_decode_symbols() {
        let syms: Vec<usize> = (0..5000usize).map(|i| (i * i + 3 * i) % 37 % 20).collect();
        let mut freqs = vec![0u32; 64];
        for &s in &syms {
            freqs[s] += 1;
        }
        let table = Table::for_freqs(&freqs);
        let mut desc = Vec::new();
        table.write(&mut desc);
        let mut pos = 0;
        let parsed = Table::read(&desc, &mut pos, 64).unwrap();
        assert_eq!(pos, desc.len());
        let enc = Encoder::new(&table, 64);
        let mut out = Vec::new();
        let mut w = BitWriter::new(&mut out);
        for &s in &syms {
            enc.put(&mut w, s);
        }
        w.finish();
        let dec = Decoder::new(&parsed, 0).unwrap();
        let mut r = BitReader::new(&out);
        for &s in &syms {
            r.refill();
            assert_eq!(dec.get(&mut r), Some(s));
        }
        assert!(!r.overrun());
    }

    #[test]
    fn oversubscribed_table_is_an_error() {
        let table = Table::Huffman(vec![1, 1, 1]);
        assert!(Decoder::new(&table, 0).is_err());
    }
}
