//! `sigma batch` over generated trees, driven as a nightly job would drive it.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Output, Stdio};
use std::time::{Duration, Instant};

use crate::util::*;

fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("sigma")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn is_root() -> bool {
    fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

/// Runs sigma with `args`; as root, as the user `nobody` (so permissions apply).
fn sigma_as_user(args: &[&OsStr]) -> Output {
    let mut cmd = if is_root() {
        let mut c = StdCommand::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(bin());
        c
    } else {
        StdCommand::new(bin())
    };
    cmd.args(args).output().unwrap()
}

fn sigma(args: &[&OsStr]) -> Output {
    StdCommand::new(bin()).args(args).output().unwrap()
}

fn os(s: &str) -> &OsStr {
    OsStr::new(s)
}

/// An empty source folder `root/src`.
fn source_dir(root: &Path) -> PathBuf {
    let src = root.join("src");
    fs::create_dir(&src).unwrap();
    src
}

/// `root/src` and `root/dest`, made (with `root`) writable by everyone, for runs as
/// another user ([`sigma_as_user`]).
fn shared_dirs(root: &Path) -> (PathBuf, PathBuf) {
    fs::set_permissions(root, fs::Permissions::from_mode(0o777)).unwrap();
    let (src, dest) = (root.join("src"), root.join("dest"));
    for d in [&src, &dest] {
        fs::create_dir(d).unwrap();
        fs::set_permissions(d, fs::Permissions::from_mode(0o777)).unwrap();
    }
    (src, dest)
}

/// `sigma batch encode SRC -o DEST EXTRA...`.
fn batch_encode(src: &Path, dest: &Path, extra: &[&str]) -> Output {
    sigma(&batch_encode_args(src, dest, extra))
}

/// The arguments of [`batch_encode`].
fn batch_encode_args<'a>(src: &'a Path, dest: &'a Path, extra: &[&'a str]) -> Vec<&'a OsStr> {
    let mut args = vec![
        os("batch"),
        os("encode"),
        src.as_os_str(),
        os("-o"),
        dest.as_os_str(),
    ];
    args.extend(extra.iter().map(|a| os(a)));
    args
}

/// `sigma batch decode DEST -o OUT`.
fn batch_decode(dest: &Path, out: &Path) -> Output {
    sigma(&[
        os("batch"),
        os("decode"),
        dest.as_os_str(),
        os("-o"),
        out.as_os_str(),
    ])
}

/// `sigma batch verify DEST` plus `extra`.
fn batch_verify(dest: &Path, extra: &[&str]) -> Output {
    let mut args = vec![os("batch"), os("verify"), dest.as_os_str()];
    args.extend(extra.iter().map(|a| os(a)));
    sigma(&args)
}

/// The regular files under `root` (relative path -> content, mode, mtime), skipping
/// `skip`.
fn snapshot(root: &Path, skip: Option<&Path>) -> BTreeMap<Vec<u8>, (Vec<u8>, u32, i64, i64)> {
    let mut map = BTreeMap::new();
    for e in walkdir::WalkDir::new(root).follow_links(false) {
        let e = e.unwrap();
        if skip.is_some_and(|s| e.path().starts_with(s)) || !e.file_type().is_file() {
            continue;
        }
        let m = e.metadata().unwrap();
        let rel = e
            .path()
            .strip_prefix(root)
            .unwrap()
            .as_os_str()
            .as_bytes()
            .to_vec();
        let content = fs::read(e.path()).unwrap_or_default();
        map.insert(rel, (content, m.mode() & 0o7777, m.mtime(), m.mtime_nsec()));
    }
    map
}

/// A tree with nested folders, empty files, a large file, a symlink loop, a dangling
/// symlink, a fifo, a non-UTF-8 name and a name starting with `-`.
fn make_tree(root: &Path) -> PathBuf {
    let src = root.join("src");
    for d in ["a/b/c", "d", "e/empty-dir"] {
        fs::create_dir_all(src.join(d)).unwrap();
    }
    // More files than one group of the batch engine holds (64), in several folders.
    for i in 0..160u64 {
        let dir = ["a", "a/b", "a/b/c", "d"][i as usize % 4];
        let data = match i % 3 {
            0 => text_bytes(1000 + i as usize * 500, i),
            1 => mixed_bytes(3000 + i as usize * 100, i),
            _ => random_bytes(200 + i as usize, i),
        };
        fs::write(src.join(dir).join(format!("f{i:02}.dat")), data).unwrap();
    }
    fs::write(src.join("empty"), b"").unwrap();
    fs::write(src.join("a/empty2"), b"").unwrap();
    fs::write(src.join("large.bin"), mixed_bytes(9 << 20, 99)).unwrap();
    fs::write(src.join("-dash.txt"), b"dash").unwrap();
    fs::write(src.join(OsStr::from_bytes(b"d/bad\xffname")), b"latin-1").unwrap();
    std::os::unix::fs::symlink("../..", src.join("a/b/loop")).unwrap();
    std::os::unix::fs::symlink("nowhere", src.join("dangling")).unwrap();
    assert!(StdCommand::new("mkfifo")
        .arg(src.join("d/fifo"))
        .status()
        .unwrap()
        .success());
    fs::set_permissions(src.join("a/f00.dat"), fs::Permissions::from_mode(0o600)).unwrap();
    let t = filetime(src.join("d/f03.dat"));
    assert!(t > 0);
    src
}

fn filetime(p: PathBuf) -> i64 {
    fs::metadata(p).unwrap().mtime()
}

fn manifest_records(dest: &Path) -> Vec<serde_json::Value> {
    let mut all = Vec::new();
    for e in fs::read_dir(dest).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with(".sigma-manifest.") && name.ends_with(".sigma-jsonl") {
            for line in read_manifest_part(&p).lines() {
                all.push(serde_json::from_str(line).unwrap());
            }
        }
    }
    all
}

/// A part's identity and bytes, to tell whether a run rewrote it.
fn part_state(part: &Path) -> (u64, Vec<u8>) {
    (fs::metadata(part).unwrap().ino(), fs::read(part).unwrap())
}

