//! Lazy parsing over hash chains (levels 4-8) or tagged rows (frames of at most 16 KiB at
//! levels 2-3): every position is inserted into the chains or rows, and each searched one
//! into the long table of 8-byte prefixes; a copy is taken only when the next one or two
//! positions do not offer a better one.

use super::{
    common_len, copy_gain, hash4, hash_n, longer_match, read_u32, read_u64, LitBuf, MatchFinder,
    Params, Seq, Strategy, GOOD_MATCH, LAZY_LIMIT, MIN_MATCH, NONE, ROW,
};

/// Copies shorter than the level's `min_len` are taken only from this close.
const SHORT_COPY_REACH: u32 = 1024;

/// Hash-chain bucket of position `i`: by its first `p.chain_key` bytes (4 or 5), or 4
/// in the last 7 bytes of `data`.
#[inline(always)]
fn chain_hash(data: &[u8], i: usize, p: Params) -> usize {
    if p.chain_key == 5 && i + 8 <= data.len() {
        hash_n(read_u64(data, i), 5, p.hash_log)
    } else {
        hash4(read_u32(data, i), p.hash_log)
    }
}

/// True when a copy of `len` from `dist` is worth more than the best so far (`best_len`
/// from `best_dist`; none when `best_dist` is 0) by [`copy_gain`].
#[inline(always)]
fn better(len: usize, dist: u32, best_len: usize, best_dist: u32) -> bool {
    best_dist == 0 || copy_gain(len, dist) > copy_gain(best_len, best_dist)
}

impl MatchFinder {
    /// Inserts every position below `upto` into the hash chains or rows.
    #[inline(always)]
    pub(super) fn insert_upto(&mut self, data: &[u8], upto: usize, p: Params, row: bool) {
        let last = data.len().saturating_sub(MIN_MATCH);
        let upto = upto.min(last + 1);
        if row {
            while self.next_insert < upto {
                let i = self.next_insert;
                self.row_insert(read_u32(data, i), i);
                self.next_insert += 1;
            }
            return;
        }
        // The links as a slice once, not through the table's `DerefMut` per position.
        let chain: &mut [u32] = &mut self.chain;
        while self.next_insert < upto {
            let i = self.next_insert;
            let h = chain_hash(data, i, p);
            chain[i & self.chain_mask] = self.head[h];
            self.head[h] = i as u32;
            self.next_insert += 1;
        }
    }

    /// Row and tag of a position's first 4 bytes (rows serve small frames, whose 4-byte
    /// copies count).
    #[inline(always)]
    fn row_hash(&self, v: u32) -> (usize, u8) {
        let h = u64::from(v).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let row = (h >> (64 - self.row_bits)) as usize;
        let tag = (h >> (56 - self.row_bits)) as u8;
        (row, tag)
    }

    #[inline(always)]
    fn row_insert(&mut self, v: u32, pos: usize) {
        let (row, tag) = self.row_hash(v);
        let slot = (self.row_head[row].wrapping_sub(1) as usize) & (ROW - 1);
        self.row_head[row] = slot as u8;
        self.row_pos[row * ROW + slot] = pos as u32;
        self.row_tag[row * ROW + slot] = tag;
    }

    /// Best (length, distance) at `pos` from the row finder; inserts `pos`.
    #[inline(always)]
    fn find_row(&mut self, data: &[u8], p: Params, pos: usize, end: usize) -> (usize, u32) {
        self.insert_upto(data, pos, p, true);
        let max_dist = 1usize << p.window_log;
        let v = read_u32(data, pos);
        let (row, tag) = self.row_hash(v);
        let base = row * ROW;
        let head = self.row_head[row] as usize;
        let tags = &self.row_tag[base..base + ROW];
        let positions = &self.row_pos[base..base + ROW];
        let mut best_len = MIN_MATCH - 1;
        let mut best_dist = 0u32;
        let max = end - pos;
        for k in 0..(p.depth as usize).min(ROW) {
            let i = (head + k) & (ROW - 1);
            if tags[i] != tag {
                continue;
            }
            let cand = positions[i];
            if cand == NONE {
                break;
            }
            let c = cand as usize;
            if c >= pos || pos - c > max_dist {
                break;
            }
            if let Some(len) = longer_match(data, c, pos, end, v, best_len)
                .filter(|&len| better(len, (pos - c) as u32, best_len, best_dist))
            {
                best_len = len;
                best_dist = (pos - c) as u32;
                if len >= p.nice || len >= max {
                    break;
                }
            }
        }
        self.row_insert(v, pos);
        self.next_insert = pos + 1;
        if best_len < MIN_MATCH {
            (0, 0)
        } else {
            (best_len, best_dist)
        }
    }

