//! The source walk: every entry under a root in walk order (each directory's entries
//! sorted by name), symlinks never followed, special files never opened, the destination
//! folder never entered, and only the entries of one shard.
#![forbid(unsafe_code)]

use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use walkdir::WalkDir;

use crate::error::Error;

/// Shard `index` of `count`: the files whose relative path's CRC32C modulo `count` is
/// `index`. The hash depends only on the path bytes, so it is the same on every machine
/// and in every version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// This shard, 0-based.
    pub index: u64,
    /// Shards in all (at least 1).
    pub count: u64,
}

impl Shard {
    /// The whole tree.
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// True when `rel` belongs to this shard.
    pub fn owns(&self, rel: &[u8]) -> bool {
        u64::from(crc32c::crc32c(rel)) % self.count == self.index
    }
}

/// A regular file found by the walk, with what `lstat` said of it.
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// Path relative to the root, `/`-separated.
    pub rel: Vec<u8>,
    /// Full path.
    pub path: PathBuf,
    /// Size in bytes.
    pub size: u64,
    /// Modification time: seconds since the epoch and nanoseconds.
    pub mtime: (i64, u32),
    /// Permission bits.
    pub mode: u32,
}

/// One entry of the walk.
#[derive(Debug)]
pub enum Found {
    /// A regular file.
    File(SourceFile),
    /// Not a regular file (symlink, fifo, socket, device): never opened.
    Skipped {
        /// Path relative to the root.
        rel: Vec<u8>,
        /// What it is.
        what: &'static str,
    },
    /// An entry that could not be read (a folder without permission).
    Failed {
        /// Path relative to the root.
        rel: Vec<u8>,
        /// Why.
        error: Error,
    },
}

impl Found {
    /// The entry's relative path.
    pub fn rel(&self) -> &[u8] {
        match self {
            Found::File(f) => &f.rel,
            Found::Skipped { rel, .. } | Found::Failed { rel, .. } => rel,
        }
    }
}

/// The walk of `root`, as an iterator of [`Found`] in walk order.
pub struct Walk {
    inner: Box<dyn Iterator<Item = walkdir::Result<walkdir::DirEntry>> + Send>,
    root: PathBuf,
    shard: Shard,
    /// Paths the walk could not read (folders it could not list), in every shard.
    unreadable: Vec<Vec<u8>>,
}

fn relative(root: &Path, path: &Path) -> Vec<u8> {
    path.strip_prefix(root)
        .unwrap_or(path)
        .as_os_str()
        .as_bytes()
        .to_vec()
}

impl Walk {
    /// Walks `root`, never entering the folder `exclude` (the destination, when it lies
    /// inside the source), keeping the entries of `shard`.
    pub fn new(root: &Path, exclude: Option<&Path>, shard: Shard) -> Walk {
        let excluded = exclude
            .and_then(|p| std::fs::metadata(p).ok())
            .map(|m| (m.dev(), m.ino()));
        let inner = WalkDir::new(root)
            .follow_links(false)
            .sort_by(|a, b| a.file_name().as_bytes().cmp(b.file_name().as_bytes()))
            .into_iter()
            .filter_entry(move |e| {
                let is_excluded = e.file_type().is_dir()
                    && e.metadata()
                        .map(|m| Some((m.dev(), m.ino())) == excluded)
                        .unwrap_or(false);
                !is_excluded
            });
        Walk {
            inner: Box::new(inner),
            root: root.to_path_buf(),
            shard,
            unreadable: Vec::new(),
        }
    }

    /// Whether `rel` is, or lies under, a path the walk has failed to read so far: its
    /// absence from the walk says nothing about the source.
    pub fn unreadable_holds(&self, rel: &[u8]) -> bool {
        self.unreadable.iter().any(|p| {
            p.is_empty() || (rel.starts_with(p) && (rel.len() == p.len() || rel[p.len()] == b'/'))
        })
    }
}

impl Iterator for Walk {
    type Item = Found;

    fn next(&mut self) -> Option<Found> {
        loop {
            let entry = match self.inner.next()? {
                Ok(e) => e,
                Err(e) => {
                    let rel = e
                        .path()
                        .map(|p| relative(&self.root, p))
                        .unwrap_or_default();
                    // An empty path is the root itself: nothing under it was seen.
                    self.unreadable.push(rel.clone());
                    if rel.is_empty() || !self.shard.owns(&rel) {
                        continue;
                    }
                    let error = Error::io(
                        "reading the folder",
                        e.into_io_error()
                            .unwrap_or_else(|| std::io::Error::other("walk error")),
                    );
                    return Some(Found::Failed { rel, error });
                }
            };
            let kind = entry.file_type();
            if kind.is_dir() {
                continue;
            }
            let rel = relative(&self.root, entry.path());
            if !self.shard.owns(&rel) {
                continue;
            }
            let what = if kind.is_symlink() {
                "a symlink (not followed)"
            } else if kind.is_fifo() {
                "a fifo"
            } else if kind.is_socket() {
                "a socket"
            } else if kind.is_block_device() || kind.is_char_device() {
                "a device"
            } else if kind.is_file() {
                let (size, mtime, mode) = match entry.metadata() {
                    Ok(m) => (m.len(), super::mtime_of(&m), m.mode() & 0o7777),
                    Err(e) => {
                        let error = Error::io(
                            "reading file attributes",
                            e.into_io_error()
                                .unwrap_or_else(|| std::io::Error::other("stat failed")),
                        );
                        return Some(Found::Failed { rel, error });
                    }
                };
                return Some(Found::File(SourceFile {
                    rel,
                    path: entry.into_path(),
                    size,
                    mtime,
                    mode,
                }));
            } else {
                "not a regular file"
            };
            return Some(Found::Skipped { rel, what });
        }
    }
}
