//! The `sigma` command: parse, resolve, call the library once per file, report.

mod args;
mod demo;
mod output;

use std::fs::{self, File};
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};

use args::{Cli, Command, CommonArgs, DecodeArgs, EncodeArgs, InspectArgs, VerifyArgs};
use output::OUTPUT_BUFFER;
use sigmalang::decode::{self, Decoder};
use sigmalang::pipeline::{ChunkSize, Encoder, EncoderConfig, ReadMode};
use sigmalang::stats::Stats;
use sigmalang::{Error, Level};

/// Process exit codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Everything succeeded.
    Success = 0,
    /// At least one file failed.
    Failure = 1,
    /// The command line was wrong.
    Usage = 2,
}

/// A failure of one file: its name and what went wrong.
struct Failed {
    file: String,
    error: Error,
}

type FileResult<T> = Result<T, Failed>;

fn fail(file: &str, error: Error) -> Failed {
    Failed {
        file: file.to_string(),
        error,
    }
}

fn usage(detail: String) -> Error {
    Error::InvalidSetting { detail }
}

/// Runs the command line and returns the exit code.
pub fn run() -> Exit {
    let argv = args::normalize(std::env::args().collect());
    let cli = match Cli::try_parse_from(argv) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                Exit::Usage
            } else {
                Exit::Success
            };
        }
    };
    let outcome = match cli.command {
        Command::Encode(a) => encode_all(a),
        Command::Decode(a) => decode_all(a),
        Command::Verify(a) => verify_all(a),
        Command::Inspect(a) => inspect_all(a),
        Command::Demo(a) => demo::run(a),
    };
    match outcome {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("sigma: {msg}");
            Exit::Usage
        }
    }
}

/// Reports per-file results; returns the exit code.
fn report(results: Vec<FileResult<()>>) -> Exit {
    let mut code = Exit::Success;
    for r in results {
        if let Err(f) = r {
            if f.error.is_broken_pipe() {
                continue;
            }
            eprintln!("sigma: {}: {}", f.file, f.error);
            code = Exit::Failure;
        }
    }
    code
}

fn display(p: &Path) -> String {
    if p.as_os_str() == "-" {
        "<stdin>".into()
    } else {
        p.display().to_string()
    }
}

fn is_stdin(p: &Path) -> bool {
    p.as_os_str() == "-"
}

/// Progress bar over raw bytes, or a hidden one.
fn progress_bar(common: &CommonArgs, total: Option<u64>, file: &str) -> ProgressBar {
    let show =
        !common.quiet && !common.no_progress && (common.progress || io::stderr().is_terminal());
    if !show {
        return ProgressBar::hidden();
    }
    let bar = match total {
        Some(n) => ProgressBar::new(n),
        None => ProgressBar::new_spinner(),
    };
    let style = ProgressStyle::with_template(
        "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ");
    bar.set_style(style);
    bar.set_message(file.to_string());
    bar
}

/// The per-file summary line (`-v`) and JSON line (`--json`, last on stderr).
fn summarize(common: &CommonArgs, file: &str, verb: &str, s: &Stats) {
    if common.verbose && !common.quiet {
        eprintln!(
            "{file}: {verb} {} -> {} bytes (ratio {:.3}), {} frames, {:.2} s, {:.1} MB/s, {} threads, peak {:.1} MiB",
            if verb == "decoded" { s.encoded_size } else { s.raw_size },
            if verb == "decoded" { s.raw_size } else { s.encoded_size },
            s.ratio(),
            s.frames,
            s.elapsed.as_secs_f64(),
            s.throughput_mb_s(),
            s.threads,
            s.peak_rss as f64 / 1048576.0
        );
    }
    if common.json {
        eprintln!("{}", json_line(file, s));
    }
}

fn json_line(file: &str, s: &Stats) -> String {
    let mut v = serde_json::to_value(s).unwrap_or_default();
    if let Some(m) = v.as_object_mut() {
        m.insert("file".into(), file.into());
        m.insert("ratio".into(), s.ratio().into());
        m.insert("mb_per_s".into(), s.throughput_mb_s().into());
        m.insert("seconds".into(), s.elapsed.as_secs_f64().into());
    }
    v.to_string()
}

