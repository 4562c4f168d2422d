//! Byte buffers a decoder writes into at any offset, grown to a length and never shrunk.
//!
//! [`PageBuf`] keeps a large buffer (a group of decoded frames, megabytes) in an anonymous
//! mapping of its own advised to use transparent huge pages: first touching 8 MiB then
//! takes four page faults instead of 2,048. Each fault costs microseconds (far more in a
//! virtual machine), which on a 28 MB file was about a quarter of the decoder's CPU time.
//! Where the kernel has no huge pages (or is not Linux) the buffer is an ordinary mapping.

use std::ops::{Deref, DerefMut};

use memmap2::MmapMut;

/// A buffer that [`GrowBuf::grow_to`] lengthens, keeping its contents; new bytes are zero.
pub trait GrowBuf: DerefMut<Target = [u8]> {
    /// Makes the buffer at least `len` bytes long.
    fn grow_to(&mut self, len: usize);
}

impl GrowBuf for Vec<u8> {
    fn grow_to(&mut self, len: usize) {
        if self.len() < len {
            self.resize(len, 0);
        }
    }
}

/// Size of a transparent huge page on x86-64 and most arm64 kernels: buffers from this
/// size on are mapped on their own, in whole multiples of it.
const HUGE_PAGE: usize = 2 << 20;

/// The storage of [`PageBuf`] and [`MapVec`]: an anonymous mapping of its own when
/// large, else a vector. Their length is kept beside it.
#[derive(Default)]
struct Storage {
    small: Vec<u8>,
    big: Option<MmapMut>,
}

impl Storage {
    /// Bytes held (mapped or allocated), whatever the length.
    fn capacity(&self) -> usize {
        self.big.as_ref().map_or(self.small.capacity(), |m| m.len())
    }

    /// The first `len` bytes.
    fn bytes(&self, len: usize) -> &[u8] {
        match &self.big {
            Some(map) => &map[..len],
            None => &self.small[..len],
        }
    }

    /// The first `len` bytes, to write.
    fn bytes_mut(&mut self, len: usize) -> &mut [u8] {
        match self.big.as_mut() {
            Some(map) => &mut map[..len],
            None => &mut self.small[..len],
        }
    }

    /// Makes `map` the storage, with the first `len` bytes of the old one.
    fn map(&mut self, mut map: MmapMut, len: usize) {
        map[..len].copy_from_slice(self.bytes(len));
        self.big = Some(map);
        self.small = Vec::new();
    }

    /// Moves the first `len` bytes of a mapping back into the vector, if mapped.
    fn unmap(&mut self, len: usize) {
        if let Some(map) = self.big.take() {
            self.small = map[..len].to_vec();
        }
    }
}

/// A growable byte buffer; see the module documentation.
#[derive(Default)]
pub struct PageBuf {
    store: Storage,
    len: usize,
}

impl PageBuf {
    /// Bytes held (mapped or allocated), whatever the length.
    pub fn capacity(&self) -> usize {
        self.store.capacity()
    }

    /// Makes room for `cap` bytes without lengthening the buffer, so that growing up to
    /// it later moves nothing. From 2 MiB (a huge page) on, the room is a mapping whose
    /// whole huge pages are advised to be huge (the last, partial one is not, so a buffer
    /// a little longer than a page does not take two).
    pub fn reserve(&mut self, cap: usize) {
        let mapped = self.store.big.as_ref().map_or(0, |m| m.len());
        if cap <= mapped || cap < HUGE_PAGE {
            return;
        }
        // Fresh anonymous memory is zero, as the vector's growth would be.
        if let Ok(map) = MmapMut::map_anon(cap.next_multiple_of(HUGE_PAGE)) {
            // Best effort: a kernel without transparent huge pages refuses the advice.
            #[cfg(target_os = "linux")]
            let _ = map.advise_range(memmap2::Advice::HugePage, 0, cap / HUGE_PAGE * HUGE_PAGE);
            self.store.map(map, self.len);
        }
    }
}

impl GrowBuf for PageBuf {
    fn grow_to(&mut self, len: usize) {
        if len <= self.len {
            return;
        }
        self.reserve(len);
        if self.store.big.as_ref().is_none_or(|m| m.len() < len) {
            // Small, or no mapping to be had: an ordinary vector (moving the mapped bytes
            // back first if the mapping is too short for `len`).
            self.store.unmap(self.len);
            self.store.small.resize(len, 0);
        }
        self.len = len;
    }
}

impl Deref for PageBuf {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        self.store.bytes(self.len)
    }
}

impl DerefMut for PageBuf {
    fn deref_mut(&mut self) -> &mut [u8] {
        self.store.bytes_mut(self.len)
    }
}

