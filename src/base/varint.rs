//! Unsigned LEB128 varints: 7 bits per byte, low group first, high bit = more follows;
//! only the shortest encoding of a value is valid.

use std::fmt;

/// Longest valid encoding of a u64.
pub const MAX_LEN: usize = 10;

/// Why a varint could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VarintError {
    /// The input ended inside the varint.
    Truncated,
    /// More than 10 bytes, a value above `u64::MAX`, or a longer encoding than the value
    /// needs (a last byte of zero after the first).
    Overlong,
}

impl fmt::Display for VarintError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VarintError::Truncated => f.write_str("varint is cut off by the end of the data"),
            VarintError::Overlong => {
                f.write_str("varint is not the shortest encoding of a value below 2^64")
            }
        }
    }
}

/// Appends `value` as LEB128.
pub fn write(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Bytes `value` takes as LEB128.
pub fn len(value: u64) -> usize {
    (64 - (value | 1).leading_zeros() as usize).div_ceil(7)
}

/// Reads a LEB128 value at `*pos`, advancing `*pos` past it.
///
/// # Errors
/// [`VarintError`] when the data ends early or the encoding is too long.
pub fn read(data: &[u8], pos: &mut usize) -> Result<u64, VarintError> {
    let mut value = 0u64;
    for i in 0..MAX_LEN {
        let byte = *data.get(*pos + i).ok_or(VarintError::Truncated)?;
        let group = u64::from(byte & 0x7F);
        if i == 9 && group > 1 {
            return Err(VarintError::Overlong);
        }
        value |= group << (7 * i);
        if byte & 0x80 == 0 {
            if byte == 0 && i > 0 {
                return Err(VarintError::Overlong);
            }
            *pos += i + 1;
            return Ok(value);
        }
    }
    Err(VarintError::Overlong)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_length() {
        for v in [
            0u64,
            1,
            127,
            128,
            300,
            16_383,
            16_384,
            u32::MAX as u64,
            u64::MAX,
        ] {
            let mut buf = Vec::new();
            write(&mut buf, v);
            assert_eq!(buf.len(), len(v));
            let mut pos = 0;
            assert_eq!(read(&buf, &mut pos), Ok(v));
            assert_eq!(pos, buf.len());
        }
    }

    #[test]
    fn rejects_bad_encodings() {
        assert_eq!(read(&[0x80, 0x80], &mut 0), Err(VarintError::Truncated));
        assert_eq!(read(&[0xFF; 11], &mut 0), Err(VarintError::Overlong));
        let mut max = vec![0xFF; 9];
        max.push(0x02);
        assert_eq!(read(&max, &mut 0), Err(VarintError::Overlong));
        // Only the shortest encoding is valid: 81 00 is 1 written in two bytes.
        assert_eq!(read(&[0x81, 0x00], &mut 0), Err(VarintError::Overlong));
        assert_eq!(
            read(&[0x80, 0x80, 0x00], &mut 0),
            Err(VarintError::Overlong)
        );
    }
}