    /// Best (length, distance) at `pos` from the rows or the hash chain, and the long
    /// table; inserts `pos`.
    #[inline(always)]
    fn find(&mut self, data: &[u8], p: Params, pos: usize, end: usize) -> (usize, u32) {
        let (len, dist) = if p.strategy == Strategy::Row {
            self.find_row(data, p, pos, end)
        } else {
            self.find_chain(data, p, pos, end)
        };
        self.find_long(data, p, pos, end, (len, dist))
    }

    /// The copy the long table has for `pos` when it is worth more than `best` by
    /// [`copy_gain`], else `best`; inserts `pos`.
    #[inline(always)]
    fn find_long(
        &mut self,
        data: &[u8],
        p: Params,
        pos: usize,
        end: usize,
        best: (usize, u32),
    ) -> (usize, u32) {
        if self.long.is_empty() || pos + 8 > end {
            return best;
        }
        let v = read_u64(data, pos);
        let key = self.long_key(v, p.long_log);
        let slot = key.slot & (self.long.len() - 1);
        let entry = self.long[slot];
        self.long[slot] = key.entry(pos);
        // A candidate of another prefix (its tag differs) is passed over unread.
        let cand = if self.tagged {
            key.position::<true>(entry)
        } else {
            entry as usize
        };
        if cand < pos && read_u64(data, cand) == v {
            let len = 8 + common_len(data, cand + 8, pos + 8, end);
            let dist = (pos - cand) as u32;
            if len > best.0 && better(len, dist, best.0, best.1) {
                return (len, dist);
            }
        }
        best
    }

    /// Walks the hash chain at `pos`; returns the best (length, distance) by
    /// [`copy_gain`]; inserts `pos`.
    #[inline(always)]
    pub(super) fn find_chain(
        &mut self,
        data: &[u8],
        p: Params,
        pos: usize,
        end: usize,
    ) -> (usize, u32) {
        self.insert_upto(data, pos, p, false);
        let window = self.chain_mask + 1;
        let v = read_u32(data, pos);
        let h = chain_hash(data, pos, p);
        let mut best_len = MIN_MATCH - 1;
        let mut best_dist = 0u32;
        let mut depth = p.depth;
        let max = end - pos;
        // Candidates within the window; chains run to smaller positions, so a candidate
        // at or after `pos` (none yet: NONE) ends the walk as well.
        let low = (pos + 1).saturating_sub(window);
        let mut c = self.head[h] as usize;
        let chain: &[u32] = &self.chain;
        while c < pos && c >= low && depth > 0 {
            if let Some(len) = longer_match(data, c, pos, end, v, best_len)
                .filter(|&len| better(len, (pos - c) as u32, best_len, best_dist))
            {
                best_len = len;
                best_dist = (pos - c) as u32;
                if len >= p.nice || len >= max {
                    break;
                }
                // A good match: look only a little further for a better one.
                if len >= GOOD_MATCH {
                    depth = depth.min(2);
                }
            }
            let next = chain[c & self.chain_mask] as usize;
            if next >= c {
                break;
            }
            c = next;
            depth -= 1;
        }
        self.chain[pos & self.chain_mask] = self.head[h];
        self.head[h] = pos as u32;
        self.next_insert = pos + 1;
        if best_len < MIN_MATCH {
            (0, 0)
        } else {
            (best_len, best_dist)
        }
    }