fn resolve_encoder(a: &EncodeArgs) -> Result<EncoderConfig, String> {
    let chunk_size = if a.chunk_size.eq_ignore_ascii_case("auto") {
        ChunkSize::Auto
    } else {
        let n = args::parse_size(&a.chunk_size)?;
        sigmalang::format::check_chunk_size(n).map_err(|e| e.to_string())?;
        ChunkSize::Fixed(n)
    };
    let memory_limit = a
        .memory_limit
        .as_deref()
        .map(args::parse_size)
        .transpose()?;
    let read_mode = match (a.mmap, a.no_mmap) {
        (true, _) => ReadMode::Mmap,
        (_, true) => ReadMode::Read,
        _ => ReadMode::Auto,
    };
    Ok(EncoderConfig {
        level: Level::new(a.level).ok_or("level must be 1-9")?,
        chunk_size,
        threads: a.common.threads,
        read_mode,
        memory_limit,
    })
}

/// The inputs to process (`-`, stdin, when none are named); `-o` takes exactly one.
fn input_list(files: &[PathBuf], out: &args::OutputArgs) -> Result<Vec<PathBuf>, String> {
    if out.output.is_some() && files.len() > 1 {
        return Err("-o needs exactly one input".into());
    }
    Ok(if files.is_empty() {
        vec![PathBuf::from("-")]
    } else {
        files.to_vec()
    })
}

fn encode_all(a: EncodeArgs) -> Result<Exit, String> {
    let config = resolve_encoder(&a)?;
    let files = input_list(&a.files, &a.out)?;
    let encoder = Encoder::new(config).map_err(|e| e.to_string())?;
    if a.estimate {
        let results = files.iter().map(|f| estimate_one(&encoder, f)).collect();
        return Ok(report(results));
    }
    let results = files.iter().map(|f| encode_one(&encoder, &a, f)).collect();
    Ok(report(results))
}

fn encode_one(encoder: &Encoder, a: &EncodeArgs, input: &Path) -> FileResult<()> {
    let name = display(input);
    if is_stdin(input) && io::stdin().is_terminal() && !a.out.force {
        return Err(fail(
            &name,
            usage("stdin is a terminal; give a FILE or pipe data in (see sigma --help)".into()),
        ));
    }
    let to_stdout = a.out.stdout || (is_stdin(input) && a.out.output.is_none());
    let size = if is_stdin(input) {
        None
    } else {
        std::fs::metadata(input)
            .map_err(|e| fail(&name, Error::io("opening input", e)))?
            .is_file()
            .then(|| std::fs::metadata(input).map(|m| m.len()).unwrap_or(0))
    };
    if let Ok(plan) = encoder.plan(size) {
        if !a.common.quiet {
            plan.notes
                .iter()
                .for_each(|n| eprintln!("sigma: {name}: {n}"));
        }
    }
    let bar = progress_bar(&a.common, size, &name);
    let progress = |done: u64| bar.set_position(done);
    let stats = if to_stdout {
        output::refuse_terminal(a.out.force).map_err(|e| fail(&name, e))?;
        let stdout = io::stdout();
        let mut w = io::BufWriter::with_capacity(OUTPUT_BUFFER, stdout.lock());
        if is_stdin(input) {
            encoder.encode_reader(io::stdin(), None, &mut w, &progress)
        } else {
            encoder.encode_file(input, &mut w, &progress)
        }
        .map_err(|e| fail(&name, e))?
    } else {
        let dest = match &a.out.output {
            Some(o) => o.clone(),
            None => {
                let mut s = input.as_os_str().to_owned();
                s.push(".sigma");
                PathBuf::from(s)
            }
        };
        let source = (!is_stdin(input)).then_some(input);
        let stats = output::write_atomically(&dest, source, a.out.force, |w| {
            if a.full_load {
                full_load(encoder, input, w)
            } else if is_stdin(input) {
                encoder.encode_reader(io::stdin(), None, w, &progress)
            } else {
                encoder.encode_file(input, w, &progress)
            }
        })
        .map_err(|e| fail(&name, e))?;
        if a.out.rm && !is_stdin(input) {
            // Verify the complete, synced output before the input goes.
            let f = File::open(&dest)
                .map_err(|e| fail(&display(&dest), Error::io("reopening output", e)))?;
            Decoder::new(a.common.threads)
                .and_then(|d| d.decode(f, &mut io::sink(), &|_| {}))
                .map_err(|e| fail(&display(&dest), e))?;
            std::fs::remove_file(input).map_err(|e| fail(&name, Error::io("removing input", e)))?;
        }
        stats
    };
    bar.finish_and_clear();
    summarize(&a.common, &name, "encoded", &stats);
    Ok(())
}

