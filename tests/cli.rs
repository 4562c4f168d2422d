//! The `sigma` binary, driven as a user would: every subcommand and every safety rule.

use std::fs::{self, File};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Stdio};

use assert_cmd::Command;

use crate::util::*;

fn sigma() -> Command {
    Command::cargo_bin("sigma").unwrap()
}

fn sigma_path() -> PathBuf {
    assert_cmd::cargo::cargo_bin("sigma")
}

fn write(dir: &Path, name: &str, data: &[u8]) -> PathBuf {
    let p = dir.join(name);
    fs::write(&p, data).unwrap();
    p
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Files in `dir` whose names look like our temporary outputs.
fn leftovers(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".sigma-partial"))
        .collect()
}

#[test]
fn stdin_to_stdout_round_trip() {
    let data = mixed_bytes(300_000, 1);
    let enc = sigma().write_stdin(data.clone()).output().unwrap();
    assert!(enc.status.success(), "{}", stderr(&enc));
    let dec = sigma()
        .arg("-d")
        .write_stdin(enc.stdout.clone())
        .output()
        .unwrap();
    assert!(dec.status.success(), "{}", stderr(&dec));
    assert_eq!(dec.stdout, data);
    let dec = sigma()
        .args(["decode", "-"])
        .write_stdin(enc.stdout)
        .output()
        .unwrap();
    assert_eq!(dec.stdout, data);
}

#[test]
fn encode_beside_input_then_decode_back() {
    let dir = tempfile::tempdir().unwrap();
    let data = text_bytes(200_000, 2);
    let input = write(dir.path(), "a.txt", &data);
    fs::set_permissions(&input, fs::Permissions::from_mode(0o640)).unwrap();
    sigma().arg("encode").arg(&input).assert().success();
    let sig = dir.path().join("a.txt.sigma");
    assert!(sig.exists());
    assert_eq!(
        fs::metadata(&sig).unwrap().permissions().mode() & 0o777,
        0o640
    );
    assert_eq!(
        fs::metadata(&sig).unwrap().modified().unwrap(),
        fs::metadata(&input).unwrap().modified().unwrap()
    );
    fs::remove_file(&input).unwrap();
    sigma().arg("-d").arg(&sig).assert().success();
    assert_eq!(fs::read(&input).unwrap(), data);
    assert!(leftovers(dir.path()).is_empty());
}

#[test]
fn refuses_to_overwrite_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "b.bin", &mixed_bytes(10_000, 3));
    let out = dir.path().join("b.bin.sigma");
    fs::write(&out, b"precious").unwrap();
    let r = sigma().arg("encode").arg(&input).output().unwrap();
    assert_eq!(r.status.code(), Some(1));
    assert!(stderr(&r).contains("already exists"), "{}", stderr(&r));
    assert_eq!(fs::read(&out).unwrap(), b"precious");
    sigma()
        .args(["encode", "-f"])
        .arg(&input)
        .assert()
        .success();
    assert_ne!(fs::read(&out).unwrap(), b"precious");
}

#[test]
fn input_equal_to_output_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = mixed_bytes(10_000, 4);
    let input = write(dir.path(), "c.bin", &data);
    let r = sigma()
        .arg("encode")
        .arg(&input)
        .arg("-o")
        .arg(&input)
        .arg("-f")
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(1));
    assert!(stderr(&r).contains("same file"), "{}", stderr(&r));
    assert_eq!(fs::read(&input).unwrap(), data);
}

#[test]
fn standard_output_appending_to_the_input_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = text_bytes(200_000, 3);
    let input = write(dir.path(), "s.txt", &data);
    sigma().arg("encode").arg(&input).assert().success();
    let stream_path = dir.path().join("s.txt.sigma");
    let stream = fs::read(&stream_path).unwrap();
    let append = |p: &Path| File::options().append(true).open(p).unwrap();
    // (arguments, the file that is both input and output, its bytes, input from stdin)
    let cases: [(&[&str], &Path, &[u8], bool); 5] = [
        (&["-dc"], &stream_path, &stream, false),
        (&["-dc", "-"], &stream_path, &stream, true),
        (&["decode", "--salvage", "-c"], &stream_path, &stream, false),
        (&["encode", "-c"], &input, &data, false),
        (&["encode", "-c"], &input, &data, true),
    ];
    for (args, file, bytes, from_stdin) in cases {
        let mut cmd = StdCommand::new(sigma_path());
        cmd.args(args).stdout(Stdio::from(append(file)));
        if from_stdin {
            cmd.stdin(Stdio::from(File::open(file).unwrap()));
        } else {
            cmd.arg(file);
        }
        let r = cmd.output().unwrap();
        assert_eq!(r.status.code(), Some(1), "{args:?}");
        let msg = stderr(&r);
        assert!(
            msg.contains("standard output is the input file"),
            "{args:?}: {msg}"
        );
        assert_eq!(fs::read(file).unwrap(), bytes, "{args:?} changed its input");
    }
}

#[test]
fn truncated_stream_fails_naming_the_file_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let s = sigmalang::memory::encode(&mixed_bytes(100_000, 5), sigmalang::Level::DEFAULT, 16_384)
        .unwrap();
    let sig = write(dir.path(), "t.bin.sigma", &s[..s.len() * 2 / 3]);
    let r = sigma().arg("-d").arg(&sig).output().unwrap();
    assert_eq!(r.status.code(), Some(1));
    let msg = stderr(&r);
    assert!(
        msg.contains("t.bin.sigma") && msg.contains("truncated"),
        "{msg}"
    );
    assert_eq!(msg.lines().count(), 1, "{msg}");
    assert!(!dir.path().join("t.bin").exists());
    assert!(leftovers(dir.path()).is_empty());
}

