//! Batch jobs over directory trees: encode a tree into a mirror of `.sigma` streams, decode
//! it back, verify it, incrementally (a manifest records what was done), in shards that
//! separate processes or machines run side by side, with bounded memory whatever the
//! number or size of files.
//!
//! One worker pool serves both kinds of parallelism: small files (one frame) are whole
//! jobs of the ordered engine, encoded by the workers in parallel; a large file is
//! encoded by the streaming pipeline on the same pool while the small jobs in flight
//! finish. The walk and the manifest are streamed and merged in walk order, so nothing
//! holds the tree or the manifest in memory.
#![forbid(unsafe_code)]

pub mod manifest;
pub mod walk;

use std::collections::HashSet;
use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::base::pagebuf::MapVec;
use crate::base::Progress;
use crate::decode::Decoder;
use crate::error::{Error, Result};
use crate::format::Metadata;
use crate::frame::FrameEncoder;
use crate::memory;
use crate::output::{self, Attrs, Partials};
use crate::parallel::{self, Lanes, Reserve, Slot};
use crate::pipeline::{self, sizing, ChunkSize, Encoder, EncoderConfig};
use crate::stats;
use manifest::{Journal, Merged, Reader, Record, Status};
use std::sync::atomic::{AtomicU64, Ordering};
use walk::{Found, Shard, SourceFile, Walk};

/// Largest file a batch worker handles whole in memory; larger ones go through the
/// streaming pipeline (encode) or decoder (decode, verify).
pub const SMALL_FILE: u64 = sizing::AUTO_FRAME;

/// Settings of a batch job.
#[derive(Clone, Debug)]
pub struct BatchConfig {
    /// Level, chunk size, threads, read path and memory budget, as for single files.
    pub encoder: EncoderConfig,
    /// Which files this process handles.
    pub shard: Shard,
    /// Remove the streams of source files that are gone.
    pub prune: bool,
}

/// What happened to one file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Encoded (new or changed).
    Encoded,
    /// Unchanged since the last run: nothing to do.
    Unchanged,
    /// Decoded to the destination.
    Decoded,
    /// Its stream checked out.
    Verified,
    /// Not a regular file: left alone.
    Skipped,
    /// Its source is gone; its stream is kept.
    Gone,
    /// Its source is gone and its stream was removed (`--prune`).
    Pruned,
    /// Something went wrong.
    Failed,
}

/// One file's outcome, for reporting.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Path relative to the tree root.
    pub path: Vec<u8>,
    /// What happened.
    pub action: Action,
    /// Bytes read and written for it.
    pub bytes_in: u64,
    /// Bytes written.
    pub bytes_out: u64,
    /// Seconds spent on it.
    pub seconds: f64,
    /// Why it was skipped or failed.
    pub detail: Option<String>,
}

/// Totals of a batch job.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Summary {
    /// Files encoded, decoded or verified.
    pub done: u64,
    /// Files unchanged since the last run.
    pub unchanged: u64,
    /// Entries that are not regular files.
    pub skipped: u64,
    /// Source files gone (streams kept or pruned).
    pub gone: u64,
    /// Files that failed.
    pub failed: u64,
    /// Bytes read for the files done.
    pub bytes_in: u64,
    /// Bytes written for the files done.
    pub bytes_out: u64,
    /// Wall time.
    pub seconds: f64,
    /// Peak resident memory of the process, bytes.
    pub peak_rss: u64,
}

impl Summary {
    fn add(&mut self, o: &Outcome) {
        match o.action {
            Action::Encoded | Action::Decoded | Action::Verified => self.done += 1,
            Action::Unchanged => self.unchanged += 1,
            Action::Skipped => self.skipped += 1,
            Action::Gone | Action::Pruned => self.gone += 1,
            Action::Failed => self.failed += 1,
        }
        self.bytes_in += o.bytes_in;
        self.bytes_out += o.bytes_out;
    }
}

/// All manifest parts of a batch tree, and the names of those of a sharded tree that are
/// missing (the files of those shards were never encoded there, or their part was
/// removed); a folder without any is an error (a wrong path in a nightly job must not
/// pass as an empty archive).
fn open_manifest(dir: &Path) -> Result<(Merged, Vec<String>)> {
    let shards = manifest::shards(dir)?;
    if let Some(other) = shards.iter().find(|f| f.count != shards[0].count) {
        return Err(Error::InvalidSetting {
            detail: format!(
                "{} holds manifest parts of shard counts {} and {}: the tree was encoded twice with different --shard counts; keep the parts of one",
                crate::base::path_text(dir),
                shards[0].count,
                other.count
            ),
        });
    }
    if shards.is_empty() {
        return Err(Error::InvalidSetting {
            detail: format!(
                "no manifest in {} (not a folder written by sigma batch encode)",
                crate::base::path_text(dir)
            ),
        });
    }
    let count = shards[0].count;
    let missing = (0..count)
        .filter(|i| !shards.iter().any(|f| f.index == *i))
        .map(|i| manifest::part_name(i, count))
        .collect();
    Ok((Merged::open_dir(dir)?, missing))
}

/// Reports each missing manifest part as a failure: the run's files do not include its
/// shard's, so it must not end as a success.
fn report_missing(parts: &[String], summary: &mut Summary, on_outcome: &mut dyn FnMut(&Outcome)) {
    for part in parts {
        let o = outcome(
            part.as_bytes(),
            Action::Failed,
            Some("manifest part missing: its shard was never encoded into this folder, or the part was removed; that shard's files are not included".into()),
        );
        summary.add(&o);
        on_outcome(&o);
    }
}

/// Checks that `src` is a folder and that `dest` is neither `src` nor a folder that holds
/// it (the destination may lie inside the source: it is never walked).
///
/// # Errors
/// Either condition fails.
pub fn check_roots(src: &Path, dest: &Path) -> Result<()> {
    let setting = |detail: String| Error::InvalidSetting { detail };
    let src_c = fs::canonicalize(src)
        .map_err(|e| setting(format!("source {}: {e}", crate::base::path_text(src))))?;
    if !src_c.is_dir() {
        return Err(setting(format!(
            "source {} is not a folder",
            crate::base::path_text(src)
        )));
    }
    if fs::metadata(dest).is_ok_and(|m| !m.is_dir()) {
        return Err(setting(format!(
            "destination {} exists and is not a folder",
            crate::base::path_text(dest)
        )));
    }
    if let Ok(dest_c) = fs::canonicalize(dest) {
        if dest_c == src_c {
            return Err(setting(format!(
                "source and destination are the same folder ({})",
                crate::base::path_text(src)
            )));
        }
        if src_c.starts_with(&dest_c) {
            return Err(setting(format!(
                "source {} lies inside the destination {}",
                crate::base::path_text(src),
                crate::base::path_text(dest)
            )));
        }
    }
    Ok(())
}

/// The path under `root` for the relative path `rel` plus `suffix`, creating the folders
/// on the way; refuses to go through anything that is not a real folder (a symlink
/// planted in the destination cannot lead a write outside it).
fn output_path(root: &Path, rel: &[u8], suffix: &str) -> Result<PathBuf> {
    output_path_in(root, rel, suffix, &mut VerifiedDir::default(), None)
}

/// The last output folders [`output_path_in`] checked (or created) as real folders: the
/// walk is depth-first and sorted, so most files share their folder with a file shortly
/// before them (a folder's files resume after each of its subfolders).
#[derive(Default)]
struct VerifiedDir(Vec<PathBuf>);

/// Folders a [`VerifiedDir`] remembers.
const VERIFIED_DIRS: usize = 16;