/// The `status` of `path`'s record in DEST's manifest (which must hold one).
fn manifest_status(dest: &Path, path: &str) -> String {
    let records = manifest_records(dest);
    let r = records.iter().find(|r| r["path"] == path);
    r.unwrap_or_else(|| panic!("no record of {path}"))["status"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn actions(out: &Output) -> BTreeMap<String, String> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v.get("summary").is_none())
        .map(|v| {
            (
                v["path"].as_str().unwrap().to_string(),
                v["action"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn trees_round_trip_incrementally_with_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let src = make_tree(dir.path());
    let dest = dir.path().join("dest");
    let back = dir.path().join("back");
    let before = snapshot(&src, None);
    let r = batch_encode(&src, &dest, &["--json", "-T2"]);
    assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
    let first = actions(&r);
    assert_eq!(first["a/b/loop"], "skipped");
    assert_eq!(first["dangling"], "skipped");
    assert_eq!(first["d/fifo"], "skipped");
    assert_eq!(
        first.values().filter(|a| *a == "encoded").count(),
        before.len()
    );
    // The source is untouched.
    assert_eq!(snapshot(&src, None), before);
    // Round trip, bit for bit, with mode and mtime.
    let r = batch_decode(&dest, &back);
    assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
    assert_eq!(snapshot(&back, None), before);
    let r = sigma(&[
        os("batch"),
        os("verify"),
        dest.as_os_str(),
        os("--source"),
        src.as_os_str(),
    ]);
    assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
    // A second run encodes nothing.
    let r = batch_encode(&src, &dest, &["--json"]);
    assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
    let second = actions(&r);
    assert!(
        second.values().all(|a| a == "unchanged" || a == "skipped"),
        "{second:?}"
    );
    // Touching one file re-encodes only that one; a deleted one is reported, then pruned.
    let touched = src.join("a/b/f01.dat");
    fs::write(&touched, b"changed content").unwrap();
    fs::remove_file(src.join("d/f03.dat")).unwrap();
    let r = batch_encode(&src, &dest, &["--json"]);
    assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
    let third = actions(&r);
    let encoded: Vec<_> = third
        .iter()
        .filter(|(_, a)| *a == "encoded")
        .map(|(p, _)| p.as_str())
        .collect();
    assert_eq!(encoded, ["a/b/f01.dat"]);
    assert_eq!(third["d/f03.dat"], "gone");
    assert!(dest.join("d/f03.dat.sigma").exists());
    let r = batch_encode(&src, &dest, &["--json", "--prune"]);
    assert_eq!(actions(&r)["d/f03.dat"], "pruned");
    assert!(!dest.join("d/f03.dat.sigma").exists());
    // A damaged stream fails verification, naming the file.
    let victim = dest.join("a/f04.dat.sigma");
    let mut s = fs::read(&victim).unwrap();
    let mid = s.len() / 2;
    s[mid] ^= 0x20;
    fs::write(&victim, s).unwrap();
    let r = batch_verify(&dest, &[]);
    assert_eq!(r.status.code(), Some(1));
    assert!(stderr(&r).contains("a/f04.dat"), "{}", stderr(&r));
}

#[test]
fn dest_inside_src_is_never_walked_and_bad_roots_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let src = make_tree(dir.path());
    let dest = src.join("out");
    let r = batch_encode(&src, &dest, &["--json"]);
    assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
    assert!(actions(&r).keys().all(|p| !p.starts_with("out")));
    let r = batch_encode(&src, &dest, &["--json"]);
    assert!(actions(&r)
        .values()
        .all(|a| a == "unchanged" || a == "skipped"));
    for (s, d) in [(&src, &src), (&dest, &src)] {
        let r = batch_encode(s, d, &[]);
        assert_eq!(r.status.code(), Some(2), "{}", stderr(&r));
    }
}

#[test]
fn an_unreadable_file_fails_alone_and_nothing_is_written_outside_dest() {
    let dir = tempfile::tempdir().unwrap();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o777)).unwrap();
    let src = make_tree(dir.path());
    for e in walkdir::WalkDir::new(&src).follow_links(false) {
        let e = e.unwrap();
        if e.file_type().is_dir() {
            fs::set_permissions(e.path(), fs::Permissions::from_mode(0o755)).unwrap();
        } else if e.file_type().is_file() {
            fs::set_permissions(e.path(), fs::Permissions::from_mode(0o644)).unwrap();
        }
    }
    let secret = src.join("a/b/secret.txt");
    fs::write(&secret, b"nobody may read this").unwrap();
    fs::set_permissions(&secret, fs::Permissions::from_mode(0o000)).unwrap();
    // A symlink planted in DEST may not lead a write outside it.
    let outside = dir.path().join("outside");
    fs::create_dir(&outside).unwrap();
    fs::set_permissions(&outside, fs::Permissions::from_mode(0o777)).unwrap();
    let dest = dir.path().join("dest");
    fs::create_dir(&dest).unwrap();
    fs::set_permissions(&dest, fs::Permissions::from_mode(0o777)).unwrap();
    std::os::unix::fs::symlink(&outside, dest.join("d")).unwrap();
    let before = snapshot(dir.path(), Some(&dest));
    let r = sigma_as_user(&[
        os("batch"),
        os("encode"),
        src.as_os_str(),
        os("-o"),
        dest.as_os_str(),
        os("--json"),
    ]);
    assert_eq!(r.status.code(), Some(1), "{}", stderr(&r));
    let acts = actions(&r);
    assert_eq!(acts["a/b/secret.txt"], "failed");
    let failed: Vec<_> = acts
        .iter()
        .filter(|(_, a)| *a == "failed")
        .map(|(p, _)| p.clone())
        .collect();
    // The files under the planted symlink fail too; everything else succeeds.
    assert!(
        failed
            .iter()
            .all(|p| p == "a/b/secret.txt" || p.starts_with("d/")),
        "{failed:?}"
    );
    assert!(stderr(&r).contains("a/b/secret.txt"), "{}", stderr(&r));
    assert!(acts.values().filter(|a| *a == "encoded").count() > 20);
    // A bad output folder fails its files, not the run: files after it are encoded and
    // the manifest is written.
    assert!(acts.keys().any(|p| p.starts_with("d/")), "{acts:?}");
    assert_eq!(acts["large.bin"], "encoded", "{acts:?}");
    assert_eq!(acts["empty"], "encoded", "{acts:?}");
    assert!(manifest_records(&dest)
        .iter()
        .any(|r| r["path"] == "large.bin"));
    assert_eq!(
        snapshot(dir.path(), Some(&dest)),
        before,
        "something outside DEST changed"
    );
    assert_eq!(fs::read_dir(&outside).unwrap().count(), 0);
    // A restore lacks the files that failed: it fails too, naming them.
    let r = batch_decode(&dest, &dir.path().join("restored"));
    assert_eq!(r.status.code(), Some(1), "{}", stderr(&r));
    assert!(
        stderr(&r).contains("a/b/secret.txt: not encoded"),
        "{}",
        stderr(&r)
    );
}

#[test]
fn shards_side_by_side_cover_every_file_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let src = make_tree(dir.path());
    let dest = dir.path().join("dest");
    let children: Vec<_> = (0..3)
        .map(|i| {
            StdCommand::new(bin())
                .args([
                    os("batch"),
                    os("encode"),
                    src.as_os_str(),
                    os("-o"),
                    dest.as_os_str(),
                    os("-q"),
                ])
                .arg(format!("--shard={i}/3"))
                .stdout(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    let records = manifest_records(&dest);
    let mut paths: Vec<String> = records
        .iter()
        .map(|r| {
            r["path"]
                .as_str()
                .map(String::from)
                .unwrap_or_else(|| r["path_hex"].to_string())
        })
        .collect();
    let n = paths.len();
    paths.sort();
    paths.dedup();
    assert_eq!(paths.len(), n, "a file is in two shards");
    assert_eq!(n, snapshot(&src, None).len());
    // The shard comes from the scheduler's index when only N is given.
    let r = StdCommand::new(bin())
        .args([
            os("batch"),
            os("encode"),
            src.as_os_str(),
            os("-o"),
            dest.as_os_str(),
            os("--shard"),
            os("3"),
            os("--json"),
        ])
        .env("JOB_COMPLETION_INDEX", "1")
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", stderr(&r));
    assert!(actions(&r)
        .values()
        .all(|a| a == "unchanged" || a == "skipped"));
    let back = dir.path().join("back");
    let r = batch_decode(&dest, &back);
    assert!(r.status.success(), "{}", stderr(&r));
    assert_eq!(snapshot(&back, None), snapshot(&src, None));
    let r = batch_verify(&dest, &[]);
    assert!(r.status.success(), "{}", stderr(&r));
    // A shard's part gone: decode and verify do the rest but fail, naming the part.
    let part = dest.join(".sigma-manifest.2-of-3.sigma-jsonl");
    assert!(part.exists());
    fs::remove_file(&part).unwrap();
    let partial = dir.path().join("partial");
    for r in [batch_decode(&dest, &partial), batch_verify(&dest, &[])] {
        assert_eq!(r.status.code(), Some(1), "{}", stderr(&r));
        assert!(
            stderr(&r).contains(".sigma-manifest.2-of-3.sigma-jsonl: manifest part missing"),
            "{}",
            stderr(&r)
        );
    }
    let restored = snapshot(&partial, None).len();
    assert!(restored > 0 && restored < snapshot(&src, None).len());
}

#[test]
fn a_run_killed_midway_and_rerun_ends_like_an_uninterrupted_one() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    for i in 0..60u64 {
        let sub = src.join(format!("d{}", i % 5));
        fs::create_dir_all(&sub).unwrap();
        fs::write(sub.join(format!("f{i:02}")), text_bytes(400_000, i)).unwrap();
    }
    let whole = dir.path().join("whole");
    let r = sigma(&[
        os("batch"),
        os("encode"),
        os("-9"),
        os("-T1"),
        src.as_os_str(),
        os("-o"),
        whole.as_os_str(),
        os("-q"),
    ]);
    assert!(r.status.success(), "{}", stderr(&r));
    let dest = dir.path().join("dest");
    let mut child = StdCommand::new(bin())
        .args([
            os("batch"),
            os("encode"),
            os("-9"),
            os("-T1"),
            src.as_os_str(),
            os("-o"),
            dest.as_os_str(),
            os("-q"),
        ])
        .spawn()
        .unwrap();
    let journal = dest.join(".sigma-manifest.0-of-1.jsonl.journal");
    let started = Instant::now();
    while fs::read_to_string(&journal)
        .map(|j| j.lines().count())
        .unwrap_or(0)
        < 10
    {
        assert!(started.elapsed() < Duration::from_secs(60));
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let done_before = fs::read_to_string(&journal).unwrap().lines().count();
    assert!(done_before < 60, "the run finished before it was killed");
    // Nothing under a final name is partial: every stream present decodes.
    for (rel, (content, ..)) in snapshot(&dest, None) {
        if rel.ends_with(b".sigma") {
            sigmalang::memory::decode(&content).unwrap();
        }
    }
    // Before any re-run, the journal's records are what verify and decode see: the files
    // the killed run finished are restorable.
    let done_now = fs::read_to_string(&journal).unwrap().lines().count();
    let r = batch_verify(&dest, &["--json"]);
    assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
    let verified = actions(&r).values().filter(|a| *a == "OK").count();
    assert_eq!(verified, done_now, "{}", String::from_utf8_lossy(&r.stdout));
    let early = dir.path().join("early");
    let r = batch_decode(&dest, &early);
    assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
    let restored = snapshot(&early, None);
    assert_eq!(restored.len(), done_now);
    let source = snapshot(&src, None);
    for (rel, (content, ..)) in &restored {
        assert_eq!(&source[rel].0, content);
    }
    let r = sigma(&[
        os("batch"),
        os("encode"),
        os("-9"),
        os("-T1"),
        src.as_os_str(),
        os("-o"),
        dest.as_os_str(),
        os("--json"),
    ]);
    assert!(r.status.success(), "{}", stderr(&r));
    let redone = actions(&r).values().filter(|a| *a == "encoded").count();
    assert!(
        redone <= 60 - done_before + 1,
        "{redone} re-encoded after {done_before} were done"
    );
    let strip = |m: BTreeMap<Vec<u8>, (Vec<u8>, u32, i64, i64)>| -> BTreeMap<Vec<u8>, Vec<u8>> {
        m.into_iter()
            .filter(|(k, _)| k.ends_with(b".sigma") && !k.starts_with(b".sigma-manifest."))
            .map(|(k, v)| (k, v.0))
            .collect()
    };
    assert_eq!(strip(snapshot(&dest, None)), strip(snapshot(&whole, None)));
    let fields = |d: &Path| -> Vec<String> {
        let mut v: Vec<String> = manifest_records(d)
            .into_iter()
            .map(|mut r| {
                r.as_object_mut().unwrap().remove("seconds");
                r.to_string()
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(fields(&dest), fields(&whole));
}

#[test]
fn a_walk_error_reports_what_was_done_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    let dest = dir.path().join("dest");
    for d in ["a", "b"] {
        fs::create_dir_all(src.join(d)).unwrap();
        for i in 0..5u64 {
            fs::write(src.join(d).join(format!("f{i}")), text_bytes(700, i)).unwrap();
        }
    }
    let r = batch_encode(&src, &dest, &["-q"]);
    assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
    for i in 0..5 {
        fs::remove_file(src.join(format!("a/f{i}"))).unwrap();
    }
    // A damaged line in the manifest after the records of a/: the run stops there, after
    // pruning a/'s streams, and must say that it did.
    let part = dest.join(".sigma-manifest.0-of-1.sigma-jsonl");
    let text = read_manifest_part(&part);
    let at = text.find("{\"path\":\"b/f0\"").expect("b/f0 record");
    write_manifest_part(&part, &format!("{}not json\n{}", &text[..at], &text[at..]));
    let r = batch_encode(&src, &dest, &["--prune", "--json"]);
    assert_eq!(r.status.code(), Some(1), "{}", stderr(&r));
    assert!(stderr(&r).contains("manifest"), "{}", stderr(&r));
    // Every stream removed is reported as pruned, and only those (the manifest reader
    // looks one record ahead, so the last one before the damage may stay untouched).
    let done = actions(&r);
    let mut pruned = 0;
    for i in 0..5 {
        let p = format!("a/f{i}");
        let reported = done.get(&p).map(String::as_str) == Some("pruned");
        let removed = !dest.join(format!("{p}.sigma")).exists();
        assert_eq!(reported, removed, "{p}: {done:?}");
        pruned += usize::from(removed);
    }
    assert!(pruned >= 4, "{done:?}");
}

#[test]
fn the_manifest_is_an_encoded_stream_rewritten_only_when_something_changed() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    fs::create_dir_all(src.join("sub")).unwrap();
    for i in 0..40 {
        fs::write(
            src.join(format!("sub/f{i}.txt")),
            text_bytes(500 + i * 13, i as u64),
        )
        .unwrap();
    }
    let dest = dir.path().join("dest");
    let r = batch_encode(&src, &dest, &["-q"]);
    assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
    let part = dest.join(".sigma-manifest.0-of-1.sigma-jsonl");
    assert!(!dest.join(".sigma-manifest.0-of-1.jsonl").exists());
    assert!(!dest.join(".sigma-manifest.0-of-1.jsonl.journal").exists());
    // `sigma decode -c PART` gives the JSON lines, smaller encoded than as text.
    let out = sigma(&[os("decode"), os("-c"), part.as_os_str()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 40);
    assert!(text.lines().all(|l| l.starts_with("{\"path\":\"sub/f")));
    assert!(fs::metadata(&part).unwrap().len() * 3 < text.len() as u64);
    // A re-run with nothing to do leaves the part as it was (same file, same bytes).
    let before = part_state(&part);
    let r = batch_encode(&src, &dest, &["-q"]);
    assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
    assert_eq!(part_state(&part), before);
    assert!(!dest.join(".sigma-manifest.0-of-1.jsonl.journal").exists());
    // A changed file rewrites it, with the new record.
    fs::write(src.join("sub/f3.txt"), b"changed").unwrap();
    let r = batch_encode(&src, &dest, &["-q"]);
    assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
    let records = manifest_records(&dest);
    let f3 = records.iter().find(|r| r["path"] == "sub/f3.txt").unwrap();
    assert_eq!(f3["size"], 7);
    // So does a vanished one.
    fs::remove_file(src.join("sub/f4.txt")).unwrap();
    let r = batch_encode(&src, &dest, &["-q"]);
    assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
    let records = manifest_records(&dest);
    let f4 = records.iter().find(|r| r["path"] == "sub/f4.txt").unwrap();
    assert_eq!(f4["status"], "missing");
}

#[test]
fn a_plain_manifest_of_an_earlier_version_is_read_and_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let (src, dest, part) = small_batch(dir.path());
    let plain = dest.join(".sigma-manifest.0-of-1.jsonl");
    fs::write(&plain, read_manifest_part(&part)).unwrap();
    fs::remove_file(&part).unwrap();
    // Decode reads the plain part.
    let back = dir.path().join("back");
    let r = batch_decode(&dest, &back);
    assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
    assert_eq!(snapshot(&back, None), snapshot(&src, None));
    // The next encode finds every file unchanged and replaces the plain part.
    let r = batch_encode(&src, &dest, &["--json"]);
    assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
    assert!(
        actions(&r).values().all(|a| a == "unchanged"),
        "{:?}",
        actions(&r)
    );
    assert!(!plain.exists());
    assert_eq!(manifest_records(&dest).len(), 3);
}

#[test]
fn a_damaged_encoded_manifest_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let (src, dest, part) = small_batch(dir.path());
    let mut bytes = fs::read(&part).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x40;
    fs::write(&part, &bytes).unwrap();
    let back = dir.path().join("back");
    for r in [
        batch_decode(&dest, &back),
        batch_encode(&src, &dest, &["-q"]),
    ] {
        assert_ne!(r.status.code(), Some(0));
        let err = stderr(&r);
        assert!(err.contains(".sigma-manifest.0-of-1.sigma-jsonl"), "{err}");
        assert!(err.lines().count() <= 2, "{err}");
    }
}

#[test]
fn a_stream_gone_from_dest_is_encoded_again_and_only_it() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    for d in ["a", "a/b", "a/b/c", "z"] {
        fs::create_dir_all(src.join(d)).unwrap();
        for i in 0..3 {
            fs::write(src.join(format!("{d}/f{i}")), text_bytes(200 + i, i as u64)).unwrap();
        }
    }
    let dest = dir.path().join("dest");
    let r = batch_encode(&src, &dest, &["-q"]);
    assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
    // One stream removed, one replaced by a symlink to a good copy, one by a folder.
    fs::remove_file(dest.join("a/f1.sigma")).unwrap();
    fs::copy(dest.join("a/b/f0.sigma"), dir.path().join("copy.sigma")).unwrap();
    fs::remove_file(dest.join("a/b/f0.sigma")).unwrap();
    std::os::unix::fs::symlink(dir.path().join("copy.sigma"), dest.join("a/b/f0.sigma")).unwrap();
    fs::remove_file(dest.join("a/b/c/f2.sigma")).unwrap();
    fs::create_dir(dest.join("a/b/c/f2.sigma")).unwrap();
    let r = batch_encode(&src, &dest, &["--json"]);
    let acts = actions(&r);
    let redone: Vec<_> = acts
        .iter()
        .filter(|(_, a)| *a != "unchanged")
        .map(|(p, a)| format!("{p} {a}"))
        .collect();
    assert_eq!(
        redone,
        ["a/b/c/f2 failed", "a/b/f0 encoded", "a/f1 encoded"],
        "{}",
        stderr(&r)
    );
    assert!(fs::symlink_metadata(dest.join("a/b/f0.sigma"))
        .unwrap()
        .is_file());
    assert!(fs::metadata(dest.join("a/f1.sigma")).unwrap().is_file());
}

/// A three-file tree encoded into `dir/dest`; returns (src, dest, part).
fn small_batch(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let src = dir.join("src");
    fs::create_dir_all(&src).unwrap();
    for i in 0..3 {
        fs::write(src.join(format!("f{i}")), text_bytes(300, i)).unwrap();
    }
    let dest = dir.join("dest");
    let r = batch_encode(&src, &dest, &["-q"]);
    assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
    let part = dest.join(".sigma-manifest.0-of-1.sigma-jsonl");
    (src, dest, part)
}

/// `batch verify` and `batch decode` of `dest` both fail with one line naming the part.
fn readers_refuse(dir: &Path, dest: &Path, why: &str) {
    let back = dir.join("back");
    for r in [batch_verify(dest, &[]), batch_decode(dest, &back)] {
        assert_eq!(r.status.code(), Some(1), "{why}: {}", stderr(&r));
        let err = stderr(&r);
        assert!(
            err.contains(".sigma-manifest.0-of-1.sigma-jsonl") && err.lines().count() <= 2,
            "{why}: {err}"
        );
    }
}

#[test]
fn damaged_encoded_parts_never_pass_for_fewer_records() {
    let dir = tempfile::tempdir().unwrap();
    let (_, dest, part) = small_batch(dir.path());
    let text = read_manifest_part(&part);
    let good = fs::read(&part).unwrap();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("one byte", vec![0xFF]),
        ("plain text", text.clone().into_bytes()),
        (
            "last newline gone",
            sigmalang::memory::encode(text.trim_end().as_bytes(), sigmalang::Level::DEFAULT, 4096)
                .unwrap(),
        ),
        (
            "a 2 MiB line",
            sigmalang::memory::encode(&vec![b' '; 2 << 20], sigmalang::Level::DEFAULT, 1 << 20)
                .unwrap(),
        ),
    ];
    for (why, bytes) in cases {
        fs::write(&part, &bytes).unwrap();
        readers_refuse(dir.path(), &dest, why);
    }
    fs::write(&part, good).unwrap();
    let r = batch_verify(&dest, &[]);
    assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
}

#[test]
fn a_source_file_named_like_a_manifest_part_keeps_its_own_stream() {
    let dir = tempfile::tempdir().unwrap();
    let src = source_dir(dir.path());
    fs::write(src.join("a"), b"hello").unwrap();
    for name in [
        ".sigma-manifest.0-of-1.jsonl",
        ".sigma-manifest.0-of-1.sigma-jsonl",
        ".sigma-manifest.0-of-2.jsonl",
    ] {
        fs::write(src.join(name), format!("{{\"not\":\"{name}\"}}\n")).unwrap();
    }
    let dest = dir.path().join("dest");
    for _ in 0..2 {
        let r = batch_encode(&src, &dest, &["-q"]);
        assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
    }
    assert_eq!(manifest_records(&dest).len(), 4);
    let back = dir.path().join("back");
    let r = batch_decode(&dest, &back);
    assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
    assert_eq!(snapshot(&back, None), snapshot(&src, None));
}

#[test]
fn a_stale_plain_part_beside_the_encoded_one_is_ignored_then_removed() {
    let dir = tempfile::tempdir().unwrap();
    let (src, dest, part) = small_batch(dir.path());
    // A run killed after the encoded part was renamed in, before the plain one was
    // removed, leaves both; the plain one may even be out of date.
    let plain = dest.join(".sigma-manifest.0-of-1.jsonl");
    let text = read_manifest_part(&part);
    fs::write(&plain, text.lines().next().unwrap().to_string() + "\n").unwrap();
    let r = batch_verify(&dest, &[]);
    assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
    let r = batch_encode(&src, &dest, &["-q"]);
    assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
    assert!(!plain.exists());
    assert_eq!(read_manifest_part(&part), text);
}

#[test]
fn the_manifest_is_never_written_through_a_symlink() {
    let dir = tempfile::tempdir().unwrap();
    let (src, dest, part) = small_batch(dir.path());
    let victims: Vec<PathBuf> = (0..3)
        .map(|i| dir.path().join(format!("victim{i}")))
        .collect();
    for v in &victims {
        fs::write(v, b"precious").unwrap();
    }
    let mut writing = part.clone().into_os_string();
    writing.push(".writing");
    let names = [
        PathBuf::from(writing),
        dest.join(".sigma-manifest.0-of-1.jsonl.journal"),
        dest.join(".sigma-manifest.0-of-1.jsonl.folding"),
    ];
    for (name, victim) in names.iter().zip(&victims) {
        std::os::unix::fs::symlink(victim, name).unwrap();
    }
    fs::write(src.join("new"), b"new file").unwrap();
    let r = batch_encode(&src, &dest, &["-q"]);
    assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
    for v in &victims {
        assert_eq!(fs::read(v).unwrap(), b"precious");
    }
    assert!(fs::symlink_metadata(&part).unwrap().is_file());
    assert_eq!(manifest_records(&dest).len(), 4);
}

#[test]
fn a_missing_record_alone_does_not_rewrite_the_part() {
    let dir = tempfile::tempdir().unwrap();
    let (src, dest, part) = small_batch(dir.path());
    fs::remove_file(src.join("f1")).unwrap();
    let r = batch_encode(&src, &dest, &["-q"]);
    assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
    let before = part_state(&part);
    let r = batch_encode(&src, &dest, &["-q"]);
    assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
    assert_eq!(part_state(&part), before);
    assert_eq!(manifest_status(&dest, "f1"), "missing");
}

#[test]
fn a_folder_the_walk_cannot_read_keeps_its_streams_under_prune() {
    let dir = tempfile::tempdir().unwrap();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o777)).unwrap();
    let src = dir.path().join("src");
    fs::create_dir_all(src.join("a")).unwrap();
    fs::write(src.join("a/f1"), b"one").unwrap();
    fs::write(src.join("b"), b"two").unwrap();
    for p in [src.clone(), src.join("a")] {
        fs::set_permissions(&p, fs::Permissions::from_mode(0o777)).unwrap();
    }
    for p in [src.join("a/f1"), src.join("b")] {
        fs::set_permissions(&p, fs::Permissions::from_mode(0o644)).unwrap();
    }
    let dest = dir.path().join("dest");
    let run = |extra: &str| {
        sigma_as_user(&[
            os("batch"),
            os("encode"),
            src.as_os_str(),
            os("-o"),
            dest.as_os_str(),
            os(extra),
        ])
    };
    let r = run("-q");
    assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
    fs::set_permissions(src.join("a"), fs::Permissions::from_mode(0o000)).unwrap();
    let r = run("--prune");
    fs::set_permissions(src.join("a"), fs::Permissions::from_mode(0o777)).unwrap();
    assert_eq!(r.status.code(), Some(1), "{}", stderr(&r));
    assert!(dest.join("a/f1.sigma").exists(), "{}", stderr(&r));
    assert_eq!(manifest_status(&dest, "a/f1"), "encoded");
}