#[test]
fn full_disk_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "d.bin", &mixed_bytes(500_000, 6));
    let full = File::options().write(true).open("/dev/full").unwrap();
    let r = StdCommand::new(sigma_path())
        .args(["encode", "-c"])
        .arg(&input)
        .stdout(Stdio::from(full))
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(1));
    assert!(stderr(&r).contains("No space left"), "{}", stderr(&r));
}

#[test]
fn a_failing_output_is_named_in_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "d.bin", &mixed_bytes(500_000, 6));
    let r = sigma()
        .args(["encode", "-o", "/dev/full"])
        .arg(&input)
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(1));
    let msg = stderr(&r);
    assert!(
        msg.contains("writing output /dev/full: No space left"),
        "{msg}"
    );
}

#[test]
fn a_file_named_like_a_temporary_output_is_never_taken_for_a_stale_one() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    // A user's file of the temporary name (readable by others, as files are): kept; the
    // output is written through the next temporary name.
    let input = write(dir.path(), "y", &text_bytes(20_000, 5));
    let own = write(dir.path(), ".y.sigma.sigma-partial", b"precious");
    sigma()
        .args(["encode", "-q"])
        .arg(&input)
        .assert()
        .success();
    assert_eq!(fs::read(&own).unwrap(), b"precious");
    assert!(dir.path().join("y.sigma").exists());
    // A tree holding such a file, private to its owner (mode 0600, as a stale temporary
    // output has), next to the file whose output it names: the batch decode restores it,
    // then decodes that file; the restored file must survive.
    let src = dir.path().join("src");
    fs::create_dir(&src).unwrap();
    let twin = write(&src, ".x.sigma-partial", b"precious");
    fs::set_permissions(&twin, fs::Permissions::from_mode(0o600)).unwrap();
    write(&src, "x", b"xxx");
    let arch = dir.path().join("arch");
    let rest = dir.path().join("rest");
    let batch = |verb: &str, from: &Path, to: &Path| {
        sigma()
            .args(["batch", verb, "-q", "-T1"])
            .arg(from)
            .arg("-o")
            .arg(to)
            .assert()
            .success();
    };
    batch("encode", &src, &arch);
    batch("decode", &arch, &rest);
    assert_eq!(
        fs::read(rest.join(".x.sigma-partial")).unwrap(),
        b"precious"
    );
    assert_eq!(fs::read(rest.join("x")).unwrap(), b"xxx");
    assert!(leftovers(&rest).iter().all(|n| n == ".x.sigma-partial"));
    // A re-run that passes the restored file over as unchanged, then writes `x` again.
    fs::remove_file(rest.join("x")).unwrap();
    batch("decode", &arch, &rest);
    assert_eq!(
        fs::read(rest.join(".x.sigma-partial")).unwrap(),
        b"precious"
    );
    // Plain decode of both, named without a folder, the private one first.
    let here = dir.path().join("here");
    fs::create_dir(&here).unwrap();
    fs::copy(&twin, here.join(".x.sigma-partial")).unwrap();
    fs::write(here.join("x"), b"xxx").unwrap();
    sigma()
        .current_dir(&here)
        .args(["encode", "-q", "--rm", "x", ".x.sigma-partial"])
        .assert()
        .success();
    sigma()
        .current_dir(&here)
        .args(["decode", "-q", ".x.sigma-partial.sigma", "x.sigma"])
        .assert()
        .success();
    assert_eq!(
        fs::read(here.join(".x.sigma-partial")).unwrap(),
        b"precious"
    );
    assert_eq!(fs::read(here.join("x")).unwrap(), b"xxx");
}

#[test]
fn a_stale_temporary_output_is_cleaned_up_whatever_its_mode() {
    use std::os::unix::fs::PermissionsExt;
    // As a run killed after giving its output the final mode (during the sync) leaves it:
    // marked, readable by others, unlocked.
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "k", &text_bytes(20_000, 8));
    let stale = write(dir.path(), ".k.sigma.sigma-partial", b"half written");
    fs::set_permissions(&stale, fs::Permissions::from_mode(0o644)).unwrap();
    let marked = rustix::fs::setxattr(
        &stale,
        "user.sigma-partial",
        b"1",
        rustix::fs::XattrFlags::empty(),
    );
    if marked.is_err() {
        return; // a file system without user attributes: the mode decides there
    }
    sigma()
        .args(["encode", "-q"])
        .arg(&input)
        .assert()
        .success();
    assert!(
        leftovers(dir.path()).is_empty(),
        "{:?}",
        leftovers(dir.path())
    );
    assert!(dir.path().join("k.sigma").exists());
}

#[test]
fn something_else_at_the_temporary_name_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "f", &text_bytes(20_000, 3));
    // A dangling symlink, then a fifo, where the temporary output would go.
    let link = dir.path().join(".f.sigma.sigma-partial");
    std::os::unix::fs::symlink("/nonexistent/target", &link).unwrap();
    let r = sigma().arg("encode").arg(&input).output().unwrap();
    assert_eq!(r.status.code(), Some(1));
    let msg = stderr(&r);
    assert!(msg.contains(".f.sigma.sigma-partial is taken"), "{msg}");
    assert!(fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(!dir.path().join("f.sigma").exists());
    fs::remove_file(&link).unwrap();
    let fifo = dir.path().join(".g.sigma-partial");
    assert!(StdCommand::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let r = sigma()
        .args(["encode", "-o"])
        .arg(dir.path().join("g"))
        .arg(&input)
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(1));
    assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
    assert_eq!(leftovers(dir.path()), vec![".g.sigma-partial".to_string()]);
    // Once the name is free, the same command works.
    sigma().arg("encode").arg(&input).assert().success();
}

