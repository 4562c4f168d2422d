//! Safe outputs, for the command line and batch jobs. A regular destination is written to a temporary file beside it
//! (`.NAME.sigma-partial`, mode 0600, locked while in use), synced, and renamed into place
//! without replacing an existing file unless forced. A destination that exists and is not
//! a regular file (`/dev/null`, a fifo) is written in place and never replaced. On any
//! error, panic or signal (SIGINT, SIGTERM, SIGHUP) the temporary file is removed; after
//! `kill -9` the next run for the same destination finds it unlocked and removes it.

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, BufWriter, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::error::Error;
use crate::stats::Stats;

/// Output buffer size: small, since frames (the usual write) bypass it.
pub const OUTPUT_BUFFER: usize = 64 * 1024;

/// Suffix of temporary outputs.
pub const PARTIAL_SUFFIX: &str = ".sigma-partial";

fn setting(detail: String) -> Error {
    Error::InvalidSetting { detail }
}

/// The temporary files being written, removed by the signal handler.
#[derive(Clone, Default)]
pub struct Partials {
    paths: Arc<Mutex<Vec<PathBuf>>>,
    /// Outputs (device, inode) this process wrote under a name a temporary file could have
    /// (a batch decode restores whatever names the tree has): never taken for stale
    /// partials where files cannot be marked.
    made: Arc<Mutex<Vec<(u64, u64)>>>,
}

impl Partials {
    /// Removes every temporary file still registered (for a signal handler: the process
    /// is about to end).
    pub fn remove_all(&self) {
        if let Ok(list) = self.paths.lock() {
            for p in list.iter() {
                let _ = fs::remove_file(p);
            }
        }
    }

    fn add(&self, p: &Path) {
        if let Ok(mut list) = self.paths.lock() {
            list.push(p.to_path_buf());
        }
    }

    /// Notes that this process wrote `dest`, when its name is one a temporary file has.
    fn made_here(&self, dest: &Path, file: &File) {
        let looks_temporary = dest
            .file_name()
            .is_some_and(|n| n.as_bytes().ends_with(PARTIAL_SUFFIX.as_bytes()));
        if let (true, Ok(m)) = (looks_temporary, file.metadata()) {
            if let Ok(mut list) = self.made.lock() {
                list.push((m.dev(), m.ino()));
            }
        }
    }

    /// Whether this process wrote the file `m` (see [`Partials::made_here`]).
    fn was_made_here(&self, m: &fs::Metadata) -> bool {
        self.made
            .lock()
            .is_ok_and(|list| list.contains(&(m.dev(), m.ino())))
    }

    fn remove(&self, p: &Path) {
        if let Ok(mut list) = self.paths.lock() {
            list.retain(|x| x != p);
        }
    }
}

/// A temporary output: removed (and unregistered) when dropped unless persisted.
struct Partial<'a> {
    path: PathBuf,
    file: File,
    partials: &'a Partials,
    /// Mode a new file gets (0666 less the umask), for outputs with no source.
    default_mode: u32,
    done: bool,
}

impl Drop for Partial<'_> {
    fn drop(&mut self) {
        if !self.done {
            let _ = fs::remove_file(&self.path);
        }
        self.partials.remove(&self.path);
    }
}

/// `DIR/.NAME.sigma-partial`, with a hash in place of a name too long for the file system.
fn partial_path(dest: &Path, alternate: u32) -> PathBuf {
    let dir = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = dest.file_name().map(|n| n.as_bytes()).unwrap_or(b"out");
    let mut file = OsString::from(".");
    if name.len() <= 200 {
        file.push(std::ffi::OsStr::from_bytes(name));
    } else {
        file.push(format!("{:08x}", crc32c::crc32c(name)));
    }
    if alternate > 0 {
        file.push(format!(".{alternate}"));
    }
    file.push(PARTIAL_SUFFIX);
    dir.join(file)
}

/// Temporary names tried for one destination: `.NAME.sigma-partial`, then `.NAME.1.sigma-partial`
/// and so on while a name is taken by a file sigma did not leave.
const PARTIAL_NAMES: u32 = 4;

/// Extended attribute that marks a temporary output while it is one (removed right
/// before the rename): what proves a file at a temporary name is a stale one of ours.
const PARTIAL_MARK: &str = "user.sigma-partial";

/// Marks `file` as a temporary output (best effort: some file systems keep no user
/// attributes, see [`left_by_sigma`]).
fn mark_partial(file: &File) {
    #[cfg(target_os = "linux")]
    let _ = rustix::fs::fsetxattr(file, PARTIAL_MARK, b"1", rustix::fs::XattrFlags::empty());
    #[cfg(not(target_os = "linux"))]
    let _ = file;
}

