//! `sigma decode`, `sigma verify` and `sigma inspect`.

use std::ffi::OsStr;
use std::fs::{self, File};
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use super::args::{self, DecodeArgs, InspectArgs, VerifyArgs};
use super::{
    check_special_input, display, fail, fail_stdout, input_list, is_stdin, json_line, json_name,
    memory_limit, progress_bar, report, summarize, usage_fail, Exit, FileResult, RANGE_VERB,
};
use sigmalang::decode::{self, Decoder, StreamInfo};
use sigmalang::output::{self, Partials, OUTPUT_BUFFER};
use sigmalang::pipeline::sizing;
use sigmalang::stats::Stats;
use sigmalang::Error;

fn parse_range(s: &str) -> Result<(u64, u64), String> {
    let (a, b) = s
        .split_once(':')
        .ok_or_else(|| format!("invalid range '{s}': expected START:END"))?;
    let start = args::parse_size(a).map_err(|e| format!("invalid range '{s}': {e}"))?;
    let end = args::parse_size(b).map_err(|e| format!("invalid range '{s}': {e}"))?;
    if end < start {
        return Err(format!("invalid range '{s}': END is before START"));
    }
    Ok((start, end))
}

/// Runs `sigma decode`.
pub fn run_decode(a: DecodeArgs, partials: &Partials) -> Result<Exit, String> {
    let files = input_list(&a.files, &a.out)?;
    let range = a.range.as_deref().map(parse_range).transpose()?;
    if range.is_some() && files.iter().any(|f| is_stdin(f)) {
        return Err("--range needs a file (it seeks to the frames it reads)".into());
    }
    if a.salvage && (a.out.rm || files.iter().any(|f| is_stdin(f))) {
        return Err(if a.out.rm {
            "--salvage keeps the damaged stream: --rm cannot be used with it".into()
        } else {
            "--salvage needs a file, not standard input (it seeks through the stream)".into()
        });
    }
    if range.is_some() && a.out.rm {
        return Err(
            "--rm cannot be used with --range: the stream is kept when only part of it is decoded"
                .into(),
        );
    }
    if range.is_some() && a.out.output.is_none() && !a.out.stdout {
        // Under the decoded name, part of the content would pass for the whole file.
        return Err(
            "--range decodes part of the content: name its output with -o OUT, or use -c".into(),
        );
    }
    if a.salvage && a.memory_limit.is_some() {
        return Err(
            "--salvage decodes one group of frames at a time, whatever the budget: --memory-limit cannot be used with it"
                .into(),
        );
    }
    let limit = memory_limit(a.memory_limit.as_deref())?;
    let decoder = Decoder::with_memory_limit(a.common.threads, limit).map_err(|e| e.to_string())?;
    let results = files.iter().map(|f| {
        if a.salvage {
            salvage_one(&a, f, partials)
        } else {
            decode_one(&decoder, &a, f, range, partials)
        }
    });
    Ok(report(results))
}