#[test]
fn verify_names_the_corrupt_frame() {
    let dir = tempfile::tempdir().unwrap();
    let data = text_bytes(200_000, 7);
    let mut s = sigmalang::memory::encode(&data, sigmalang::Level::DEFAULT, 16_384).unwrap();
    let sig = write(dir.path(), "ok.sigma", &s);
    sigma().arg("verify").arg(&sig).assert().success();
    sigma().arg("-t").arg(&sig).assert().success();
    let i = s.len() / 2;
    s[i] ^= 0x08;
    let bad = write(dir.path(), "bad.sigma", &s);
    let r = sigma().arg("verify").arg(&bad).output().unwrap();
    assert_eq!(r.status.code(), Some(1));
    let msg = stderr(&r);
    assert!(msg.contains("bad.sigma") && msg.contains("frame "), "{msg}");
}

#[test]
fn rm_removes_the_input_only_on_success() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "e.txt", &text_bytes(50_000, 8));
    sigma()
        .args(["encode", "--rm"])
        .arg(&input)
        .assert()
        .success();
    assert!(!input.exists());
    let sig = dir.path().join("e.txt.sigma");
    assert!(sig.exists());
    // Failure (the output exists): the input must stay.
    let input2 = write(dir.path(), "f.txt", b"keep me");
    write(dir.path(), "f.txt.sigma", b"occupied");
    sigma()
        .args(["encode", "--rm"])
        .arg(&input2)
        .assert()
        .code(1);
    assert!(input2.exists());
    // Decoding with --rm removes the stream once the output is complete.
    sigma()
        .args(["decode", "--rm"])
        .arg(&sig)
        .assert()
        .success();
    assert!(!sig.exists());
    assert!(dir.path().join("e.txt").exists());
}

#[test]
fn fifos_and_devices_are_never_removed_nor_named_after() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("p");
    let made = StdCommand::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let stream = dir.path().join("s.sigma");
    let made = StdCommand::new("mkfifo").arg(&stream).status().unwrap();
    assert!(made.success());
    // Refused before anything is opened: nobody writes to the fifos here.
    for (cmd, input) in [("encode", &fifo), ("decode", &stream)] {
        let r = sigma().args([cmd, "--rm"]).arg(input).output().unwrap();
        assert_eq!(r.status.code(), Some(2), "{cmd}");
        assert!(
            stderr(&r).contains("--rm removes only regular files"),
            "{}",
            stderr(&r)
        );
        let r = sigma().arg(cmd).arg(input).output().unwrap();
        assert_eq!(r.status.code(), Some(2), "{cmd}");
        assert!(stderr(&r).contains("use -c or -o OUT"), "{}", stderr(&r));
        assert!(
            fs::symlink_metadata(input).is_ok(),
            "{cmd} removed its input"
        );
    }
    assert!(!dir.path().join("p.sigma").exists() && !dir.path().join("s").exists());
    let r = sigma()
        .args(["encode", "--rm", "/dev/null"])
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(2));
    assert!(Path::new("/dev/null").exists());
    // With -o the fifo is read as a stream; the output gets a new file's mode, not the
    // fifo's.
    fs::set_permissions(&fifo, fs::Permissions::from_mode(0o666)).unwrap();
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || fs::write(fifo, b"through a fifo").unwrap())
    };
    let out = dir.path().join("out.sigma");
    sigma()
        .args(["encode", "-o"])
        .arg(&out)
        .arg(&fifo)
        .assert()
        .success();
    writer.join().unwrap();
    let fresh = write(dir.path(), "fresh", b"");
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&out), mode(&fresh));
    let back = sigma().args(["decode", "-c"]).arg(&out).output().unwrap();
    assert_eq!(back.stdout, b"through a fifo");
}

