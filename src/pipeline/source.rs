//! Where frames come from: mapped windows of a regular file, or a buffered reader (stdin,
//! pipes, devices). Both cut frames with the same pre-scan, so they give identical frames.
//!
//! This is the only module allowed to use `unsafe`, for memory-mapping files.

use std::fs::File;
use std::io::{self, Read};

use memmap2::{Mmap, MmapOptions};

use super::prescan;
use crate::base::pagebuf::MapVec;
use crate::error::{Error, Result};
use crate::format;

/// Maps `len` bytes of `file` from `offset`, read-only.
///
/// # Safety
/// A mapping's bytes must not change while they are borrowed. We hold a shared borrow of
/// the mapped bytes only while one frame is pre-scanned and encoded, and:
/// 1. the mapping is private and read-only, so this process never writes through it;
/// 2. the encoder compares the file's size and mtime before and after encoding and fails
///    if either changed, so data changed under us is never reported as a good stream;
/// 3. if another process truncates the file while it is mapped, touching a page past the
///    new end raises SIGBUS and ends the process. That loses no data: the output is a
///    temporary file that is renamed to its final name only after a complete, successful
///    encode, so the final name can never hold a partial stream, and the input is never
///    written. Callers that cannot accept that risk use the read path (`--no-mmap`).
#[allow(unsafe_code)]
fn map_region(file: &File, offset: u64, len: usize) -> io::Result<Mmap> {
    // SAFETY: see the function's safety section; the region lies within the file's size
    // as checked by the caller, and the map never outlives this encode.
    unsafe { MmapOptions::new().offset(offset).len(len).map(file) }
}

/// A frame as a source gives it: `history` bytes of the frame before it (a linked frame;
/// else 0), then the frame's `len` bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cut {
    /// Bytes of the previous frame in front of the frame.
    pub history: usize,
    /// The frame's length.
    pub len: usize,
}

/// Which frames are linked ([`format::linked`]), counted as a source gives them.
struct Groups {
    group: u8,
    frames: u64,
    prev_len: usize,
}

impl Groups {
    fn new(group: u8) -> Self {
        Self {
            group,
            frames: 0,
            prev_len: 0,
        }
    }

    /// History of the next frame: the whole previous frame when it is linked.
    fn history(&self) -> usize {
        if format::linked(self.group, self.frames) {
            self.prev_len
        } else {
            0
        }
    }

    /// Whether the frame after the next one will be linked to it.
    fn next_keeps(&self) -> bool {
        format::linked(self.group, self.frames + 1)
    }

    fn advance(&mut self, len: usize) {
        self.frames += 1;
        self.prev_len = len;
    }
}

/// Frames of a regular file, each in its own mapping of at most one chunk (plus the frame
/// before it for a linked frame), released (unmapped) as soon as the frame is encoded.
pub struct MappedSource {
    file: File,
    len: u64,
    pos: u64,
    chunk: usize,
    groups: Groups,
}

impl MappedSource {
    /// Walks `file` of `len` bytes in frames of at most `chunk` bytes, in groups of
    /// `group` frames.
    pub fn new(file: File, len: u64, chunk: usize, group: u8) -> Self {
        Self {
            file,
            len,
            pos: 0,
            chunk,
            groups: Groups::new(group),
        }
    }

    /// The next frame: a mapping of its history and itself, and where the frame is in it.
    ///
    /// # Errors
    /// The mapping fails.
    pub fn next_frame(&mut self) -> Result<Option<(Mmap, Cut)>> {
        if self.pos >= self.len {
            return Ok(None);
        }
        let history = self.groups.history();
        let rest = self.len - self.pos;
        let window = rest.min(self.chunk as u64) as usize;
        let map = map_region(&self.file, self.pos - history as u64, history + window)
            .map_err(|e| Error::io("mapping input", e))?;
        let len = prescan::cut(&map[history..], self.chunk, rest > self.chunk as u64);
        self.pos += len as u64;
        self.groups.advance(len);
        Ok(Some((map, Cut { history, len })))
    }
}

/// The buffers a [`ReaderSource`] keeps between frames, passed from one source to the next
/// so that a run of inputs does not allocate (and the allocator keep) them again.
#[derive(Default)]
pub struct ReadBuffers {
    carry: MapVec,
    prev: MapVec,
}

/// Frames of any reader, read into pooled buffers of at most `chunk + 1` bytes (after
/// a copy of the previous frame, for a linked frame).
pub struct ReaderSource<R> {
    reader: R,
    /// Bytes read past the previous cut; they start the next frame.
    carry: MapVec,
    chunk: usize,
    groups: Groups,
    /// The previous frame, while the next one is linked to it.
    prev: MapVec,
}

impl<R: Read> ReaderSource<R> {
    /// Reads frames of at most `chunk` bytes from `reader`, in groups of `group` frames.
    pub fn new(reader: R, chunk: usize, group: u8) -> Self {
        Self::with_buffers(reader, chunk, group, ReadBuffers::default())
    }

    /// Like [`ReaderSource::new`], reusing the buffers of an earlier source.
    pub fn with_buffers(reader: R, chunk: usize, group: u8, buffers: ReadBuffers) -> Self {
        let ReadBuffers {
            mut carry,
            mut prev,
        } = buffers;
        carry.clear();
        prev.clear();
        Self {
            reader,
            carry,
            chunk,
            groups: Groups::new(group),
            prev,
        }
    }

    /// The source's buffers, for the next source.
    pub fn into_buffers(self) -> ReadBuffers {
        ReadBuffers {
            carry: self.carry,
            prev: self.prev,
        }
    }

    /// Fills `buf` with the next frame, after its history; returns where it is, or
    /// `None` at the end.
    ///
    /// # Errors
    /// A read error.
    pub fn next_frame(&mut self, buf: &mut MapVec) -> Result<Option<Cut>> {
        let history = self.groups.history();
        buf.clear();
        // A copy of the kept previous frame starts the buffer. Swapping buffers instead
        // would save the copy (0.1% of the instructions of encoding) but pass slot
        // buffers, whose pages are all resident, through `prev`: a third buffer of two
        // chunks instead of one of one chunk.
        // Room first: a buffer that grows while it holds bytes is, for a moment, there twice.
        buf.reserve_exact(history + self.chunk + 1);
        buf.extend_from_slice(&self.prev[..history]);
        buf.extend_from_slice(&self.carry);
        self.carry.clear();
        // One byte beyond the chunk tells whether more input follows.
        let want = self.chunk + 1 - (buf.len() - history);
        buf.read_from(&mut self.reader, want)
            .map_err(|e| Error::io("reading input", e))?;
        let got = buf.len() - history;
        if got == 0 {
            return Ok(None);
        }
        let more = got > self.chunk;
        let len = prescan::cut(
            &buf[history..history + got.min(self.chunk)],
            self.chunk,
            more,
        );
        self.carry.extend_from_slice(&buf[history + len..]);
        buf.truncate(history + len);
        self.prev.clear();
        if self.groups.next_keeps() {
            self.prev.extend_from_slice(&buf[history..]);
        }
        self.groups.advance(len);
        Ok(Some(Cut { history, len }))
    }
}