#[test]
fn a_root_folder_named_like_the_manifest_fails_its_files_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    for name in [
        ".sigma-manifest.0-of-1.sigma-jsonl",
        ".sigma-manifest.0-of-1.jsonl",
        ".sigma-manifest.0-of-1.jsonl.journal",
    ] {
        fs::create_dir_all(src.join(name)).unwrap();
        fs::write(src.join(name).join("f"), b"inside").unwrap();
    }
    fs::write(src.join("a"), b"hello").unwrap();
    let dest = dir.path().join("dest");
    for _ in 0..2 {
        let r = batch_encode(&src, &dest, &["--json"]);
        assert_eq!(r.status.code(), Some(1), "{}", stderr(&r));
        let acts = actions(&r);
        assert_eq!(
            acts.values().filter(|a| *a == "failed").count(),
            3,
            "{acts:?}"
        );
        assert!(stderr(&r).contains("rename it"), "{}", stderr(&r));
    }
    let r = batch_verify(&dest, &[]);
    assert_eq!(r.status.code(), Some(1), "{}", stderr(&r));
    let back = dir.path().join("back");
    let r = batch_decode(&dest, &back);
    assert_eq!(
        fs::read(back.join("a")).unwrap(),
        b"hello",
        "{}",
        stderr(&r)
    );
}

