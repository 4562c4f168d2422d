//! Where frames come from: mapped windows of a regular file, or a buffered reader (stdin,
//! pipes, devices). Both cut frames with the same pre-scan, so they give identical frames.
//!
//! This is the only module allowed to use `unsafe`, for memory-mapping files.

use std::fs::File;
use std::io::{self, Read};

use memmap2::{Mmap, MmapOptions};

use super::prescan;
use crate::error::{Error, Result};

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

/// Frames of a regular file, each in its own mapping of at most one chunk, released
/// (unmapped) as soon as the frame is encoded.
pub struct MappedSource {
    file: File,
    len: u64,
    pos: u64,
    chunk: usize,
}

impl MappedSource {
    /// Walks `file` of `len` bytes in frames of at most `chunk` bytes.
    pub fn new(file: File, len: u64, chunk: usize) -> Self {
        Self {
            file,
            len,
            pos: 0,
            chunk,
        }
    }

    /// The next frame: its mapping and length (a prefix of the mapping).
    ///
    /// # Errors
    /// The mapping fails.
    pub fn next_frame(&mut self) -> Result<Option<(Mmap, usize)>> {
        if self.pos >= self.len {
            return Ok(None);
        }
        let rest = self.len - self.pos;
        let window = rest.min(self.chunk as u64) as usize;
        let map =
            map_region(&self.file, self.pos, window).map_err(|e| Error::io("mapping input", e))?;
        let n = prescan::cut(&map, self.chunk, rest > self.chunk as u64);
        self.pos += n as u64;
        Ok(Some((map, n)))
    }
}

/// Frames of any reader, read into pooled buffers of at most `chunk + 1` bytes.
pub struct ReaderSource<R> {
    reader: R,
    /// Bytes read past the previous cut; they start the next frame.
    carry: Vec<u8>,
    chunk: usize,
}

impl<R: Read> ReaderSource<R> {
    /// Reads frames of at most `chunk` bytes from `reader`.
    pub fn new(reader: R, chunk: usize) -> Self {
        Self {
            reader,
            carry: Vec::new(),
            chunk,
        }
    }

    /// Fills `buf` with the next frame; returns its length, or `None` at the end.
    ///
    /// # Errors
    /// A read error.
    pub fn next_frame(&mut self, buf: &mut Vec<u8>) -> Result<Option<usize>> {
        buf.clear();
        buf.reserve_exact(self.chunk + 1);
        buf.extend_from_slice(&self.carry);
        self.carry.clear();
        // One byte beyond the chunk tells whether more input follows.
        while buf.len() <= self.chunk {
            let want = (self.chunk + 1 - buf.len()) as u64;
            match (&mut self.reader).take(want).read_to_end(buf) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Error::io("reading input", e)),
            }
        }
        if buf.is_empty() {
            return Ok(None);
        }
        let more = buf.len() > self.chunk;
        let n = prescan::cut(&buf[..buf.len().min(self.chunk)], self.chunk, more);
        self.carry.extend_from_slice(&buf[n..]);
        buf.truncate(n);
        Ok(Some(n))
    }
}
