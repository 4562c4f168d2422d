//! CRC32C combination: the CRC of `A ++ B` from the CRCs of `A` and `B` and the length of
//! `B`, in O(log len) carry-less products (the `crc32c` crate's combine builds 32x32 bit
//! matrices on every call, which cost about a tenth of a batch job over small files).

/// CRC32C's polynomial, reflected.
const POLY: u32 = 0x82f6_3b78;

/// `a * b` modulo the polynomial (reflected: bit 31 is x^0).
const fn mul_mod(a: u32, mut b: u32) -> u32 {
    let mut product = 0u32;
    let mut bit = 1u32 << 31;
    while bit != 0 {
        if a & bit != 0 {
            product ^= b;
        }
        bit >>= 1;
        b = if b & 1 != 0 { (b >> 1) ^ POLY } else { b >> 1 };
    }
    product
}

/// `x^(2^k)` modulo the polynomial for k = 0..67 (8 * len needs up to 2^66).
const X_POW_2K: [u32; 67] = {
    let mut table = [0u32; 67];
    let mut p = 1u32 << 30; // x^1
    let mut k = 0;
    while k < 67 {
        table[k] = p;
        p = mul_mod(p, p);
        k += 1;
    }
    table
};

/// `x^(8 * len)` modulo the polynomial: the factor that shifts a CRC past `len` bytes.
fn shift_factor(len: u64) -> u32 {
    let mut factor = 1u32 << 31; // x^0
    let mut n = len;
    let mut k = 3; // 8 * len = len << 3
    while n != 0 {
        if n & 1 != 0 {
            factor = mul_mod(X_POW_2K[k], factor);
        }
        n >>= 1;
        k += 1;
    }
    factor
}

/// CRC32C of `A ++ B` given `crc_a` = CRC32C(A), `crc_b` = CRC32C(B) and `len_b` = |B|.
pub fn combine(crc_a: u32, crc_b: u32, len_b: u64) -> u32 {
    mul_mod(shift_factor(len_b), crc_a) ^ crc_b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combine_matches_the_crc_of_the_concatenation() {
        let data: Vec<u8> = (0..5000u32).map(|i| (i * 7919 % 251) as u8).collect();
        for split in [0, 1, 2, 3, 7, 8, 100, 1023, 2500, 4999, 5000] {
            let (a, b) = data.split_at(split);
            assert_eq!(
                combine(crc32c::crc32c(a), crc32c::crc32c(b), b.len() as u64),
                crc32c::crc32c(&data),
                "split at {split}"
            );
        }
    }

    #[test]
    fn combine_agrees_with_the_crate_at_huge_lengths() {
        for len in [1u64 << 20, (1 << 32) + 5, 123_456_789_012, u64::MAX >> 1] {
            assert_eq!(
                combine(0x1234_5678, 0x9abc_def0, len),
                crc32c::crc32c_combine(0x1234_5678, 0x9abc_def0, len as usize),
                "length {len}"
            );
        }
    }
}
