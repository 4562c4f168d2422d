//! `sigma encode`.

use std::fs::{self, File};
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};

use super::args::{self, EncodeArgs};
use super::{
    check_special_input, display, fail, fail_stdout, input_list, is_stdin, memory_limit,
    progress_bar, report, summarize, usage_fail, Exit, FileResult,
};
use sigmalang::decode::Decoder;
use sigmalang::output::{self, Partials, OUTPUT_BUFFER};
use sigmalang::pipeline::{ChunkSize, Encoder, EncoderConfig, ReadMode};
use sigmalang::stats::Stats;
use sigmalang::{Error, Level};

fn resolve(a: &EncodeArgs) -> Result<EncoderConfig, String> {
    let chunk_size = if a.chunk_size.eq_ignore_ascii_case("auto") {
        ChunkSize::Auto
    } else {
        let n = args::parse_size(&a.chunk_size)?;
        sigmalang::format::check_chunk_size(n).map_err(|e| e.to_string())?;
        ChunkSize::Fixed(n)
    };
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
        memory_limit: memory_limit(a.memory_limit.as_deref())?,
        group: a.group,
    })
}

/// Runs `sigma encode`.
pub fn run(a: EncodeArgs, partials: &Partials) -> Result<Exit, String> {
    let config = resolve(&a)?;
    let files = input_list(&a.files, &a.out)?;
    let encoder = Encoder::new(config).map_err(|e| e.to_string())?;
    Ok(report(files.iter().map(|f| {
        if a.estimate {
            estimate_one(&encoder, f)
        } else {
            encode_one(&encoder, &a, f, partials)
        }
    })))
}

/// The input's size when it is a regular file whose size is its content's.
fn input_size(input: &Path, name: &str) -> FileResult<Option<u64>> {
    if is_stdin(input) {
        return Ok(stdin_file_size());
    }
    let m = fs::metadata(input).map_err(|e| fail(name, Error::io("opening input", e)))?;
    Ok((m.is_file() && m.len() > 0).then_some(m.len()))
}

/// The bytes left in standard input when it is a regular file (`sigma encode < FILE`), so
/// that it is coded as FILE would be: same frames, same bytes.
fn stdin_file_size() -> Option<u64> {
    use std::io::Seek;
    use std::os::fd::AsFd;
    let mut f = File::from(io::stdin().as_fd().try_clone_to_owned().ok()?);
    let m = f.metadata().ok()?;
    if !m.is_file() {
        return None;
    }
    let at = f.stream_position().ok()?;
    m.len().checked_sub(at).filter(|&n| n > 0)
}

fn encode_one(
    encoder: &Encoder,
    a: &EncodeArgs,
    input: &Path,
    partials: &Partials,
) -> FileResult<()> {
    let name = display(input);
    if is_stdin(input) && io::stdin().is_terminal() && !a.out.force {
        return Err(usage_fail(
            &name,
            "stdin is a terminal; give a FILE or pipe data in (see sigma --help)",
        ));
    }
    let to_stdout = a.out.stdout || (is_stdin(input) && a.out.output.is_none());
    check_special_input(input, &a.out, to_stdout, "encode")?;
    let size = input_size(input, &name)?;
    if a.meta && (is_stdin(input) || !fs::metadata(input).is_ok_and(|m| m.is_file())) {
        return Err(usage_fail(
            &name,
            "--meta needs a regular file: standard input or a pipe has no name, mode or mtime to keep",
        ));
    }
    // The plan of an input of unknown size (a pipe, an empty or pseudo file) is known once
    // its start is read: its notes follow the encode.
    if let (Some(_), Ok(plan)) = (size, encoder.plan(size)) {
        if !a.common.quiet {
            plan.notes.iter().for_each(|n| say!("sigma: {name}: {n}"));
        }
    }
    let bar = progress_bar(&a.common, size, &name);
    let progress = |done: u64| bar.set_position(done);
    let encode = |w: &mut dyn Write| {
        let metadata = match a.meta {
            true => Some(sigmalang::pipeline::file_metadata(input)?),
            false => None,
        };
        if a.full_load {
            full_load(encoder, input, metadata.as_ref(), w)
        } else if is_stdin(input) {
            encoder.encode_reader(io::stdin(), size, w, &progress)
        } else if let Some(m) = &metadata {
            encoder.encode_file_with(input, w, &progress, Some(m))
        } else {
            encoder.encode_file(input, w, &progress)
        }
    };
    let stats = if to_stdout {
        super::refuse_terminal(a.out.force).map_err(|e| fail(&name, e))?;
        let stdout = super::raw_stdout(input).map_err(|e| fail(&name, e))?;
        let mut w = io::BufWriter::with_capacity(OUTPUT_BUFFER, stdout);
        encode(&mut w).map_err(|e| fail_stdout(&name, e))?
    } else {
        let dest = a.out.output.clone().unwrap_or_else(|| {
            let mut s = input.as_os_str().to_owned();
            s.push(".sigma");
            PathBuf::from(s)
        });
        if a.out.rm && output::written_in_place(&dest) {
            return Err(usage_fail(
                &name,
                format!(
                    "--rm needs a file output to verify; {} is a device or fifo",
                    dest.display()
                ),
            ));
        }
        let source = (!is_stdin(input)).then_some(input);
        let stats = output::write_atomically(&dest, source, a.out.force, partials, encode)
            .map_err(|e| fail(&name, e))?;
        if a.out.rm && !is_stdin(input) {
            remove_input_after_check(input, &dest, &name, a.common.threads)?;
        }
        stats
    };
    bar.finish_and_clear();
    if size.is_none() && !a.common.quiet {
        stats.notes.iter().for_each(|n| say!("sigma: {name}: {n}"));
    }
    summarize(&a.common, input, "encoded", &stats);
    Ok(())
}