/// Prints what encoding `input` will use and need, without encoding it.
fn estimate_one(encoder: &Encoder, input: &Path) -> FileResult<()> {
    let name = display(input);
    let size = if is_stdin(input) {
        None
    } else {
        let m = fs::metadata(input).map_err(|e| fail(&name, Error::io("opening input", e)))?;
        m.is_file().then_some(m.len())
    };
    let plan = encoder.plan(size).map_err(|e| fail(&name, e))?;
    let full = size.map(|n| sigmalang::pipeline::sizing::full_load_estimate(encoder.level(), n));
    let mut out = io::stdout().lock();
    let text = format!(
        "file {name}\nsize {}\nchunk_size {}\nthreads {}\nframes_in_flight {}\nestimate {}\nfull_load_estimate {}\n",
        size.map_or("unknown".into(), |n| n.to_string()),
        plan.chunk_size,
        plan.threads,
        plan.slots(),
        plan.estimate,
        full.map_or("unknown".into(), |n| n.to_string()),
    );
    out.write_all(text.as_bytes())
        .map_err(|e| fail(&name, Error::io("writing output", e)))?;
    plan.notes
        .iter()
        .for_each(|n| eprintln!("sigma: {name}: {n}"));
    Ok(())
}

/// The load-everything contrast of the benchmark: whole input in memory, one thread.
fn full_load(encoder: &Encoder, input: &Path, w: &mut dyn Write) -> Result<Stats, Error> {
    let started = std::time::Instant::now();
    let data = fs::read(input).map_err(|e| Error::io("reading input", e))?;
    let plan = encoder.plan(Some(data.len() as u64))?;
    let level = encoder.level();
    let stream = sigmalang::memory::encode(&data, level, plan.chunk_size)?;
    w.write_all(&stream)
        .map_err(|e| Error::io("writing output", e))?;
    Ok(Stats {
        raw_size: data.len() as u64,
        encoded_size: stream.len() as u64,
        chunk_size: plan.chunk_size,
        threads: 1,
        level: level.get(),
        elapsed: started.elapsed(),
        peak_rss: sigmalang::stats::peak_rss().unwrap_or(0),
        ..Stats::default()
    })
}

fn parse_range(s: &str) -> Result<(u64, u64), String> {
    let (a, b) = s
        .split_once(':')
        .ok_or_else(|| format!("invalid range '{s}': expected START:END"))?;
    let start = args::parse_size(a)?;
    let end = args::parse_size(b)?;
    if end < start {
        return Err(format!("invalid range '{s}': END is before START"));
    }
    Ok((start, end))
}

fn decode_all(a: DecodeArgs) -> Result<Exit, String> {
    let files = input_list(&a.files, &a.out)?;
    let range = a.range.as_deref().map(parse_range).transpose()?;
    if range.is_some() && files.iter().any(|f| is_stdin(f)) {
        return Err("--range needs a file (it seeks to the frames it reads)".into());
    }
    let decoder = Decoder::new(a.common.threads).map_err(|e| e.to_string())?;
    let results = files
        .iter()
        .map(|f| decode_one(&decoder, &a, f, range))
        .collect();
    Ok(report(results))
}

fn decode_one(
    decoder: &Decoder,
    a: &DecodeArgs,
    input: &Path,
    range: Option<(u64, u64)>,
) -> FileResult<()> {
    let name = display(input);
    let to_stdout = a.out.stdout || (is_stdin(input) && a.out.output.is_none());
    let bar = progress_bar(&a.common, None, &name);
    let progress = |done: u64| bar.set_position(done);
    let run = |w: &mut dyn Write| -> Result<Stats, Error> {
        if let Some((start, end)) = range {
            let mut f = File::open(input).map_err(|e| Error::io("opening input", e))?;
            let n = decode::decode_range(&mut f, start, end, w)?;
            return Ok(Stats {
                raw_size: n,
                bytes_out: n,
                ..Stats::default()
            });
        }
        if is_stdin(input) {
            decoder.decode(io::stdin(), w, &progress)
        } else {
            let f = File::open(input).map_err(|e| Error::io("opening input", e))?;
            decoder.decode(f, w, &progress)
        }
    };
    let stats = if to_stdout {
        output::refuse_terminal(a.out.force).map_err(|e| fail(&name, e))?;
        let stdout = io::stdout();
        let mut w = io::BufWriter::with_capacity(OUTPUT_BUFFER, stdout.lock());
        run(&mut w).map_err(|e| fail(&name, e))?
    } else {
        let dest = match &a.out.output {
            Some(o) => o.clone(),
            None => {
                let s = input.to_string_lossy();
                match s.strip_suffix(".sigma") {
                    Some(stem) if !stem.is_empty() && !stem.ends_with('/') => PathBuf::from(stem),
                    _ => {
                        return Err(fail(
                            &name,
                            usage("name does not end in .sigma; use -o OUT or -c".into()),
                        ))
                    }
                }
            }
        };
        let stats = output::write_atomically(&dest, Some(input), a.out.force, run)
            .map_err(|e| fail(&name, e))?;
        if a.out.rm && !is_stdin(input) {
            std::fs::remove_file(input).map_err(|e| fail(&name, Error::io("removing input", e)))?;
        }
        stats
    };
    bar.finish_and_clear();
    summarize(&a.common, &name, "decoded", &stats);
    Ok(())
}

