//! Regression tests for what the outside review found (each failed before its fix).

use std::fs;
use std::io::Cursor;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;
use std::process::{Command as StdCommand, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use sigmalang::decode::{self, Decoder};
use sigmalang::format::{self, StreamHeader, Trailer};
use sigmalang::frame::FrameEncoder;
use sigmalang::pipeline::sizing::ChunkSize;
use sigmalang::{memory, Error, GlyphCounts, Level};

use crate::util::*;

fn sigma() -> Command {
    Command::cargo_bin("sigma").unwrap()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn partials(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".sigma-partial"))
        .collect()
}

/// The 16-byte stream that made decode and verify panic (a header length that
/// overflowed the header size).
const PANIC_16: [u8; 16] = [
    0xff, 0x7e, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0xff, 0x79, 0xc7, 0x53,
];

#[test]
fn sixteen_byte_header_overflow_is_an_error_not_a_panic() {
    assert!(memory::decode(&PANIC_16).is_err());
    assert!(decode_stream(&PANIC_16, 2).is_err());
    assert!(decode::inspect(&mut Cursor::new(&PANIC_16[..])).is_err());
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("p16.sigma");
    fs::write(&p, PANIC_16).unwrap();
    for args in [&["decode", "-c"][..], &["verify"], &["inspect"]] {
        let r = sigma().args(args).arg(&p).output().unwrap();
        assert_eq!(r.status.code(), Some(1), "{args:?}: {}", stderr(&r));
        assert!(stderr(&r).contains("p16.sigma"), "{}", stderr(&r));
    }
}

#[test]
fn rm_is_refused_with_range_and_with_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("a.txt");
    fs::write(&input, text_bytes(20_000, 1)).unwrap();
    sigma().arg(&input).assert().success();
    let stream = dir.path().join("a.txt.sigma");
    fs::remove_file(&input).unwrap();
    let r = sigma()
        .args(["decode", "--range", "0:10", "--rm"])
        .arg(&stream)
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(2), "{}", stderr(&r));
    assert!(stream.exists() && !input.exists());
    let r = sigma()
        .args(["decode", "-c", "--rm"])
        .arg(&stream)
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(2), "{}", stderr(&r));
    assert!(stream.exists());
    let other = dir.path().join("b.txt");
    fs::write(&other, b"b").unwrap();
    let r = sigma().args(["-c", "--rm"]).arg(&other).output().unwrap();
    assert_eq!(r.status.code(), Some(2), "{}", stderr(&r));
    assert!(other.exists());
}