    /// Best candidate at `pos`, preferring the repeat distance when it is about as long.
    #[inline(always)]
    fn best_at(&mut self, data: &[u8], p: Params, pos: usize, end: usize) -> (usize, u32, i64) {
        let (rep_len, rep_dist) = self.rep_match(data, pos, end);
        let (len, dist) = self.find(data, p, pos, end);
        // A copy shorter than `min_len` costs about what its literals would unless it is
        // close by.
        let (len, dist) = if len >= p.min_len || dist < SHORT_COPY_REACH {
            (len, dist)
        } else {
            (0, 0)
        };
        let rep_gain = rep_len as i64 * 4 - 1;
        let gain = if len > 0 {
            copy_gain(len, dist)
        } else {
            i64::MIN
        };
        if rep_len >= MIN_MATCH && rep_gain >= gain {
            (rep_len, rep_dist, rep_gain)
        } else {
            (len, dist, gain)
        }
    }

    /// Parse with lazy evaluation over the chain or row finder; returns the anchor (start
    /// of the trailing literals).
    pub(super) fn parse_lazy(
        &mut self,
        data: &[u8],
        p: Params,
        start: usize,
        end: usize,
        seqs: &mut Vec<Seq>,
        lits: &mut LitBuf,
    ) -> usize {
        let limit = end - MIN_MATCH;
        let (mut pos, mut anchor) = (start, start);
        while pos <= limit {
            let (mut len, mut dist, mut gain) = self.best_at(data, p, pos, end);
            if len < MIN_MATCH {
                // The chain and row finders insert every position, so they search all.
                pos += 1;
                continue;
            }
            let mut at = pos;
            let mut steps = 0;
            while steps < p.lazy && len < LAZY_LIMIT && at < limit {
                let (l2, d2, g2) = self.best_at(data, p, at + 1, end);
                if l2 >= MIN_MATCH && g2 > gain + 4 {
                    at += 1;
                    len = l2;
                    dist = d2;
                    gain = g2;
                    steps = 0;
                } else {
                    steps += 1;
                    if steps < p.lazy && at + 2 <= limit {
                        let (l3, d3, g3) = self.best_at(data, p, at + 2, end);
                        if l3 >= MIN_MATCH && g3 > gain + 8 {
                            at += 2;
                            len = l3;
                            dist = d3;
                            gain = g3;
                            steps = 0;
                            continue;
                        }
                    }
                    break;
                }
            }
            self.emit(data, anchor, at, len, dist, seqs, lits);
            pos = at + len;
            anchor = pos;
        }
        anchor
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::Level;

    #[test]
    fn a_near_copy_beats_a_slightly_longer_far_one() {
        // `key` + 'Z' far back, `key` + 'Y' close by, then `key` + 'Z' again: the far copy
        // is one byte longer, but its distance costs more than that byte is worth.
        let mut next = super::super::tests::lcg_bytes(1);
        let mut noise = |n: usize| -> Vec<u8> { (0..n).map(|_| next()).collect() };
        let key = b"0123456789abcdef";
        let mut data = noise(64);
        let far = data.len();
        data.extend_from_slice(key);
        data.push(b'Z');
        data.extend(noise(100_000));
        let near = data.len();
        data.extend_from_slice(key);
        data.push(b'Y');
        data.extend(noise(40));
        let pos = data.len();
        data.extend_from_slice(key);
        data.push(b'Z');
        data.extend(noise(64));
        let end = data.len() - 16;

        let mut mf = MatchFinder::default();
        mf.reset(Level::new(5).unwrap(), &data, 0);
        let p = mf.params.unwrap();
        let found = mf.find(&data, p, pos, end);
        assert_eq!(found, (key.len(), (pos - near) as u32));
        // By length alone, the far copy would have won.
        assert!(common_len(&data, far, pos, end) > common_len(&data, near, pos, end));
    }
}