impl VerifiedDir {
    fn contains(&self, dir: &Path) -> bool {
        // Compared as bytes: `Path` equality parses components.
        self.0.iter().any(|d| d.as_os_str() == dir.as_os_str())
    }

    fn add(&mut self, dir: PathBuf) {
        if self.0.len() == VERIFIED_DIRS {
            self.0.remove(0);
        }
        self.0.push(dir);
    }
}

/// Folders with more entries than this are not listed by [`OutputListings`].
const LISTING_LIMIT: usize = 1 << 16;

/// The regular files of the output folders along the walk's current path, so the check
/// that an unchanged file's stream is still there costs one listing per folder instead of
/// a path lookup per file. One folder is kept per depth (the walk is depth-first), so
/// memory follows the tree's depth, not its size; a folder with more than
/// [`LISTING_LIMIT`] entries is not listed and its files are looked up one by one.
#[derive(Default)]
struct OutputListings {
    by_depth: Vec<Option<(PathBuf, Option<HashSet<OsString>>)>>,
}

impl OutputListings {
    /// Whether `out` (a file in a folder `depth` levels below DEST) is a regular file, as
    /// its folder was listed when the walk first asked about it.
    fn has_file(&mut self, out: &Path, depth: usize) -> bool {
        let (Some(dir), Some(name)) = (out.parent(), out.file_name()) else {
            return false;
        };
        if self.by_depth.len() <= depth {
            self.by_depth.resize_with(depth + 1, || None);
        }
        if !matches!(&self.by_depth[depth], Some((d, _)) if d.as_os_str() == dir.as_os_str()) {
            self.by_depth.truncate(depth + 1);
            self.by_depth[depth] = Some((dir.to_path_buf(), list_files(dir)));
        }
        match &self.by_depth[depth] {
            Some((_, Some(names))) => names.contains(name),
            _ => fs::symlink_metadata(out).is_ok_and(|m| m.is_file()),
        }
    }
}

/// The names of the regular files in `dir` (none for a folder that does not exist), or
/// `None` when it cannot be listed or holds more than [`LISTING_LIMIT`] entries.
fn list_files(dir: &Path) -> Option<HashSet<OsString>> {
    let mut names = HashSet::new();
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Some(names),
        Err(_) => return None,
    };
    for (n, entry) in entries.enumerate() {
        let entry = entry.ok()?;
        if n >= LISTING_LIMIT {
            return None;
        }
        if entry.file_type().ok()?.is_file() {
            names.insert(entry.file_name());
        }
    }
    Some(names)
}

/// [`output_path`], skipping the checks when the folder is one `verified` holds. With
/// `source` (the full path of the source file `rel` names), folders it creates take the
/// permission bits of the source's folders, so a private folder stays private.
fn output_path_in(
    root: &Path,
    rel: &[u8],
    suffix: &str,
    verified: &mut VerifiedDir,
    source: Option<&Path>,
) -> Result<PathBuf> {
    manifest::check_relative(rel).map_err(|detail| Error::InvalidSetting { detail })?;
    let mut path = root.to_path_buf();
    let (dir, name) = match rel.iter().rposition(|&b| b == b'/') {
        Some(i) => (&rel[..i], &rel[i + 1..]),
        None => (&rel[..0], rel),
    };
    if !dir.is_empty() {
        path.push(std::ffi::OsStr::from_bytes(dir));
    }
    if !verified.contains(&path) {
        make_output_dirs(root, dir, source)?;
        verified.add(path.clone());
    }
    path.push(std::ffi::OsStr::from_bytes(name));
    let mut name = path.into_os_string();
    name.push(suffix);
    Ok(PathBuf::from(name))
}

/// A folder maker giving new folders the permission bits of `source` (a source folder's
/// metadata), always with the owner's read, write and search.
fn dir_builder(source: Option<fs::Metadata>) -> fs::DirBuilder {
    let mut b = fs::DirBuilder::new();
    if let Some(m) = source {
        b.mode((m.mode() & 0o777) | 0o700);
    }
    b
}

/// Checks that every folder of `dir` (relative, `/`-separated) under `root` is a real
/// folder, creating the missing ones (with the permission bits of the matching folders
/// above `source`, and always writable by their owner, when `source` is given).
fn make_output_dirs(root: &Path, dir: &[u8], source: Option<&Path>) -> Result<()> {
    let parts: Vec<&[u8]> = dir
        .split(|&b| b == b'/')
        .filter(|p| !p.is_empty())
        .collect();
    let mut path = root.to_path_buf();
    for (i, part) in parts.iter().enumerate() {
        path.push(std::ffi::OsStr::from_bytes(part));
        match fs::symlink_metadata(&path) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                return Err(Error::InvalidSetting {
                    detail: format!(
                        "refusing to write through {}: it is not a folder",
                        crate::base::path_text(&path)
                    ),
                })
            }
            // Made with the source folder's bits (for `parts[..=i]`: the file's ancestor
            // that many levels up), never changed after: no window in which a folder
            // swapped for a symlink could have its target's mode changed. The umask may
            // narrow them further.
            Err(_) => match dir_builder(
                source
                    .and_then(|s| s.ancestors().nth(parts.len() - i))
                    .and_then(|d| fs::metadata(d).ok()),
            )
            .create(&path)
            {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    if !fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir()) {
                        return Err(Error::io("creating an output folder", e));
                    }
                }
                Err(e) => return Err(Error::io("creating an output folder", e)),
            },
        }
    }
    Ok(())
}

fn rel_display(rel: &[u8]) -> String {
    String::from_utf8_lossy(rel).into_owned()
}

fn outcome(path: &[u8], action: Action, detail: Option<String>) -> Outcome {
    Outcome {
        path: path.to_vec(),
        action,
        bytes_in: 0,
        bytes_out: 0,
        seconds: 0.0,
        detail,
    }
}

/// A job of the ordered engine: already settled on the walk thread, a small file for a
/// worker, or a large file, which is coded alone once the small jobs before it are done
/// (so the memory of the small-file engine and of a large file's pipeline never add up).
enum Job<T> {
    Settled(Outcome, Option<Record>),
    Small(T),
    Large(T),
}

/// What a small job weighs in a group: its file's size.
trait Bytes {
    fn bytes(&self) -> u64;
}

impl Bytes for SourceFile {
    fn bytes(&self) -> u64 {
        self.size
    }
}

impl Bytes for Record {
    fn bytes(&self) -> u64 {
        self.size
    }
}

type Settled = (Outcome, Option<Record>);

/// Most entries in one job of the ordered engine: small files travel in groups, so the
/// hand-offs between the walk, the workers and the writer (a thread wake-up each) are paid
/// per group, not per file.
const GROUP_FILES: usize = 64;
/// Most entries of any kind in one group: entries settled on the walk thread (unchanged
/// files on a re-run) cost the workers nothing, so many travel together.
const GROUP_ENTRIES: usize = 1024;
/// Most bytes of small files in one group (a group of large-ish files still spreads over
/// the workers).
const GROUP_BYTES: u64 = 1 << 20;
/// A group is dispatched at the latest this long after its first entry was found (a
/// slow walk does not hold finished entries back).
const GROUP_WAIT: std::time::Duration = std::time::Duration::from_millis(20);