#[test]
fn an_existing_device_is_written_in_place_never_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.txt");
    fs::write(&input, text_bytes(50_000, 2)).unwrap();
    // A copy of /dev/null made with mknod (root), else a fifo with a reader.
    let dev = dir.path().join("null");
    let made = StdCommand::new("mknod")
        .arg(&dev)
        .args(["c", "1", "3"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if made {
        for extra in [&["-f"][..], &[]] {
            let r = sigma()
                .args(["encode", "-T1"])
                .args(extra)
                .arg(&input)
                .arg("-o")
                .arg(&dev)
                .output()
                .unwrap();
            assert!(r.status.success(), "{}", stderr(&r));
            assert!(fs::metadata(&dev).unwrap().file_type().is_char_device());
        }
        sigma().arg(&input).assert().success();
        let r = sigma()
            .args(["decode", "-f"])
            .arg(dir.path().join("in.txt.sigma"))
            .arg("-o")
            .arg(&dev)
            .output()
            .unwrap();
        assert!(r.status.success(), "{}", stderr(&r));
        assert!(fs::metadata(&dev).unwrap().file_type().is_char_device());
    } else {
        let fifo = dir.path().join("fifo");
        assert!(StdCommand::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success());
        let reader = StdCommand::new("cat")
            .arg(&fifo)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        sigma()
            .args(["encode", "-f"])
            .arg(&input)
            .arg("-o")
            .arg(&fifo)
            .assert()
            .success();
        let out = reader.wait_with_output().unwrap();
        assert_eq!(
            memory::decode(&out.stdout).unwrap().data,
            fs::read(&input).unwrap()
        );
        assert!(fs::metadata(&fifo).unwrap().file_type().is_fifo());
    }
    assert!(partials(dir.path()).is_empty());
}

#[test]
fn interrupted_and_killed_encodes_leave_no_partial_output() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("big.txt");
    fs::write(&input, text_bytes(24 << 20, 3)).unwrap();
    let out = dir.path().join("big.txt.sigma");
    for signal in ["INT", "TERM", "HUP"] {
        let mut child = StdCommand::new(assert_cmd::cargo::cargo_bin("sigma"))
            .args(["encode", "-9", "-T1", "--chunk-size", "1M"])
            .arg(&input)
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_for_partial(dir.path());
        StdCommand::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status()
            .unwrap();
        let status = child.wait().unwrap();
        assert!(!status.success(), "{signal}");
        assert!(!out.exists(), "{signal}: output under the final name");
        assert!(
            partials(dir.path()).is_empty(),
            "{signal}: {:?}",
            partials(dir.path())
        );
    }
    // kill -9 cannot be caught: the partial file stays, and the next run removes it.
    let mut child = StdCommand::new(assert_cmd::cargo::cargo_bin("sigma"))
        .args(["encode", "-9", "-T1", "--chunk-size", "1M"])
        .arg(&input)
        .spawn()
        .unwrap();
    wait_for_partial(dir.path());
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(partials(dir.path()).len(), 1);
    assert!(!out.exists());
    sigma()
        .args(["encode", "-1"])
        .arg(&input)
        .assert()
        .success();
    assert!(partials(dir.path()).is_empty());
    assert_eq!(
        memory::decode(&fs::read(&out).unwrap()).unwrap().data,
        fs::read(&input).unwrap()
    );
}

fn wait_for_partial(dir: &Path) {
    let start = Instant::now();
    while partials(dir).is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no partial file appeared"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
}

#[test]
fn proc_files_are_read_to_the_end() {
    let cpuinfo = Path::new("/proc/cpuinfo");
    if !cpuinfo.exists() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for extra in [&[][..], &["--no-mmap"], &["--mmap"]] {
        let out = dir.path().join("cpu.sigma");
        let _ = fs::remove_file(&out);
        sigma()
            .arg("encode")
            .args(extra)
            .arg(cpuinfo)
            .arg("-o")
            .arg(&out)
            .assert()
            .success();
        let decoded = memory::decode(&fs::read(&out).unwrap()).unwrap().data;
        assert!(decoded.len() > 100, "{extra:?}: {} bytes", decoded.len());
        assert!(decoded.starts_with(b"processor"), "{extra:?}");
    }
}

#[test]
fn flags_before_the_subcommand_do_not_change_it() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("f.txt");
    fs::write(&input, b"flags first\n").unwrap();
    sigma().arg(&input).assert().success();
    fs::remove_file(&input).unwrap();
    sigma()
        .args(["-v", "decode", "-f"])
        .arg(dir.path().join("f.txt.sigma"))
        .assert()
        .success();
    assert_eq!(fs::read(&input).unwrap(), b"flags first\n");
    assert!(!dir.path().join("f.txt.sigma.sigma").exists());
}

#[test]
fn non_utf8_names_work_and_keep_their_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let name = std::ffi::OsStr::from_bytes(b"bad\xff.txt");
    let input = dir.path().join(name);
    fs::write(&input, b"latin-1 name").unwrap();
    sigma().arg(&input).assert().success();
    let mut stream = input.as_os_str().to_owned();
    stream.push(".sigma");
    assert!(Path::new(&stream).exists());
    fs::remove_file(&input).unwrap();
    sigma().arg("-d").arg(&stream).assert().success();
    assert_eq!(fs::read(&input).unwrap(), b"latin-1 name");
}

