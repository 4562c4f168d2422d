//! The batch manifest: JSON Lines, one record per source file, in walk order (paths
//! compared component by component, bytes within a component). A run appends its records
//! to a plain journal and, when it ends, encodes the journal into the shard's manifest
//! part, a `.sigma` stream (JSON lines repeat their keys and a tree's paths, so the part
//! is several times smaller than the text). Readers stream either form and merge it with
//! the walk, so memory never grows with the number of files.
#![forbid(unsafe_code)]

use std::cmp::Ordering;
use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::base::Level;
use crate::decode::DecodeReader;
use crate::error::{Error, Result};
use crate::pipeline::{ChunkSize, Encoder, EncoderConfig, ReadMode};

/// Frame size of an encoded manifest part: small, so reading a part takes little memory.
const PART_CHUNK: u64 = 256 * 1024;

/// What happened to a file in the run that wrote its record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Its stream in DEST is complete and matches the source as recorded.
    Encoded,
    /// Encoding failed; the next run tries again.
    Failed,
    /// The source is gone; its stream was kept (no `--prune`).
    Missing,
    /// The source is gone and its stream was removed (`--prune`): a marker that drops
    /// the path's older record when a journal is merged over its part; readers skip it.
    Pruned,
}

/// One file's record.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    /// Path relative to the source root, `/`-separated, as bytes (any encoding).
    pub path: Vec<u8>,
    /// Source size in bytes.
    pub size: u64,
    /// Source modification time: seconds since the epoch, and nanoseconds.
    pub mtime: i64,
    /// Nanoseconds of the modification time.
    pub mtime_nanos: u32,
    /// Permission bits written into the stream (`None` in records of older manifests).
    pub mode: Option<u32>,
    /// CRC32C of the source content.
    pub crc32c: u32,
    /// Level the stream was encoded with.
    pub level: u8,
    /// Bytes of the stream.
    pub encoded_size: u64,
    /// Outcome.
    pub status: Status,
    /// Seconds spent encoding it.
    pub seconds: f64,
    /// The error, when it failed.
    pub error: Option<String>,
}

/// The JSON shape of a record: the path as a string when it is UTF-8, else as hex.
#[derive(Serialize, Deserialize)]
struct Line {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    path_hex: Option<String>,
    size: u64,
    mtime: i64,
    mtime_nanos: u32,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    mode: Option<u32>,
    crc32c: String,
    level: u8,
    encoded_size: u64,
    status: Status,
    seconds: f64,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    error: Option<String>,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

impl Record {
    /// The record as one JSON line (with its newline).
    pub fn to_line(&self) -> String {
        let (path, path_hex) = match std::str::from_utf8(&self.path) {
            Ok(s) => (Some(s.to_string()), None),
            Err(_) => (None, Some(hex(&self.path))),
        };
        let line = Line {
            path,
            path_hex,
            size: self.size,
            mtime: self.mtime,
            mtime_nanos: self.mtime_nanos,
            mode: self.mode,
            crc32c: format!("{:08x}", self.crc32c),
            level: self.level,
            encoded_size: self.encoded_size,
            status: self.status,
            seconds: (self.seconds * 1e6).round() / 1e6,
            error: self.error.clone(),
        };
        let mut s = serde_json::to_string(&line).unwrap_or_default();
        s.push('\n');
        s
    }

    /// Parses one JSON line.
    ///
    /// # Errors
    /// Malformed JSON, a bad path or checksum field.
    pub fn from_line(line: &str) -> std::result::Result<Record, String> {
        let l: Line = serde_json::from_str(line).map_err(|e| e.to_string())?;
        let path = match (l.path, l.path_hex) {
            (Some(p), None) => p.into_bytes(),
            (None, Some(h)) => unhex(&h).ok_or("path_hex is not hex")?,
            _ => return Err("a record needs exactly one of path and path_hex".into()),
        };
        check_relative(&path)?;
        Ok(Record {
            path,
            size: l.size,
            mtime: l.mtime,
            mtime_nanos: l.mtime_nanos,
            mode: l.mode,
            crc32c: u32::from_str_radix(&l.crc32c, 16).map_err(|_| "crc32c is not hex")?,
            level: l.level,
            encoded_size: l.encoded_size,
            status: l.status,
            seconds: l.seconds,
            error: l.error,
        })
    }
}

/// A manifest path must stay inside its tree: relative, no empty, `.` or `..` component.
///
/// # Errors
/// A path that could reach outside the tree.
pub fn check_relative(path: &[u8]) -> std::result::Result<(), String> {
    let bad = path.is_empty()
        || path.contains(&0)
        || path
            .split(|&b| b == b'/')
            .any(|c| c.is_empty() || c == b"." || c == b"..");
    if bad {
        return Err(format!(
            "path {:?} is not a plain relative path",
            String::from_utf8_lossy(path)
        ));
    }
    Ok(())
}

/// Walk order: component by component, bytes within a component (what walking a tree
/// with each directory's entries sorted by name gives).
pub fn path_cmp(a: &[u8], b: &[u8]) -> Ordering {
    a.split(|&x| x == b'/').cmp(b.split(|&x| x == b'/'))
}

/// How a manifest file holds its JSON lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// A `.sigma` stream of them: a part as this version writes it.
    Encoded,
    /// Plain text: a part written by an earlier version.
    Plain,
    /// Plain text appended to by a running shard; its last line may be cut short (a
    /// killed run).
    Journal,
}

