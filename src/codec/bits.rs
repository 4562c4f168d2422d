//! Little-endian bit I/O: bits are packed from the least significant bit of each byte up,
//! and a field's least significant bit is written first.

/// Bits not yet stored, the state both writers share: each stores the accumulator as a
/// whole word at its write position, then drops the whole bytes from it.
#[derive(Clone, Copy, Default)]
struct Pending {
    acc: u64,
    /// Valid bits in `acc`; at most 7 after [`Pending::advance`].
    nbits: u32,
}

impl Pending {
    /// Adds the low `n` bits of `value`; at most 64 bits pending between flushes.
    #[inline(always)]
    fn put(&mut self, value: u64, n: u32) {
        debug_assert!(self.nbits + n <= 64);
        debug_assert!(n == 64 || value < (1u64 << n));
        self.acc |= value << (self.nbits & 63);
        self.nbits += n;
    }

    /// The word to store at the write position.
    #[inline(always)]
    fn word(&self) -> [u8; 8] {
        self.acc.to_le_bytes()
    }

    /// Drops the whole bytes just stored; returns how many.
    #[inline(always)]
    fn advance(&mut self) -> usize {
        let bytes = self.nbits >> 3;
        // Two shifts of at most 32: a whole word (64 bits pending) leaves nothing.
        self.acc = (self.acc >> (bytes * 4)) >> (bytes * 4);
        self.nbits &= 7;
        bytes as usize
    }
}

/// Appends bit fields to a byte vector, flushing whole bytes a 64-bit word at a time.
pub struct BitWriter<'a> {
    out: &'a mut Vec<u8>,
    /// Next byte of `out` to be written (bytes at and after it are scratch).
    pos: usize,
    /// Where this writer began.
    start: usize,
    bits: Pending,
}

impl<'a> BitWriter<'a> {
    /// Starts writing at the end of `out`; `hint` is an estimate of the bytes to come.
    pub fn new(out: &'a mut Vec<u8>, hint: usize) -> Self {
        let pos = out.len();
        out.resize(pos + hint + 16, 0);
        Self {
            out,
            pos,
            start: pos,
            bits: Pending::default(),
        }
    }

    /// Adds the low `n` bits of `value`; the caller keeps at most 64 bits pending between
    /// flushes (a flush leaves at most 7).
    #[inline(always)]
    pub fn put(&mut self, value: u64, n: u32) {
        self.bits.put(value, n);
    }

    /// Moves the whole bytes of the accumulator to the output.
    #[inline(always)]
    pub fn flush(&mut self) {
        match self.out.get_mut(self.pos..self.pos + 8) {
            Some(word) => word.copy_from_slice(&self.bits.word()),
            None => self.grow_and_write(),
        }
        self.pos += self.bits.advance();
    }

    /// Makes room past `pos` and writes the accumulator there: grows by about half of what
    /// was written from `start`, not of the whole vector, which may hold far more (a
    /// frame's output before this).
    #[cold]
    #[inline(never)]
    fn grow_and_write(&mut self) {
        let written = self.pos - self.start;
        self.out.resize(self.pos + written / 2 + 64, 0);
        self.out[self.pos..self.pos + 8].copy_from_slice(&self.bits.word());
    }

    /// Writes `value` (`n` <= 57 bits) and flushes.
    #[inline(always)]
    pub fn write(&mut self, value: u64, n: u32) {
        self.put(value, n);
        self.flush();
    }

    /// Bits written so far (including pending ones).
    #[cfg(test)]
    pub fn bit_len(&self, start: usize) -> usize {
        (self.pos - start) * 8 + self.bits.nbits as usize
    }

    /// Flushes the last partial byte (padded with zero bits) and trims the scratch bytes.
    pub fn finish(mut self) {
        self.flush();
        if self.bits.nbits > 0 {
            self.pos += 1;
        }
        self.out.truncate(self.pos);
    }
}

/// Writes bit fields into a slice known to be large enough, a 64-bit word at a time; its
/// state is three plain values, which the compiler keeps in registers through a hot loop
/// (a [`BitWriter`] may grow its vector, so its state goes back to memory at every flush).
pub struct SliceWriter<'a> {
    out: &'a mut [u8],
    /// Next byte of `out` to be written.
    pos: usize,
    bits: Pending,
}

impl<'a> SliceWriter<'a> {
    /// Writes from the start of `out`, which must hold every byte written plus 8 (a
    /// flush stores a whole word); the caller sizes it from the most its fields can take.
    pub fn new(out: &'a mut [u8]) -> Self {
        Self {
            out,
            pos: 0,
            bits: Pending::default(),
        }
    }