/// Takes the mark off a finished output (before its rename: a file under its final name
/// is never marked).
fn unmark_partial(file: &File) {
    #[cfg(target_os = "linux")]
    let _ = rustix::fs::fremovexattr(file, PARTIAL_MARK);
    #[cfg(not(target_os = "linux"))]
    let _ = file;
}

/// Whether the unlocked file `old` (metadata `m`) at a temporary name is a partial
/// output a killed sigma left: it carries the mark; where the file system keeps no
/// marks, it is private to its owner (as temporary outputs are until their last steps)
/// and not an output of this process.
fn left_by_sigma(old: &File, m: &fs::Metadata, partials: &Partials) -> bool {
    #[cfg(target_os = "linux")]
    {
        use rustix::io::Errno;
        match rustix::fs::fgetxattr_query(old, PARTIAL_MARK) {
            Ok(_) => return true,
            Err(Errno::NOTSUP) => {}
            // Unmarked on a file system that keeps marks: not ours.
            Err(_) => return false,
        }
    }
    m.mode() & 0o077 == 0 && !partials.was_made_here(m)
}

/// Creates and locks the temporary file for `dest` (mode 0600 from the start, so no other
/// user can open it while it fills), removing one left by a process that no longer runs
/// (its lock is gone with it, and it carries the mark: see [`left_by_sigma`]). A file
/// under that name that sigma did not leave is kept: the next name is tried. Anything
/// else under that name (a symlink, a fifo, a folder: never one of ours) is left alone and
/// reported.
fn create_partial<'a>(dest: &Path, partials: &'a Partials) -> Result<Partial<'a>, Error> {
    let mut alternate = 0;
    let mut path = partial_path(dest, alternate);
    for _ in 0..2 * PARTIAL_NAMES {
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
        {
            Ok(file) => {
                mark_partial(&file);
                partials.add(&path);
                let partial = Partial {
                    path,
                    file,
                    partials,
                    default_mode: 0o666 & !umask(),
                    done: false,
                };
                partial.file.try_lock().map_err(|_| {
                    setting(format!(
                        "cannot lock {}",
                        crate::base::path_text(&partial.path)
                    ))
                })?;
                return Ok(partial);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                let meta = fs::symlink_metadata(&path).ok().filter(|m| m.is_file());
                let Some(meta) = meta else {
                    return Err(setting(format!(
                        "the temporary output's name {} is taken by something that is not a file (a symlink?); remove it",
                        crate::base::path_text(&path)
                    )));
                };
                let old = File::open(&path)
                    .map_err(|e| Error::io_at("opening temporary output", &path, e))?;
                match old.try_lock() {
                    Ok(()) if left_by_sigma(&old, &meta, partials) => {
                        // Left by a process that was killed: nobody holds it.
                        fs::remove_file(&path).map_err(|e| {
                            Error::io_at("removing a stale temporary output", &path, e)
                        })?;
                    }
                    Ok(()) if alternate + 1 < PARTIAL_NAMES => {
                        // Someone's file (a batch decode may have restored one of this
                        // name): kept, and the next name tried.
                        alternate += 1;
                        path = partial_path(dest, alternate);
                    }
                    Ok(()) => break,
                    Err(TryLockError::WouldBlock) => {
                        return Err(setting(format!(
                            "another sigma is writing {} (its temporary file {} is locked)",
                            crate::base::path_text(dest),
                            crate::base::path_text(&path)
                        )))
                    }
                    Err(TryLockError::Error(e)) => {
                        return Err(Error::io_at("locking temporary output", &path, e))
                    }
                }
            }
            Err(e) => return Err(Error::io_at("creating temporary output", &path, e)),
        }
    }
    Err(setting(format!(
        "cannot create a temporary output for {}: {} and the names before it are taken by files sigma did not leave; move them away",
        crate::base::path_text(dest),
        crate::base::path_text(&path)
    )))
}

/// The process's file-mode creation mask, from `/proc/self/status` (Linux 4.7 and
/// later), else the usual 022: a new output gets mode 0666 less it, as with `>`.
fn umask() -> u32 {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Umask:"))
                .and_then(|v| u32::from_str_radix(v.trim(), 8).ok())
        })
        .unwrap_or(0o022)
}