/// File name of shard `index` of `count` (an unsharded run is shard 0 of 1): its JSON
/// lines encoded as a `.sigma` stream (`sigma decode -c PART` prints them). The name does
/// not end in `.sigma`, so no source file's stream can take it.
pub fn part_name(index: u64, count: u64) -> String {
    format!(".sigma-manifest.{index}-of-{count}.sigma-jsonl")
}

/// File name of a part written as plain JSON lines by earlier versions: still read (when
/// the shard has no encoded part), and removed by the next encode run.
pub fn plain_part_name(index: u64, count: u64) -> String {
    format!(".sigma-manifest.{index}-of-{count}.jsonl")
}

/// The journal a running shard appends to (plain JSON lines); folded into its part by the
/// next run when the process was killed.
pub fn journal_name(index: u64, count: u64) -> String {
    format!("{}.journal", plain_part_name(index, count))
}

/// The shard (index, count) and form of a manifest part's file name.
pub fn parse_part_name(name: &str) -> Option<(u64, u64, Form)> {
    let rest = name.strip_prefix(".sigma-manifest.")?;
    let (shard, form) = match rest.strip_suffix(".sigma-jsonl") {
        Some(shard) => (shard, Form::Encoded),
        None => (rest.strip_suffix(".jsonl")?, Form::Plain),
    };
    let (index, count) = shard.split_once("-of-")?;
    // Only the names `part_name` writes: plain decimal, no sign, no leading zero.
    let number = |s: &str| -> Option<u64> {
        let canonical = !s.is_empty()
            && s.bytes().all(|b| b.is_ascii_digit())
            && (s == "0" || !s.starts_with('0'));
        canonical.then(|| s.parse().ok()).flatten()
    };
    Some((number(index)?, number(count)?, form))
}

/// The manifest files of one shard in a folder.
#[derive(Debug, Default)]
pub struct ShardFiles {
    /// The shard's index.
    pub index: u64,
    /// The shard count they were written with.
    pub count: u64,
    /// Its part: the encoded one, else the plain one.
    pub part: Option<PathBuf>,
    /// The journal a killed run left.
    pub journal: Option<PathBuf>,
}

/// The manifest files in `dir`, by shard (index, count).
///
/// # Errors
/// The folder cannot be listed.
pub fn shards(dir: &Path) -> Result<Vec<ShardFiles>> {
    let mut found = std::collections::BTreeMap::<(u64, u64), (Option<Form>, ShardFiles)>::new();
    let list = fs::read_dir(dir).map_err(|e| {
        Error::io(
            "listing the manifest folder",
            io::Error::new(e.kind(), format!("{}: {e}", crate::base::path_text(dir))),
        )
    })?;
    for entry in list {
        let entry = entry.map_err(|e| Error::io("listing the manifest folder", e))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if let Some(plain) = name.strip_suffix(".journal") {
            if let Some((index, count, Form::Plain)) = parse_part_name(plain) {
                let files = &mut found.entry((index, count)).or_default().1;
                (files.index, files.count) = (index, count);
                files.journal = Some(entry.path());
            }
        } else if let Some((index, count, form)) = parse_part_name(&name) {
            let (kept, files) = found.entry((index, count)).or_default();
            (files.index, files.count) = (index, count);
            if *kept != Some(Form::Encoded) {
                *kept = Some(form);
                files.part = Some(entry.path());
            }
        }
    }
    Ok(found.into_values().map(|(_, files)| files).collect())
}

/// Longest record line a reader accepts (a path of a few KiB, as hex, and an error).
const MAX_LINE: u64 = 1 << 20;