    /// Adds the low `n` bits of `value`; at most 64 bits pending between flushes.
    #[inline(always)]
    pub fn put(&mut self, value: u64, n: u32) {
        self.bits.put(value, n);
    }

    /// Moves the whole bytes of the accumulator to the output.
    #[inline(always)]
    pub fn flush(&mut self) {
        // In range by the caller's sizing; a bug panics here rather than losing bits.
        self.out[self.pos..self.pos + 8].copy_from_slice(&self.bits.word());
        self.pos += self.bits.advance();
    }

    /// Writes `value` and flushes.
    #[inline(always)]
    pub fn write(&mut self, value: u64, n: u32) {
        self.put(value, n);
        self.flush();
    }

    /// Flushes the last partial byte (padded with zero bits) and returns the length of
    /// what was written.
    pub fn finish_len(mut self) -> usize {
        self.flush();
        self.pos + usize::from(self.bits.nbits > 0)
    }
}

/// Reads bit fields written by [`BitWriter`]. Reading past the end yields zero bits and
/// is reported by [`BitReader::overrun`], so corrupt input never panics.
pub struct BitReader<'a> {
    /// The bytes of the input not yet loaded into `acc`.
    rest: &'a [u8],
    /// Bytes of the whole input.
    len: usize,
    acc: u64,
    /// Bits available in `acc` (including virtual zero bits past the end).
    nbits: u32,
    /// Virtual zero bits appended past the end of `data`.
    virtual_bits: u32,
}

impl<'a> BitReader<'a> {
    /// Reads from `data`.
    pub fn new(data: &'a [u8]) -> Self {
        let mut reader = Self {
            rest: data,
            len: data.len(),
            acc: 0,
            nbits: 0,
            virtual_bits: 0,
        };
        reader.refill();
        reader
    }

    /// Tops `acc` up to at least 56 bits: one unaligned 8-byte load.
    #[inline(always)]
    pub fn refill(&mut self) {
        if let Some(chunk) = self.rest.first_chunk::<8>() {
            self.acc |= u64::from_le_bytes(*chunk) << (self.nbits & 63);
            // At most 7 (`nbits` <= 63), which the 8 bytes just read cover.
            let take = (63u32.wrapping_sub(self.nbits) >> 3) & 7;
            self.rest = &self.rest[take as usize..];
            self.nbits += take << 3;
        } else {
            self.refill_slow();
        }
    }

    #[cold]
    fn refill_slow(&mut self) {
        while self.nbits <= 56 {
            let byte = match self.rest.split_first() {
                Some((&b, rest)) => {
                    self.rest = rest;
                    b
                }
                None => {
                    // Saturate so a long run of corrupt reads cannot overflow the counter.
                    self.virtual_bits = self.virtual_bits.saturating_add(8);
                    0
                }
            };
            self.acc |= u64::from(byte) << self.nbits;
            self.nbits += 8;
        }
    }

    /// Refills unless at least `n` bits are available.
    #[inline(always)]
    pub fn ensure(&mut self, n: u32) {
        if self.nbits < n {
            self.refill();
        }
    }

    /// The accumulator: the next bits, least significant first (at least `available`).
    #[inline(always)]
    pub fn bits(&self) -> u64 {
        self.acc
    }

    /// Drops `n` bits; the caller has made sure at least `n` are available.
    #[inline(always)]
    pub fn consume(&mut self, n: u32) {
        debug_assert!(n <= self.nbits);
        self.acc >>= n & 63;
        self.nbits -= n;
    }

    /// Reads `n` bits (`n` <= 56); refills as needed.
    #[inline(always)]
    pub fn read(&mut self, n: u32) -> u32 {
        self.ensure(n);
        let value = (self.acc & ((1u64 << n) - 1)) as u32;
        self.consume(n);
        value
    }

    /// Bytes of the stream.
    pub fn data_len(&self) -> usize {
        self.len
    }

    /// True when more bits were consumed than the input holds.
    pub fn overrun(&self) -> bool {
        self.virtual_bits > self.nbits
    }

    /// Whole bytes of `data` that hold the bits consumed so far (the last one possibly
    /// partly); meaningful only without an overrun.
    pub fn bytes_consumed(&self) -> usize {
        let bits =
            (self.len - self.rest.len()) * 8 + self.virtual_bits as usize - self.nbits as usize;
        bits.div_ceil(8)
    }
}

/// `LOW_MASKS[n]` has the low `n` bits set (all 64 from 64 on; 256 entries, so that a byte
/// indexes it without a check).
const LOW_MASKS: [u64; 256] = {
    let mut m = [u64::MAX; 256];
    m[0] = 0;
    let mut n = 1;
    while n < 64 {
        m[n] = (1 << n) - 1;
        n += 1;
    }
    m
};