/// (offset, raw size) of each frame of `stream`, from `sigma inspect --frames --json`.
fn frame_list(stream: &Path) -> Vec<(u64, u64)> {
    let out = sigma()
        .args(["inspect", "--frames", "--json"])
        .arg(stream)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["frame_list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["offset"].as_u64().unwrap(),
                f["raw_size"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn salvage_reports_intact_frames_the_index_does_not_place() {
    let dir = tempfile::tempdir().unwrap();
    let mut streams = Vec::new();
    for (name, seed) in [("a", 1), ("b", 2)] {
        let input = write(dir.path(), name, &text_bytes(700_000, seed));
        sigma()
            .args(["encode", "-q", "--chunk-size", "64K"])
            .arg(&input)
            .assert()
            .success();
        let stream = dir.path().join(format!("{name}.sigma"));
        streams.push((fs::read(&stream).unwrap(), frame_list(&stream)));
    }
    // Frames 0-5 of `a`, then frame 6 on (a group's first frame) with `b`'s index.
    let ((a, fa), (b, fb)) = (&streams[0], &streams[1]);
    let mut spliced = a[..fa[6].0 as usize].to_vec();
    spliced.extend_from_slice(&b[fb[6].0 as usize..]);
    let bad = write(dir.path(), "spliced.sigma", &spliced);
    let out = dir.path().join("out");
    let r = sigma()
        .args(["decode", "--salvage", "-o"])
        .arg(&out)
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(1));
    let msg = stderr(&r);
    assert!(
        msg.contains("6 intact frames") && msg.contains("the index places none"),
        "{msg}"
    );
    // `b`'s frames are in place; the first six entries' bytes are lost.
    let want = text_bytes(700_000, 2);
    let got = fs::read(&out).unwrap();
    assert_eq!(got.len(), want.len());
    let cut = fb[..6].iter().map(|f| f.1 as usize).sum::<usize>();
    assert_eq!(got[cut..], want[cut..]);
    assert!(got[..cut].iter().all(|&x| x == 0));
    // A duplicated frame is no loss and is not reported.
    let (f0, f2) = (fa[0].0 as usize, fa[2].0 as usize);
    let mut doubled = a[..f2].to_vec();
    doubled.extend_from_slice(&a[f0..f2]);
    doubled.extend_from_slice(&a[f2..]);
    let dup = write(dir.path(), "dup.sigma", &doubled);
    let r = sigma()
        .args(["decode", "--salvage", "-c"])
        .arg(&dup)
        .output()
        .unwrap();
    assert!(!stderr(&r).contains("places none"), "{}", stderr(&r));
    assert_eq!(r.stdout, text_bytes(700_000, 1));
}

#[test]
fn salvage_never_places_alike_stored_frames_wrong() {
    // Incompressible data: every frame is stored, and all look alike to the index (same
    // size and glyph counts).
    let dir = tempfile::tempdir().unwrap();
    let data = random_bytes(8 << 16, 11);
    let input = write(dir.path(), "r", &data);
    sigma()
        .args(["encode", "-q", "--chunk-size", "64K"])
        .arg(&input)
        .assert()
        .success();
    let s = fs::read(dir.path().join("r.sigma")).unwrap();
    let at: Vec<usize> = frame_list(&dir.path().join("r.sigma"))
        .iter()
        .map(|&(offset, _)| offset as usize)
        .collect();
    let len = at[1] - at[0];
    let frame = |k: usize| &s[at[k]..at[k] + len];
    let end = at[7] + len;
    let with = |frames: &[usize]| -> Vec<u8> {
        let mut b = s[..at[0]].to_vec();
        frames.iter().for_each(|&k| b.extend_from_slice(frame(k)));
        b.extend_from_slice(&s[end..]);
        b
    };
    let mut flipped = s.clone();
    flipped[at[2] + 100] ^= 0x40;
    // (stream, frames that must come back)
    let cases = [
        ("flipped", flipped, 7),
        ("doubled", with(&[0, 1, 2, 3, 3, 4, 5, 6, 7]), 8),
        ("swapped", with(&[0, 1, 2, 3, 4, 6, 5, 7]), 0),
        (
            "overwritten by its neighbour",
            with(&[0, 1, 2, 3, 4, 6, 6, 7]),
            0,
        ),
    ];
    for (name, stream, back) in cases {
        let bad = write(dir.path(), &format!("{name}.sigma"), &stream);
        let r = sigma()
            .args(["decode", "--salvage", "-c"])
            .arg(&bad)
            .output()
            .unwrap();
        assert_eq!(r.status.code(), Some(1), "{name}");
        assert_eq!(r.stdout.len(), data.len(), "{name}");
        let mut recovered = 0;
        for (got, want) in r.stdout.chunks(1 << 16).zip(data.chunks(1 << 16)) {
            if got == want {
                recovered += 1;
            } else {
                assert!(
                    got.iter().all(|&b| b == 0),
                    "{name}: a frame's bytes placed wrong"
                );
            }
        }
        assert!(recovered >= back, "{name}: {recovered} frames back");
    }
}

#[test]
fn salvage_of_an_intact_stream_of_identical_frames_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = vec![0u8; 1 << 20];
    let input = write(dir.path(), "zeros", &data);
    sigma()
        .args(["encode", "-q", "--chunk-size", "64K", "--group", "1"])
        .arg(&input)
        .assert()
        .success();
    let r = sigma()
        .args(["decode", "--salvage", "-c"])
        .arg(dir.path().join("zeros.sigma"))
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
    assert_eq!(r.stdout, data);
}

#[test]
fn inspect_json_reports_the_auto_chunk_rule() {
    let dir = tempfile::tempdir().unwrap();
    // One frame up to 4 MiB, else equal frames of at most 4 MiB.
    for (mb, chunk) in [(3u64, 3_000_000u64), (5, 2_500_000), (50, 4_166_667)] {
        let p = dir.path().join(format!("s{mb}.bin"));
        let f = File::create(&p).unwrap();
        f.set_len(mb * 1_000_000).unwrap();
        drop(f);
        sigma().args(["encode", "-1"]).arg(&p).assert().success();
        let r = sigma()
            .args(["inspect", "--json"])
            .arg(dir.path().join(format!("s{mb}.bin.sigma")))
            .output()
            .unwrap();
        assert!(r.status.success());
        let v: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
        assert_eq!(v["chunk_size"], chunk, "{mb} MB");
        assert_eq!(v["raw_size"], mb * 1_000_000);
        assert_eq!(v["level"], 1);
        assert_eq!(v["version"], 5);
        assert_eq!(v["frames"], (mb * 1_000_000).div_ceil(chunk));
        for key in ["encoded_size", "ratio", "frames", "glyphs"] {
            assert!(!v[key].is_null(), "{key}");
        }
        assert!(v["glyphs"]["iteration"].as_u64().unwrap() > 0);
    }
}

#[test]
fn inspect_text_and_frames() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "g.txt", &text_bytes(100_000, 9));
    sigma()
        .args(["encode", "--chunk-size", "16K"])
        .arg(&input)
        .assert()
        .success();
    let r = sigma()
        .args(["-l", "--frames"])
        .arg(dir.path().join("g.txt.sigma"))
        .output()
        .unwrap();
    let out = String::from_utf8(r.stdout).unwrap();
    assert!(out.contains("chunk size      16384"), "{out}");
    assert!(out.contains("glyphs"), "{out}");
    assert!(out.lines().count() > 12, "{out}");
}

