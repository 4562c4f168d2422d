//! The double finder (level 3): two single-entry hash tables, one of 8-byte prefixes (long
//! copies, far back) and one of `min_len`-byte prefixes (short copies); greedy, with one
//! probe of both tables one byte ahead when only a short copy was found, the latest
//! repeat distance tried one byte ahead, backward extension, and a step that grows with
//! the literal run.

use super::key::{long_key, short_key, TAGGED_BELOW};
use super::{common_len, extend_back, read_u32, read_u64, LitBuf, MatchFinder, Params, Seq};

/// Copies shorter than this are checked against a copy starting one byte later.
const LAZY_BELOW: usize = 64;

impl MatchFinder {
    /// Parses `data[start..end]` (`end - start` > 16) with `MLS` = `p.min_len` (a constant,
    /// so that the hash shifts by constants); returns the anchor (start of the trailing
    /// literals).
    pub(super) fn parse_double<const MLS: usize, const TAGGED: bool>(
        &mut self,
        data: &[u8],
        p: Params,
        start: usize,
        end: usize,
        seqs: &mut Vec<Seq>,
        lits: &mut LitBuf,
    ) -> usize {
        debug_assert_eq!(MLS, p.min_len);
        debug_assert!(!TAGGED || data.len() < TAGGED_BELOW);
        let (mls, slog, llog) = (MLS, p.hash_log, p.long_log);
        let lkey = |v| long_key::<TAGGED>(v, llog);
        let skey = |v| short_key::<TAGGED, MLS>(v, slog);
        // The tables as locals, indexed under masks of their lengths (powers of two) less
        // one, which the hashes are below anyway, so that no access needs a bounds check.
        let (mut short, mut long) = (
            std::mem::take(&mut self.head),
            std::mem::take(&mut self.long),
        );
        let (smask, lmask) = (short.len() - 1, long.len() - 1);
        // Hashing reads 8 bytes at the position and the next.
        let limit = end - 9;
        let mut anchor = start;
        let mut ip = start;
        // A literal run that began in earlier blocks keeps its step (capped).
        let mut carry = self.run_carry.min(64 << p.step_log);
        while ip < limit {
            let v = read_u64(data, ip);
            let (kl, ks) = (lkey(v), skey(v));
            let cl = kl.position::<TAGGED>(long[kl.slot & lmask]);
            let cs = ks.position::<TAGGED>(short[ks.slot & smask]);
            long[kl.slot & lmask] = kl.entry(ip);
            short[ks.slot & smask] = ks.entry(ip);
            let next = ip + 1;
            let r0 = self.reps.0[0] as usize;
            // The four bytes at `next` are bytes 1-4 of `v`.
            let (at, len, dist) = if r0 <= next && read_u32(data, next - r0) == (v >> 8) as u32 {
                let len = 4 + common_len(data, next - r0 + 4, next + 4, end);
                (next, len, r0)
            } else {
                let (mut s, mut c, mut len) = if cl < ip && read_u64(data, cl) == v {
                    (ip, cl, 8 + common_len(data, cl + 8, ip + 8, end))
                } else if cs < ip && read_u32(data, cs) == v as u32 {
                    (ip, cs, 4 + common_len(data, cs + 4, ip + 4, end))
                } else {
                    ip += 1 + ((ip - anchor + carry) >> p.step_log);
                    continue;
                };
                if p.lazy > 0 && len < LAZY_BELOW {
                    // A short copy: one probe of both tables at the next byte, taken when
                    // it is longer by more than the literal it costs.
                    let v1 = read_u64(data, next);
                    let (kl1, ks1) = (lkey(v1), skey(v1));
                    let cl1 = kl1.position::<TAGGED>(long[kl1.slot & lmask]);
                    let cs1 = ks1.position::<TAGGED>(short[ks1.slot & smask]);
                    long[kl1.slot & lmask] = kl1.entry(next);
                    short[ks1.slot & smask] = ks1.entry(next);
                    // A candidate that continues the copy found (`c + 1`) gives it one
                    // byte shorter, and the short table often holds the long one's.
                    let continued = c + 1;
                    for cand in [cl1, if cs1 == cl1 { continued } else { cs1 }] {
                        if cand != continued && cand < next && read_u32(data, cand) == v1 as u32 {
                            let l1 = 4 + common_len(data, cand + 4, next + 4, end);
                            if l1 > len + 1 {
                                (s, c, len) = (next, cand, l1);
                            }
                        }
                    }
                }
                if len < mls {
                    ip += 1 + ((ip - anchor + carry) >> p.step_log);
                    continue;
                }
                extend_back(data, anchor, s, c, len)
            };
            self.emit(data, anchor, at, len, dist as u32, seqs, lits);
            carry = 0;
            ip = at + len;
            anchor = ip;
            if ip < limit {
                // Seed both tables inside the copy.
                for x in [at + 2, ip - 2] {
                    let v = read_u64(data, x);
                    let (kl, ks) = (lkey(v), skey(v));
                    long[kl.slot & lmask] = kl.entry(x);
                    short[ks.slot & smask] = ks.entry(x);
                }
                let ks = skey(read_u64(data, ip - 1));
                short[ks.slot & smask] = ks.entry(ip - 1);
                // A copy at the previous distance right away (alternating patterns).
                loop {
                    let r1 = self.reps.0[1] as usize;
                    if ip >= limit || r1 > ip || read_u32(data, ip - r1) != read_u32(data, ip) {
                        break;
                    }
                    let len = 4 + common_len(data, ip - r1 + 4, ip + 4, end);
                    let v = read_u64(data, ip);
                    let (kl, ks) = (lkey(v), skey(v));
                    long[kl.slot & lmask] = kl.entry(ip);
                    short[ks.slot & smask] = ks.entry(ip);
                    self.emit(data, anchor, ip, len, r1 as u32, seqs, lits);
                    ip += len;
                    anchor = ip;
                }
            }
        }
        (self.head, self.long) = (short, long);
        self.run_carry = if anchor == start {
            carry + (end - start)
        } else {
            end - anchor
        };
        anchor
    }
}