/// Moves `from` to `to`; without `force`, never over an existing file.
fn persist(from: &Path, to: &Path, force: bool) -> io::Result<()> {
    if force {
        return fs::rename(from, to);
    }
    match fs::hard_link(from, to) {
        Ok(()) => fs::remove_file(from),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(e),
        // File systems without hard links: check, then rename.
        Err(_) if fs::symlink_metadata(to).is_err() => fs::rename(from, to),
        Err(e) => Err(e),
    }
}

/// Blocks of zeros at least this long, aligned in the file, become holes in a sparse
/// output (the file system's usual block).
const SPARSE_BLOCK: usize = 4096;

/// A fresh regular file written at its end, where aligned blocks of zeros are skipped
/// (left as holes) rather than written: a decoded disk image or sparse file takes its
/// holes back, as `zstd -d` gives them. [`SparseFile::finish`] makes the length right.
struct SparseFile<'a> {
    file: &'a File,
    pos: u64,
}

impl<'a> SparseFile<'a> {
    /// Writes into `file`, which must be empty.
    fn new(file: &'a File) -> Self {
        SparseFile { file, pos: 0 }
    }

    /// Gives the file its full length (a hole at the end has written nothing).
    ///
    /// # Errors
    /// The file system refuses.
    fn finish(&self) -> io::Result<()> {
        if self.file.metadata()?.len() < self.pos {
            self.file.set_len(self.pos)?;
        }
        Ok(())
    }
}

/// Whether `b` is all zeros.
fn all_zero(b: &[u8]) -> bool {
    let (words, rest) = b.split_at(b.len() / 8 * 8);
    words
        .chunks_exact(8)
        .all(|w| u64::from_ne_bytes(w.try_into().unwrap_or([1; 8])) == 0)
        && rest.iter().all(|&x| x == 0)
}

impl Write for SparseFile<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        use std::os::unix::fs::FileExt;
        // Runs of data between aligned zero blocks are written with one call each.
        let mut run_start = 0usize;
        let mut i = 0usize;
        while i < buf.len() {
            let at = self.pos + i as u64;
            let to_edge = SPARSE_BLOCK - (at % SPARSE_BLOCK as u64) as usize;
            let n = to_edge.min(buf.len() - i);
            if n == SPARSE_BLOCK && all_zero(&buf[i..i + n]) {
                self.file
                    .write_all_at(&buf[run_start..i], self.pos + run_start as u64)?;
                run_start = i + n;
            }
            i += n;
        }
        self.file
            .write_all_at(&buf[run_start..], self.pos + run_start as u64)?;
        self.pos += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Runs `produce` into the fresh file `file` through an output buffer and flushes it;
/// with `sparse` (decoded content), aligned blocks of zeros are left as holes.
///
/// # Errors
/// Those of `produce`, and failed writes.
pub fn fill<T>(
    file: &File,
    sparse: bool,
    produce: impl FnOnce(&mut dyn Write) -> Result<T, Error>,
) -> Result<T, Error> {
    let io = |e| Error::io("writing output", e);
    if sparse {
        let mut w = BufWriter::with_capacity(OUTPUT_BUFFER, SparseFile::new(file));
        let value = produce(&mut w)?;
        w.flush().and_then(|()| w.get_ref().finish()).map_err(io)?;
        Ok(value)
    } else {
        let mut w = BufWriter::with_capacity(OUTPUT_BUFFER, file);
        let value = produce(&mut w)?;
        w.flush().map_err(io)?;
        Ok(value)
    }
}

/// Writes `produce`'s output to `dest`: atomically for regular files (see the module
/// docs), in place for devices and fifos. A new regular output gets the mode and mtime of
/// the metadata `produce` reports (a decoded stream's), else `source`'s.
///
/// # Errors
/// `dest` exists (without `force`), is `source` itself, or is not a file that can be
/// written; another process is writing it; any error of `produce` or of the file system.
pub fn write_atomically<F>(
    dest: &Path,
    source: Option<&Path>,
    force: bool,
    partials: &Partials,
    produce: F,
) -> Result<Stats, Error>
where
    F: FnOnce(&mut dyn Write) -> Result<Stats, Error>,
{
    write_to_sink(dest, source, force, partials, |sink| match sink {
        Sink::File(file) => fill(file, false, produce),
        Sink::Stream(w) => produce(w),
    })
}

/// True when writing to `dest` would go to a device or fifo in place (so nothing can be
/// read back from it to verify).
pub fn written_in_place(dest: &Path) -> bool {
    fs::metadata(dest).is_ok_and(|m| !m.is_file() && !m.is_dir())
}