#[test]
fn a_dangling_part_and_a_journal_of_another_shard_count_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (src, dest, part) = small_batch(dir.path());
    let text = read_manifest_part(&part);
    fs::remove_file(&part).unwrap();
    std::os::unix::fs::symlink(dir.path().join("nowhere"), &part).unwrap();
    readers_refuse(dir.path(), &dest, "dangling part");
    fs::remove_file(&part).unwrap();
    fs::write(dest.join(".sigma-manifest.0-of-2.jsonl.journal"), text).unwrap();
    let r = batch_encode(&src, &dest, &["-q"]);
    assert_eq!(r.status.code(), Some(1), "{}", stderr(&r));
    assert!(stderr(&r).contains("shard count"), "{}", stderr(&r));
}

#[test]
fn a_prune_run_killed_before_its_commit_does_not_bring_pruned_files_back() {
    let dir = tempfile::tempdir().unwrap();
    let (src, dest, part) = small_batch(dir.path());
    let before = fs::read(&part).unwrap();
    fs::remove_file(src.join("f1")).unwrap();
    let r = batch_encode(&src, &dest, &["--prune", "-q"]);
    assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
    assert!(!dest.join("f1.sigma").exists());
    // As if that run had been killed after its last journal write, before its commit: the
    // old part, with the run's records as the journal.
    let lines = read_manifest_part(&part);
    fs::write(&part, before).unwrap();
    fs::write(dest.join(".sigma-manifest.0-of-1.jsonl.journal"), lines).unwrap();
    let r = batch_verify(&dest, &[]);
    assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
    let r = batch_encode(&src, &dest, &["-q"]);
    assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
    let r = batch_verify(&dest, &["--json"]);
    assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
    assert_eq!(
        actions(&r).len(),
        2,
        "{}",
        String::from_utf8_lossy(&r.stdout)
    );
    assert!(manifest_records(&dest).iter().all(|r| r["path"] != "f1"));
}