/// The 8 bytes of `data` from `at` on, little-endian (zero if they run past the end).
#[inline(always)]
fn word_at(data: &[u8], at: usize) -> u64 {
    match data.get(at..at + 8) {
        Some(w) => u64::from_le_bytes(w.try_into().unwrap_or([0; 8])),
        None => 0,
    }
}

/// The window (`window`, `at`, `avail`) whose unread bits end just below absolute bit
/// `top` (>= 0) of `data`: the 8 bytes from `at` on, or the first bytes near the start.
fn window_below(data: &[u8], top: i64) -> (u64, usize, i64) {
    if top >= 64 {
        let at = (top as usize >> 3) - 7;
        let window = word_at(data, at);
        (window, at, top - 8 * at as i64)
    } else {
        let mut w = [0u8; 8];
        let n = data.len().min(8);
        w[..n].copy_from_slice(&data[..n]);
        (u64::from_le_bytes(w), 0, top)
    }
}

/// The part of `data` up to the end of the window at `at`.
fn head_of(data: &[u8], at: usize) -> &[u8] {
    &data[..(at + 8).min(data.len())]
}

/// [`RevReader::refill`] near the start of the stream: the window (`window`, `at`, `avail`)
/// after it; unchanged after reading below the start.
#[cold]
#[inline(never)]
fn refill_start(data: &[u8], window: u64, at: usize, avail: i64) -> (u64, usize, i64) {
    let top = 8 * at as i64 + avail;
    if top >= 0 {
        window_below(data, top)
    } else {
        (window, at, avail)
    }
}

/// Bits a [`RevReader::refill`] leaves readable, except near the start of the stream.
pub const REFILL_BITS: u32 = 56;

/// Reads bit fields of a [`BitWriter`] stream last written first: each read takes the
/// `n` bits just below the current top, from a 64-bit window reloaded a word at a time.
/// Reading below the start yields garbage bits but never panics, and is reported by
/// [`RevReader::is_done`].
#[derive(Clone)]
pub struct RevReader<'a> {
    /// The stream up to the end of the window: `data[..at + 8]`, or all of a stream
    /// shorter than 8 bytes (then `at` is 0).
    head: &'a [u8],
    /// Window: the last 8 bytes of `head` (zero past the end of a short stream).
    window: u64,
    /// Unread bits in the window below the top; negative after reading below the start.
    avail: i64,
}

impl<'a> RevReader<'a> {
    /// Reads `data` downwards from bit `top` (below `8 * data.len()`: a stream's end
    /// marker; the window keeps the byte of bit `top`, which a stream always has).
    pub fn new(data: &'a [u8], top: usize) -> Self {
        debug_assert!(top < data.len() * 8);
        let (window, at, avail) = window_below(data, top.min(data.len() * 8) as i64);
        Self {
            head: head_of(data, at),
            window,
            avail,
        }
    }

    /// Where the window starts in the stream.
    fn at(&self) -> usize {
        self.head.len().saturating_sub(8)
    }

    /// Makes at least [`REFILL_BITS`] readable (fewer near the start of the stream):
    /// moves the window down by the whole bytes already read, keeping 56 to 63 unread
    /// bits.
    #[inline(always)]
    pub fn refill(&mut self) {
        // Never negative: `avail` is at most 63 (see `window_below`).
        let step = ((63 - self.avail) >> 3) as usize;
        match self.head.len().checked_sub(step) {
            Some(end) if end >= 8 => {
                self.head = &self.head[..end];
                if let Some(w) = self.head.last_chunk::<8>() {
                    self.window = u64::from_le_bytes(*w);
                }
                self.avail += 8 * step as i64;
            }
            _ => {
                let at;
                (self.window, at, self.avail) =
                    refill_start(self.head, self.window, self.at(), self.avail);
                self.head = head_of(self.head, at);
            }
        }
    }

    /// The `n` bits below the top, as written; the caller refills so that a stream that
    /// has them holds them in the window (at most [`REFILL_BITS`] in all between
    /// refills).
    #[inline(always)]
    pub fn read(&mut self, n: u32) -> u32 {
        self.avail -= i64::from(n);
        (self.window.wrapping_shr(self.avail as u32) & LOW_MASKS[n as u8 as usize]) as u32
    }

    /// The `n` bits of the window below bit `end`.
    #[inline(always)]
    fn field(&self, end: i64, n: u32) -> u32 {
        (self.window.wrapping_shr(end as u32) & LOW_MASKS[n as u8 as usize]) as u32
    }

