//! Keys of the single-entry hash tables of levels 2-8 (the double finder's two, levels
//! 4-8's long table): a prefix's slot, and in windows under 16 MiB a tag that lets a
//! lookup pass over another prefix's entry unread. (Level 1's table of 16 Ki entries
//! gained nothing from tags: the same CPU time within noise.)

use super::{HASH8_MUL, HASH_N_MUL};

/// Windows shorter than this keep a tag in their table entries: a position in the low 24
/// bits, 8 more bits of its hash in the high 8, so that a candidate whose tag differs
/// (another prefix that hashed to the same entry, the common case where nothing repeats)
/// is passed over without loading its bytes, a cache miss each. An empty entry
/// (`u32::MAX`) has position `2^24 - 1`, which no position of such a window reaches.
pub(super) const TAGGED_BELOW: usize = (1 << 24) - 1;

/// A prefix's slot in a table and its tag (the hash's 8 bits below the slot's, in an
/// entry's high byte; 0 in untagged tables).
#[derive(Clone, Copy)]
pub(super) struct Key {
    pub(super) slot: usize,
    tag: u32,
}

impl Key {
    #[inline(always)]
    fn new<const TAGGED: bool>(h: u64, log: u32) -> Self {
        Key {
            slot: (h >> (64 - log)) as usize,
            tag: if TAGGED {
                ((h >> (56 - log)) as u32) << 24
            } else {
                0
            },
        }
    }

    /// The entry of position `pos` under this key.
    #[inline(always)]
    pub(super) fn entry(self, pos: usize) -> u32 {
        pos as u32 | self.tag
    }

    /// The position in `entry` if its tag is this key's (else one no copy starts at).
    #[inline(always)]
    pub(super) fn position<const TAGGED: bool>(self, entry: u32) -> usize {
        if TAGGED {
            if entry & 0xFF00_0000 == self.tag {
                (entry & 0x00FF_FFFF) as usize
            } else {
                usize::MAX
            }
        } else {
            entry as usize
        }
    }
}

/// The key of the 8-byte prefix `v` in a table of `2^log` slots (the long table).
#[inline(always)]
pub(super) fn long_key<const TAGGED: bool>(v: u64, log: u32) -> Key {
    Key::new::<TAGGED>(v.wrapping_mul(HASH8_MUL), log)
}

/// The key of the low `MLS` bytes of `v` in a table of `2^log` slots (the short table).
#[inline(always)]
pub(super) fn short_key<const TAGGED: bool, const MLS: usize>(v: u64, log: u32) -> Key {
    Key::new::<TAGGED>((v << (64 - 8 * MLS)).wrapping_mul(HASH_N_MUL), log)
}
