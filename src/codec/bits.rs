//! Little-endian bit I/O: bits are packed from the least significant bit of each byte up.

/// Appends bit fields to a byte vector.
pub struct BitWriter<'a> {
    out: &'a mut Vec<u8>,
    acc: u64,
    /// Number of valid bits in `acc`; always < 32 between calls.
    nbits: u32,
}

impl<'a> BitWriter<'a> {
    /// Starts writing at the end of `out`.
    pub fn new(out: &'a mut Vec<u8>) -> Self {
        Self {
            out,
            acc: 0,
            nbits: 0,
        }
    }

    /// Writes the low `n` bits of `value` (`n` <= 32).
    #[inline(always)]
    pub fn write(&mut self, value: u32, n: u32) {
        debug_assert!(n <= 32);
        debug_assert!(n == 32 || u64::from(value) < (1u64 << n));
        self.acc |= u64::from(value) << self.nbits;
        self.nbits += n;
        if self.nbits >= 32 {
            self.out.extend_from_slice(&(self.acc as u32).to_le_bytes());
            self.acc >>= 32;
            self.nbits -= 32;
        }
    }

    /// Flushes the last partial byte (padded with zero bits).
    pub fn finish(self) {
        let bytes = self.nbits.div_ceil(8) as usize;
        self.out.extend_from_slice(&self.acc.to_le_bytes()[..bytes]);
    }
}

/// Reads bit fields written by [`BitWriter`]. Reading past the end yields zero bits and
/// is reported by [`BitReader::overrun`], so corrupt input never panics.
pub struct BitReader<'a> {
    data: &'a [u8],
    /// Next byte of `data` to load into `acc`.
    pos: usize,
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
            data,
            pos: 0,
            acc: 0,
            nbits: 0,
            virtual_bits: 0,
        };
        reader.refill();
        reader
    }

    /// Tops `acc` up to at least 56 bits.
    #[inline(always)]
    pub fn refill(&mut self) {
        if let Some(chunk) = self.data.get(self.pos..self.pos + 8) {
            let word = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
            self.acc |= word << self.nbits;
            let take = (63 - self.nbits) >> 3;
            self.pos += take as usize;
            self.nbits += take << 3;
        } else {
            self.refill_slow();
        }
    }

    #[cold]
    fn refill_slow(&mut self) {
        while self.nbits <= 56 {
            let byte = match self.data.get(self.pos) {
                Some(&b) => {
                    self.pos += 1;
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

    /// The next `n` bits without consuming them (`n` <= 32, after a refill).
    #[inline(always)]
    pub fn peek(&self, n: u32) -> u32 {
        (self.acc & ((1u64 << n) - 1)) as u32
    }

    /// Drops `n` bits (`n` <= available bits).
    #[inline(always)]
    pub fn consume(&mut self, n: u32) {
        let n = n.min(self.nbits);
        self.acc >>= n;
        self.nbits -= n;
    }

    /// Reads `n` bits (`n` <= 32); refills as needed.
    #[inline(always)]
    pub fn read(&mut self, n: u32) -> u32 {
        if self.nbits < n {
            self.refill();
        }
        let value = self.peek(n);
        self.consume(n);
        value
    }

    /// True when more bits were consumed than the input holds.
    pub fn overrun(&self) -> bool {
        self.virtual_bits > self.nbits
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
        let mut out = Vec::new();
        let mut w = BitWriter::new(&mut out);
        for &(v, n) in &fields {
            w.write(v, n);
        }
        w.finish();
        let mut r = BitReader::new(&out);
        for &(v, n) in &fields {
            assert_eq!(r.read(n), v);
        }
        assert!(!r.overrun());
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