/// `sigma decode --salvage`: every intact frame out, the lost ranges reported.
fn salvage_one(a: &DecodeArgs, input: &Path, partials: &Partials) -> FileResult<()> {
    use sigmalang::decode::salvage::{self, Salvaged, Seekable, Sequential};
    let name = display(input);
    let mut result: Option<Salvaged> = None;
    let mut run = |out: &mut dyn salvage::SalvageOutput| -> Result<Stats, Error> {
        let mut f = File::open(input).map_err(|e| Error::io("opening input", e))?;
        let r = salvage::salvage(&mut f, out)?;
        let stats = Stats {
            raw_size: r.bytes,
            frames: r.frames,
            ..Stats::default()
        };
        result = Some(r);
        Ok(stats)
    };
    if a.out.stdout {
        let stdout = super::raw_stdout(input).map_err(|e| fail(&name, e))?;
        run(&mut Sequential::new(io::BufWriter::new(stdout))).map_err(|e| fail_stdout(&name, e))?;
    } else {
        let dest = match &a.out.output {
            Some(o) => o.clone(),
            None => decoded_name(input).ok_or_else(|| {
                fail(
                    &name,
                    Error::InvalidSetting {
                        detail: "name does not end in .sigma; use -o OUT or -c".into(),
                    },
                )
            })?,
        };
        output::write_to_sink(
            &dest,
            Some(input),
            a.out.force,
            partials,
            |sink| match sink {
                output::Sink::File(file) => run(&mut Seekable(file)),
                output::Sink::Stream(w) => run(&mut Sequential::new(w)),
            },
        )
        .map_err(|e| fail(&name, e))?;
    }
    let r = result.unwrap_or_default();
    if a.common.json {
        let v = serde_json::json!({"file": json_name(input), "salvage": r});
        say!("{v}");
    }
    if !a.common.quiet {
        for l in &r.lost {
            let end = l
                .end
                .map_or("unknown size".to_string(), |e| format!("up to byte {e}"));
            let place = if l.exact {
                "original byte"
            } else {
                "output byte"
            };
            say!("sigma: {name}: lost data at {place} {} ({end})", l.start);
        }
        if let Some(first) = r.unplaced.first() {
            let bytes: u64 = r.unplaced.iter().map(|u| u.raw_size).sum();
            say!(
                "sigma: {name}: {} ({bytes} bytes; the first at stream byte {}) not written: the index places none of them (from another stream, moved far, or alike frames it cannot tell apart)",
                super::count(r.unplaced.len() as u64, "intact frame"),
                first.at
            );
        }
    }
    if r.lost.is_empty() {
        // Every byte came back; the stream may still be damaged where no content lives
        // (header, index, trailer, glyphs between frames): say so, as decode would.
        let check = File::open(input)
            .map_err(|e| Error::io("opening input", e))
            .and_then(|f| Decoder::new(1)?.decode(f, &mut io::sink(), &|_| {}));
        return match check {
            Ok(_) => Ok(()),
            Err(e) => Err(fail(
                &name,
                Error::InvalidSetting {
                    detail: format!("damaged, but every frame was recovered: {e}"),
                },
            )),
        };
    }
    Err(fail(
        &name,
        Error::InvalidSetting {
            detail: format!(
                "damaged: recovered {} ({} bytes), lost {} range{}{}",
                super::count(r.frames, "frame"),
                r.bytes,
                r.lost.len(),
                if r.lost.len() == 1 { "" } else { "s" },
                if r.lost.iter().all(|l| l.exact) {
                    ""
                } else {
                    " (offsets after the first loss of unknown size are shifted)"
                }
            ),
        },
    ))
}

/// `NAME` for `NAME.sigma`.
fn decoded_name(input: &Path) -> Option<PathBuf> {
    let stem = input.as_os_str().as_bytes().strip_suffix(b".sigma")?;
    let name_part = stem.rsplit(|&b| b == b'/').next().unwrap_or(stem);
    (!name_part.is_empty()).then(|| PathBuf::from(OsStr::from_bytes(stem)))
}

/// The raw size a stream file declares, for the progress bar (`None` when unknown).
fn declared_raw_size(input: &Path) -> Option<u64> {
    let mut f = File::open(input).ok()?;
    decode::inspect(&mut f).ok().map(|i| i.trailer.raw_size)
}

