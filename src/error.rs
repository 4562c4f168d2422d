//! The library's error type: what failed, where (frame, byte offset), expected vs found.

use std::fmt;
use std::io;

/// Everything that can go wrong while encoding, decoding or inspecting a stream.
#[non_exhaustive]
#[derive(Debug)]
pub enum Error {
    /// An operating-system I/O error while doing `action`.
    Io {
        /// What was being done, e.g. "reading input".
        action: &'static str,
        /// The file it was done to, when that is not the file the error is reported for
        /// (an output, or its temporary file).
        path: Option<String>,
        /// The underlying error.
        source: io::Error,
    },
    /// The data does not start with the `.sigma` stream header.
    NotSigma {
        /// The first bytes found (at most 8).
        found: Vec<u8>,
    },
    /// The stream was written by a newer or unknown format version.
    UnsupportedVersion {
        /// Version in the stream.
        found: u8,
        /// Highest version this build reads.
        supported: u8,
    },
    /// The stream is malformed at a known place.
    Corrupt {
        /// Frame number (0-based) when the problem is inside a frame.
        frame: Option<u64>,
        /// Byte offset in the encoded stream.
        offset: u64,
        /// What is wrong ("X is A, should be B").
        detail: String,
    },
    /// A checksum does not match its data.
    Checksum {
        /// What the checksum covers: "frame header", "frame data", "content", "index", ...
        what: &'static str,
        /// Frame number when it is a frame's checksum.
        frame: Option<u64>,
        /// Byte offset in the encoded stream of the checked item.
        offset: u64,
        /// The checksum stored in the stream.
        expected: u32,
        /// The checksum computed from the data.
        found: u32,
    },
    /// The stream ends before it is complete.
    Truncated {
        /// Offset at which more bytes were needed.
        offset: u64,
        /// What was being read.
        detail: String,
    },
    /// The input file changed while it was being encoded.
    InputChanged {
        /// What changed, before vs after.
        detail: String,
    },
    /// A bug: something that must not happen did (a worker panicked).
    Internal {
        /// What happened.
        detail: String,
    },
    /// A setting or argument is out of range.
    InvalidSetting {
        /// What is wrong with it.
        detail: String,
    },
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Wraps an I/O error with what was being done.
    pub fn io(action: &'static str, source: io::Error) -> Error {
        Error::Io {
            action,
            path: None,
            source,
        }
    }

    /// Wraps an I/O error with what was being done and to which file.
    pub fn io_at(action: &'static str, path: &std::path::Path, source: io::Error) -> Error {
        Error::Io {
            action,
            path: Some(crate::base::path_text(path)),
            source,
        }
    }

    /// This error with `path` as its file, when it is an I/O error of `action` that names
    /// no file yet.
    pub fn naming(self, action: &str, path: &std::path::Path) -> Error {
        match self {
            Error::Io {
                action: a,
                path: None,
                source,
            } if a == action => Error::io_at(a, path, source),
            e => e,
        }
    }

    /// A corruption at `offset`, optionally inside `frame`.
    pub fn corrupt(frame: Option<u64>, offset: u64, detail: impl Into<String>) -> Error {
        Error::Corrupt {
            frame,
            offset,
            detail: detail.into(),
        }
    }

    /// True for an I/O error caused by a closed pipe (e.g. `sigma -dc x | head`).
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Io { source, .. } if source.kind() == io::ErrorKind::BrokenPipe)
    }
}

fn where_(f: &mut fmt::Formatter<'_>, frame: Option<u64>, offset: u64) -> fmt::Result {
    match frame {
        Some(n) => write!(f, "frame {n} at byte {offset}: "),
        None => write!(f, "at byte {offset}: "),
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io {
                action,
                path: None,
                source,
            } => write!(f, "{action}: {source}"),
            Error::Io {
                action,
                path: Some(path),
                source,
            } => write!(f, "{action} {path}: {source}"),
            Error::NotSigma { found } if found.is_empty() => {
                write!(f, "not a .sigma stream (it is empty)")
            }
            Error::NotSigma { found } => {
                write!(f, "not a .sigma stream (starts with")?;
                for b in found {
                    write!(f, " {b:02x}")?;
                }
                write!(f, ", should start with ff 7e)")
            }
            Error::UnsupportedVersion { found, supported } if found < supported => write!(
                f,
                "stream format version {found} is not supported: this build reads version {supported} (the format changed before the first release; decode it with the sigma that wrote it)"
            ),
            Error::UnsupportedVersion { found, supported } => write!(
                f,
                "stream format version is {found}, this build reads up to version {supported}"
            ),
            Error::Corrupt {
                frame,
                offset,
                detail,
            } => {
                where_(f, *frame, *offset)?;
                write!(f, "corrupt stream: {detail}")
            }
            Error::Checksum {
                what,
                frame,
                offset,
                expected,
                found,
            } => {
                where_(f, *frame, *offset)?;
                write!(
                    f,
                    "{what} checksum mismatch: stored {expected:08x}, computed {found:08x}"
                )
            }
            Error::Truncated { offset, detail } => {
                write!(f, "truncated stream: {detail} at byte {offset}")
            }
            Error::InputChanged { detail } => {
                write!(f, "input changed while it was read: {detail}")
            }
            Error::Internal { detail } => write!(f, "internal error: {detail}"),
            Error::InvalidSetting { detail } => write!(f, "{detail}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