#[test]
fn decode_needs_the_sigma_suffix_or_an_output() {
    let dir = tempfile::tempdir().unwrap();
    let s = sigmalang::memory::encode(b"abc", sigmalang::Level::DEFAULT, 4096).unwrap();
    let p = write(dir.path(), "noext", &s);
    let r = sigma().arg("-d").arg(&p).output().unwrap();
    assert_eq!(r.status.code(), Some(1));
    assert!(stderr(&r).contains(".sigma"), "{}", stderr(&r));
    let out = dir.path().join("out");
    sigma()
        .arg("-d")
        .arg(&p)
        .arg("-o")
        .arg(&out)
        .assert()
        .success();
    assert_eq!(fs::read(&out).unwrap(), b"abc");
    let r = sigma().args(["-d", "-c"]).arg(&p).output().unwrap();
    assert_eq!(r.stdout, b"abc");
}

#[test]
fn one_bad_file_does_not_stop_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "a", b"aaaa");
    let missing = dir.path().join("missing");
    let b = write(dir.path(), "b", b"bbbb");
    let r = sigma()
        .arg("encode")
        .arg(&a)
        .arg(&missing)
        .arg(&b)
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(1));
    assert!(stderr(&r).contains("missing"), "{}", stderr(&r));
    assert!(dir.path().join("a.sigma").exists());
    assert!(dir.path().join("b.sigma").exists());
}

#[test]
fn usage_errors_exit_2() {
    sigma().args(["encode", "--level", "12"]).assert().code(2);
    sigma().args(["encode", "--bogus"]).assert().code(2);
    sigma()
        .args(["encode", "--chunk-size", "1K", "x"])
        .assert()
        .code(2);
    sigma()
        .args(["decode", "--range", "9:3", "x.sigma"])
        .assert()
        .code(2);
    // Part of the content is never written under the decoded file's own name.
    sigma()
        .args(["decode", "--range", "0:3", "x.sigma"])
        .assert()
        .code(2);
}

#[test]
fn closed_stdout_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let data = text_bytes(3_000_000, 10);
    let input = write(dir.path(), "h.txt", &data);
    sigma().arg("encode").arg(&input).assert().success();
    // Decode, salvage, inspect and the demo to standard output, the pipe closed before
    // they write.
    let stream = dir.path().join("h.txt.sigma");
    let stream = stream.to_str().unwrap();
    for args in [
        &["-dc", stream][..],
        &["decode", "--salvage", "-c", stream],
        &["inspect", "--frames", stream],
        &["demo", "--size", "1M"],
    ] {
        let mut child = StdCommand::new(sigma_path())
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let msg = stderr(&out);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {msg}");
        assert!(
            !msg.contains("panicked") && !msg.contains("Broken pipe"),
            "{args:?}: {msg}"
        );
    }
}

#[test]
fn a_closed_stderr_keeps_the_exit_code() {
    let mut child = StdCommand::new(sigma_path())
        .args(["decode", "-c", "/nonexistent/x.sigma"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take());
    assert_eq!(child.wait().unwrap().code(), Some(1));
}

#[test]
fn decode_from_standard_input_to_a_named_output() {
    let dir = tempfile::tempdir().unwrap();
    let data = text_bytes(100_000, 4);
    let input = write(dir.path(), "t", &data);
    sigma().arg("encode").arg(&input).assert().success();
    let out = dir.path().join("back");
    sigma()
        .args(["decode", "-o"])
        .arg(&out)
        .pipe_stdin(dir.path().join("t.sigma"))
        .unwrap()
        .assert()
        .success();
    assert_eq!(fs::read(&out).unwrap(), data);
}

#[test]
fn json_stats_are_the_last_stderr_line() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "j.txt", &text_bytes(100_000, 11));
    let r = sigma()
        .args(["encode", "--json", "-T", "2"])
        .arg(&input)
        .output()
        .unwrap();
    assert!(r.status.success());
    let msg = stderr(&r);
    let last = msg.lines().last().unwrap();
    let v: serde_json::Value = serde_json::from_str(last).unwrap();
    for key in [
        "raw_size",
        "encoded_size",
        "ratio",
        "seconds",
        "mb_per_s",
        "threads",
        "chunk_size",
        "frames",
        "peak_rss",
    ] {
        assert!(!v[key].is_null(), "{key} missing in {last}");
    }
    assert_eq!(v["raw_size"], 100_000);
    assert_eq!(v["threads"], 2);
}

#[test]
fn thread_counts_and_read_paths_give_identical_files() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "k.bin", &mixed_bytes(2_000_000, 12));
    let mut outs = Vec::new();
    for (i, flags) in [["-T1", "--mmap"], ["-T2", "--no-mmap"], ["-T8", "--mmap"]]
        .iter()
        .enumerate()
    {
        let o = dir.path().join(format!("k{i}.sigma"));
        sigma()
            .args(["encode", "--chunk-size", "64K"])
            .args(flags)
            .arg(&input)
            .arg("-o")
            .arg(&o)
            .assert()
            .success();
        outs.push(fs::read(&o).unwrap());
    }
    assert!(outs.windows(2).all(|w| w[0] == w[1]));
    let piped = sigma()
        .args(["encode", "-c", "--chunk-size", "64K"])
        .write_stdin(fs::read(&input).unwrap())
        .output()
        .unwrap();
    assert_eq!(piped.stdout, outs[0], "stdin with the same chunk size");
}

#[test]
fn range_and_levels_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = mixed_bytes(400_000, 13);
    let input = write(dir.path(), "r.bin", &data);
    for level in ["-1", "-9", "--level=5"] {
        let r = sigma()
            .args(["encode", "-c", level])
            .arg(&input)
            .output()
            .unwrap();
        assert!(r.status.success());
        let d = sigma().arg("-d").write_stdin(r.stdout).output().unwrap();
        assert_eq!(d.stdout, data, "{level}");
    }
    sigma().arg("encode").arg(&input).assert().success();
    let r = sigma()
        .args(["decode", "--range", "1000:250000", "-c"])
        .arg(dir.path().join("r.bin.sigma"))
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", stderr(&r));
    assert_eq!(r.stdout, &data[1000..250_000]);
    // -v says what a range cost: the frames read, not the whole stream's figures.
    sigma()
        .args(["encode", "-f", "--chunk-size", "64K"])
        .arg(&input)
        .assert()
        .success();
    let r = sigma()
        .args(["decode", "-v", "--range", "140000:150000", "-c"])
        .arg(dir.path().join("r.bin.sigma"))
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", stderr(&r));
    assert_eq!(r.stdout, &data[140_000..150_000]);
    assert!(
        stderr(&r).contains("decoded a range of 10000 bytes from 1 frame ("),
        "{}",
        stderr(&r)
    );
}