/// A table of `u32`s (a match finder's links) that, from 2 MiB on, lives in a mapping of
/// its own advised to be transparent huge pages. Links are read at random over tens of
/// megabytes (level 9's trees: 64 MiB for an 8 MiB window); with 4 KiB pages nearly every
/// such read also misses the TLB, which costs the most in a virtual machine.
#[derive(Default)]
pub struct LinkTable {
    small: Vec<u32>,
    big: Option<MmapMut>,
    len: usize,
}

impl LinkTable {
    /// Makes the table `len` entries long, each `value`; a table already that long is
    /// kept as it is (its owner overwrites what it reads).
    pub fn reset(&mut self, len: usize, value: u32) {
        if len == self.len {
            return;
        }
        self.big = None;
        self.small = Vec::new();
        self.len = len;
        let bytes = len.saturating_mul(4);
        if bytes >= HUGE_PAGE {
            if let Ok(mut map) = MmapMut::map_anon(bytes.next_multiple_of(HUGE_PAGE)) {
                // Best effort, as for `PageBuf`.
                #[cfg(target_os = "linux")]
                let _ = map.advise(memmap2::Advice::HugePage);
                // A mapping starts on a page, so its bytes are always whole `u32`s.
                if bytemuck::try_cast_slice_mut::<u8, u32>(&mut map[..]).is_ok() {
                    self.big = Some(map);
                    self.fill(value);
                    return;
                }
            }
        }
        self.small = vec![value; len];
    }
}

impl Deref for LinkTable {
    type Target = [u32];

    fn deref(&self) -> &[u32] {
        match &self.big {
            Some(map) => &bytemuck::cast_slice(&map[..])[..self.len],
            None => &self.small,
        }
    }
}

impl DerefMut for LinkTable {
    fn deref_mut(&mut self) -> &mut [u32] {
        let len = self.len;
        match self.big.as_mut() {
            Some(map) => &mut bytemuck::cast_slice_mut(&mut map[..])[..len],
            None => &mut self.small,
        }
    }
}

/// Buffers of at least this many bytes are [`MapVec`] mappings.
const MAP_FROM: usize = 1 << 20;

/// A byte vector (an input buffer of megabytes, kept from job to job) whose storage from
/// [`MAP_FROM`] on is an anonymous mapping of its own, so that freeing it gives the memory
/// back at once. A heap allocator keeps freed megabytes for later, scattered over its
/// arenas: a process that codes inputs of different sizes one after another would grow
/// past its memory budget. Fresh pages are not touched until written.
/// In the vector, its length is the buffer's.
#[derive(Default)]
pub struct MapVec {
    store: Storage,
    len: usize,
}

impl MapVec {
    /// Bytes held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no byte is held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes it can hold without growing.
    pub fn capacity(&self) -> usize {
        self.store.capacity()
    }

    /// Drops every byte, keeping the storage.
    pub fn clear(&mut self) {
        self.truncate(0);
    }

    /// Keeps the first `len` bytes.
    pub fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
        self.store.small.truncate(len);
    }

    /// Makes room for `additional` more bytes, exactly.
    pub fn reserve_exact(&mut self, additional: usize) {
        let need = self.len.saturating_add(additional);
        if need > self.capacity() {
            self.move_to(need);
        }
    }

    /// Makes room for `additional` more bytes, at least doubling the room when it grows.
    pub fn reserve(&mut self, additional: usize) {
        let need = self.len.saturating_add(additional);
        if need > self.capacity() {
            self.move_to(need.max(self.capacity().saturating_mul(2)));
        }
    }

    /// Moves the bytes to storage of `cap` bytes: a mapping from [`MAP_FROM`] on (or
    /// the vector if no mapping is to be had).
    fn move_to(&mut self, cap: usize) {
        if self.len == 0 {
            // Nothing to move: the old storage goes before the new one comes.
            self.store = Storage::default();
        }
        if cap >= MAP_FROM {
            if let Ok(map) = MmapMut::map_anon(cap) {
                self.store.map(map, self.len);
                return;
            }
        }
        self.store.unmap(self.len);
        self.store.small.reserve_exact(cap - self.len);
    }

    /// Appends `bytes`.
    pub fn extend_from_slice(&mut self, bytes: &[u8]) {
        self.reserve(bytes.len());
        match self.store.big.as_mut() {
            Some(map) => map[self.len..self.len + bytes.len()].copy_from_slice(bytes),
            None => self.store.small.extend_from_slice(bytes),
        }
        self.len += bytes.len();
    }

    /// Appends what `reader` yields, up to its end or `limit` bytes; returns the count.
    /// Interrupted reads are retried.
    ///
    /// # Errors
    /// The reader's error (the bytes read before it are kept).
    pub fn read_from<R: std::io::Read>(
        &mut self,
        reader: &mut R,
        limit: usize,
    ) -> std::io::Result<usize> {
        let start = self.len;
        let mut outcome = Ok(());
        while self.len - start < limit {
            let left = limit - (self.len - start);
            if self.len == self.capacity() {
                self.reserve(left.min(64 << 10));
            }
            // A vector's room is zeroed before the read: a bounded piece at a time.
            let room = (self.capacity() - self.len).min(left).min(256 << 10);
            let got = match self.store.big.as_mut() {
                Some(map) => reader.read(&mut map[self.len..self.len + room]),
                None => {
                    self.store.small.resize(self.len + room, 0);
                    reader.read(&mut self.store.small[self.len..])
                }
            };
            match got {
                Ok(0) => break,
                Ok(n) => self.len += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    outcome = Err(e);
                    break;
                }
            }
            self.store.small.truncate(self.len);
        }
        self.store.small.truncate(self.len);
        outcome.map(|()| self.len - start)
    }
}