fn decode_one(
    decoder: &Decoder,
    a: &DecodeArgs,
    input: &Path,
    range: Option<(u64, u64)>,
    partials: &Partials,
) -> FileResult<()> {
    let name = display(input);
    let to_stdout = a.out.stdout || (is_stdin(input) && a.out.output.is_none());
    check_special_input(input, &a.out, to_stdout, "decode")?;
    let dest = match (&a.out.output, to_stdout) {
        (_, true) => None,
        (Some(o), false) => Some(o.clone()),
        (None, false) => Some(decoded_name(input).ok_or_else(|| {
            let why = if input.as_os_str().as_bytes().ends_with(b".sigma") {
                "name has nothing before .sigma to name the output; use -o OUT or -c"
            } else {
                "name does not end in .sigma; use -o OUT or -c"
            };
            fail(&name, Error::InvalidSetting { detail: why.into() })
        })?),
    };
    let total = match range {
        Some((s, e)) => Some(e - s),
        None if is_stdin(input) || a.common.no_progress || a.common.quiet => None,
        None => declared_raw_size(input),
    };
    let bar = progress_bar(&a.common, total, &name);
    let progress = |done: u64| bar.set_position(done);
    let run = |w: &mut dyn Write| -> Result<Stats, Error> {
        if let Some((start, end)) = range {
            let mut f = File::open(input).map_err(|e| Error::io("opening input", e))?;
            if let Some(limit) = decoder.memory_limit() {
                // A range is decoded a group of frames at a time: one group must fit.
                let h = decode::inspect(&mut f)?.header;
                sizing::decode_plan(h.chunk_size, h.group, 1, Some(limit))?;
            }
            return decode::decode_range_stats(&mut f, start, end, w);
        }
        if is_stdin(input) {
            decoder.decode(io::stdin(), w, &progress)
        } else {
            let f = File::open(input).map_err(|e| Error::io("opening input", e))?;
            decoder.decode(f, w, &progress)
        }
    };
    let stats = match dest {
        None => {
            let stdout = super::raw_stdout(input).map_err(|e| fail(&name, e))?;
            let mut w = io::BufWriter::with_capacity(OUTPUT_BUFFER, stdout);
            run(&mut w).map_err(|e| fail_stdout(&name, e))?
        }
        Some(dest) => {
            if a.out.rm && output::written_in_place(&dest) {
                return Err(usage_fail(
                    &name,
                    format!(
                        "--rm needs a file output; {} is a device or fifo, so the stream is kept",
                        dest.display()
                    ),
                ));
            }
            let source = (!is_stdin(input)).then_some(input);
            // A regular output keeps the content's aligned blocks of zeros as holes.
            let stats =
                output::write_to_sink(&dest, source, a.out.force, partials, |sink| match sink {
                    output::Sink::File(file) => output::fill(file, true, run),
                    output::Sink::Stream(w) => run(w),
                })
                .map_err(|e| fail(&name, e))?;
            // Decoding checked every frame, the index and the content checksum.
            if a.out.rm && !is_stdin(input) {
                fs::remove_file(input).map_err(|e| fail(&name, Error::io("removing input", e)))?;
            }
            stats
        }
    };
    bar.finish_and_clear();
    let verb = if range.is_some() {
        RANGE_VERB
    } else {
        "decoded"
    };
    summarize(&a.common, input, verb, &stats);
    Ok(())
}

/// Runs `sigma verify`.
pub fn run_verify(a: VerifyArgs) -> Result<Exit, String> {
    let limit = memory_limit(a.memory_limit.as_deref())?;
    let decoder = Decoder::with_memory_limit(a.common.threads, limit).map_err(|e| e.to_string())?;
    let results = a.files.iter().map(|f| verify_one(&decoder, &a, f));
    Ok(report(results))
}

fn verify_one(decoder: &Decoder, a: &VerifyArgs, input: &Path) -> FileResult<()> {
    let name = display(input);
    let stats = if is_stdin(input) {
        decoder.decode(io::stdin(), &mut io::sink(), &|_| {})
    } else {
        File::open(input)
            .map_err(|e| Error::io("opening input", e))
            .and_then(|file| decoder.decode(file, &mut io::sink(), &|_| {}))
    }
    .map_err(|e| fail(&name, e))?;
    if !a.common.quiet {
        say!(
            "{name}: OK ({}, {})",
            super::count(stats.frames, "frame"),
            super::count(stats.raw_size, "byte")
        );
    }
    if a.common.json {
        say!("{}", json_line(&json_name(input), &stats));
    }
    Ok(())
}

/// Runs `sigma inspect`.
pub fn run_inspect(a: InspectArgs) -> Result<Exit, String> {
    let results = a.files.iter().map(|f| inspect_one(&a, f));
    Ok(report(results))
}

fn inspect_one(a: &InspectArgs, path: &Path) -> FileResult<()> {
    let name = display(path);
    if is_stdin(path) {
        return Err(usage_fail(
            &name,
            "inspect needs a file (it reads the index at the end); use sigma verify - for a pipe",
        ));
    }
    let mut f = File::open(path).map_err(|e| fail(&name, Error::io("opening input", e)))?;
    let info = decode::inspect(&mut f).map_err(|e| fail(&name, e))?;
    let mut stdout = io::BufWriter::new(io::stdout().lock());
    let written = if a.json {
        inspect_json(a, &json_name(path), &info, &mut f, &mut stdout)
    } else {
        inspect_text(a, &name, &info, &mut f, &mut stdout)
    };
    written
        .and_then(|()| stdout.flush().map_err(|e| Error::io("writing output", e)))
        .map_err(|e| fail_stdout(&name, e))
}

fn ratio(info: &StreamInfo) -> f64 {
    if info.encoded_size == 0 {
        0.0
    } else {
        info.trailer.raw_size as f64 / info.encoded_size as f64
    }
}

