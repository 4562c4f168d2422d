//! Binary-tree match finder for the optimal parser: per 4-byte hash, the positions of the
//! window form a binary search tree ordered by the bytes that follow them, rooted at the
//! most recent one. Searching at a position walks down from the root and re-roots the
//! tree at that position on the way, so the walk both finds the longest earlier copies
//! and inserts the position; the lengths already shared with the bounds on each side are
//! not compared again.

use super::{common_len, hash4, read_u32, MatchFinder, Params, MIN_MATCH, NONE};

impl MatchFinder {
    /// Searches and inserts `pos`, calling `record(length, distance)` for each copy longer
    /// than all found before it (copies end at `end` at the latest; `end == pos` only
    /// inserts); returns the best (length, distance), or (0, 0).
    ///
    /// `self.chain` holds two links per window slot: the subtree of positions whose bytes
    /// sort before the slot's position, then the subtree of those that sort after.
    pub(super) fn find_tree(
        &mut self,
        data: &[u8],
        p: Params,
        pos: usize,
        end: usize,
        mut record: impl FnMut(usize, u32),
    ) -> (usize, u32) {
        let mask = self.chain_mask;
        let window = mask + 1;
        let h = hash4(read_u32(data, pos), p.hash_log);
        let mut cand = self.head[h];
        self.head[h] = pos as u32;
        let chain: &mut [u32] = &mut self.chain;
        // Where the next smaller (larger) node found is linked in.
        let mut smaller_slot = 2 * (pos & mask);
        let mut larger_slot = smaller_slot + 1;
        // Bytes every node below the current smaller (larger) bound shares with `pos`.
        let (mut smaller_len, mut larger_len) = (0usize, 0usize);
        let low = (pos + 1).saturating_sub(window);
        let mut best_len = MIN_MATCH - 1;
        let mut best_dist = 0u32;
        // Bytes are compared up to the frame's end, so that a copy reaching the block's
        // end still orders the tree, but never further than both the block's end and
        // `nice` past `pos`: a node that long is dropped anyway, and comparing a long
        // run to its end at every position would take time quadratic in the run.
        let compare_end = data.len().min(end.max(pos.saturating_add(p.nice)));
        let mut depth = p.depth;
        while cand != NONE && depth > 0 {
            let c = cand as usize;
            if c < low || c >= pos {
                break;
            }
            depth -= 1;
            let known = smaller_len.min(larger_len);
            let len = known + common_len(data, c + known, pos + known, compare_end);
            let usable = len.min(end - pos);
            if usable > best_len {
                best_len = usable;
                best_dist = (pos - c) as u32;
                record(usable, best_dist);
            }
            if pos + len == compare_end || len >= p.nice {
                // The order past this length is unknown (or not worth learning): the
                // node and its subtrees are dropped from the tree.
                break;
            }
            let node = 2 * (c & mask);
            if data[c + len] < data[pos + len] {
                chain[smaller_slot] = cand;
                smaller_len = len;
                smaller_slot = node + 1;
                cand = chain[node + 1];
            } else {
                chain[larger_slot] = cand;
                larger_len = len;
                larger_slot = node;
                cand = chain[node];
            }
        }
        chain[smaller_slot] = NONE;
        chain[larger_slot] = NONE;
        if best_len < MIN_MATCH {
            (0, 0)
        } else {
            (best_len, best_dist)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::Level;

    /// Longest copy at `pos` from anywhere before it (brute force).
    fn longest(data: &[u8], pos: usize) -> usize {
        (0..pos)
            .map(|c| common_len(data, c, pos, data.len()))
            .filter(|&l| l >= MIN_MATCH)
            .max()
            .unwrap_or(0)
    }

    #[test]
    fn an_unbounded_search_finds_the_longest_copy() {
        // Four letters: many copies of every length up to about ten.
        let mut next = super::super::tests::lcg_bytes(7);
        let data: Vec<u8> = (0..6000)
            .map(|_| b"acgt"[usize::from(next()) % 4])
            .collect();
        let mut mf = MatchFinder::default();
        mf.reset(Level::new(9).unwrap(), &data, 0);
        let p = Params {
            depth: u32::MAX,
            nice: usize::MAX,
            ..mf.params.unwrap()
        };
        // The last copies could reach the end, where the tree stops learning: not compared.
        // Blocks of about 1,000 bytes: copies end at the block's end.
        for pos in 0..data.len() - 100 {
            let end = ((pos / 1000 + 1) * 1000).max(pos + MIN_MATCH);
            let mut lens = Vec::new();
            let (len, dist) = mf.find_tree(&data, p, pos, end, |l, _| lens.push(l));
            let want = longest(&data, pos).min(end - pos);
            assert_eq!(len, if want < MIN_MATCH { 0 } else { want }, "at {pos}");
            assert!(lens.windows(2).all(|w| w[0] < w[1]));
            if len > 0 {
                assert_eq!(common_len(&data, pos - dist as usize, pos, end), len);
            }
        }
    }
}