impl Deref for MapVec {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        self.store.bytes(self.len)
    }
}

impl DerefMut for MapVec {
    fn deref_mut(&mut self) -> &mut [u8] {
        self.store.bytes_mut(self.len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_tables_of_every_size_hold_their_values() {
        let mut t = LinkTable::default();
        for len in [
            0,
            1,
            1000,
            HUGE_PAGE / 4 - 1,
            HUGE_PAGE / 4,
            3 * HUGE_PAGE / 4 + 5,
            7,
        ] {
            t.reset(len, u32::MAX);
            assert_eq!(t.len(), len);
            assert!(t.iter().all(|&x| x == u32::MAX), "length {len}");
            if len > 0 {
                t[len - 1] = 5;
                t[0] = 9;
                assert_eq!((t[0], t[len - 1]), (9, if len == 1 { 9 } else { 5 }));
            }
        }
        // The same length again keeps the contents.
        t.reset(7, 0);
        assert_eq!(t[0], 9);
    }

    #[test]
    fn growing_keeps_contents_and_zeroes_the_rest() {
        let mut b = PageBuf::default();
        let mut v = Vec::new();
        for (i, len) in [
            10,
            5,
            1000,
            HUGE_PAGE - 1,
            HUGE_PAGE + 3,
            3 * HUGE_PAGE,
            100,
        ]
        .into_iter()
        .enumerate()
        {
            b.grow_to(len);
            v.grow_to(len);
            assert_eq!(b.len(), v.len());
            assert_eq!(&b[..], &v[..], "after growing to {len}");
            let at = b.len() - 1;
            b[at] = i as u8 + 1;
            v[at] = i as u8 + 1;
            b[0] = i as u8;
            v[0] = i as u8;
        }
        assert_eq!(&b[..], &v[..]);
        b.reserve(10 * HUGE_PAGE);
        assert_eq!(
            &b[..],
            &v[..],
            "reserving keeps the length and the contents"
        );
    }

    /// A reader that gives at most `step` bytes per read and is interrupted every third.
    struct Trickle<'a> {
        data: &'a [u8],
        step: usize,
        calls: usize,
    }

    impl std::io::Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            self.calls += 1;
            if self.calls.is_multiple_of(3) {
                return Err(std::io::ErrorKind::Interrupted.into());
            }
            let n = buf.len().min(self.step).min(self.data.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    #[test]
    fn map_vecs_behave_as_vectors_on_both_sides_of_the_mapping_size() {
        let data: Vec<u8> = (0..3 * MAP_FROM + 77)
            .map(|i| (i * 31 % 251) as u8)
            .collect();
        let mut m = MapVec::default();
        let mut v: Vec<u8> = Vec::new();
        let mut at = 0;
        for (i, len) in [10, MAP_FROM - 20, 50, MAP_FROM, 3].into_iter().enumerate() {
            m.extend_from_slice(&data[at..at + len]);
            v.extend_from_slice(&data[at..at + len]);
            at += len;
            assert_eq!(&m[..], &v[..], "step {i}");
            assert!(m.capacity() >= m.len());
            if i == 2 {
                m.truncate(MAP_FROM / 2);
                v.truncate(MAP_FROM / 2);
            }
        }
        assert!(m.store.big.is_some(), "a buffer of megabytes is mapped");
        m[0] = 1;
        v[0] = 1;
        assert_eq!(&m[..], &v[..]);
        m.clear();
        assert!(m.is_empty());
        m.reserve_exact(5);
        assert!(m.capacity() >= MAP_FROM, "clearing keeps the storage");
        // Reading: short and interrupted reads, a limit, and the end of the input.
        for (limit, expect) in [
            (1000, 1000),
            (2 * MAP_FROM + 5, 2 * MAP_FROM + 5),
            (usize::MAX, data.len()),
        ] {
            let mut small = MapVec::default();
            small.extend_from_slice(b"head");
            let mut r = Trickle {
                data: &data,
                step: 70_001,
                calls: 0,
            };
            let n = small.read_from(&mut r, limit).unwrap();
            assert_eq!(n, expect);
            assert_eq!(&small[..4], b"head");
            assert_eq!(&small[4..], &data[..expect], "limit {limit}");
        }
    }
}