#[test]
fn a_trailer_declaring_huge_counts_allocates_nothing() {
    // A 3 GiB sparse file whose trailer claims 2^40 frames and an index filling it.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("huge.sigma");
    let mut head = Vec::new();
    StreamHeader {
        version: format::VERSION,
        level: Level::DEFAULT,
        chunk_size: 1 << 20,
        group: 2,
    }
    .write(&mut head);
    let size: u64 = 3 << 30;
    let index_at = head.len() as u64;
    let mut tail = Vec::new();
    Trailer {
        raw_size: 1 << 50,
        frames: 1 << 40,
        index_offset: index_at,
        content_crc: 0,
    }
    .write(&mut tail);
    let index_len = size - tail.len() as u64 - index_at;
    format::write_head(&mut head, format::INDEX, index_len - 6);
    let f = fs::File::create(&p).unwrap();
    f.set_len(size).unwrap();
    drop(f);
    {
        use std::io::{Seek, SeekFrom, Write};
        let mut f = fs::OpenOptions::new().write(true).open(&p).unwrap();
        f.write_all(&head).unwrap();
        f.seek(SeekFrom::Start(size - tail.len() as u64)).unwrap();
        f.write_all(&tail).unwrap();
    }
    // Under a 1 GB address-space limit nothing may abort for lack of memory.
    let bin = assert_cmd::cargo::cargo_bin("sigma");
    for cmd in ["-l", "decode --range 1:5 -c", "inspect --frames"] {
        let r = StdCommand::new("sh")
            .arg("-c")
            .arg(format!(
                "ulimit -v 1000000; exec \"$0\" {cmd} \"$1\" > /dev/null"
            ))
            .arg(&bin)
            .arg(&p)
            .output()
            .unwrap();
        assert_eq!(r.status.code(), Some(1), "{cmd}: {}", stderr(&r));
        assert!(stderr(&r).contains("huge.sigma"), "{cmd}: {}", stderr(&r));
    }
}

#[test]
fn a_crafted_index_cannot_make_a_range_decode_succeed_short() {
    let data = mixed_bytes(100_000, 4);
    let s = memory::encode(&data, Level::DEFAULT, 16 * 1024).unwrap();
    let info = decode::inspect(&mut Cursor::new(&s)).unwrap();
    let mut entries = Vec::new();
    decode::frames(&mut Cursor::new(&s), &info, |fr| {
        entries.push(fr.entry);
        Ok(true)
    })
    .unwrap();
    // Raw sizes that sum past 2^64, and a trailer that agrees with the wrapped sum.
    let mut bad = entries.clone();
    bad[0].raw_size = u64::MAX - 10;
    bad[0].glyphs = GlyphCounts::default();
    let wrapped = bad.iter().fold(0u64, |a, e| a.wrapping_add(e.raw_size));
    let mut crafted = s[..info.trailer.index_offset as usize].to_vec();
    format::write_index(&mut crafted, &bad);
    Trailer {
        raw_size: wrapped,
        ..info.trailer
    }
    .write(&mut crafted);
    for (a, b) in [(1u64, 5u64), (0, 0)] {
        let mut out = Vec::new();
        let r = decode::decode_range(&mut Cursor::new(&crafted), a, b, &mut out);
        assert!(
            r.is_err(),
            "range {a}:{b} succeeded with {} bytes",
            out.len()
        );
    }
    // Sizes that disagree with the content are caught by the frames read.
    let mut bad = entries;
    bad.swap(0, 1);
    let mut crafted = s[..info.trailer.index_offset as usize].to_vec();
    format::write_index(&mut crafted, &bad);
    info.trailer.write(&mut crafted);
    let r = decode::decode_range(&mut Cursor::new(&crafted), 0, 100_000, &mut Vec::new());
    assert!(r.is_err());
    assert!(decode_stream(&crafted, 2).is_err());
}