/// Runs the ordered engine over `produce`'s jobs, in groups, reporting in order and
/// appending the records to `journal`. A large job ends the engine's run: once every job
/// before it is reported, `large` codes it on this thread (with the whole pool), and a new
/// run goes on with the jobs after it.
fn run_jobs<T, P, W, L>(
    lanes: Lanes,
    (pool, reserve): (&rayon::ThreadPool, &Reserve<FrameEncoder>),
    mut produce: P,
    work: W,
    mut large: L,
    journal: &mut Option<Journal>,
    on_outcome: &mut dyn FnMut(&Outcome),
) -> Result<Summary>
where
    T: Bytes + Send,
    P: FnMut() -> Result<Option<Job<T>>> + Send,
    W: Fn(T, &mut Slot, &mut FrameEncoder, &mut VerifiedDir) -> Settled + Sync,
    L: FnMut(T) -> Settled,
{
    let started = Instant::now();
    let mut summary = Summary::default();
    let mut records = Vec::with_capacity(GROUP_FILES);
    let mut settle = |settled: &mut [Settled], summary: &mut Summary| -> Result<()> {
        // Journaled before they are reported: a reported file is a recorded one.
        records.clear();
        records.extend(settled.iter_mut().filter_map(|(_, r)| r.take()));
        if let Some(j) = journal.as_mut() {
            j.append_all(&records)?;
        }
        for (o, _) in settled.iter() {
            summary.add(o);
            on_outcome(o);
        }
        Ok(())
    };
    loop {
        let mut held: Option<T> = None;
        run_small_jobs(
            lanes,
            (pool, reserve),
            &mut produce,
            &work,
            &mut held,
            &mut |s| settle(s, &mut summary),
        )?;
        match held {
            Some(t) => settle(&mut [large(t)], &mut summary)?,
            None => break,
        }
    }
    summary.seconds = started.elapsed().as_secs_f64();
    summary.peak_rss = stats::peak_rss().unwrap_or(0);
    Ok(summary)
}

/// One run of the ordered engine: `produce`'s jobs up to the end or up to a large job,
/// which is left in `held`.
fn run_small_jobs<T, P, W>(
    lanes: Lanes,
    (pool, reserve): (&rayon::ThreadPool, &Reserve<FrameEncoder>),
    produce: &mut P,
    work: &W,
    held: &mut Option<T>,
    settle: &mut dyn FnMut(&mut [Settled]) -> Result<()>,
) -> Result<()>
where
    T: Bytes + Send,
    P: FnMut() -> Result<Option<Job<T>>> + Send,
    W: Fn(T, &mut Slot, &mut FrameEncoder, &mut VerifiedDir) -> Settled + Sync,
{
    // An error of the walk that ends a group: the entries before it (some already acted
    // on, such as pruned streams) are reported first.
    let mut stopped: Option<Error> = None;
    parallel::run(
        pool,
        reserve,
        lanes,
        |_, _| {
            if let Some(e) = stopped.take() {
                return Err(e);
            }
            let mut group: Vec<Job<T>> = Vec::new();
            let (mut files, mut bytes) = (0usize, 0u64);
            let mut first: Option<Instant> = None;
            while held.is_none()
                && files < GROUP_FILES
                && bytes < GROUP_BYTES
                && group.len() < GROUP_ENTRIES
            {
                if first.is_some_and(|t| t.elapsed() >= GROUP_WAIT) {
                    break;
                }
                match produce() {
                    Ok(Some(Job::Large(t))) => *held = Some(t),
                    Ok(Some(job)) => {
                        if let Job::Small(t) = &job {
                            files += 1;
                            bytes += t.bytes();
                        }
                        group.push(job);
                        first.get_or_insert_with(Instant::now);
                    }
                    Ok(None) => break,
                    Err(e) if group.is_empty() => return Err(e),
                    Err(e) => {
                        stopped = Some(e);
                        break;
                    }
                }
            }
            Ok((!group.is_empty()).then_some(group))
        },
        |group: Vec<Job<T>>, slot, enc: &mut FrameEncoder| -> Result<Vec<Settled>> {
            // Writes check their folders once per group (a few milliseconds of one
            // folder's files): a folder swapped for a symlink during a run is seen by the
            // next group's writes.
            let mut verified = VerifiedDir::default();
            Ok(group
                .into_iter()
                .filter_map(|job| match job {
                    Job::Settled(o, r) => Some((o, r)),
                    Job::Small(t) => Some(work(t, slot, enc, &mut verified)),
                    Job::Large(_) => None, // never grouped
                })
                .collect())
        },
        |_, mut settled: Vec<Settled>, _| settle(&mut settled),
    )
}

/// Refuses a shard count other than the one the destination's manifest parts were
/// written with (the parts would overlap).
fn check_shard_count(dest: &Path, shard: Shard) -> Result<()> {
    for files in manifest::shards(dest)? {
        if files.count != shard.count {
            let name = files
                .part
                .or(files.journal)
                .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                .unwrap_or_default();
            return Err(Error::InvalidSetting {
                detail: format!(
                    "{} holds manifest parts of another shard count ({name}); use that count, or remove them",
                    crate::base::path_text(dest)
                ),
            });
        }
    }
    Ok(())
}

/// The shard's manifest part as it stands: the encoded one, else a plain one written by
/// an earlier version, else (none yet) where the encoded one goes.
fn current_part(dest: &Path, shard: Shard) -> PathBuf {
    let part = dest.join(manifest::part_name(shard.index, shard.count));
    let plain = dest.join(manifest::plain_part_name(shard.index, shard.count));
    if !part.exists() && plain.exists() {
        plain
    } else {
        part
    }
}

/// Opens a shard's part: none yet reads as empty, but a name that is there and leads
/// nowhere (a dangling symlink) is an error, not an empty manifest.
fn open_part(path: &Path) -> Result<Reader> {
    if fs::symlink_metadata(path).is_ok() {
        Reader::open_listed(path)
    } else {
        Reader::open(path)
    }
}

/// Removes the shard's plain part (written by an earlier version) once its encoded part
/// exists: readers take the encoded one.
fn remove_plain_part(dest: &Path, shard: Shard) -> Result<()> {
    let plain = dest.join(manifest::plain_part_name(shard.index, shard.count));
    match fs::remove_file(plain) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => {
            Err(Error::io("removing the plain manifest part", e))
        }
        _ => Ok(()),
    }
}

/// Folds the journal a killed run left into its manifest part, so the files it finished
/// are not done again.
fn fold_journal(dest: &Path, shard: Shard, threads: usize) -> Result<()> {
    let journal = dest.join(manifest::journal_name(shard.index, shard.count));
    if !journal.exists() {
        return Ok(());
    }
    let old = current_part(dest, shard);
    let part = dest.join(manifest::part_name(shard.index, shard.count));
    let mut merged = Merged::new(vec![open_part(&old)?, Reader::open(&journal)?], true)?;
    let tmp = dest.join(format!(
        "{}.folding",
        manifest::plain_part_name(shard.index, shard.count)
    ));
    let mut out = Journal::create(&tmp)?;
    while let Some(r) = merged.next_record()? {
        out.append(&r)?;
    }
    out.commit(&part, threads)?;
    remove_plain_part(dest, shard)?;
    fs::remove_file(&journal).map_err(|e| Error::io("removing the manifest journal", e))
}

/// The state of the walk side of an encode: the walk, the last run's records, and the
/// settings the walk thread needs to encode large files itself.
struct EncodeWalk<'a> {
    walk: Walk,
    old: Merged,
    pending: Option<Found>,
    cfg: &'a BatchConfig,
    dest: &'a Path,
    verified: VerifiedDir,
    outputs: OutputListings,
    /// A record of the last run was dropped or changed here (a file gone).
    records_changed: bool,
    /// Largest file coded whole by a worker; larger ones go through the pipeline.
    small_limit: u64,
    /// Bytes of the files settled on the walk (unchanged, or failed before their read)
    /// since the progress report last took them: the report's total counts them.
    settled_bytes: u64,
}

/// Whether `rel` lies in a folder at the tree's root whose name starts like the manifest's
/// files: mirrored into DEST, that folder could take a manifest file's name.
fn in_reserved_folder(rel: &[u8]) -> bool {
    rel.starts_with(b".sigma-manifest.") && rel.contains(&b'/')
}

