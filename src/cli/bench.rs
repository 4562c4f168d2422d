//! `sigma bench`: parse, sample, measure each setting, print the table and a recommendation.

use std::fs::File;
use std::io::{self, IsTerminal, Read, Write};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use super::args::{parse_size, BenchArgs};
use super::Exit;
use sigmalang::bench::{self, Case, Goal, Measured};
use sigmalang::demo::DemoData;

/// The settings to measure: levels × threads × chunk sizes.
pub fn cases(a: &BenchArgs) -> Result<Vec<Case>, String> {
    let levels: Vec<u8> = match (a.begin, a.end) {
        (None, None) => vec![1, 3],
        (Some(b), None) => vec![b],
        (None, Some(e)) => (1..=e).collect(),
        (Some(b), Some(e)) if b <= e => (b..=e).collect(),
        (Some(b), Some(e)) => return Err(format!("-b {b} is after -e {e}")),
    };
    let threads: Vec<usize> = match &a.threads {
        Some(list) => list
            .split(',')
            .map(|t| match t.trim().parse::<usize>() {
                // 0 is one per core, as everywhere else.
                Ok(0) => Ok(num_cpus::get().max(1)),
                Ok(n) if n == sigmalang::pipeline::sizing::cap_threads(n) => Ok(n),
                Ok(n) => Err(format!(
                    "{n} threads is more than sigma starts here (at most {})",
                    sigmalang::pipeline::sizing::cap_threads(n)
                )),
                _ => Err(format!("invalid thread count '{t}' in '{list}'")),
            })
            .collect::<Result<_, _>>()?,
        None => {
            let cores = num_cpus::get().max(1);
            std::iter::successors(Some(1usize), |n| Some(n * 2))
                .take_while(|&n| n <= cores)
                .chain((!cores.is_power_of_two()).then_some(cores))
                .collect()
        }
    };
    let chunks: Vec<Option<u64>> = match &a.chunk_size {
        Some(list) => list
            .split(',')
            .map(|c| {
                let n = parse_size(c)?;
                sigmalang::format::check_chunk_size(n).map_err(|e| e.to_string())?;
                Ok(Some(n))
            })
            .collect::<Result<_, String>>()?,
        None => vec![None],
    };
    Ok(levels
        .iter()
        .flat_map(|&level| {
            threads.iter().flat_map({
                let chunks = &chunks;
                move |&threads| {
                    chunks.iter().map(move |&chunk_size| Case {
                        level,
                        threads,
                        chunk_size,
                    })
                }
            })
        })
        .collect())
}

/// The sample: the files (each sampled, concatenated up to the sample size), or a
/// generated one.
fn load(a: &BenchArgs) -> Result<(Vec<u8>, String), String> {
    if a.files.is_empty() {
        let size = parse_size(&a.generated)?;
        let mut data = Vec::with_capacity(size as usize);
        DemoData::new(size)
            .read_to_end(&mut data)
            .map_err(|e| format!("generating the sample: {e}"))?;
        return Ok((data, format!("generated sample ({size} bytes)")));
    }
    let limit = parse_size(&a.sample)?;
    let per_file = limit / a.files.len() as u64;
    let mut data = Vec::new();
    for p in &a.files {
        let mut f = File::open(p).map_err(|e| format!("{}: {e}", p.display()))?;
        let len = f
            .metadata()
            .map_err(|e| format!("{}: {e}", p.display()))?
            .len();
        let s =
            bench::sample(&mut f, len, per_file).map_err(|e| format!("{}: {e}", p.display()))?;
        data.extend_from_slice(&s);
    }
    let names: Vec<String> = a.files.iter().map(|p| p.display().to_string()).collect();
    Ok((data, names.join(", ")))
}