#[test]
fn pruned_markers_never_stand_in_for_other_records() {
    let dir = tempfile::tempdir().unwrap();
    let src = source_dir(dir.path());
    for f in ["a", "b", "c", "d"] {
        fs::write(src.join(f), f.repeat(3)).unwrap();
    }
    let dest = dir.path().join("dest");
    let run = |extra: &[&str]| {
        let r = batch_encode(&src, &dest, &[&["--json"], extra].concat());
        assert!(r.status.code() == Some(0), "{}", stderr(&r));
        actions(&r)
    };
    let paths = || -> Vec<String> {
        manifest_records(&dest)
            .iter()
            .filter(|r| r["status"] != "pruned")
            .map(|r| format!("{} {}", r["path"].as_str().unwrap(), r["status"]))
            .collect()
    };
    run(&[]);
    fs::remove_file(src.join("b")).unwrap();
    assert_eq!(run(&["--prune"])["b"], "pruned");
    // A run without --prune, then with, then again: nothing but "unchanged".
    for extra in [&[][..], &["--prune"], &["--prune"]] {
        let acts = run(extra);
        assert!(acts.values().all(|a| a == "unchanged"), "{acts:?}");
        assert_eq!(paths(), ["a \"encoded\"", "c \"encoded\"", "d \"encoded\""]);
    }
    // The pruned name comes back while another file goes.
    fs::write(src.join("b"), b"new b").unwrap();
    fs::remove_file(src.join("c")).unwrap();
    let acts = run(&["--prune"]);
    assert_eq!(acts["b"], "encoded", "{acts:?}");
    assert_eq!(acts["c"], "pruned", "{acts:?}");
    assert_eq!(acts["d"], "unchanged", "{acts:?}");
    assert!(!dest.join("c.sigma").exists());
    assert_eq!(paths(), ["a \"encoded\"", "b \"encoded\"", "d \"encoded\""]);
    let r = batch_verify(&dest, &[]);
    assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
}

