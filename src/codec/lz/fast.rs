//! The fast finder (levels 1-2): one single-entry hash table of `min_len`-byte prefixes,
//! greedy, the latest repeat distance tried one byte ahead, copies extended backwards into
//! the literals, and a step that grows with the literal run, so incompressible stretches
//! are crossed quickly.

use super::{
    common_len, extend_back, hash_n, read_u32, read_u64, LitBuf, MatchFinder, Params, Seq,
};

impl MatchFinder {
    /// Parses `data[start..end]` (`end - start` > 16) with `MLS` = `p.min_len` (a constant,
    /// so that the hash shifts by constants); returns the anchor (start of the trailing
    /// literals).
    pub(super) fn parse_fast<const MLS: usize>(
        &mut self,
        data: &[u8],
        p: Params,
        start: usize,
        end: usize,
        seqs: &mut Vec<Seq>,
        lits: &mut LitBuf,
    ) -> usize {
        debug_assert_eq!(MLS, p.min_len);
        let (mls, hlog) = (MLS, p.hash_log);
        // The table as a local, indexed under a mask of its length (a power of two) less
        // one, which the hashes are below anyway, so that no access needs a bounds check.
        let mut table = std::mem::take(&mut self.head);
        let mask = table.len() - 1;
        // Hashing reads 8 bytes.
        let limit = end - 8;
        let mut anchor = start;
        let mut ip = start;
        // A literal run that began in earlier blocks keeps its step (capped).
        let mut carry = self.run_carry.min(64 << p.step_log);
        while ip < limit {
            let v = read_u64(data, ip);
            let h = hash_n(v, mls, hlog);
            let cand = table[h & mask] as usize;
            table[h & mask] = ip as u32;
            let next = ip + 1;
            let r0 = self.reps.0[0] as usize;
            // The four bytes at `next` are bytes 1-4 of `v`.
            let (at, len, dist) = if r0 <= next && read_u32(data, next - r0) == (v >> 8) as u32 {
                let len = 4 + common_len(data, next - r0 + 4, next + 4, end);
                (next, len, r0)
            } else if cand < ip && read_u32(data, cand) == v as u32 {
                let len = 4 + common_len(data, cand + 4, ip + 4, end);
                if len < mls {
                    ip += 1 + ((ip - anchor + carry) >> p.step_log);
                    continue;
                }
                extend_back(data, anchor, ip, cand, len)
            } else {
                ip += 1 + ((ip - anchor + carry) >> p.step_log);
                continue;
            };
            self.emit(data, anchor, at, len, dist as u32, seqs, lits);
            carry = 0;
            ip = at + len;
            anchor = ip;
            if ip < limit {
                // Seed the table inside the copy so the next copy can start from there.
                for x in [at + 2, ip - 2] {
                    table[hash_n(read_u64(data, x), mls, hlog) & mask] = x as u32;
                }
                // A copy at the previous distance right away (alternating patterns).
                loop {
                    let r1 = self.reps.0[1] as usize;
                    if ip >= limit || r1 > ip || read_u32(data, ip - r1) != read_u32(data, ip) {
                        break;
                    }
                    let len = 4 + common_len(data, ip - r1 + 4, ip + 4, end);
                    table[hash_n(read_u64(data, ip), mls, hlog) & mask] = ip as u32;
                    self.emit(data, anchor, ip, len, r1 as u32, seqs, lits);
                    ip += len;
                    anchor = ip;
                }
            }
        }
        self.head = table;
        self.run_carry = if anchor == start {
            carry + (end - start)
        } else {
            end - anchor
        };
        anchor
    }
}