#[test]
fn progress_asked_for_is_shown_as_lines_when_stderr_is_not_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "p", &text_bytes(3 << 20, 4));
    let run = |flag: Option<&str>| {
        let mut c = sigma();
        c.args(["encode", "-T1", "-c"]);
        if let Some(f) = flag {
            c.arg(f);
        }
        c.arg(&input).output().unwrap()
    };
    let shown = run(Some("--progress"));
    assert!(shown.status.success());
    let text = stderr(&shown);
    assert!(
        text.lines()
            .any(|l| l.contains("MiB/") && !l.contains('\r')),
        "{text}"
    );
    // Not asked for, and stderr not a terminal: nothing.
    assert!(stderr(&run(None)).is_empty());
}

#[test]
fn bench_of_a_missing_or_empty_file_fails_naming_it_and_takes_zero_threads() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nosuch");
    let r = sigma().arg("bench").arg(&missing).output().unwrap();
    assert_eq!(r.status.code(), Some(1), "{}", stderr(&r));
    assert!(stderr(&r).contains("nosuch"), "{}", stderr(&r));
    let empty = write(dir.path(), "empty", b"");
    let r = sigma().arg("bench").arg(&empty).output().unwrap();
    assert_eq!(r.status.code(), Some(1), "{}", stderr(&r));
    assert!(
        stderr(&r).contains("empty: the sample is empty"),
        "{}",
        stderr(&r)
    );
    let small = write(dir.path(), "s", &text_bytes(100_000, 2));
    let r = sigma()
        .args(["bench", "-T0", "-b", "1", "-e", "1", "--min-time", "0.01"])
        .arg(&small)
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", stderr(&r));
}

#[test]
fn decoded_files_keep_blocks_of_zeros_as_holes() {
    use std::os::unix::fs::MetadataExt;
    let dir = tempfile::tempdir().unwrap();
    // 20 MiB: zeros, 100 KB of text at 5 MB, zeros, three bytes at the end.
    let mut data = vec![0u8; 20 << 20];
    data[5_000_000..5_100_000].copy_from_slice(&text_bytes(100_000, 6));
    data.extend_from_slice(b"end");
    let input = write(dir.path(), "img", &data);
    sigma()
        .args(["encode", "-q"])
        .arg(&input)
        .assert()
        .success();
    fs::remove_file(&input).unwrap();
    sigma()
        .args(["decode", "-q"])
        .arg(dir.path().join("img.sigma"))
        .assert()
        .success();
    assert!(fs::read(&input).unwrap() == data);
    // Where the file system keeps holes, the zeros take none of the disk.
    let probe = dir.path().join("probe");
    fs::File::create(&probe).unwrap().set_len(20 << 20).unwrap();
    if fs::metadata(&probe).unwrap().blocks() == 0 {
        let used = fs::metadata(&input).unwrap().blocks() * 512;
        assert!(used < 1 << 20, "{used} bytes on disk");
    }
}

#[test]
fn each_inputs_error_is_printed_when_that_input_is_done() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(dir.path(), "good", &text_bytes(50_000, 9));
    let r = sigma()
        .args(["encode", "-v", "-c"])
        .arg(dir.path().join("nosuch"))
        .arg(&good)
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(1));
    let msg = stderr(&r);
    let (error, done) = (msg.find("nosuch: opening input"), msg.find("good: encoded"));
    assert!(error.is_some() && done.is_some() && error < done, "{msg}");
}

#[test]
fn range_decoding_keeps_to_the_memory_limit_and_salvage_refuses_one() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "z", &vec![0u8; 8 << 20]);
    sigma()
        .args(["encode", "-q", "-1", "--chunk-size", "8M"])
        .arg(&input)
        .assert()
        .success();
    let stream = dir.path().join("z.sigma");
    let range = |limit: &str| {
        sigma()
            .args(["decode", "-c", "--range", "5:10", "--memory-limit", limit])
            .arg(&stream)
            .output()
            .unwrap()
    };
    let r = range("8M");
    assert_eq!(r.status.code(), Some(1));
    assert!(
        stderr(&r).contains("is too small to decode groups"),
        "{}",
        stderr(&r)
    );
    let r = range("64M");
    assert!(r.status.success(), "{}", stderr(&r));
    assert_eq!(r.stdout, vec![0u8; 5]);
    let r = sigma()
        .args(["decode", "-c", "--salvage", "--memory-limit", "64M"])
        .arg(&stream)
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(2));
    assert!(
        stderr(&r).contains("--memory-limit cannot be used"),
        "{}",
        stderr(&r)
    );
    // One frame: no note about frame groups.
    let r = sigma()
        .args(["encode", "-v", "-c", "--chunk-size", "64M"])
        .arg(&input)
        .output()
        .unwrap();
    assert!(r.status.success());
    assert!(!stderr(&r).contains("frame group"), "{}", stderr(&r));
}