/// Removes an encoded input once its output, read back from disk, decodes and verifies.
fn remove_input_after_check(
    input: &Path,
    dest: &Path,
    name: &str,
    threads: usize,
) -> FileResult<()> {
    if !dest.is_file() {
        return Ok(()); // written in place to a device: nothing to read back, keep the input
    }
    let f = File::open(dest).map_err(|e| fail(&display(dest), Error::io("reopening output", e)))?;
    Decoder::new(threads)
        .and_then(|d| d.decode(f, &mut io::sink(), &|_| {}))
        .map_err(|e| fail(&display(dest), e))?;
    fs::remove_file(input).map_err(|e| fail(name, Error::io("removing input", e)))
}

/// Prints what encoding `input` will use and need, without encoding it.
fn estimate_one(encoder: &Encoder, input: &Path) -> FileResult<()> {
    let name = display(input);
    let size = input_size(input, &name)?;
    let plan = encoder.plan(size).map_err(|e| fail(&name, e))?;
    // A small input is also coded with level 9's parse (sizing::SMALL_INPUT).
    let level = if plan.strongest_too {
        Level::MAX
    } else {
        encoder.level()
    };
    let full = size.map(|n| sigmalang::pipeline::sizing::full_load_estimate(level, n));
    let text = format!(
        "file {name}\nsize {}\nchunk_size {}\nthreads {}\nframes_in_flight {}\nestimate {}\nfull_load_estimate {}\n",
        size.map_or("unknown".into(), |n| n.to_string()),
        plan.chunk_size,
        plan.threads,
        plan.slots(),
        plan.estimate,
        full.map_or("unknown".into(), |n| n.to_string()),
    );
    io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(|e| fail(&name, Error::io("writing output", e)))?;
    plan.notes.iter().for_each(|n| say!("sigma: {name}: {n}"));
    Ok(())
}

/// The load-everything contrast of the benchmark: whole input in memory, one thread.
fn full_load(
    encoder: &Encoder,
    input: &Path,
    metadata: Option<&sigmalang::format::Metadata>,
    w: &mut dyn Write,
) -> Result<Stats, Error> {
    let started = std::time::Instant::now();
    if is_stdin(input) {
        return Err(Error::InvalidSetting {
            detail: "--full-load needs a file, not stdin".into(),
        });
    }
    let data = fs::read(input).map_err(|e| Error::io("reading input", e))?;
    let plan = encoder.plan(Some(data.len() as u64))?;
    let level = encoder.level();
    // The streaming encoder's frames: a small input coded both ways too.
    let chunk = if plan.strongest_too {
        ChunkSize::Auto
    } else {
        ChunkSize::Fixed(plan.chunk_size)
    };
    let mut stream = Vec::new();
    sigmalang::memory::encode_into(
        &data,
        level,
        chunk,
        plan.group,
        metadata,
        &mut sigmalang::frame::FrameEncoder::default(),
        &mut stream,
    )?;
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