#[test]
fn decode_memory_follows_the_budget_and_declared_sizes_allocate_nothing() {
    use sigmalang::pipeline::sizing::{decode_plan, decode_slot_memory};
    let chunk = 64 << 20;
    let p = decode_plan(chunk, 1, 8, Some(3 * decode_slot_memory(chunk, 1))).unwrap();
    assert!(p.slots <= 2 && p.threads <= 1, "{p:?}");
    assert!(decode_plan(chunk, 1, 8, Some(1 << 20)).is_err());
    let p = decode_plan(1 << 20, 2, 4, None).unwrap();
    assert_eq!((p.slots, p.threads), (8, 4));
    // A 23-byte stream declaring a 64 MiB chunk and a frame of nearly that size.
    let mut s = Vec::new();
    StreamHeader {
        version: format::VERSION,
        level: Level::DEFAULT,
        chunk_size: chunk,
        group: 1,
    }
    .write(&mut s);
    format::write_head(&mut s, format::FRAME, format::max_frame_payload(chunk));
    let e = Decoder::with_memory_limit(8, None)
        .unwrap()
        .decode(Cursor::new(&s), &mut std::io::sink(), &|_| {})
        .unwrap_err();
    assert!(matches!(e, Error::Truncated { .. }), "{e}");
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("tiny.sigma");
    fs::write(&p, &s).unwrap();
    let r = sigma()
        .args(["decode", "-c", "--memory-limit", "1M"])
        .arg(&p)
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(1));
    assert!(stderr(&r).contains("memory limit"), "{}", stderr(&r));
}

#[test]
fn every_reader_applies_the_same_glyph_limits() {
    // A 70,000-byte unknown glyph between the header and the first frame.
    let data = text_bytes(10_000, 5);
    let s = memory::encode(&data, Level::DEFAULT, 4096).unwrap();
    let (_, header_len) = StreamHeader::parse(&s).unwrap();
    let mut bad = s[..header_len].to_vec();
    format::write_head(&mut bad, (format::GlyphType::Delta, 0x33), 70_000);
    bad.extend(std::iter::repeat_n(0u8, 70_000));
    bad.extend_from_slice(&s[header_len..]);
    let a = memory::decode(&bad).unwrap_err().to_string();
    let b = decode_stream(&bad, 2).unwrap_err().to_string();
    assert_eq!(a, b);
    assert!(a.contains("at most 65536"), "{a}");
}

#[test]
fn concatenated_streams_decode_as_one() {
    let a = text_bytes(30_000, 6);
    let b = mixed_bytes(50_000, 7);
    let mut s = memory::encode(&a, Level::DEFAULT, 16 * 1024).unwrap();
    s.extend(memory::encode(&b, Level::new(6).unwrap(), 4096).unwrap());
    let mut both = a.clone();
    both.extend_from_slice(&b);
    assert_eq!(memory::decode(&s).unwrap().data, both);
    assert_eq!(decode_stream(&s, 3).unwrap(), both);
    // Garbage after a trailer is named as such.
    let mut g = memory::encode(&a, Level::DEFAULT, 16 * 1024).unwrap();
    g.extend_from_slice(b"junk");
    let e = decode_stream(&g, 2).unwrap_err().to_string();
    assert!(e.contains("not another stream"), "{e}");
    // And from the command line, as `sigma -c a b > ab.sigma` makes them.
    let dir = tempfile::tempdir().unwrap();
    let fa = dir.path().join("a");
    let fb = dir.path().join("b");
    fs::write(&fa, &a).unwrap();
    fs::write(&fb, &b).unwrap();
    let enc = sigma().arg("-c").arg(&fa).arg(&fb).output().unwrap();
    assert!(enc.status.success());
    let dec = sigma().arg("-dc").write_stdin(enc.stdout).output().unwrap();
    assert!(dec.status.success(), "{}", stderr(&dec));
    assert_eq!(dec.stdout, both);
}

#[test]
fn messages_name_what_the_user_typed() {
    let r = sigma().args(["-19", "f"]).output().unwrap();
    assert_eq!(r.status.code(), Some(2));
    assert!(
        stderr(&r).contains("-19") && !stderr(&r).contains("'-1'"),
        "{}",
        stderr(&r)
    );
    let r = sigma().args(["-d", "-9", "x"]).output().unwrap();
    assert_eq!(r.status.code(), Some(2));
    assert!(
        stderr(&r).contains("'-9'") && !stderr(&r).contains("--level"),
        "{}",
        stderr(&r)
    );
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("two.sigma");
    fs::write(&p, [0xFF, 0x7E]).unwrap();
    let r = sigma().arg("-t").arg(&p).output().unwrap();
    assert_eq!(r.status.code(), Some(1));
    assert!(stderr(&r).contains("truncated"), "{}", stderr(&r));
    let r = sigma().args(["-l", "-"]).output().unwrap();
    assert_eq!(r.status.code(), Some(2));
    assert!(stderr(&r).contains("needs a file"), "{}", stderr(&r));
}