/// Measures one case in a fresh process: this binary, run as `sigma bench --child` on
/// the sample written to `sample`.
fn measure_in_child(
    a: &BenchArgs,
    case: &Case,
    sample: &std::path::Path,
) -> Result<Measured, String> {
    let exe = std::env::current_exe().map_err(|e| format!("finding sigma itself: {e}"))?;
    let mut cmd = std::process::Command::new(exe);
    cmd.args(["bench", "--child", "--no-progress", "--sample", "1T"])
        .arg(format!("-b{}", case.level))
        .arg(format!("-T{}", case.threads))
        .arg(format!("--min-time={}", a.min_time));
    if let Some(c) = case.chunk_size {
        cmd.arg(format!("--chunk-size={c}"));
    }
    let out = cmd
        .arg(sample)
        .output()
        .map_err(|e| format!("running a measurement: {e}"))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
    }
    serde_json::from_slice(&out.stdout).map_err(|e| format!("reading a measurement: {e}"))
}

/// Runs `sigma bench`.
pub fn run(a: BenchArgs) -> Result<Exit, String> {
    let cases = cases(&a)?;
    if a.child {
        let (data, _) = load(&a)?;
        let case = cases.first().ok_or("no case to measure")?;
        let m = bench::measure(&data, *case, Duration::from_secs_f64(a.min_time))
            .map_err(|e| e.to_string())?;
        tell!("{}", serde_json::to_string(&m).unwrap_or_default());
        return Ok(Exit::Success);
    }
    let goal = Goal {
        target_ratio: a.target_ratio,
        min_speed: a.min_speed,
        memory_limit: a.memory_limit.as_deref().map(parse_size).transpose()?,
    };
    if !(a.min_time.is_finite() && a.min_time >= 0.0) {
        return Err("--min-time must be a number of seconds".into());
    }
    for (name, v) in [
        ("--target-ratio", a.target_ratio),
        ("--min-speed", a.min_speed),
    ] {
        if v.is_some_and(|v| !(v.is_finite() && v > 0.0)) {
            return Err(format!("{name} must be a positive number"));
        }
    }
    if !a.files.is_empty() && parse_size(&a.sample)? < 64 * 1024 {
        return Err("--sample must be at least 64K".into());
    }
    // An input that cannot be read, or holds nothing, is a failure (exit 1), not a usage
    // error.
    let (data, what) = match load(&a) {
        Ok(loaded) => loaded,
        Err(e) => {
            say!("sigma: {e}");
            return Ok(Exit::Failure);
        }
    };
    if data.is_empty() {
        say!("sigma: {what}: the sample is empty");
        return Ok(Exit::Failure);
    }
    let mut sample =
        tempfile::NamedTempFile::new().map_err(|e| format!("writing the sample: {e}"))?;
    sample
        .write_all(&data)
        .and_then(|()| sample.flush())
        .map_err(|e| format!("writing the sample: {e}"))?;
    let bytes = data.len();
    drop(data);
    let bar = if a.no_progress || !io::stderr().is_terminal() {
        ProgressBar::hidden()
    } else {
        let b = ProgressBar::new(cases.len() as u64);
        b.set_style(
            ProgressStyle::with_template("bench [{bar:30}] {pos}/{len} settings {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        b
    };
    let mut results = Vec::with_capacity(cases.len());
    for case in &cases {
        bar.set_message(format!("level {} x{}", case.level, case.threads));
        match measure_in_child(&a, case, sample.path()) {
            Ok(m) => results.push(m),
            Err(e) => {
                bar.finish_and_clear();
                say!("sigma: bench: {e}");
                return Ok(Exit::Failure);
            }
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    let pick = bench::recommend(&results, &goal);
    let mut out = io::stdout().lock();
    let written = if a.json {
        let v = serde_json::json!({
            "sample": what,
            "sample_bytes": bytes,
            "results": results,
            "recommended": pick.map(|i| &results[i]),
        });
        writeln!(out, "{v}")
    } else {
        print_table(&mut out, &what, bytes, &results, pick)
    };
    match written {
        Ok(()) => Ok(Exit::Success),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(Exit::Success),
        Err(e) => {
            say!("sigma: bench: writing output: {e}");
            Ok(Exit::Failure)
        }
    }
}

fn print_table(
    out: &mut dyn Write,
    what: &str,
    bytes: usize,
    results: &[Measured],
    pick: Option<usize>,
) -> io::Result<()> {
    let mib = |b: u64| b as f64 / 1048576.0;
    writeln!(
        out,
        "sigma bench: {what}, {bytes} bytes in memory; decodes checked against the input"
    )?;
    writeln!(
        out,
        "  (medians; est = the encoder's memory estimate, peak = a fresh process's peak while encoding and decoding)"
    )?;
    writeln!(
        out,
        "  {:>5} {:>7} {:>9} {:>7} {:>11} {:>11} {:>9} {:>9}",
        "level", "threads", "chunk", "ratio", "enc MB/s", "dec MB/s", "est MiB", "peak MiB"
    )?;
    for (i, m) in results.iter().enumerate() {
        writeln!(
            out,
            "{} {:>5} {:>7} {:>9} {:>7.3} {:>11.1} {:>11.1} {:>9.1} {:>9.1}",
            if Some(i) == pick { "*" } else { " " },
            m.case.level,
            m.case.threads,
            format!("{}K", m.chunk_used / 1024),
            m.ratio,
            m.encode_mb_s,
            m.decode_mb_s,
            mib(m.estimate),
            mib(m.measured_peak),
        )?;
    }
    match pick {
        Some(i) => {
            let m = &results[i];
            let chunk = m
                .case
                .chunk_size
                .map_or(String::new(), |c| format!(" --chunk-size {}K", c / 1024));
            writeln!(
                out,
                "recommended: sigma encode -{} -T {}{chunk}   (ratio {:.3}, {:.1} MB/s encode, {:.1} MB/s decode)",
                m.case.level, m.case.threads, m.ratio, m.encode_mb_s, m.decode_mb_s
            )
        }
        None => writeln!(out, "recommended: nothing measured meets the goal"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn parse(args: &str) -> BenchArgs {
        let argv = std::iter::once("sigma").chain(args.split_whitespace());
        match super::super::args::Cli::try_parse_from(argv)
            .unwrap()
            .command
        {
            super::super::args::Command::Bench(b) => b,
            _ => panic!("not bench"),
        }
    }

    #[test]
    fn cases_follow_the_arguments() {
        let c = cases(&parse("bench -b 2 -e 4 -T 1,3 --chunk-size 64K,1M")).unwrap();
        assert_eq!(c.len(), 3 * 2 * 2);
        assert_eq!(
            c[0],
            Case {
                level: 2,
                threads: 1,
                chunk_size: Some(65536)
            }
        );
        assert_eq!(
            c[11],
            Case {
                level: 4,
                threads: 3,
                chunk_size: Some(1 << 20)
            }
        );
        let d = cases(&parse("bench")).unwrap();
        assert!(d.iter().all(|c| c.chunk_size.is_none()));
        assert_eq!(
            d.iter()
                .filter(|c| c.threads == 1)
                .map(|c| c.level)
                .collect::<Vec<_>>(),
            [1, 3]
        );
        assert_eq!(
            cases(&parse("bench -b 9"))
                .unwrap()
                .iter()
                .map(|c| c.level)
                .max(),
            Some(9)
        );
        assert!(cases(&parse("bench -b 5 -e 2")).is_err());
        // 0 is one thread per core, as for the other commands.
        let cores = num_cpus::get().max(1);
        assert!(cases(&parse("bench -T 0"))
            .unwrap()
            .iter()
            .all(|c| c.threads == cores));
        assert!(cases(&parse("bench -T x")).is_err());
        assert!(cases(&parse("bench --chunk-size 1K")).is_err());
    }
}