#[test]
fn memory_limit_lowers_settings_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "m.bin", &mixed_bytes(300_000, 14));
    let plan = |limit: &str| -> (usize, u64, u64) {
        let r = sigma()
            .args([
                "encode",
                "--estimate",
                "-T",
                "8",
                "--chunk-size",
                "4M",
                "--memory-limit",
                limit,
            ])
            .arg(&input)
            .output()
            .unwrap();
        assert!(r.status.success(), "{}", stderr(&r));
        assert!(stderr(&r).contains("memory limit"), "{}", stderr(&r));
        let text = String::from_utf8_lossy(&r.stdout).into_owned();
        let field = |name: &str| -> u64 {
            text.lines()
                .find_map(|l| l.strip_prefix(name))
                .unwrap()
                .trim()
                .parse()
                .unwrap()
        };
        (
            field("threads ") as usize,
            field("chunk_size "),
            field("estimate "),
        )
    };
    // Threads go first, then the chunk size halves; the estimate stays within the limit.
    let (threads, chunk, estimate) = plan("32M");
    assert!(
        threads < 8 && chunk == 4 << 20 && estimate <= 32 << 20,
        "{threads} {chunk} {estimate}"
    );
    let (threads, chunk, estimate) = plan("6M");
    assert!(
        threads == 1 && chunk < 4 << 20 && estimate <= 6 << 20,
        "{threads} {chunk} {estimate}"
    );
    // The encode uses what the plan said: its frames are no larger than the chunk.
    let out = dir.path().join("m.sigma");
    sigma()
        .args([
            "encode",
            "-q",
            "-T",
            "8",
            "--chunk-size",
            "4M",
            "--memory-limit",
            "6M",
            "-o",
        ])
        .arg(&out)
        .arg(&input)
        .assert()
        .success();
    let info = sigmalang::decode::inspect(&mut File::open(&out).unwrap()).unwrap();
    assert_eq!(info.header.chunk_size, chunk);
    let r = sigma()
        .args(["encode", "--memory-limit", "1K", "-f"])
        .arg(&input)
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(1));
}

#[test]
fn not_a_stream_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "plain.sigma",
        b"just some text that is not a stream",
    );
    let r = sigma().arg("-t").arg(&p).output().unwrap();
    assert_eq!(r.status.code(), Some(1));
    assert!(stderr(&r).contains("not a .sigma stream"), "{}", stderr(&r));
    let r = sigma().arg("-l").arg(&p).output().unwrap();
    assert_eq!(r.status.code(), Some(1));
}

#[test]
fn demo_runs_small() {
    let r = sigma().args(["demo", "--size", "8M"]).output().unwrap();
    assert!(r.status.success(), "{}", stderr(&r));
    let out = String::from_utf8(r.stdout).unwrap();
    for word in [
        "encode",
        "verify",
        "decode",
        "ratio",
        "peak memory",
        "load-everything",
    ] {
        assert!(out.contains(word), "{word} missing:\n{out}");
    }
}

#[test]
fn bench_prints_results_and_a_recommendation_as_json() {
    let r = sigma()
        .args([
            "bench",
            "--json",
            "--min-time",
            "0",
            "--generated",
            "1M",
            "-T",
            "1,2",
            "--target-ratio",
            "1.5",
        ])
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", stderr(&r));
    let v: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), 4);
    for m in results {
        for key in [
            "level",
            "threads",
            "ratio",
            "encode_mb_s",
            "decode_mb_s",
            "estimate",
            "measured_peak",
            "runs",
        ] {
            assert!(!m[key].is_null(), "{key}");
        }
        assert!(m["ratio"].as_f64().unwrap() > 1.5);
    }
    assert!(v["recommended"]["level"].as_u64().is_some());
    // Text mode marks the recommendation; an unreachable goal says so.
    let r = sigma()
        .args([
            "bench",
            "--min-time",
            "0",
            "--generated",
            "256K",
            "-T",
            "1",
            "-b",
            "1",
            "--target-ratio",
            "1000",
        ])
        .output()
        .unwrap();
    assert!(r.status.success());
    assert!(String::from_utf8_lossy(&r.stdout).contains("nothing measured meets the goal"));
}

#[test]
fn salvage_names_an_older_format_version() {
    let v3 = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/version-3.sigma");
    let r = sigma()
        .args(["decode", "--salvage", "-c"])
        .arg(&v3)
        .output()
        .unwrap();
    assert!(!r.status.success());
    assert!(
        stderr(&r).contains("version 3 is not supported"),
        "{}",
        stderr(&r)
    );
}

#[test]
fn a_piped_small_input_reports_the_plan_it_used() {
    // The plan for a pipe of unknown size asked for smaller chunks under this limit; the
    // read-ahead found 5 bytes, whose plan fits: no note, and the stream is written.
    let r = sigma()
        .args(["encode", "--memory-limit", "8M", "-c"])
        .write_stdin("hello")
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", stderr(&r));
    assert!(stderr(&r).is_empty(), "{}", stderr(&r));
}