#[test]
fn outputs_from_stdin_get_the_usual_mode_and_threads_are_capped() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s.sigma");
    let r = StdCommand::new("sh")
        .arg("-c")
        .arg("umask 022; printf 'from stdin' | exec \"$0\" -o \"$1\"")
        .arg(assert_cmd::cargo::cargo_bin("sigma"))
        .arg(&out)
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", stderr(&r));
    assert_eq!(
        fs::metadata(&out).unwrap().permissions().mode() & 0o777,
        0o644
    );
    let r = sigma()
        .args(["encode", "--estimate", "-T", "3000"])
        .arg(&out)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&r.stdout).into_owned();
    let threads: usize = text
        .lines()
        .find_map(|l| l.strip_prefix("threads "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(threads <= 256, "{text}");
}

#[test]
fn demo_runtime_errors_exit_1() {
    let r = sigma()
        .args(["demo", "--size", "1M"])
        .env("TMPDIR", "/nonexistent/sigma-test")
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(1), "{}", stderr(&r));
    assert!(stderr(&r).contains("demo"), "{}", stderr(&r));
}

// ---- the second outside review

#[test]
fn rm_with_a_device_or_fifo_output_is_refused_in_both_directions() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("r.txt");
    fs::write(&input, text_bytes(30_000, 9)).unwrap();
    sigma().arg(&input).assert().success();
    let stream = dir.path().join("r.txt.sigma");
    for args in [
        &["decode", "--rm", "-o", "/dev/null"][..],
        &["decode", "--rm", "-f", "-o", "/dev/null"],
    ] {
        let r = sigma().args(args).arg(&stream).output().unwrap();
        assert_eq!(r.status.code(), Some(2), "{args:?}: {}", stderr(&r));
        assert!(stream.exists(), "{args:?} deleted the stream");
    }
    let r = sigma()
        .args(["encode", "--rm", "-f", "-o", "/dev/null"])
        .arg(&input)
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(2), "{}", stderr(&r));
    assert!(input.exists());
    assert!(fs::metadata("/dev/null")
        .unwrap()
        .file_type()
        .is_char_device());
}

#[test]
fn a_symlinked_output_is_written_where_it_points() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("s.txt");
    fs::write(&input, b"through the link\n").unwrap();
    let target = dir.path().join("target.sigma");
    fs::write(&target, b"old").unwrap();
    let link = dir.path().join("link.sigma");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    sigma()
        .args(["encode", "-f", "-o"])
        .arg(&link)
        .arg(&input)
        .assert()
        .success();
    assert!(fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(
        memory::decode(&fs::read(&target).unwrap()).unwrap().data,
        b"through the link\n"
    );
    // A link to nothing is refused.
    let dangling = dir.path().join("dangling.sigma");
    std::os::unix::fs::symlink(dir.path().join("nowhere"), &dangling).unwrap();
    let r = sigma()
        .args(["encode", "-f", "-o"])
        .arg(&dangling)
        .arg(&input)
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(1), "{}", stderr(&r));
}

#[test]
fn setuid_setgid_and_sticky_bits_are_never_applied() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Vec::new();
    let meta = format::Metadata {
        name: b"m".to_vec(),
        mode: 0o6777,
        mtime: 0,
        mtime_nanos: 0,
    };
    memory::encode_into(
        b"payload",
        Level::DEFAULT,
        ChunkSize::Fixed(4096),
        2,
        Some(&meta),
        &mut FrameEncoder::default(),
        &mut s,
    )
    .unwrap();
    let p = dir.path().join("m.sigma");
    fs::write(&p, &s).unwrap();
    sigma().arg("-d").arg(&p).assert().success();
    let mode = fs::metadata(dir.path().join("m"))
        .unwrap()
        .permissions()
        .mode()
        & 0o7777;
    assert_eq!(mode, 0o777);
}