#[test]
fn an_unreadable_source_root_or_a_dangling_part_stops_the_run_before_any_prune() {
    let dir = tempfile::tempdir().unwrap();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o777)).unwrap();
    let src = source_dir(dir.path());
    fs::set_permissions(&src, fs::Permissions::from_mode(0o777)).unwrap();
    for f in ["a", "b"] {
        fs::write(src.join(f), b"data").unwrap();
        fs::set_permissions(src.join(f), fs::Permissions::from_mode(0o644)).unwrap();
    }
    let dest = dir.path().join("dest");
    let encode = || {
        sigma_as_user(&[
            os("batch"),
            os("encode"),
            src.as_os_str(),
            os("-o"),
            dest.as_os_str(),
            os("--prune"),
            os("-q"),
        ])
    };
    let r = encode();
    assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
    let part = dest.join(".sigma-manifest.0-of-1.sigma-jsonl");
    let before = fs::read(&part).unwrap();
    fs::set_permissions(&src, fs::Permissions::from_mode(0o000)).unwrap();
    let r = encode();
    fs::set_permissions(&src, fs::Permissions::from_mode(0o777)).unwrap();
    assert_eq!(r.status.code(), Some(1), "{}", stderr(&r));
    assert!(
        stderr(&r).contains("reading the source folder"),
        "{}",
        stderr(&r)
    );
    assert!(dest.join("a.sigma").exists() && dest.join("b.sigma").exists());
    assert_eq!(fs::read(&part).unwrap(), before);
    let moved = dir.path().join("moved");
    fs::rename(&part, &moved).unwrap();
    std::os::unix::fs::symlink(dir.path().join("nowhere"), &part).unwrap();
    fs::remove_file(src.join("b")).unwrap();
    let r = encode();
    assert_eq!(r.status.code(), Some(1), "{}", stderr(&r));
    assert!(
        stderr(&r).contains(".sigma-manifest.0-of-1.sigma-jsonl"),
        "{}",
        stderr(&r)
    );
    assert!(dest.join("b.sigma").exists());
}