/// Creates `path` for writing, never through a symlink or over a file another process
/// holds open: whatever is at `path` is removed first, then the file is created anew.
fn create_fresh(path: &Path) -> std::io::Result<File> {
    match fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}

/// Reads one manifest file (an encoded part, or plain JSON lines: a journal, or a part of
/// an earlier version) in order, checking that it is sorted.
pub struct Reader {
    lines: Option<Box<dyn BufRead + Send>>,
    form: Form,
    /// The part's name as messages show it.
    name: String,
    line_no: u64,
    last: Option<Vec<u8>>,
    buf: String,
}

impl Reader {
    /// Opens `path`, its form told by its name (a part's, see [`parse_part_name`], else a
    /// journal); a missing file reads as empty.
    ///
    /// # Errors
    /// The file exists but cannot be opened, or an encoded part is not a `.sigma` stream.
    pub fn open(path: &Path) -> Result<Reader> {
        Reader::open_with(path, false)
    }

    /// Like [`Reader::open`], for a file known to be there (listed in its folder): a
    /// name that does not lead to a file (a dangling symlink) is an error, not an empty
    /// manifest.
    ///
    /// # Errors
    /// As [`Reader::open`], and when `path` is missing.
    pub fn open_listed(path: &Path) -> Result<Reader> {
        Reader::open_with(path, true)
    }

    fn open_with(path: &Path, must_exist: bool) -> Result<Reader> {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        let form = match name.as_deref().and_then(parse_part_name) {
            Some((_, _, form)) => form,
            None => Form::Journal,
        };
        let lines: Option<Box<dyn BufRead + Send>> = match File::open(path) {
            Ok(f) if form == Form::Encoded => {
                // The stream header is read and checked here: an empty file or one that
                // is not a stream fails now, naming the part.
                let decoded = DecodeReader::new(f).map_err(|e| in_manifest(path, e))?;
                Some(Box::new(BufReader::new(decoded)))
            }
            Ok(f) => Some(Box::new(BufReader::new(f))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !must_exist => None,
            Err(e) => return Err(in_manifest(path, Error::io("opening", e))),
        };
        Ok(Reader {
            lines,
            form,
            name: crate::base::path_text(path),
            line_no: 0,
            last: None,
            buf: String::new(),
        })
    }

    /// A reader of no records.
    pub fn empty() -> Reader {
        Reader {
            lines: None,
            form: Form::Journal,
            name: String::new(),
            line_no: 0,
            last: None,
            buf: String::new(),
        }
    }

    /// The next record, or `None` at the end. A journal's last line without its newline
    /// (a run killed while writing it) is ignored; in a part it is an error.
    ///
    /// # Errors
    /// A malformed, cut or out-of-order record, or a record line over 1 MiB.
    pub fn next_record(&mut self) -> Result<Option<Record>> {
        let Some(lines) = &mut self.lines else {
            return Ok(None);
        };
        self.buf.clear();
        let name = &self.name;
        let n = Read::take(&mut **lines, MAX_LINE + 1)
            .read_line(&mut self.buf)
            .map_err(|e| match e.get_ref() {
                Some(inner) if inner.is::<Error>() => {
                    in_manifest_named(name, DecodeReader::<&[u8]>::into_error(e))
                }
                _ => in_manifest_named(name, Error::io("reading", e)),
            })?;
        let bad = |line: u64, detail: String| Error::InvalidSetting {
            detail: format!("manifest {} line {line}: {detail}", self.name),
        };
        if n as u64 > MAX_LINE {
            return Err(bad(self.line_no + 1, "record is longer than 1 MiB".into()));
        }
        if n == 0 {
            return Ok(None);
        }
        if !self.buf.ends_with('\n') {
            if self.form == Form::Journal {
                return Ok(None);
            }
            return Err(bad(
                self.line_no + 1,
                "the last record is cut short (no newline)".into(),
            ));
        }
        self.line_no += 1;
        let record = Record::from_line(self.buf.trim_end()).map_err(|d| bad(self.line_no, d))?;
        if let Some(last) = &self.last {
            if path_cmp(last, &record.path) != Ordering::Less {
                return Err(bad(self.line_no, "records are not in walk order".into()));
            }
        }
        self.last = Some(record.path.clone());
        Ok(Some(record))
    }
}

/// An error reading the manifest file at `path`, naming it.
fn in_manifest(path: &Path, e: Error) -> Error {
    in_manifest_named(&crate::base::path_text(path), e)
}

/// [`in_manifest`] for a manifest named by its message text.
fn in_manifest_named(name: &str, e: Error) -> Error {
    Error::InvalidSetting {
        detail: format!("manifest {name}: {e}"),
    }
}

/// A sorted stream of records.
pub trait Records: Send {
    /// The next record in walk order, or `None` at the end.
    ///
    /// # Errors
    /// A malformed or out-of-order record.
    fn next_record(&mut self) -> Result<Option<Record>>;
}

impl Records for Reader {
    fn next_record(&mut self) -> Result<Option<Record>> {
        Reader::next_record(self)
    }
}

impl Records for Merged {
    fn next_record(&mut self) -> Result<Option<Record>> {
        Merged::next_record(self)
    }
}

/// Several sorted manifest sources merged into one sorted stream.
pub struct Merged {
    sources: Vec<(Box<dyn Records>, Option<Record>)>,
    /// When a path is in several sources: take the last source's record (a journal over
    /// its part) instead of refusing.
    newest_wins: bool,
    /// The next record to hand out (never a [`Status::Pruned`] marker).
    ahead: Option<Record>,
    /// An error met while looking ahead, handed out after `ahead`.
    failed: Option<Error>,
}

impl Merged {
    /// Merges `readers`. With `newest_wins`, a path in several sources takes the record
    /// of the last one; otherwise a duplicate is an error (parts of different shard
    /// counts).
    ///
    /// # Errors
    /// A source's first record is malformed.
    pub fn new(readers: Vec<Reader>, newest_wins: bool) -> Result<Merged> {
        let sources = readers
            .into_iter()
            .map(|r| Box::new(r) as Box<dyn Records>)
            .collect();
        Merged::of(sources, newest_wins)
    }