#[test]
fn batch_verify_and_decode_need_a_manifest_and_decode_checks_before_renaming() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty");
    fs::create_dir(&empty).unwrap();
    for args in [&["batch", "verify"][..], &["batch", "decode"]] {
        let mut cmd = sigma();
        cmd.args(args).arg(&empty);
        if args[1] == "decode" {
            cmd.arg("-o").arg(dir.path().join("out"));
        }
        let r = cmd.output().unwrap();
        assert_eq!(r.status.code(), Some(1), "{args:?}: {}", stderr(&r));
        assert!(stderr(&r).contains("no manifest"), "{}", stderr(&r));
    }
    // A record whose checksum is wrong: reported failed, and no output under its name.
    let src = dir.path().join("src");
    fs::create_dir(&src).unwrap();
    fs::write(src.join("a.txt"), b"aaaa").unwrap();
    let dest = dir.path().join("dest");
    sigma()
        .args(["batch", "encode"])
        .arg(&src)
        .arg("-o")
        .arg(&dest)
        .assert()
        .success();
    let part = dest.join(".sigma-manifest.0-of-1.sigma-jsonl");
    let text = read_manifest_part(&part);
    let crc = text.split("\"crc32c\":\"").nth(1).unwrap()[..8].to_string();
    write_manifest_part(&part, &text.replace(&crc, "00000000"));
    let back = dir.path().join("back");
    let r = sigma()
        .args(["batch", "decode"])
        .arg(&dest)
        .arg("-o")
        .arg(&back)
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(1), "{}", stderr(&r));
    assert!(!back.join("a.txt").exists());
}

#[test]
fn a_fifo_reader_that_goes_away_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("big.txt");
    fs::write(&input, text_bytes(8 << 20, 10)).unwrap();
    let fifo = dir.path().join("ff");
    assert!(StdCommand::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let reader = StdCommand::new("head")
        .args(["-c", "100"])
        .arg(&fifo)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let r = sigma()
        .args(["encode", "-1", "-o"])
        .arg(&fifo)
        .arg(&input)
        .output()
        .unwrap();
    let _ = reader.wait_with_output();
    assert_eq!(r.status.code(), Some(1), "{}", stderr(&r));
}

#[test]
fn salvage_does_not_pad_out_what_an_index_claims_past_what_the_stream_could_hold() {
    // A stream header, junk where 1,000 frames of 64 MiB should be, and an index and
    // trailer with good checksums listing them: 64 GB of lost content in 27 KB.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("ghost.sigma");
    let mut s = Vec::new();
    StreamHeader {
        version: format::VERSION,
        level: Level::DEFAULT,
        chunk_size: 64 << 20,
        group: 1,
    }
    .write(&mut s);
    let n = 1000u64;
    s.resize(s.len() + 13 * n as usize, 0);
    let entry = format::IndexEntry {
        gap: 0,
        encoded_len: 13,
        raw_size: 64 << 20,
        glyphs: GlyphCounts::default(),
    };
    let index_at = s.len() as u64;
    format::write_index(&mut s, &vec![entry; n as usize]);
    Trailer {
        raw_size: n * (64 << 20),
        frames: n,
        index_offset: index_at,
        content_crc: 0,
    }
    .write(&mut s);
    fs::write(&p, &s).unwrap();
    for args in [&["-o"][..], &["-c"][..]] {
        let out = dir.path().join("out");
        let mut c = Command::cargo_bin("sigma").unwrap();
        c.args(["decode", "--salvage"]).args(args);
        if args == ["-o"] {
            c.arg(&out);
        }
        let r = c.arg(&p).timeout(Duration::from_secs(20)).output().unwrap();
        assert_eq!(r.status.code(), Some(1));
        assert!(r.stdout.is_empty());
        let msg = String::from_utf8_lossy(&r.stderr);
        assert!(
            msg.contains("more than a stream of its size can hold"),
            "{msg}"
        );
        assert!(!out.exists());
    }
}