    /// Reads six fields of `n` bits, in order, from the window (the caller has refilled,
    /// and they take at most [`REFILL_BITS`] in all). Where each field ends is found
    /// from the sizes by short sums, not one subtraction after another, so the last
    /// ends a few steps after the sizes are known.
    #[inline(always)]
    pub fn read_six(&mut self, n: [u32; 6]) -> [u32; 6] {
        let [n0, n1, n2, n3, n4, n5] = n.map(i64::from);
        let a = self.avail;
        let (p01, p23, p45) = (n0 + n1, n2 + n3, n4 + n5);
        let e1 = a - p01;
        let e3 = e1 - p23;
        let ends = [a - n0, e1, e1 - n2, e3, e3 - n4, e1 - (p23 + p45)];
        self.avail = ends[5];
        [0, 1, 2, 3, 4, 5].map(|k| self.field(ends[k], n[k]))
    }

    /// True when every bit was read, and no read went below the start.
    pub fn is_done(&self) -> bool {
        self.at() == 0 && self.avail == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_fields() {
        let fields: Vec<(u32, u32)> = (0..1000u32)
            .map(|i| {
                let n = i % 27;
                (i.wrapping_mul(2_654_435_761) & ((1u32 << n) - 1), n)
            })
            .collect();
        let mut out = vec![7u8];
        let mut w = BitWriter::new(&mut out, 0);
        for &(v, n) in &fields {
            w.write(u64::from(v), n);
        }
        let bits: usize = fields.iter().map(|f| f.1 as usize).sum();
        assert_eq!(w.bit_len(1), bits);
        w.finish();
        assert_eq!(out.len(), 1 + bits.div_ceil(8));
        let mut r = BitReader::new(&out[1..]);
        for &(v, n) in &fields {
            assert_eq!(r.read(n), v);
        }
        assert!(!r.overrun());
        assert_eq!(r.bytes_consumed(), out.len() - 1);
    }

    #[test]
    fn six_fields_at_once_read_as_six_reads() {
        // Six fields of up to 9 bits fit in one refill's 56 bits.
        let fields: Vec<(u32, u32)> = (0..1200u32)
            .map(|i| {
                let n = i.wrapping_mul(7) % 10;
                (i.wrapping_mul(2_654_435_761) >> 7 & ((1u32 << n) - 1), n)
            })
            .collect();
        let mut out = Vec::new();
        let mut w = BitWriter::new(&mut out, 0);
        for &(v, n) in &fields {
            w.write(u64::from(v), n);
        }
        let top = w.bit_len(0);
        // The end marker above the last field.
        w.write(1, 1);
        w.finish();
        let mut one = RevReader::new(&out, top);
        let mut six = RevReader::new(&out, top);
        for group in fields.rchunks(6) {
            let sizes: Vec<u32> = group.iter().rev().map(|f| f.1).collect();
            one.refill();
            let singly: Vec<u32> = sizes.iter().map(|&n| one.read(n)).collect();
            six.refill();
            let at_once = six.read_six(sizes.clone().try_into().unwrap());
            assert_eq!(singly, at_once);
            let values: Vec<u32> = group.iter().rev().map(|f| f.0).collect();
            assert_eq!(at_once.to_vec(), values);
        }
        assert!(six.is_done());
    }

    #[test]
    fn six_fields_at_once_match_six_reads_anywhere_in_a_stream() {
        // Sequence-like sizes (extra bits up to 26, at most 29 together, state bits up
        // to 9) from any start, short streams, and on below the start.
        let mut x = 0x1234_5678_9abc_def1u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for len in [1usize, 2, 3, 7, 8, 9, 15, 16, 17, 40, 300] {
            for _ in 0..100 {
                let data: Vec<u8> = (0..len).map(|_| next() as u8 | 1).collect();
                let top = next() as usize % (len * 8);
                let mut one = RevReader::new(&data, top);
                let mut six = one.clone();
                for _ in 0..40 {
                    let extra = loop {
                        let e = [0; 3].map(|_: u32| (next() % 27) as u32);
                        if e.iter().sum::<u32>() <= 29 {
                            break e;
                        }
                    };
                    let state = [0; 3].map(|_: u32| (next() % 10) as u32);
                    let n = [extra[0], extra[1], extra[2], state[0], state[1], state[2]];
                    one.refill();
                    six.refill();
                    let singly = n.map(|k| one.read(k));
                    assert_eq!(six.read_six(n), singly);
                    assert_eq!((six.avail, six.at()), (one.avail, one.at()));
                    assert_eq!(six.is_done(), one.is_done());
                }
            }
        }
    }

    #[test]
    fn reading_past_end_is_reported() {
        let data = [0xFFu8; 3];
        let mut r = BitReader::new(&data);
        assert_eq!(r.read(24), 0xFF_FFFF);
        assert!(!r.overrun());
        assert_eq!(r.read(16), 0);
        assert!(r.overrun());
    }
}