    /// Merges any sorted sources, as [`Merged::new`].
    ///
    /// # Errors
    /// A source's first record is malformed.
    pub fn of(sources: Vec<Box<dyn Records>>, newest_wins: bool) -> Result<Merged> {
        let mut heads = Vec::with_capacity(sources.len());
        for mut r in sources {
            let first = r.next_record()?;
            heads.push((r, first));
        }
        let mut merged = Merged {
            sources: heads,
            newest_wins,
            ahead: None,
            failed: None,
        };
        merged.ahead = merged.next_live()?;
        Ok(merged)
    }

    /// Reads every shard's records in `dir`: its part, with the journal of a killed run
    /// over it (the records of files that run finished), as the next encode run would
    /// fold them.
    ///
    /// # Errors
    /// A part or journal cannot be opened or read.
    pub fn open_dir(dir: &Path) -> Result<Merged> {
        let mut sources: Vec<Box<dyn Records>> = Vec::new();
        for shard in shards(dir)? {
            let part = match &shard.part {
                Some(p) => Reader::open_listed(p)?,
                None => Reader::empty(),
            };
            match &shard.journal {
                Some(j) => sources.push(Box::new(Merged::new(vec![part, Reader::open(j)?], true)?)),
                None => sources.push(Box::new(part)),
            }
        }
        Merged::of(sources, false)
    }

    /// The path of the record [`Merged::next_record`] returns next.
    pub fn peek_path(&self) -> Option<&[u8]> {
        self.ahead.as_ref().map(|r| r.path.as_slice())
    }

    /// The next record in walk order; paths whose newest record is a [`Status::Pruned`]
    /// marker are skipped.
    ///
    /// # Errors
    /// A malformed record, or a path in two parts.
    pub fn next_record(&mut self) -> Result<Option<Record>> {
        if let Some(e) = self.failed.take() {
            return Err(e);
        }
        let record = self.ahead.take();
        if record.is_some() {
            match self.next_live() {
                Ok(next) => self.ahead = next,
                Err(e) => self.failed = Some(e),
            }
        }
        Ok(record)
    }

    /// The next merged record that is not a marker.
    fn next_live(&mut self) -> Result<Option<Record>> {
        loop {
            match self.next_any()? {
                Some(r) if r.status == Status::Pruned => {}
                other => return Ok(other),
            }
        }
    }