fn out_err(e: io::Error) -> Error {
    Error::io("writing output", e)
}

fn inspect_json(
    a: &InspectArgs,
    name: &str,
    info: &StreamInfo,
    f: &mut File,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let v = serde_json::json!({
        "file": name,
        "version": info.header.version,
        "level": info.header.level.get(),
        "chunk_size": info.header.chunk_size,
        "group": info.header.group,
        "raw_size": info.trailer.raw_size,
        "encoded_size": info.encoded_size,
        "ratio": ratio(info),
        "frames": info.trailer.frames,
        "frame_raw_min": info.frame_raw_min,
        "frame_raw_max": info.frame_raw_max,
        "content_crc32c": format!("{:08x}", info.trailer.content_crc),
        "glyphs": info.glyphs,
        "compact": info.compact.is_some(),
        "metadata_damaged": info.metadata_damaged,
        "metadata": info.metadata.as_ref().map(|m| serde_json::json!({
            "name": String::from_utf8_lossy(&m.name),
            "mode": format!("{:04o}", m.mode),
            "mtime": m.mtime,
            "mtime_nanos": m.mtime_nanos,
        })),
    });
    let text = v.to_string();
    if !a.frames {
        return writeln!(out, "{text}").map_err(out_err);
    }
    // The frame list is streamed from the index into the object's last field.
    let open = text.strip_suffix('}').unwrap_or(&text);
    write!(out, "{open},\"frame_list\":[").map_err(out_err)?;
    decode::frames(f, info, |fr| {
        let item = serde_json::json!({
            "offset": fr.offset,
            "encoded_len": fr.entry.encoded_len,
            "raw_size": fr.entry.raw_size,
            "glyphs": fr.entry.glyphs,
        });
        let sep = if fr.number == 0 { "" } else { "," };
        write!(out, "{sep}{item}").map_err(out_err)?;
        Ok(true)
    })?;
    writeln!(out, "]}}").map_err(out_err)
}

fn inspect_text(
    a: &InspectArgs,
    name: &str,
    info: &StreamInfo,
    f: &mut File,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let g = &info.glyphs;
    write!(
        out,
        "{name}\n  format version  {}{}\n  level           {}\n  chunk size      {} bytes\n  raw size        {} bytes\n  encoded size    {} bytes\n  ratio           {:.3}\n  frames          {} (raw {}..{} bytes, groups of {})\n  glyphs          {} total: primitive {}, reference {}, delta {}, iteration {}\n  bytes           literal {}, copied {}\n  content crc32c  {:08x}\n",
        info.header.version,
        if info.compact.is_some() {
            " (a compact stream: one glyph)"
        } else {
            ""
        },
        info.header.level.get(),
        info.header.chunk_size,
        info.trailer.raw_size,
        info.encoded_size,
        ratio(info),
        info.trailer.frames,
        info.frame_raw_min,
        info.frame_raw_max,
        info.header.group,
        g.total(),
        g.primitive,
        g.reference,
        g.delta,
        g.iteration,
        g.literal_bytes,
        g.copied_bytes,
        info.trailer.content_crc
    )
    .map_err(out_err)?;
    if info.metadata_damaged {
        writeln!(
            out,
            "  metadata        damaged (decode and verify report it)"
        )
        .map_err(out_err)?;
    }
    if let Some(m) = &info.metadata {
        writeln!(
            out,
            "  metadata        name \"{}\", mode {:04o}, mtime {}",
            super::name_text(&m.name).replace('"', "\\\""),
            m.mode,
            sigmalang::base::seconds_text(m.mtime, m.mtime_nanos)
        )
        .map_err(out_err)?;
    }
    if !a.frames {
        return Ok(());
    }
    writeln!(
        out,
        "  {:>8} {:>14} {:>10} {:>10} {:>7} {:>8}",
        "frame", "offset", "encoded", "raw", "ratio", "glyphs"
    )
    .map_err(out_err)?;
    decode::frames(f, info, |fr| {
        let e = &fr.entry;
        writeln!(
            out,
            "  {:>8} {:>14} {:>10} {:>10} {:>7.3} {:>8}",
            fr.number,
            fr.offset,
            e.encoded_len,
            e.raw_size,
            e.raw_size as f64 / e.encoded_len.max(1) as f64,
            e.glyphs.total()
        )
        .map_err(out_err)?;
        Ok(true)
    })
}