#[test]
fn meta_is_written_by_full_load_too_and_refused_for_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("notes.txt");
    std::fs::write(&input, b"some notes, some notes, some notes\n").unwrap();
    let encode = |extra: &[&str]| {
        let r = sigma()
            .args(["encode", "--meta", "-c"])
            .args(extra)
            .arg(&input)
            .output()
            .unwrap();
        assert!(r.status.success(), "{}", stderr(&r));
        r.stdout
    };
    let streamed = encode(&[]);
    assert_eq!(encode(&["--full-load"]), streamed);
    let meta = sigmalang::memory::decode(&streamed)
        .unwrap()
        .metadata
        .unwrap();
    assert_eq!(meta.name, b"notes.txt");
    // inspect shows it, for a compact stream and for a full one.
    for chunk in ["1M", "4K"] {
        let big = dir.path().join(format!("big-{chunk}"));
        std::fs::write(&big, vec![b'x'; 10_000]).unwrap();
        let s = dir.path().join(format!("big-{chunk}.sigma"));
        let r = sigma()
            .args(["encode", "-q", "--meta", "--chunk-size", chunk, "-o"])
            .arg(&s)
            .arg(&big)
            .output()
            .unwrap();
        assert!(r.status.success(), "{}", stderr(&r));
        let r = sigma()
            .args(["inspect", "--json"])
            .arg(&s)
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
        assert_eq!(v["compact"], chunk == "1M");
        assert_eq!(v["metadata"]["name"], format!("big-{chunk}"));
        if chunk == "4K" {
            // A damaged metadata glyph: inspect says so (verify reports it).
            let mut bad = std::fs::read(&s).unwrap();
            let (_, header_len) = sigmalang::format::StreamHeader::parse(&bad).unwrap();
            bad[header_len + 5] ^= 1;
            std::fs::write(&s, &bad).unwrap();
            let r = sigma()
                .args(["inspect", "--json"])
                .arg(&s)
                .output()
                .unwrap();
            let v: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
            assert!(
                v["metadata"].is_null() && v["metadata_damaged"] == true,
                "{v}"
            );
            assert!(!sigma()
                .arg("verify")
                .arg(&s)
                .output()
                .unwrap()
                .status
                .success());
        }
    }
    let r = sigma()
        .args(["encode", "--meta", "-c"])
        .write_stdin("hello")
        .output()
        .unwrap();
    // A usage error.
    assert_eq!(r.status.code(), Some(2));
    assert!(
        stderr(&r).contains("--meta needs a regular file"),
        "{}",
        stderr(&r)
    );
    let r = sigma()
        .args(["encode", "--meta", "-c", "/dev/stdin"])
        .write_stdin("hello")
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(2), "a pipe named by path");
}

#[test]
fn odd_file_names_are_shown_escaped_on_one_line() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    // A control character: the error stays one line.
    let two_lines = dir.path().join("two\nlines");
    fs::write(&two_lines, b"x").unwrap();
    let r = sigma().arg("decode").arg(&two_lines).output().unwrap();
    assert_eq!(r.status.code(), Some(1));
    let err = stderr(&r);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("two\\nlines: "), "{err}");
    // A real backslash is doubled, so it never reads as an escape.
    let backslash = dir.path().join("two\\nlines");
    fs::write(&backslash, b"x").unwrap();
    let r = sigma().arg("decode").arg(&backslash).output().unwrap();
    assert!(stderr(&r).contains("two\\\\nlines: "), "{}", stderr(&r));
    // Bytes that are not UTF-8: shown as \xNN, in messages and in inspect's metadata.
    let latin = dir.path().join(OsStr::from_bytes(b"caf\xe9"));
    fs::write(&latin, b"some content\n").unwrap();
    let stream = dir.path().join("latin.sigma");
    let r = sigma()
        .args(["encode", "-q", "--meta", "-o"])
        .arg(&stream)
        .arg(&latin)
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", stderr(&r));
    let r = sigma().arg("inspect").arg(&stream).output().unwrap();
    let out = String::from_utf8_lossy(&r.stdout).into_owned();
    assert!(out.contains("name \"caf\\xe9\""), "{out}");
    let r = sigma().arg("decode").arg(&latin).output().unwrap();
    let err = stderr(&r);
    assert!(err.contains("caf\\xe9: "), "{err}");
    // JSON gives the name itself (JSON escapes the tab).
    let tab = dir.path().join("tab\there");
    fs::write(&tab, b"x").unwrap();
    let r = sigma()
        .args(["encode", "-q", "--json"])
        .arg(&tab)
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", stderr(&r));
    let v: serde_json::Value = serde_json::from_str(stderr(&r).trim()).unwrap();
    assert_eq!(v["file"].as_str(), tab.to_str());
    let stream = dir.path().join("tab\there.sigma");
    let r = sigma()
        .args(["inspect", "--json"])
        .arg(&stream)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    assert_eq!(v["file"].as_str(), stream.to_str());
}

#[test]
fn stdin_redirected_from_a_file_is_coded_as_the_file() {
    let dir = tempfile::tempdir().unwrap();
    // Above the compact-stream size, where a pipe's unknown size picks other frames.
    let input = write(dir.path(), "in.txt", &text_bytes(300_000, 5));
    let from_file = sigma().args(["encode", "-c"]).arg(&input).output().unwrap();
    assert!(from_file.status.success());
    let redirected = StdCommand::new(sigma_path())
        .args(["encode", "-c"])
        .stdin(File::open(&input).unwrap())
        .output()
        .unwrap();
    assert!(redirected.status.success(), "{}", stderr(&redirected));
    assert_eq!(redirected.stdout, from_file.stdout);
}

#[test]
fn a_folder_given_as_a_stream_is_named_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("d.sigma");
    fs::create_dir(&folder).unwrap();
    for cmd in ["decode", "verify"] {
        let r = sigma().arg(cmd).arg(&folder).output().unwrap();
        assert_eq!(r.status.code(), Some(1));
        assert!(
            stderr(&r).contains("Is a directory"),
            "{cmd}: {}",
            stderr(&r)
        );
    }
}

#[test]
fn an_output_ending_in_a_slash_is_refused_as_a_folder() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "a.txt", b"some text\n");
    for out in ["a.txt.sigma/", "newdir/"] {
        let r = sigma()
            .current_dir(dir.path())
            .args(["encode", "-o", out])
            .arg(&input)
            .output()
            .unwrap();
        assert_eq!(r.status.code(), Some(1));
        assert!(stderr(&r).contains("names a folder"), "{}", stderr(&r));
    }
    assert!(!dir.path().join("newdir").exists());
    assert_eq!(leftovers(dir.path()), Vec::<String>::new());
}