#[test]
fn a_permission_change_alone_is_encoded_again() {
    let dir = tempfile::tempdir().unwrap();
    let src = source_dir(dir.path());
    let f = src.join("script.sh");
    fs::write(&f, b"echo hello\n").unwrap();
    fs::set_permissions(&f, fs::Permissions::from_mode(0o644)).unwrap();
    let dest = dir.path().join("dest");
    assert!(batch_encode(&src, &dest, &[]).status.success());
    // chmod changes neither size nor mtime; verify against the source sees it.
    fs::set_permissions(&f, fs::Permissions::from_mode(0o755)).unwrap();
    let src_arg = src.to_str().unwrap();
    let r = batch_verify(&dest, &["--source", src_arg]);
    assert_eq!(r.status.code(), Some(1));
    assert!(stderr(&r).contains("permission bits"), "{}", stderr(&r));
    let r = batch_encode(&src, &dest, &["--json"]);
    assert!(r.status.success(), "{}", stderr(&r));
    assert_eq!(actions(&r)["script.sh"], "encoded");
    let out = dir.path().join("restored");
    assert!(batch_decode(&dest, &out).status.success());
    let mode = fs::metadata(out.join("script.sh"))
        .unwrap()
        .permissions()
        .mode()
        & 0o7777;
    assert_eq!(mode, 0o755);
}

#[test]
fn a_failed_file_that_is_gone_leaves_no_record() {
    // A 250-byte name: its stream's name (".sigma" added) is too long, so it fails.
    let dir = tempfile::tempdir().unwrap();
    let src = source_dir(dir.path());
    fs::write(src.join("ok.txt"), b"fine\n").unwrap();
    let long = src.join("n".repeat(250));
    fs::write(&long, b"x\n").unwrap();
    let dest = dir.path().join("dest");
    assert_eq!(batch_encode(&src, &dest, &[]).status.code(), Some(1));
    fs::rename(&long, src.join("short.txt")).unwrap();
    for _ in 0..2 {
        let r = batch_encode(&src, &dest, &["--prune"]);
        assert!(r.status.success(), "{}", stderr(&r));
    }
    assert!(batch_verify(&dest, &[]).status.success());
    assert!(manifest_records(&dest)
        .iter()
        .all(|r| r["path"] == "ok.txt" || r["path"] == "short.txt"));
}

#[test]
fn prune_removes_the_stream_of_a_file_whose_last_encode_failed() {
    let dir = tempfile::tempdir().unwrap();
    let (src, dest) = shared_dirs(dir.path());
    let a = src.join("a");
    fs::write(&a, b"first\n").unwrap();
    fs::set_permissions(&a, fs::Permissions::from_mode(0o666)).unwrap();
    let run = |extra: &[&str]| sigma_as_user(&batch_encode_args(&src, &dest, extra));
    assert!(run(&[]).status.success());
    assert!(dest.join("a.sigma").exists());
    // Changed and unreadable: its encode fails, the old stream stays.
    fs::write(&a, b"second, longer\n").unwrap();
    fs::set_permissions(&a, fs::Permissions::from_mode(0o000)).unwrap();
    assert_eq!(run(&[]).status.code(), Some(1));
    assert!(dest.join("a.sigma").exists());
    // Gone: --prune removes that stream.
    fs::remove_file(&a).unwrap();
    let r = run(&["--prune"]);
    assert!(r.status.success(), "{}", stderr(&r));
    assert!(!dest.join("a.sigma").exists());
}

#[test]
fn messages_show_odd_names_on_one_line_and_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let (src, dest) = shared_dirs(dir.path());
    // Unreadable, so its failure is reported; the other is reported with -v.
    let two_lines = src.join("two\nlines");
    fs::write(&two_lines, b"x\n").unwrap();
    fs::set_permissions(&two_lines, fs::Permissions::from_mode(0o000)).unwrap();
    let latin = src.join(OsStr::from_bytes(b"caf\xe9\tbar"));
    fs::write(&latin, b"y\n").unwrap();
    fs::set_permissions(&latin, fs::Permissions::from_mode(0o666)).unwrap();
    let r = sigma_as_user(&batch_encode_args(&src, &dest, &["-v"]));
    assert_eq!(r.status.code(), Some(1));
    let err = stderr(&r);
    let lines: Vec<&str> = err.lines().collect();
    assert!(
        lines.iter().any(|l| l.starts_with("sigma: two\\nlines: ")),
        "{err}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("caf\\xe9\\tbar: encoded")),
        "{err}"
    );
    // Every line is a message of its own: a file's line, or the summary.
    assert!(
        lines
            .iter()
            .all(|l| l.starts_with("sigma: ") || l.starts_with("caf") || l.starts_with("batch: ")),
        "{err}"
    );
    // The roots' own errors too.
    let r = batch_encode(&dir.path().join("no\nsource"), &dest, &[]);
    assert_eq!(r.status.code(), Some(2));
    assert_eq!(stderr(&r).lines().count(), 1, "{}", stderr(&r));
}