/// Folders between the tree's root and the file at `rel`.
fn depth(rel: &[u8]) -> usize {
    rel.iter().filter(|&&b| b == b'/').count()
}

/// Modification time of `m` as (seconds, nanoseconds).
pub(crate) fn mtime_of(m: &fs::Metadata) -> (i64, u32) {
    (m.mtime(), m.mtime_nsec().clamp(0, 999_999_999) as u32)
}

impl EncodeWalk<'_> {
    /// The next job: a record of the last run whose source is gone, a settled entry, or a
    /// small or large file to encode.
    fn next_job(&mut self) -> Result<Option<Job<SourceFile>>> {
        let found = match self.pending.take().or_else(|| self.walk.next()) {
            Some(f) => f,
            None => return self.gone(None),
        };
        // Records of files that came before this one in walk order are gone.
        if let Some(p) = self.old.peek_path() {
            if manifest::path_cmp(p, found.rel()) == std::cmp::Ordering::Less {
                self.pending = Some(found);
                return self.gone(None);
            }
        }
        let previous = match self.old.peek_path() {
            Some(p) if p == found.rel() => self.old.next_record()?,
            _ => None,
        };
        match found {
            Found::Skipped { rel, what } => {
                // A file that became a symlink (say) loses its stream like a gone one.
                if let Some(r) = previous {
                    self.pending = Some(Found::Skipped { rel, what });
                    return self.gone(Some(r));
                }
                let o = outcome(&rel, Action::Skipped, Some(format!("skipped: {what}")));
                Ok(Some(Job::Settled(o, None)))
            }
            Found::Failed { rel, error } => {
                let o = outcome(&rel, Action::Failed, Some(error.to_string()));
                Ok(Some(Job::Settled(o, previous)))
            }
            Found::File(file) => self.file_job(file, previous),
        }
    }

    /// Reports `record` (or the next one of the last run, when `None`) as gone.
    fn gone(&mut self, record: Option<Record>) -> Result<Option<Job<SourceFile>>> {
        let record = match record {
            Some(r) => r,
            None => match self.old.next_record()? {
                Some(r) => r,
                None => return Ok(None),
            },
        };
        if self.walk.unreadable_holds(&record.path) {
            // Its folder could not be read: the file may well be there.
            let o = outcome(
                &record.path,
                Action::Failed,
                Some("its folder could not be read; stream and record kept".into()),
            );
            return Ok(Some(Job::Settled(o, Some(record))));
        }
        // A file whose encode failed may have no stream (its first encode failed; its
        // name may even be too long for one): then the record goes. A stream of an
        // earlier, successful run is kept or pruned as any other.
        let has_stream = output_path(self.dest, &record.path, ".sigma")
            .is_ok_and(|p| fs::symlink_metadata(p).is_ok());
        if record.status == Status::Failed && !has_stream {
            self.records_changed = true;
            let o = outcome(
                &record.path,
                Action::Gone,
                Some("source is gone (its encode had failed: no stream)".into()),
            );
            return Ok(Some(Job::Settled(o, None)));
        }
        if !self.cfg.prune {
            // A record already marked missing stays as it was.
            self.records_changed |= record.status != Status::Missing;
            let kept = Record {
                status: Status::Missing,
                ..record
            };
            let o = outcome(
                &kept.path,
                Action::Gone,
                Some("source is gone; stream kept".into()),
            );
            return Ok(Some(Job::Settled(o, Some(kept))));
        }
        self.records_changed = true;
        // Checked afresh (not through the cache): this removes a file.
        let path = match output_path(self.dest, &record.path, ".sigma") {
            Ok(p) => p,
            Err(e) => {
                let o = outcome(&record.path, Action::Failed, Some(e.to_string()));
                return Ok(Some(Job::Settled(o, Some(record))));
            }
        };
        let o = match fs::remove_file(&path) {
            Ok(()) => outcome(
                &record.path,
                Action::Pruned,
                Some("source is gone; stream removed".into()),
            ),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                outcome(&record.path, Action::Pruned, Some("source is gone".into()))
            }
            Err(e) => outcome(
                &record.path,
                Action::Failed,
                Some(Error::io("removing a stream", e).to_string()),
            ),
        };
        // A pruned path leaves a marker, so a journal merged over an older part (a run
        // killed before its commit) drops the path instead of bringing it back; a stream
        // that could not be removed keeps its record.
        let kept = if o.action == Action::Pruned {
            Record {
                status: Status::Pruned,
                ..record
            }
        } else {
            record
        };
        Ok(Some(Job::Settled(o, Some(kept))))
    }

    fn file_job(
        &mut self,
        file: SourceFile,
        previous: Option<Record>,
    ) -> Result<Option<Job<SourceFile>>> {
        let level = self.cfg.encoder.level.get();
        if in_reserved_folder(&file.rel) {
            let e = Error::InvalidSetting {
                detail: "a folder at the tree's root named .sigma-manifest.* would take the manifest's place in DEST; rename it".into(),
            };
            let (o, r) = failed(&file.rel, file.size, e, 0.0, level);
            self.settled_bytes += file.size;
            return Ok(Some(Job::Settled(o, r.or(previous))));
        }
        if let Some(r) = &previous {
            // Only looked at, never written through, so the folder check may come from the
            // cache; the writes below check their folders afresh.
            let out = match output_path_in(
                self.dest,
                &file.rel,
                ".sigma",
                &mut self.verified,
                Some(&file.path),
            ) {
                Ok(out) => out,
                Err(e) => {
                    let (o, r) = failed(&file.rel, file.size, e, 0.0, level);
                    self.settled_bytes += file.size;
                    return Ok(Some(Job::Settled(o, r)));
                }
            };
            let unchanged = r.status == Status::Encoded
                && r.size == file.size
                && (r.mtime, r.mtime_nanos) == file.mtime
                && r.mode.is_none_or(|m| m == file.mode)
                && r.level == level
                && self.outputs.has_file(&out, depth(&file.rel));
            if unchanged {
                let o = outcome(&file.rel, Action::Unchanged, None);
                self.settled_bytes += file.size;
                return Ok(Some(Job::Settled(o, previous)));
            }
        }
        if file.size <= self.small_limit {
            return Ok(Some(Job::Small(file)));
        }
        Ok(Some(Job::Large(file)))
    }
}

/// Encodes a large file with the streaming pipeline (on the shared pool); `done` counts
/// the bytes of the files done for the progress report.
fn encode_large(
    file: &SourceFile,
    encoder: &Encoder,
    cfg: &BatchConfig,
    (dest, partials): (&Path, &Partials),
    progress: Progress<'_>,
    done: &AtomicU64,
) -> Settled {
    let started = Instant::now();
    let done_before = done.load(Ordering::Relaxed);
    let result = (|| {
        let meta = pipeline::file_metadata(&file.path)?;
        let out = output_path_in(
            dest,
            &file.rel,
            ".sigma",
            &mut VerifiedDir::default(),
            Some(&file.path),
        )?;
        let stats = output::replace_atomically(&out, partials, false, |w| {
            let s = encoder.encode_opened(
                open_listed(&file.path, &file.rel)?,
                &file.path,
                w,
                &|n| progress(done_before + n),
                Some(&meta),
            )?;
            // The source's permission bits (a private file's stream stays private)
            // and mtime, as `sigma encode` gives its output.
            Ok((s, Some(Attrs::from_metadata(&meta))))
        })?;
        Ok::<_, Error>((meta, stats))
    })();
    let seconds = started.elapsed().as_secs_f64();
    match result {
        Ok((meta, s)) => {
            done.fetch_add(s.raw_size, Ordering::Relaxed);
            let record = Record {
                path: file.rel.clone(),
                size: s.raw_size,
                mtime: meta.mtime,
                mtime_nanos: meta.mtime_nanos,
                mode: Some(meta.mode),
                crc32c: s.content_crc,
                level: cfg.encoder.level.get(),
                encoded_size: s.encoded_size,
                status: Status::Encoded,
                seconds,
                error: None,
            };
            encoded(record)
        }
        Err(e) => {
            // Its bytes count as handled, as a small file's do: the bar does not go back.
            progress(done.fetch_add(file.size, Ordering::Relaxed) + file.size);
            failed(&file.rel, file.size, e, seconds, cfg.encoder.level.get())
        }
    }
}

