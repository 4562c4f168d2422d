//! Boundary pre-scan: where a frame ends. The cut depends only on the input bytes and the
//! chunk size, never on threads, timing or read path.
#![forbid(unsafe_code)]

/// Fraction of the chunk searched backwards from the nominal end for a text boundary.
const LOOKBACK_DIVISOR: usize = 16;

/// Length of the frame that starts at `window[0]`.
///
/// `window` holds the input from the frame start: exactly `chunk` bytes when more input
/// follows them (`more` = true), or everything that is left otherwise.
///
/// - When the rest of the input fits in one chunk, the frame takes all of it.
/// - Text (no NUL byte in the look-back region, the last `chunk / 16` bytes): cut after
///   the last newline there, else after the last space or tab, else at the nominal end
///   moved back to the start of a UTF-8 sequence.
/// - Binary: the nominal end.
pub fn cut(window: &[u8], chunk: usize, more: bool) -> usize {
    if !more || window.len() < chunk {
        return window.len().min(chunk);
    }
    let lookback = (chunk / LOOKBACK_DIVISOR).max(1);
    let region = &window[chunk - lookback..chunk];
    if region.contains(&0) {
        return chunk;
    }
    if let Some(i) = region.iter().rposition(|&b| b == b'\n') {
        return chunk - lookback + i + 1;
    }
    if let Some(i) = region.iter().rposition(|&b| b == b' ' || b == b'\t') {
        return chunk - lookback + i + 1;
    }
    // Never split a UTF-8 sequence: a lead byte in the last three bytes whose sequence
    // would run past the nominal end moves the cut to before it.
    for i in (chunk.saturating_sub(3)..chunk).rev() {
        let b = window[i];
        if b & 0xC0 == 0x80 {
            continue;
        }
        let need = match b {
            0xC0..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF7 => 4,
            _ => 1,
        };
        return if i + need > chunk { i } else { chunk };
    }
    chunk
}

/// All frame lengths of `data` for `chunk`, in order (the reference the streaming
/// paths are tested against).
pub fn cuts(data: &[u8], chunk: usize) -> Vec<usize> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < data.len() {
        let rest = &data[start..];
        let more = rest.len() > chunk;
        let len = cut(&rest[..rest.len().min(chunk)], chunk, more);
        out.push(len);
        start += len;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_cuts_after_newline() {
        let mut data = vec![b'a'; 100];
        data[97] = b'\n';
        data.extend_from_slice(&[b'b'; 100]);
        assert_eq!(cut(&data[..100], 100, true), 98);
    }

    #[test]
    fn binary_cuts_at_nominal_end() {
        let mut data = [0u8; 200];
        data[95] = b'\n';
        assert_eq!(cut(&data[..100], 100, true), 100);
    }

    #[test]
    fn never_splits_utf8() {
        let s = "é".repeat(200); // two bytes each, no whitespace
        let b = s.as_bytes();
        let n = cut(&b[..101], 101, true);
        assert!(std::str::from_utf8(&b[..n]).is_ok());
        assert!(n >= 98);
    }

    #[test]
    fn last_piece_takes_the_rest_and_cuts_cover_input() {
        let data: Vec<u8> = (0..10_000u32)
            .map(|i| if i % 37 == 0 { b'\n' } else { b'x' })
            .collect();
        let c = cuts(&data, 1000);
        assert_eq!(c.iter().sum::<usize>(), data.len());
        assert!(c.iter().all(|&n| n > 0 && n <= 1000));
        assert!(cuts(&[], 1000).is_empty());
    }
}