#[test]
fn streams_and_folders_keep_the_sources_privacy() {
    let dir = tempfile::tempdir().unwrap();
    let src = source_dir(dir.path());
    fs::create_dir(src.join("private")).unwrap();
    fs::write(src.join("secret"), b"only mine\n").unwrap();
    fs::write(src.join("private/f"), b"also mine\n").unwrap();
    fs::write(src.join("shared"), b"anyone\n").unwrap();
    let mode = |p: &Path, m: u32| fs::set_permissions(p, fs::Permissions::from_mode(m)).unwrap();
    mode(&src.join("secret"), 0o600);
    mode(&src.join("shared"), 0o644);
    mode(&src.join("private"), 0o700);
    mode(&src, 0o750);
    let dest = dir.path().join("dest");
    assert!(batch_encode(&src, &dest, &["-q"]).status.success());
    let bits = |p: PathBuf| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(bits(dest.join("secret.sigma")), 0o600);
    assert_eq!(bits(dest.join("shared.sigma")), 0o644);
    assert_eq!(bits(dest.join("private")), 0o700);
    assert_eq!(bits(dest.clone()), 0o750);
    // Streams carry their source's mtime, as `sigma encode` gives its output.
    assert_eq!(
        filetime(dest.join("secret.sigma")),
        filetime(src.join("secret"))
    );
}

#[test]
fn decode_replaces_existing_files_only_with_force() {
    let dir = tempfile::tempdir().unwrap();
    let src = source_dir(dir.path());
    fs::write(src.join("a"), b"from the archive\n").unwrap();
    fs::write(src.join("b"), b"untouched\n").unwrap();
    let dest = dir.path().join("dest");
    assert!(batch_encode(&src, &dest, &[]).status.success());
    let out = dir.path().join("out");
    assert!(batch_decode(&dest, &out).status.success());
    // A second run passes over the files it restored.
    let again = sigma(&[
        os("batch"),
        os("decode"),
        dest.as_os_str(),
        os("-o"),
        out.as_os_str(),
        os("--json"),
    ]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(
        actions(&again).get("a").map(String::as_str),
        Some("unchanged")
    );
    // A folder in the way is named as one.
    fs::remove_file(out.join("b")).unwrap();
    fs::create_dir(out.join("b")).unwrap();
    let r = batch_decode(&dest, &out);
    assert_eq!(r.status.code(), Some(1));
    assert!(stderr(&r).contains("is a folder"), "{}", stderr(&r));
    fs::remove_dir(out.join("b")).unwrap();
    // A file changed since is not overwritten...
    fs::write(out.join("a"), b"newer work\n").unwrap();
    let refused = batch_decode(&dest, &out);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("use -f to overwrite"),
        "{}",
        stderr(&refused)
    );
    assert_eq!(fs::read(out.join("a")).unwrap(), b"newer work\n");
    // ... unless asked.
    let forced = sigma(&[
        os("batch"),
        os("decode"),
        dest.as_os_str(),
        os("-o"),
        out.as_os_str(),
        os("-f"),
    ]);
    assert!(forced.status.success(), "{}", stderr(&forced));
    assert_eq!(fs::read(out.join("a")).unwrap(), b"from the archive\n");
}

/// Under a memory limit, a file small enough for a worker to code whole is coded in the
/// frames `sigma encode` picks for it under that limit: whole, it would exceed the limit.
#[test]
fn a_memory_limit_bounds_the_frames_of_small_files_too() {
    let root = tempfile::tempdir().unwrap();
    let src = source_dir(root.path());
    let file = src.join("f.txt");
    fs::write(&file, text_bytes(2 << 20, 7)).unwrap();
    let (single, dest) = (root.path().join("single.sigma"), root.path().join("dest"));
    let limit = ["-3", "--memory-limit", "10M", "-T2", "-q"].map(os);
    let encode = sigma(
        &[
            &[os("encode"), os("-o"), single.as_os_str()],
            &limit[..],
            &[file.as_os_str()],
        ]
        .concat(),
    );
    assert!(encode.status.success(), "{}", stderr(&encode));
    let batch = sigma(
        &[
            &[
                os("batch"),
                os("encode"),
                src.as_os_str(),
                os("-o"),
                dest.as_os_str(),
            ],
            &limit[..],
        ]
        .concat(),
    );
    assert!(batch.status.success(), "{}", stderr(&batch));
    let chunk = |p: &Path| {
        let info = sigmalang::decode::inspect(&mut fs::File::open(p).unwrap()).unwrap();
        info.header.chunk_size
    };
    let expected = chunk(&single);
    assert!(
        expected < 1 << 20,
        "the limit lowers the frame size ({expected})"
    );
    assert_eq!(chunk(&dest.join("f.txt.sigma")), expected);
}

#[test]
fn a_small_files_stream_is_decoded_only_up_to_its_recorded_size_and_length() {
    let dir = tempfile::tempdir().unwrap();
    let src = source_dir(dir.path());
    fs::write(src.join("a.txt"), b"hello\n").unwrap();
    let dest = dir.path().join("dest");
    assert!(batch_encode(&src, &dest, &["-q"]).status.success());
    let stream = dest.join("a.txt.sigma");
    // Streams of 4 MiB of zeros (a few hundred bytes each) in place of a 6-byte file's:
    // refused at the first frame, before it is decoded (it took 86 MB before).
    let zeros = dir.path().join("zeros");
    fs::write(&zeros, vec![0u8; 4 << 20]).unwrap();
    let out = sigma(&[os("encode"), os("-1"), os("-c"), zeros.as_os_str()]);
    assert!(out.status.success());
    fs::write(&stream, out.stdout.repeat(20)).unwrap();
    let back = dir.path().join("back");
    for r in [batch_verify(&dest, &[]), batch_decode(&dest, &back)] {
        assert_eq!(r.status.code(), Some(1), "{}", stderr(&r));
        assert!(stderr(&r).contains("past 6 bytes"), "{}", stderr(&r));
    }
    // The stream followed by more than a small file's stream can be: an error, not a
    // pass on the part that was read.
    let mut long = sigma(&[os("encode"), os("-c"), src.join("a.txt").as_os_str()]).stdout;
    long.resize(9 << 20, b'x');
    fs::write(&stream, long).unwrap();
    let r = batch_verify(&dest, &[]);
    assert_eq!(r.status.code(), Some(1), "{}", stderr(&r));
    assert!(
        stderr(&r).contains("the stream goes on past"),
        "{}",
        stderr(&r)
    );
}