fn encoded(record: Record) -> Settled {
    let o = Outcome {
        path: record.path.clone(),
        action: Action::Encoded,
        bytes_in: record.size,
        bytes_out: record.encoded_size,
        seconds: record.seconds,
        detail: None,
    };
    (o, Some(record))
}

fn failed(rel: &[u8], size: u64, e: Error, seconds: f64, level: u8) -> Settled {
    let record = Record {
        path: rel.to_vec(),
        size,
        mtime: 0,
        mtime_nanos: 0,
        mode: None,
        crc32c: 0,
        level,
        encoded_size: 0,
        status: Status::Failed,
        seconds,
        error: Some(e.to_string()),
    };
    let mut o = outcome(rel, Action::Failed, Some(e.to_string()));
    o.seconds = seconds;
    (o, Some(record))
}

/// Opens the file at `path`, which is `rel` (a name of the walk or the manifest, plus a
/// suffix) below the folder the user named, as a regular file only: without blocking (a
/// fifo put in its place would wait for a writer forever; reads of regular files ignore
/// the flag), without following a symlink put in its place or in place of a folder on its
/// path below that folder (batch mode never follows one: it could copy a file only this
/// user may read into DEST), and without taking a terminal as the controlling one.
fn open_listed(path: &Path, rel: &[u8]) -> Result<File> {
    let not_regular = || {
        Error::InputChanged {
        detail: "it is not a regular file now, or a folder on its path is a symlink now (batch mode reads only regular files and follows no symlink)".into(),
    }
    };
    let f = open_below(path, rel).map_err(|e| match e.raw_os_error() {
        Some(libc::ELOOP) | Some(libc::ENXIO) | Some(libc::EXDEV) => not_regular(),
        _ => Error::io("opening input", e),
    })?;
    let m = f
        .metadata()
        .map_err(|e| Error::io("reading input metadata", e))?;
    if !m.is_file() {
        return Err(not_regular());
    }
    Ok(f)
}

