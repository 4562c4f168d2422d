//! Where encoded and decoded bytes go while the GIL is released: a writer that counts and
//! times what it writes and stops the run when Python asks to (a pending Ctrl-C, or an
//! exception raised by a progress callback), and safe file outputs: a temporary file
//! beside the destination, synced, renamed into place only once complete.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use pyo3::prelude::*;
use sigmalang::Error;

/// Signals are polled at most this often: acquiring the GIL costs little, but another
/// Python thread may hold it for up to its switch interval.
const SIGNAL_POLL: Duration = Duration::from_millis(20);

/// State shared by the writer and the progress callback of one call (all on the calling
/// thread; the atomics and the mutex only make it `Sync` for the library's callback).
pub struct Watch {
    /// The Python exception that stops the run (KeyboardInterrupt, a callback's error).
    pending: Mutex<Option<PyErr>>,
    /// Bytes written so far.
    pub written: AtomicU64,
    /// Frames done so far (progress callbacks seen).
    pub frames: AtomicU64,
    /// Whether to run Python's signal handlers (only the main thread receives them).
    check_signals: bool,
    last_poll: Mutex<Instant>,
}

impl Watch {
    /// A watch for a call made on the main thread (`check_signals`) or another thread.
    pub fn new(check_signals: bool) -> Watch {
        Watch {
            pending: Mutex::new(None),
            written: AtomicU64::new(0),
            frames: AtomicU64::new(0),
            check_signals,
            last_poll: Mutex::new(Instant::now()),
        }
    }

    /// Records the exception that stops the run (the first one wins).
    pub fn fail(&self, err: PyErr) {
        if let Ok(mut p) = self.pending.lock() {
            p.get_or_insert(err);
        }
    }

    /// Takes the exception that stopped the run, if any.
    pub fn take(&self) -> Option<PyErr> {
        self.pending.lock().ok().and_then(|mut p| p.take())
    }

    fn stopped(&self) -> bool {
        self.pending.lock().map(|p| p.is_some()).unwrap_or(true)
    }

    /// Runs Python's signal handlers if `SIGNAL_POLL` has passed; an exception they raise
    /// (KeyboardInterrupt for Ctrl-C) stops the run.
    fn poll_signals(&self) {
        if !self.check_signals {
            return;
        }
        let due = match self.last_poll.lock() {
            Ok(mut last) if last.elapsed() >= SIGNAL_POLL => {
                *last = Instant::now();
                true
            }
            _ => false,
        };
        if due {
            if let Err(e) = Python::attach(|py| py.check_signals()) {
                self.fail(e);
            }
        }
    }

    /// An I/O error that makes the library stop, or `Ok` to go on.
    pub fn check(&self) -> io::Result<()> {
        self.poll_signals();
        if self.stopped() {
            return Err(io::Error::other(
                "stopped by Python (signal or callback error)",
            ));
        }
        Ok(())
    }
}

/// A writer that checks the watch before each write and counts and times the writes.
/// Frames reach it as one write each, so it needs no buffer of its own.
pub struct Guarded<'a, W: Write> {
    inner: W,
    watch: &'a Watch,
    /// Time spent inside the inner writer's `write` and `flush`.
    pub write_time: Duration,
}

impl<'a, W: Write> Guarded<'a, W> {
    /// Wraps `inner`.
    pub fn new(inner: W, watch: &'a Watch) -> Self {
        Guarded {
            inner,
            watch,
            write_time: Duration::ZERO,
        }
    }

    /// The inner writer.
    pub fn into_inner(self) -> W {
        self.inner
    }
}

impl<W: Write> Write for Guarded<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.watch.check()?;
        let started = Instant::now();
        let n = self.inner.write(buf);
        self.write_time += started.elapsed();
        let n = n?;
        self.watch.written.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        let started = Instant::now();
        let r = self.inner.flush();
        self.write_time += started.elapsed();
        r
    }
}

/// Time spent writing the output: the writes themselves, then sync and rename.
#[derive(Clone, Copy, Debug, Default)]
pub struct WriteTimes {
    /// Inside `write` and `flush` while the library ran.
    pub writing: Duration,
    /// Setting permissions, syncing and renaming after the library returned.
    pub finishing: Duration,
}

fn setting(detail: String) -> Error {
    Error::InvalidSetting { detail }
}

/// The process umask as `/proc/self/status` reports it (no racy `umask(2)` round trip).
fn umask() -> u32 {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("Umask:"))?;
            u32::from_str_radix(line["Umask:".len()..].trim(), 8).ok()
        })
        .unwrap_or(0o022)
}

/// Refuses a destination that is the source, or exists when `overwrite` is false; returns
/// the mode the output gets: the replaced file's, or that of a new file (0666 less umask).
fn check_destination(dest: &Path, source: Option<&Path>, overwrite: bool) -> Result<u32, Error> {
    let Ok(existing) = fs::metadata(dest) else {
        return Ok(0o666 & !umask());
    };
    if let Some(src) = source {
        let src = fs::metadata(src).map_err(|e| Error::io("opening input", e))?;
        if src.dev() == existing.dev() && src.ino() == existing.ino() {
            return Err(setting(format!(
                "input and output {} are the same file",
                dest.display()
            )));
        }
    }
    if !overwrite {
        return Err(setting(format!(
            "output {} already exists; pass overwrite=True to replace it",
            dest.display()
        )));
    }
    Ok(existing.permissions().mode() & 0o7777)
}

/// Runs `produce` into a temporary file beside `dest` and renames it to `dest` once it is
/// complete and synced. On any error (including a stop requested through `watch`) the
/// temporary file is removed and `dest` is left as it was.
///
/// # Errors
/// The destination is refused, or any I/O error, or `produce`'s error.
pub fn write_atomically<T, F>(
    dest: &Path,
    source: Option<&Path>,
    overwrite: bool,
    watch: &Watch,
    produce: F,
) -> Result<(T, WriteTimes), Error>
where
    F: FnOnce(&mut dyn Write) -> Result<T, Error>,
{
    let mode = check_destination(dest, source, overwrite)?;
    let dir = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let tmp = tempfile::Builder::new()
        .prefix(".sigma-")
        .suffix(".partial")
        .tempfile_in(dir)
        .map_err(|e| Error::io("creating temporary output", e))?;
    let mut w = Guarded::new(tmp.as_file(), watch);
    let value = produce(&mut w)?;
    // A stop requested after the last write still leaves no output.
    watch.check().map_err(|e| Error::io("writing output", e))?;
    let writing = w.write_time;
    let started = Instant::now();
    let file = w.into_inner();
    file.set_permissions(fs::Permissions::from_mode(mode))
        .map_err(|e| Error::io("setting output permissions", e))?;
    file.sync_all()
        .map_err(|e| Error::io("syncing output", e))?;
    let persisted = if overwrite {
        tmp.persist(dest)
    } else {
        tmp.persist_noclobber(dest)
    };
    persisted.map_err(|e| Error::io("moving output into place", e.error))?;
    Ok((
        value,
        WriteTimes {
            writing,
            finishing: started.elapsed(),
        },
    ))
}