/// Where [`write_to_sink`]'s producer writes: the temporary file itself (seekable), or a
/// device or fifo written in place.
pub enum Sink<'a> {
    /// The temporary output file.
    File(&'a File),
    /// A stream (an existing device or fifo).
    Stream(&'a mut dyn Write),
}

/// Like [`write_atomically`], but the producer gets the temporary file itself when the
/// destination is a regular file, so it can seek (and leave holes).
///
/// # Errors
/// As for [`write_atomically`].
pub fn write_to_sink<F>(
    dest: &Path,
    source: Option<&Path>,
    force: bool,
    partials: &Partials,
    produce: F,
) -> Result<Stats, Error>
where
    F: FnOnce(Sink<'_>) -> Result<Stats, Error>,
{
    if dest.as_os_str().as_encoded_bytes().ends_with(b"/") {
        return Err(setting(format!(
            "output {} names a folder (it ends in /); name a file",
            crate::base::path_text(dest)
        )));
    }
    // A symlinked destination is written where it points (the link stays); one that
    // points at no file path (a pipe behind /dev/stdout) is written in place.
    let resolved;
    let dest = match fs::symlink_metadata(dest) {
        Ok(m) if m.file_type().is_symlink() => match fs::canonicalize(dest) {
            Ok(target) => {
                resolved = target;
                resolved.as_path()
            }
            Err(_) if fs::metadata(dest).is_ok() => return write_in_place(dest, produce),
            Err(_) => {
                return Err(setting(format!(
                    "output {} is a symlink to nothing",
                    crate::base::path_text(dest)
                )))
            }
        },
        _ => dest,
    };
    let source_meta = match source {
        Some(s) => Some(fs::metadata(s).map_err(|e| Error::io("opening input", e))?),
        None => None,
    };
    if let Ok(existing) = fs::metadata(dest) {
        if let Some(src) = &source_meta {
            if src.dev() == existing.dev() && src.ino() == existing.ino() {
                return Err(setting(format!(
                    "input and output {} are the same file",
                    crate::base::path_text(dest)
                )));
            }
        }
        let kind = existing.file_type();
        if kind.is_char_device() || kind.is_fifo() || (kind.is_block_device() && force) {
            return write_in_place(dest, produce);
        }
        if !kind.is_file() {
            return Err(setting(format!(
                "output {} exists and is not a regular file{}",
                crate::base::path_text(dest),
                if kind.is_block_device() {
                    " (a block device: use -f to write to it)"
                } else {
                    ""
                }
            )));
        }
        if !force {
            return Err(setting(format!(
                "output {} already exists; use -f to overwrite",
                crate::base::path_text(dest)
            )));
        }
    }
    let mut partial = create_partial(dest, partials)?;
    let stats = produce(Sink::File(&partial.file)).map_err(|e| e.naming("writing output", dest))?;
    // The stream's metadata glyph (when decoding one) wins over the input file's own.
    // Only permission bits are applied: setuid, setgid and sticky bits from a stream (or
    // a source) are never given to an output, nor a device's or fifo's mode (0666).
    let source_attrs = source_meta.as_ref().filter(|m| m.is_file());
    let (mode, mtime) = match &stats.metadata {
        Some(m) => (m.mode, metadata_mtime(m)),
        None => (
            source_attrs.map_or(partial.default_mode, |m| m.mode() & 0o7777),
            source_attrs.and_then(|m| m.modified().ok()),
        ),
    };
    partial
        .file
        .set_permissions(fs::Permissions::from_mode(mode & 0o777))
        .map_err(|e| Error::io_at("setting the mode of", dest, e))?;
    if let Some(mtime) = mtime {
        partial
            .file
            .set_modified(mtime)
            .map_err(|e| Error::io_at("setting the mtime of", dest, e))?;
    }
    partial
        .file
        .sync_all()
        .map_err(|e| Error::io_at("syncing output", dest, e))?;
    unmark_partial(&partial.file);
    persist(&partial.path, dest, force).map_err(|e| {
        if e.kind() == io::ErrorKind::AlreadyExists {
            setting(format!(
                "output {} appeared while writing; use -f to overwrite",
                crate::base::path_text(dest)
            ))
        } else {
            Error::io_at("renaming the temporary output to", dest, e)
        }
    })?;
    partial.partials.made_here(dest, &partial.file);
    partial.done = true;
    Ok(stats)
}

/// The modification time a metadata glyph records.
fn metadata_mtime(m: &crate::format::Metadata) -> Option<std::time::SystemTime> {
    use std::time::{Duration, UNIX_EPOCH};
    let nanos = Duration::from_nanos(u64::from(m.mtime_nanos));
    if m.mtime >= 0 {
        UNIX_EPOCH.checked_add(Duration::from_secs(m.mtime as u64) + nanos)
    } else {
        UNIX_EPOCH
            .checked_sub(Duration::from_secs(m.mtime.unsigned_abs()))
            .and_then(|t| t.checked_add(nanos))
    }
}

/// Writes to an existing device or fifo as it is.
fn write_in_place<F>(dest: &Path, produce: F) -> Result<Stats, Error>
where
    F: FnOnce(Sink<'_>) -> Result<Stats, Error>,
{
    let file = OpenOptions::new()
        .write(true)
        .open(dest)
        .map_err(|e| Error::io_at("opening output", dest, e))?;
    let mut w = BufWriter::with_capacity(OUTPUT_BUFFER, file);
    let stats = produce(Sink::Stream(&mut w))
        .and_then(|s| {
            w.flush().map_err(|e| Error::io("writing output", e))?;
            Ok(s)
        })
        .map_err(|e| e.naming("writing output", dest))?;
    Ok(stats)
}

/// Mode and modification time to give an output.
#[derive(Clone, Copy, Debug)]
pub struct Attrs {
    /// Permission bits.
    pub mode: u32,
    /// Modification time.
    pub mtime: Option<std::time::SystemTime>,
}

impl Attrs {
    /// The mode and mtime a metadata glyph records.
    pub fn from_metadata(m: &crate::format::Metadata) -> Attrs {
        Attrs {
            mode: m.mode,
            mtime: metadata_mtime(m),
        }
    }
}

/// Writes `produce`'s output to `dest` through a locked temporary file beside it and a
/// rename that replaces whatever `dest` was (a batch job's own output); never writes in
/// place. `produce` returns its result and the attributes to give the file (none: the
/// default mode). Not synced: a killed process leaves no partial file under the final
/// name, and `sigma batch verify` checks every stream after a crash of the machine.
/// With `sparse` (decoded files), aligned blocks of zeros are left as holes.
///
/// # Errors
/// `dest` is a folder, another process is writing it, or `produce` or the file system
/// fails.
pub fn replace_atomically<T, F>(
    dest: &Path,
    partials: &Partials,
    sparse: bool,
    produce: F,
) -> Result<T, Error>
where
    F: FnOnce(&mut dyn Write) -> Result<(T, Option<Attrs>), Error>,
{
    if fs::symlink_metadata(dest).is_ok_and(|m| m.is_dir()) {
        return Err(setting(format!(
            "output {} is a folder",
            crate::base::path_text(dest)
        )));
    }
    let mut partial = create_partial(dest, partials)?;
    let (value, attrs) =
        fill(&partial.file, sparse, produce).map_err(|e| e.naming("writing output", dest))?;
    let attrs = attrs.unwrap_or(Attrs {
        mode: partial.default_mode,
        mtime: None,
    });
    partial
        .file
        .set_permissions(fs::Permissions::from_mode(attrs.mode & 0o777))
        .map_err(|e| Error::io_at("setting the mode of", dest, e))?;
    if let Some(t) = attrs.mtime {
        partial
            .file
            .set_modified(t)
            .map_err(|e| Error::io_at("setting the mtime of", dest, e))?;
    }
    unmark_partial(&partial.file);
    fs::rename(&partial.path, dest)
        .map_err(|e| Error::io_at("renaming the temporary output to", dest, e))?;
    partial.partials.made_here(dest, &partial.file);
    partial.done = true;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sparse_file_reads_back_as_written_whatever_the_pieces() {
        let dir = tempfile::tempdir().unwrap();
        // Zeros and data in runs of odd lengths, so blocks of zeros start and end inside
        // pieces, and pieces inside blocks; ending on zeros.
        let mut data = Vec::new();
        for (k, len) in [5000usize, 9000, 4096, 12_289, 3, 8192, 70_000]
            .iter()
            .enumerate()
        {
            let byte = if k % 2 == 0 { 0 } else { k as u8 };
            data.extend(std::iter::repeat_n(byte, *len));
        }
        for piece in [1usize, 100, 4096, 5000, 1 << 20] {
            let path = dir.path().join(format!("f{piece}"));
            let file = File::create(&path).unwrap();
            let mut w = SparseFile::new(&file);
            for part in data.chunks(piece) {
                w.write_all(part).unwrap();
            }
            w.finish().unwrap();
            assert!(fs::read(&path).unwrap() == data, "pieces of {piece}");
        }
    }
}
