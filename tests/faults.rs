//! Fault injection: full disks, file-size limits, failing writers, read-only folders,
//! processes killed mid-way and inputs that change under the encoder. In every case:
//! an error (never a panic), and nothing partial under a final name.

use std::fs;
use std::io::{self, Cursor, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sigmalang::decode::Decoder;
use sigmalang::pipeline::{Encoder, ReadMode};
use sigmalang::{memory, Error, Level};

use crate::util::*;

fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("sigma")
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// A writer that fails after `limit` bytes, or at flush.
struct Failing {
    limit: usize,
    written: usize,
    fail_flush: bool,
}

impl Write for Failing {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.written + buf.len() > self.limit {
            return Err(io::Error::other("injected write failure"));
        }
        self.written += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        if self.fail_flush {
            return Err(io::Error::other("injected flush failure"));
        }
        Ok(())
    }
}

#[test]
fn failing_writes_and_flushes_are_errors_for_encoder_and_decoder() {
    let data = mixed_bytes(600_000, 1);
    let stream = memory::encode(&data, Level::DEFAULT, 64 * 1024).unwrap();
    let enc = Encoder::new(config(3, 64 * 1024, 2, ReadMode::Read)).unwrap();
    let dec = Decoder::new(2).unwrap();
    for limit in [0, 10, 1000, stream.len() / 2, stream.len() - 1] {
        let mut w = Failing {
            limit,
            written: 0,
            fail_flush: false,
        };
        let e = enc
            .encode_reader(Cursor::new(&data), None, &mut w, &|_| {})
            .unwrap_err();
        assert!(e.to_string().contains("injected write failure"), "{e}");
        let mut w = Failing {
            limit: limit.min(data.len() - 1),
            written: 0,
            fail_flush: false,
        };
        let e = dec
            .decode(Cursor::new(&stream), &mut w, &|_| {})
            .unwrap_err();
        assert!(e.to_string().contains("injected write failure"), "{e}");
    }
    let mut w = Failing {
        limit: usize::MAX,
        written: 0,
        fail_flush: true,
    };
    let e = enc
        .encode_reader(Cursor::new(&data), None, &mut w, &|_| {})
        .unwrap_err();
    assert!(
        matches!(e, Error::Io { .. }) && e.to_string().contains("flush"),
        "{e}"
    );
    let mut w = Failing {
        limit: usize::MAX,
        written: 0,
        fail_flush: true,
    };
    assert!(dec.decode(Cursor::new(&stream), &mut w, &|_| {}).is_err());
}

#[test]
fn a_file_size_limit_is_an_error_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.bin");
    fs::write(&input, random_bytes(2 << 20, 2)).unwrap();
    let r = Command::new("sh")
        .arg("-c")
        .arg("ulimit -f 512; exec \"$0\" encode \"$1\"")
        .arg(bin())
        .arg(&input)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&r.stderr);
    assert_eq!(r.status.code(), Some(1), "{err}");
    assert!(err.contains("File too large"), "{err}");
    assert_eq!(names(dir.path()), ["in.bin"]);
}

#[test]
fn a_read_only_folder_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.txt");
    fs::write(&input, text_bytes(10_000, 3)).unwrap();
    let ro = dir.path().join("ro");
    fs::create_dir(&ro).unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    fs::set_permissions(&input, fs::Permissions::from_mode(0o644)).unwrap();
    fs::set_permissions(&ro, fs::Permissions::from_mode(0o555)).unwrap();
    // As root permissions do not apply: run as nobody.
    let root = fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false);
    let mut cmd = if root {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(bin());
        c
    } else {
        Command::new(bin())
    };
    let r = cmd
        .arg("encode")
        .arg(&input)
        .arg("-o")
        .arg(ro.join("out.sigma"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&r.stderr);
    assert_eq!(r.status.code(), Some(1), "{err}");
    assert!(
        err.contains("Permission denied") && err.contains("in.txt"),
        "{err}"
    );
    assert!(names(&ro).is_empty());
}

#[test]
fn a_decode_killed_midway_leaves_nothing_and_the_next_run_cleans_up() {
    let dir = tempfile::tempdir().unwrap();
    let data = text_bytes(64 << 20, 4);
    let stream = memory::encode(&data, Level::new(1).unwrap(), 1 << 20).unwrap();
    drop(data);
    let s = dir.path().join("big.sigma");
    fs::write(&s, &stream).unwrap();
    let mut child = Command::new(bin())
        .args(["decode", "-T1"])
        .arg(&s)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let partial = dir.path().join(".big.sigma-partial");
    while !partial.exists() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no partial file appeared"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        !dir.path().join("big").exists(),
        "a partial output under the final name"
    );
    let r = Command::new(bin()).arg("decode").arg(&s).output().unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert_eq!(names(dir.path()), ["big", "big.sigma"]);
}

#[test]
fn inputs_that_shrink_or_grow_while_encoded_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("live.bin");
    for (mode, grow) in [
        (ReadMode::Read, true),
        (ReadMode::Read, false),
        (ReadMode::Mmap, true),
    ] {
        fs::write(&path, mixed_bytes(2 << 20, 5)).unwrap();
        let enc = Encoder::new(config(3, 64 * 1024, 1, mode)).unwrap();
        let change = || {
            let f = fs::OpenOptions::new().write(true).open(&path).unwrap();
            let len = f.metadata().unwrap().len();
            // Growing appends; shrinking cuts only bytes the encoder has not reached.
            f.set_len(if grow { len + 100 } else { len - 100 }).unwrap();
        };
        let once = std::sync::Once::new();
        let mut out = Vec::new();
        let r = enc.encode_file(&path, &mut out, &|done| {
            if done > 1 << 20 {
                once.call_once(change);
            }
        });
        assert!(
            matches!(r, Err(Error::InputChanged { .. })),
            "{mode:?} grow {grow}: {r:?}"
        );
    }
}