/// Opens `path` (`rel` below a folder) for [`open_listed`]: where the kernel resolves paths
/// beneath a folder (`openat2`, Linux 5.6 on), no component below the folder may be a
/// symlink; elsewhere only the last.
fn open_below(path: &Path, rel: &[u8]) -> io::Result<File> {
    #[cfg(target_os = "linux")]
    {
        use rustix::fs::{openat2, Mode, OFlags, ResolveFlags};
        use rustix::io::Errno;
        let depth = rel.split(|&b| b == b'/').filter(|c| !c.is_empty()).count();
        if let Some((root, below)) = path
            .ancestors()
            .nth(depth.max(1))
            .and_then(|root| Some((root, path.strip_prefix(root).ok()?)))
        {
            let root = if root.as_os_str().is_empty() {
                Path::new(".")
            } else {
                root
            };
            let dir = File::open(root)?;
            let flags = OFlags::RDONLY
                | OFlags::NONBLOCK
                | OFlags::NOFOLLOW
                | OFlags::NOCTTY
                | OFlags::CLOEXEC;
            let resolve = ResolveFlags::NO_SYMLINKS | ResolveFlags::BENEATH;
            match openat2(&dir, below, flags, Mode::empty(), resolve) {
                Ok(fd) => return Ok(File::from(fd)),
                // No `openat2` here (an older kernel, or a sandbox that filters it).
                Err(Errno::NOSYS | Errno::PERM) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = rel;
    use std::os::unix::fs::OpenOptionsExt;
    fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW | libc::O_NOCTTY)
        .open(path)
}

/// Reads a small file whole, checking it did not change while read. A file that grew
/// past `limit` since the walk listed it (a worker reads whole only files of the plan's
/// frame size) is an error: the next run encodes it through the pipeline.
fn read_small(path: &Path, rel: &[u8], limit: u64, buf: &mut MapVec) -> Result<fs::Metadata> {
    let mut f = open_listed(path, rel)?;
    let before = f
        .metadata()
        .map_err(|e| Error::io("reading input metadata", e))?;
    if before.len() > limit {
        return Err(Error::InputChanged {
            detail: format!(
                "it grew to {} bytes since the walk listed it, past the {limit} a worker reads whole; run again",
                before.len()
            ),
        });
    }
    buf.clear();
    // Room for the file and the one byte more that would show it grew: growing by
    // doubling would take up to twice the file's size.
    buf.reserve_exact(before.len() as usize + 1);
    buf.read_from(&mut f, before.len() as usize + 1)
        .map_err(|e| Error::io("reading input", e))?;
    let after = f
        .metadata()
        .map_err(|e| Error::io("reading input metadata", e))?;
    if buf.len() as u64 != before.len()
        || after.len() != before.len()
        || mtime_of(&after) != mtime_of(&before)
    {
        return Err(Error::InputChanged {
            detail: format!(
                "size was {}, is {}, {} bytes were read",
                before.len(),
                after.len(),
                buf.len()
            ),
        });
    }
    Ok(before)
}

/// Encodes one small file in a worker: read whole, encoded in memory, written atomically.
fn encode_small(
    (file, limit): (SourceFile, u64),
    cfg: &BatchConfig,
    (dest, partials): (&Path, &Partials),
    slot: &mut Slot,
    enc: &mut FrameEncoder,
    verified: &mut VerifiedDir,
) -> Settled {
    let started = Instant::now();
    let level = cfg.encoder.level;
    let result = (|| {
        let m = read_small(&file.path, &file.rel, limit, &mut slot.read)?;
        let (mtime, mtime_nanos) = mtime_of(&m);
        let meta = Metadata {
            name: file
                .path
                .file_name()
                .map(|n| n.as_bytes().to_vec())
                .unwrap_or_default(),
            mode: m.mode() & 0o7777,
            mtime,
            mtime_nanos,
        };
        // Each level's own parser, without the second, level 9 coding that `sigma encode`
        // adds for a small input (sizing::SMALL_INPUT): over a tree of small files its
        // time adds up (20x on a source tree's drivers/net, for 8% smaller output).
        let chunk = match cfg.encoder.chunk_size {
            ChunkSize::Auto => sizing::auto_chunk_size(level, Some(m.len()), cfg.encoder.group),
            ChunkSize::Fixed(n) => n,
        };
        slot.output.clear();
        memory::encode_into(
            &slot.read,
            level,
            ChunkSize::Fixed(chunk),
            cfg.encoder.group,
            Some(&meta),
            enc,
            &mut slot.output,
        )?;
        // Checked in this group, right before the write: a folder swapped for a symlink
        // during the run is refused here.
        let out = output_path_in(dest, &file.rel, ".sigma", verified, Some(&file.path))?;
        output::replace_atomically(&out, partials, false, |w| {
            w.write_all(&slot.output)
                .map_err(|e| Error::io("writing output", e))?;
            Ok(((), Some(Attrs::from_metadata(&meta))))
        })?;
        Ok::<_, Error>(Record {
            path: file.rel.clone(),
            size: m.len(),
            mtime,
            mtime_nanos,
            mode: Some(meta.mode),
            crc32c: crc32c::crc32c(&slot.read),
            level: level.get(),
            encoded_size: slot.output.len() as u64,
            status: Status::Encoded,
            seconds: 0.0,
            error: None,
        })
    })();
    let seconds = started.elapsed().as_secs_f64();
    match result {
        Ok(r) => encoded(Record { seconds, ..r }),
        Err(e) => failed(&file.rel, file.size, e, seconds, level.get()),
    }
}

/// Encodes the tree `src` into `dest` (`FILE` -> `FILE.sigma`), skipping files unchanged
/// since the last run, and calls `on_outcome` for every entry in walk order.
///
/// # Errors
/// The roots are wrong, the manifest cannot be read or written, or the pool fails; a
/// failing file is an outcome, not an error.
pub fn encode_tree(
    src: &Path,
    dest: &Path,
    cfg: &BatchConfig,
    partials: &Partials,
    on_outcome: &mut dyn FnMut(&Outcome),
    progress: Progress<'_>,
) -> Result<Summary> {
    check_roots(src, dest)?;
    // A destination made here is as private as the source (the manifest lists names).
    let src_meta = fs::metadata(src).map_err(|e| Error::io("reading the source folder", e))?;
    dir_builder(Some(src_meta))
        .recursive(true)
        .create(dest)
        .map_err(|e| Error::io("creating the destination", e))?;
    check_shard_count(dest, cfg.shard)?;
    // A source that cannot be listed must not read as a tree whose files are all gone.
    fs::read_dir(src).map_err(|e| Error::io("reading the source folder", e))?;
    let encoder = Encoder::new(cfg.encoder.clone())?;
    let plan = encoder.plan(None)?;
    let threads = plan.threads;
    fold_journal(dest, cfg.shard, threads)?;
    let part = dest.join(manifest::part_name(cfg.shard.index, cfg.shard.count));
    let old = current_part(dest, cfg.shard);
    let had_part = old == part && part.exists();
    let mut walk = EncodeWalk {
        walk: Walk::new(src, Some(dest), cfg.shard),
        old: Merged::new(vec![open_part(&old)?], false)?,
        pending: None,
        cfg,
        dest,
        verified: VerifiedDir::default(),
        outputs: OutputListings::default(),
        records_changed: false,
        // A file of at most one frame of the plan (the memory limit may have lowered the
        // frame size, as for a file of unknown size) is coded whole by a worker.
        small_limit: plan.chunk_size.min(SMALL_FILE),
        settled_bytes: 0,
    };
    let mut journal = Some(Journal::create(
        &dest.join(manifest::journal_name(cfg.shard.index, cfg.shard.count)),
    )?);
    let done = AtomicU64::new(0);
    // A small file's slot holds it whole and its stream (of about its size; up to twice
    // that while the vector grows).
    let lanes = Lanes {
        slots: parallel::slots(threads),
        workers: threads,
        slot_bytes: 2 * (walk.small_limit as usize + 1),
    };
    let small_limit = walk.small_limit;
    let summary = run_jobs(
        lanes,
        (encoder.pool(), encoder.reserve()),
        || {
            let job = walk.next_job();
            if walk.settled_bytes > 0 {
                let n = std::mem::take(&mut walk.settled_bytes);
                progress(done.fetch_add(n, Ordering::Relaxed) + n);
            }
            job
        },
        |file, slot, enc, verified| {
            let size = file.size;
            let r = encode_small(
                (file, small_limit),
                cfg,
                (dest, partials),
                slot,
                enc,
                verified,
            );
            let n = done.fetch_add(size, Ordering::Relaxed);
            progress(n + size);
            r
        },
        |file| encode_large(&file, &encoder, cfg, (dest, partials), progress, &done),
        &mut journal,
        on_outcome,
    )?;
    let records_changed = walk.records_changed;
    if let Some(j) = journal {
        // Nothing encoded, failed, pruned or newly gone: every record was copied from the
        // part as it was, so the part stays and the run costs no manifest write.
        if had_part && summary.done == 0 && summary.failed == 0 && !records_changed {
            j.discard()?;
        } else {
            j.commit(&part, threads)?;
        }
        remove_plain_part(dest, cfg.shard)?;
    }
    Ok(summary)
}

/// Decodes the batch-encoded tree `src` (all its manifest parts) into `dest`, restoring
/// each file's mode and mtime from its stream. A file that exists in `dest` is replaced
/// only with `force`; without it, one whose size, mtime and permission bits are those the
/// manifest lists (restored by an earlier run) is passed over as unchanged, and any other
/// fails.
///
/// # Errors
/// The manifest cannot be read or the pool fails; a failing file is an outcome.
pub fn decode_tree(
    src: &Path,
    dest: &Path,
    threads: usize,
    force: bool,
    partials: &Partials,
    on_outcome: &mut dyn FnMut(&Outcome),
) -> Result<Summary> {
    check_roots(src, dest)?;
    let (mut records, missing) = open_manifest(src)?;
    fs::create_dir_all(dest).map_err(|e| Error::io("creating the destination", e))?;
    let decoder = Decoder::new(threads)?;
    let threads = decoder.threads();
    let mut summary = run_jobs(
        Lanes::any_size(threads),
        (decoder.pool(), &Reserve::default()),
        || {
            let Some(r) = records.next_record()? else {
                return Ok(None);
            };
            if r.status != Status::Encoded {
                // A file whose encode failed has no stream: the restored tree lacks it,
                // which fails the run; a source that is gone is passed over.
                let action = match r.status {
                    Status::Failed => Action::Failed,
                    _ => Action::Skipped,
                };
                let why = match r.status {
                    Status::Failed => "not encoded: its encode failed (see the manifest's error)",
                    _ => "not encoded: its source was gone",
                };
                let o = outcome(&r.path, action, Some(why.into()));
                return Ok(Some(Job::Settled(o, None)));
            }
            Ok(Some(if r.size <= SMALL_FILE {
                Job::Small(r)
            } else {
                Job::Large(r)
            }))
        },
        |r, _, _, verified| decode_one(&r, (src, dest), force, partials, None, verified),
        |r| {
            let on_pool = Some(&decoder);
            decode_one(
                &r,
                (src, dest),
                force,
                partials,
                on_pool,
                &mut VerifiedDir::default(),
            )
        },
        &mut None,
        on_outcome,
    )?;
    report_missing(&missing, &mut summary, on_outcome);
    Ok(summary)
}

/// Decodes one stream of a batch tree; with `decoder`, on the pool, else on this thread.
fn decode_one(
    r: &Record,
    (src, dest): (&Path, &Path),
    force: bool,
    partials: &Partials,
    decoder: Option<&Decoder>,
    verified: &mut VerifiedDir,
) -> Settled {
    let started = Instant::now();
    let result = (|| {
        let input = output_path_readonly(src, &r.path, ".sigma")?;
        let out = output_path_in(dest, &r.path, "", verified, None)?;
        if !force {
            if let Ok(m) = fs::symlink_metadata(&out) {
                if restored_as_listed(&m, r) {
                    return Ok(None);
                }
                if m.is_dir() {
                    return Err(Error::InvalidSetting {
                        detail: format!("output {} is a folder", crate::base::path_text(&out)),
                    });
                }
                return Err(Error::InvalidSetting {
                    detail: format!(
                        "output {} already exists (not as the manifest lists this file); use -f to overwrite",
                        crate::base::path_text(&out)
                    ),
                });
            }
        }
        // Checked before the output takes its final name.
        let stats = output::replace_atomically(&out, partials, true, |w| {
            let s = decode_stream_file(&input, &r.path, r.size, w, decoder)?;
            check_content(r, s.raw_size, s.content_crc)?;
            let attrs = s.metadata.as_ref().map(Attrs::from_metadata);
            Ok((s, attrs))
        })?;
        Ok::<_, Error>(Some(stats))
    })();
    match result.transpose() {
        Some(result) => stream_outcome(&r.path, Action::Decoded, result, started),
        None => {
            let mut o = outcome(&r.path, Action::Unchanged, None);
            o.seconds = started.elapsed().as_secs_f64();
            (o, None)
        }
    }
}

/// Whether `m` is a regular file with the size, mtime and permission bits `r` lists: the
/// file as an earlier decode restored it.
fn restored_as_listed(m: &fs::Metadata, r: &Record) -> bool {
    m.is_file()
        && m.len() == r.size
        && mtime_of(m) == (r.mtime, r.mtime_nanos)
        && r.mode.is_none_or(|mode| mode & 0o777 == m.mode() & 0o777)
}

/// The outcome of reading one stream (decoding or verifying it): `done`, or failed.
fn stream_outcome(
    path: &[u8],
    done: Action,
    result: Result<stats::Stats>,
    started: Instant,
) -> Settled {
    let seconds = started.elapsed().as_secs_f64();
    let mut o = match result {
        Ok(s) => {
            let mut o = outcome(path, done, None);
            (o.bytes_in, o.bytes_out) = (s.encoded_size, s.raw_size);
            o
        }
        Err(e) => outcome(path, Action::Failed, Some(e.to_string())),
    };
    o.seconds = seconds;
    (o, None)
}

/// `root/rel + suffix` for reading (the path is checked, nothing is created).
fn output_path_readonly(root: &Path, rel: &[u8], suffix: &str) -> Result<PathBuf> {
    manifest::check_relative(rel).map_err(|detail| Error::InvalidSetting { detail })?;
    let mut name = root.join(std::ffi::OsStr::from_bytes(rel)).into_os_string();
    name.push(suffix);
    Ok(PathBuf::from(name))
}

/// Decodes the stream file `input` (`rel` below the tree's folder; its manifest record
/// lists `size` bytes) into `out`: with the parallel decoder, or in memory on this thread.
fn decode_stream_file(
    input: &Path,
    rel: &[u8],
    size: u64,
    out: &mut dyn Write,
    decoder: Option<&Decoder>,
) -> Result<stats::Stats> {
    let f = open_listed(input, rel)?;
    if let Some(d) = decoder {
        return d.decode(f, out, &|_| {});
    }
    // The stream of a small file is read whole, up to what a stream of its size can be
    // (stored frames and container glyphs), and decoded to at most its recorded size.
    let most = 2 * SMALL_FILE + 4096;
    let mut stream = Vec::new();
    f.take(most + 1)
        .read_to_end(&mut stream)
        .map_err(|e| Error::io("reading input", e))?;
    if stream.len() as u64 > most {
        return Err(Error::corrupt(
            None,
            most,
            format!("the stream goes on past {most} bytes, more than a stream of a file of {size} bytes can be"),
        ));
    }
    let decoded = memory::decode_at_most(&stream, size)?;
    out.write_all(&decoded.data)
        .map_err(|e| Error::io("writing output", e))?;
    Ok(stats::Stats {
        raw_size: decoded.data.len() as u64,
        encoded_size: stream.len() as u64,
        content_crc: crc32c::crc32c(&decoded.data),
        metadata: decoded.metadata,
        ..stats::Stats::default()
    })
}

fn check_content(r: &Record, size: u64, crc: u32) -> Result<()> {
    if size != r.size || crc != r.crc32c {
        return Err(Error::InvalidSetting {
            detail: format!(
                "content is {size} bytes with CRC32C {crc:08x}, the manifest says {} bytes with {:08x}",
                r.size, r.crc32c
            ),
        });
    }
    Ok(())
}

/// The mode and mtime a stream carries are those its record lists (a record of an older
/// manifest lists no mode).
fn check_metadata(r: &Record, m: Option<&Metadata>) -> Result<()> {
    let Some(m) = m else {
        return Err(Error::InvalidSetting {
            detail: "the stream carries no name, mode or mtime".into(),
        });
    };
    if (m.mtime, m.mtime_nanos) != (r.mtime, r.mtime_nanos) || r.mode.is_some_and(|x| x != m.mode) {
        return Err(Error::InvalidSetting {
            detail: format!(
                "the stream says mode {:04o}, mtime {}; the manifest says {}, mtime {}",
                m.mode,
                crate::base::seconds_text(m.mtime, m.mtime_nanos),
                r.mode.map_or("no mode".into(), |x| format!("mode {x:04o}")),
                crate::base::seconds_text(r.mtime, r.mtime_nanos)
            ),
        });
    }
    Ok(())
}

/// Checks every stream of the batch tree `dest` against its manifest record, and with
/// `source`, that the source files still match.
///
/// # Errors
/// The manifest cannot be read or the pool fails; a failing file is an outcome.
pub fn verify_tree(
    dest: &Path,
    source: Option<&Path>,
    threads: usize,
    on_outcome: &mut dyn FnMut(&Outcome),
) -> Result<Summary> {
    let (mut records, missing) = open_manifest(dest)?;
    let decoder = Decoder::new(threads)?;
    let threads = decoder.threads();
    let mut summary = run_jobs(
        Lanes::any_size(threads),
        (decoder.pool(), &Reserve::default()),
        || {
            let Some(r) = records.next_record()? else {
                return Ok(None);
            };
            if r.status == Status::Failed {
                let why = r.error.clone().unwrap_or_default();
                let o = outcome(
                    &r.path,
                    Action::Failed,
                    Some(format!("failed in the last run: {why}")),
                );
                return Ok(Some(Job::Settled(o, None)));
            }
            Ok(Some(if r.size <= SMALL_FILE {
                Job::Small(r)
            } else {
                Job::Large(r)
            }))
        },
        |r, _, _, _| verify_one(&r, dest, source, None),
        |r| verify_one(&r, dest, source, Some(&decoder)),
        &mut None,
        on_outcome,
    )?;
    report_missing(&missing, &mut summary, on_outcome);
    Ok(summary)
}

fn verify_one(
    r: &Record,
    dest: &Path,
    source: Option<&Path>,
    decoder: Option<&Decoder>,
) -> Settled {
    let started = Instant::now();
    let result = (|| {
        let input = output_path_readonly(dest, &r.path, ".sigma")?;
        let s = decode_stream_file(&input, &r.path, r.size, &mut io::sink(), decoder)?;
        check_content(r, s.raw_size, s.content_crc)?;
        check_metadata(r, s.metadata.as_ref())?;
        if let Some(src) = source {
            if r.status == Status::Missing {
                return Err(Error::InvalidSetting {
                    detail: "source is gone".into(),
                });
            }
            check_source(r, &output_path_readonly(src, &r.path, "")?)?;
        }
        Ok::<_, Error>(s)
    })();
    stream_outcome(&r.path, Action::Verified, result, started)
}

/// The source file still has the recorded size, mtime and content.
fn check_source(r: &Record, path: &Path) -> Result<()> {
    let m = fs::symlink_metadata(path).map_err(|e| Error::io("reading the source", e))?;
    let changed = |what: &str| Error::InvalidSetting {
        detail: format!("the source has changed since it was encoded ({what})"),
    };
    if !m.is_file() || m.len() != r.size {
        return Err(changed("size"));
    }
    if mtime_of(&m) != (r.mtime, r.mtime_nanos) {
        return Err(changed("modification time"));
    }
    if r.mode.is_some_and(|x| x != m.mode() & 0o7777) {
        return Err(changed("permission bits"));
    }
    let mut f = open_listed(path, &r.path)?;
    let mut crc = 0u32;
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f
            .read(&mut buf)
            .map_err(|e| Error::io("reading the source", e))?;
        if n == 0 {
            break;
        }
        crc = crc32c::crc32c_append(crc, &buf[..n]);
    }
    if crc != r.crc32c {
        return Err(changed("content"));
    }
    Ok(())
}

/// Displays a relative path for messages.
pub fn display_path(rel: &[u8]) -> String {
    rel_display(rel)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;

    struct Size(u64);

    impl Bytes for Size {
        fn bytes(&self) -> u64 {
            self.0
        }
    }

    #[test]
    fn a_large_job_runs_alone_and_in_order() {
        let pool = parallel::worker_pool(3, "test").unwrap();
        // Small jobs 0..20 except 7 and 15, which are large.
        let mut next = 0u64;
        let produce = || {
            let n = next;
            next += 1;
            let job = if n == 7 || n == 15 {
                Job::Large(Size(n))
            } else {
                Job::Small(Size(n))
            };
            Ok((n < 20).then_some(job))
        };
        let running = AtomicUsize::new(0);
        let settled = |n: u64| outcome(n.to_string().as_bytes(), Action::Encoded, None);
        let work = |s: Size, _: &mut Slot, _: &mut FrameEncoder, _: &mut VerifiedDir| {
            running.fetch_add(1, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(5));
            running.fetch_sub(1, Ordering::SeqCst);
            (settled(s.0), None)
        };
        let mut alone = Vec::new();
        let large = |s: Size| {
            alone.push(running.load(Ordering::SeqCst) == 0);
            (settled(s.0), None)
        };
        let mut order = Vec::new();
        let summary = run_jobs(
            Lanes::any_size(3),
            (&pool, &Reserve::default()),
            produce,
            work,
            large,
            &mut None,
            &mut |o| order.push(String::from_utf8(o.path.clone()).unwrap()),
        )
        .unwrap();
        assert_eq!(alone, [true, true]);
        let expected: Vec<String> = (0..20).map(|n: u64| n.to_string()).collect();
        assert_eq!(order, expected);
        assert_eq!(summary.done, 20);
    }

    #[test]
    fn progress_counts_every_file_of_the_total_on_a_rerun_and_after_a_failure() {
        let dir = tempfile::tempdir().unwrap();
        let (src, dest) = (dir.path().join("src"), dir.path().join("dest"));
        fs::create_dir_all(src.join("sub")).unwrap();
        let sizes = [1000usize, 70_000, 300_000];
        for (i, n) in sizes.iter().enumerate() {
            let text: Vec<u8> = (0..*n).map(|k| b"abcdefgh "[(k * 7 + i) % 9]).collect();
            fs::write(src.join("sub").join(format!("f{i}")), text).unwrap();
        }
        let total: u64 = sizes.iter().map(|&n| n as u64).sum();
        // 64 KiB frames: the two larger files go through the pipeline.
        let cfg = BatchConfig {
            encoder: EncoderConfig {
                threads: 2,
                chunk_size: ChunkSize::Fixed(64 << 10),
                ..EncoderConfig::default()
            },
            shard: Shard::ALL,
            prune: false,
        };
        let run = || {
            let most = AtomicU64::new(0);
            let progress = |n: u64| {
                most.fetch_max(n, Ordering::Relaxed);
            };
            let summary = encode_tree(
                &src,
                &dest,
                &cfg,
                &Partials::default(),
                &mut |_| {},
                &progress,
            )
            .unwrap();
            (summary, most.load(Ordering::Relaxed))
        };
        // A folder where the largest file's stream goes: that file fails.
        let blocked = dest.join("sub").join("f2.sigma");
        fs::create_dir_all(&blocked).unwrap();
        let (first, most) = run();
        assert_eq!((first.done, first.failed, most), (2, 1, total));
        fs::remove_dir(&blocked).unwrap();
        let (second, most) = run();
        assert_eq!((second.done, second.unchanged, most), (1, 2, total));
        // Nothing changed: the bar still reaches the total the walk counts.
        let (third, most) = run();
        assert_eq!((third.unchanged, most), (3, total));
    }

    #[test]
    fn a_listed_file_is_read_as_it_is_now_and_a_fifo_or_symlink_in_its_place_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("src");
        fs::create_dir_all(root.join("sub")).unwrap();
        let rel = b"sub/f";
        let path = root.join("sub").join("f");
        fs::write(&path, vec![7u8; 5000]).unwrap();
        let mut buf = MapVec::default();
        // Grown since the walk (listed smaller) but within what a worker reads whole.
        let m = read_small(&path, rel, 6000, &mut buf).unwrap();
        assert_eq!((m.len(), buf.len()), (5000, 5000));
        // Grown past it: a clear error, the file is not read.
        let e = read_small(&path, rel, 4000, &mut buf)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("grew to 5000 bytes") && e.contains("run again"),
            "{e}"
        );
        // A folder on its path swapped for a symlink to a folder with a file of that name
        // (which only this user may read, say): refused where the kernel resolves
        // beneath a folder (Linux 5.6 on), not followed.
        let elsewhere = dir.path().join("elsewhere");
        fs::create_dir(&elsewhere).unwrap();
        fs::write(elsewhere.join("f"), b"secret").unwrap();
        fs::rename(root.join("sub"), root.join("moved")).unwrap();
        std::os::unix::fs::symlink(&elsewhere, root.join("sub")).unwrap();
        let swapped = read_small(&path, rel, 6000, &mut buf);
        #[cfg(target_os = "linux")]
        if beneath_supported(&root) {
            let e = swapped.unwrap_err().to_string();
            assert!(e.contains("a folder on its path is a symlink now"), "{e}");
        }
        #[cfg(not(target_os = "linux"))]
        let _ = swapped;
        fs::remove_file(root.join("sub")).unwrap();
        fs::rename(root.join("moved"), root.join("sub")).unwrap();
        // Replaced by a fifo: an error at once, not a wait for a writer.
        fs::remove_file(&path).unwrap();
        let made = std::process::Command::new("mkfifo").arg(&path).status();
        if made.is_ok_and(|s| s.success()) {
            let e = read_small(&path, rel, 6000, &mut buf)
                .unwrap_err()
                .to_string();
            assert!(e.contains("not a regular file now"), "{e}");
            assert!(open_listed(&path, rel).is_err());
        }
        // Replaced by a symlink to a readable file: not followed.
        fs::remove_file(&path).unwrap();
        let target = dir.path().join("target");
        fs::write(&target, b"secret").unwrap();
        std::os::unix::fs::symlink(&target, &path).unwrap();
        let e = read_small(&path, rel, 6000, &mut buf)
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a regular file now"), "{e}");
        // A plain file at the top of the folder opens as before.
        fs::write(root.join("top"), b"top").unwrap();
        let m = read_small(&root.join("top"), b"top", 6000, &mut buf).unwrap();
        assert_eq!(m.len(), 3);
    }

    /// Whether this kernel resolves paths beneath a folder (`openat2`).
    #[cfg(target_os = "linux")]
    fn beneath_supported(dir: &Path) -> bool {
        use rustix::fs::{openat2, Mode, OFlags, ResolveFlags};
        let d = File::open(dir).unwrap();
        !matches!(
            openat2(
                &d,
                ".",
                OFlags::RDONLY,
                Mode::empty(),
                ResolveFlags::BENEATH
            ),
            Err(rustix::io::Errno::NOSYS | rustix::io::Errno::PERM)
        )
    }
}