    /// The next merged record, markers included.
    fn next_any(&mut self) -> Result<Option<Record>> {
        let smallest = self
            .sources
            .iter()
            .filter_map(|(_, r)| r.as_ref().map(|r| r.path.as_slice()))
            .min_by(|a, b| path_cmp(a, b));
        let Some(path) = smallest.map(<[u8]>::to_vec) else {
            return Ok(None);
        };
        let mut found: Option<Record> = None;
        for (reader, head) in &mut self.sources {
            if head.as_ref().is_some_and(|r| r.path == path) {
                let record = head.take();
                *head = reader.next_record()?;
                if found.is_some() && !self.newest_wins {
                    return Err(Error::InvalidSetting {
                        detail: format!(
                            "{} is in two manifest parts (runs with different shard counts?)",
                            String::from_utf8_lossy(&path)
                        ),
                    });
                }
                found = record;
            }
        }
        Ok(found)
    }
}

/// Appends records to a journal, flushed after every record so a killed run loses at
/// most the line it was writing.
pub struct Journal {
    path: PathBuf,
    out: BufWriter<File>,
}

impl Journal {
    /// Creates (truncates) the journal at `path`.
    ///
    /// # Errors
    /// It cannot be created.
    pub fn create(path: &Path) -> Result<Journal> {
        let f = create_fresh(path).map_err(|e| Error::io("creating the manifest journal", e))?;
        Ok(Journal {
            path: path.to_path_buf(),
            out: BufWriter::new(f),
        })
    }

    /// Appends `record` to the buffer ([`Journal::commit`] writes it out).
    ///
    /// # Errors
    /// The write fails.
    pub fn append(&mut self, record: &Record) -> Result<()> {
        self.out
            .write_all(record.to_line().as_bytes())
            .map_err(|e| Error::io("writing the manifest journal", e))
    }

    /// Appends `records` and hands them to the operating system in one write, so a
    /// process killed after this call keeps them.
    ///
    /// # Errors
    /// The write fails.
    pub fn append_all(&mut self, records: &[Record]) -> Result<()> {
        records
            .iter()
            .try_for_each(|r| self.out.write_all(r.to_line().as_bytes()))
            .and_then(|()| self.out.flush())
            .map_err(|e| Error::io("writing the manifest journal", e))
    }

    /// Encodes the journal into the manifest part `to` (a `.sigma` stream, written beside
    /// it, synced, then renamed over it) with `threads` workers, and removes the journal.
    /// A run killed meanwhile leaves the journal, which the next run folds in.
    ///
    /// # Errors
    /// The encode, a write, the sync or the rename fails.
    pub fn commit(mut self, to: &Path, threads: usize) -> Result<()> {
        self.out
            .flush()
            .map_err(|e| Error::io("writing the manifest journal", e))?;
        let encoder = Encoder::new(EncoderConfig {
            level: Level::DEFAULT,
            chunk_size: ChunkSize::Fixed(PART_CHUNK),
            threads,
            read_mode: ReadMode::Read,
            ..EncoderConfig::default()
        })?;
        let mut tmp = to.as_os_str().to_owned();
        tmp.push(".writing");
        let tmp = PathBuf::from(tmp);
        let saving = |e| Error::io("saving the manifest", e);
        let file = create_fresh(&tmp).map_err(saving)?;
        let mut w = BufWriter::new(&file);
        encoder.encode_file(&self.path, &mut w, &|_| {})?;
        w.flush().map_err(saving)?;
        drop(w);
        file.sync_all().map_err(saving)?;
        fs::rename(&tmp, to).map_err(saving)?;
        fs::remove_file(&self.path).map_err(|e| Error::io("removing the manifest journal", e))
    }

    /// Removes the journal without committing it: the run changed nothing, so the part
    /// already holds exactly these records.
    ///
    /// # Errors
    /// The removal fails.
    pub fn discard(self) -> Result<()> {
        drop(self.out);
        fs::remove_file(&self.path).map_err(|e| Error::io("removing the manifest journal", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(path: &[u8]) -> Record {
        Record {
            path: path.to_vec(),
            size: 3,
            mtime: -5,
            mtime_nanos: 7,
            mode: Some(0o640),
            crc32c: 0xdead_beef,
            level: 3,
            encoded_size: 40,
            status: Status::Encoded,
            seconds: 0.25,
            error: None,
        }
    }

    #[test]
    fn records_round_trip_through_json_lines() {
        for p in [&b"a/b.txt"[..], b"bad\xff/name", b"-dash"] {
            let r = record(p);
            assert_eq!(Record::from_line(r.to_line().trim_end()).unwrap(), r);
        }
        for bad in [&b"../x"[..], b"/abs", b"a//b", b"a/./b", b""] {
            assert!(check_relative(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn walk_order_compares_components() {
        // A directory's contents come before a sibling that sorts after its name.
        assert_eq!(path_cmp(b"a/x", b"a.txt"), Ordering::Less);
        assert_eq!(path_cmp(b"a", b"a/x"), Ordering::Less);
        assert_eq!(path_cmp(b"b", b"a/x"), Ordering::Greater);
    }
}