fn verify_all(a: VerifyArgs) -> Result<Exit, String> {
    let decoder = Decoder::new(a.common.threads).map_err(|e| e.to_string())?;
    let results = a
        .files
        .iter()
        .map(|f| {
            let name = display(f);
            let stats = if is_stdin(f) {
                decoder.decode(io::stdin(), &mut io::sink(), &|_| {})
            } else {
                File::open(f)
                    .map_err(|e| Error::io("opening input", e))
                    .and_then(|file| decoder.decode(file, &mut io::sink(), &|_| {}))
            }
            .map_err(|e| fail(&name, e))?;
            if !a.common.quiet {
                eprintln!(
                    "{name}: OK ({} frames, {} bytes)",
                    stats.frames, stats.raw_size
                );
            }
            if a.common.json {
                eprintln!("{}", json_line(&name, &stats));
            }
            Ok(())
        })
        .collect();
    Ok(report(results))
}

fn inspect_all(a: InspectArgs) -> Result<Exit, String> {
    let results = a.files.iter().map(|f| inspect_one(&a, f)).collect();
    Ok(report(results))
}

fn inspect_one(a: &InspectArgs, path: &Path) -> FileResult<()> {
    let name = display(path);
    let mut f = File::open(path).map_err(|e| fail(&name, Error::io("opening input", e)))?;
    let info = decode::inspect(&mut f).map_err(|e| fail(&name, e))?;
    let g = info.glyphs();
    let raw = info.trailer.raw_size;
    let ratio = if info.encoded_size == 0 {
        0.0
    } else {
        raw as f64 / info.encoded_size as f64
    };
    let min = info.entries.iter().map(|e| e.raw_size).min().unwrap_or(0);
    let max = info.entries.iter().map(|e| e.raw_size).max().unwrap_or(0);
    let mut stdout = io::stdout().lock();
    let io_err = |e| fail(&name, Error::io("writing output", e));
    if a.json {
        let mut v = serde_json::json!({
            "file": name,
            "version": info.header.version,
            "level": info.header.level.get(),
            "chunk_size": info.header.chunk_size,
            "raw_size": raw,
            "encoded_size": info.encoded_size,
            "ratio": ratio,
            "frames": info.entries.len(),
            "frame_raw_min": min,
            "frame_raw_max": max,
            "content_crc32c": format!("{:08x}", info.trailer.content_crc),
            "glyphs": g,
        });
        if a.frames {
            let list: Vec<_> = info
                .entries
                .iter()
                .zip(&info.offsets)
                .map(|(e, off)| serde_json::json!({"offset": off, "encoded_len": e.encoded_len, "raw_size": e.raw_size, "glyphs": e.glyphs}))
                .collect();
            v["frame_list"] = list.into();
        }
        writeln!(stdout, "{v}").map_err(io_err)?;
        return Ok(());
    }
    let text = format!(
        "{name}\n  format version  {}\n  level           {}\n  chunk size      {} bytes\n  raw size        {raw} bytes\n  encoded size    {} bytes\n  ratio           {ratio:.3}\n  frames          {} (raw {min}..{max} bytes)\n  glyphs          {} total: primitive {}, reference {}, delta {}, iteration {}\n  bytes           literal {}, copied {}\n  content crc32c  {:08x}\n",
        info.header.version,
        info.header.level.get(),
        info.header.chunk_size,
        info.encoded_size,
        info.entries.len(),
        g.total(),
        g.primitive,
        g.reference,
        g.delta,
        g.iteration,
        g.literal_bytes,
        g.copied_bytes,
        info.trailer.content_crc
    );
    stdout.write_all(text.as_bytes()).map_err(io_err)?;
    if a.frames {
        writeln!(
            stdout,
            "  {:>8} {:>14} {:>10} {:>10} {:>7} {:>8}",
            "frame", "offset", "encoded", "raw", "ratio", "glyphs"
        )
        .map_err(io_err)?;
        for (i, (e, off)) in info.entries.iter().zip(&info.offsets).enumerate() {
            writeln!(
                stdout,
                "  {:>8} {:>14} {:>10} {:>10} {:>7.3} {:>8}",
                i,
                off,
                e.encoded_len,
                e.raw_size,
                e.raw_size as f64 / e.encoded_len.max(1) as f64,
                e.glyphs.total()
            )
            .map_err(io_err)?;
        }
    }
    Ok(())
}
