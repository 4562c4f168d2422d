//! Command-line arguments as parsed (before they are resolved into settings).

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// sigma: SigmaLang glyph-stream encoder. Streams files of any size into .sigma and back,
/// bit for bit, on every core with small fixed memory.
#[derive(Parser, Debug)]
#[command(name = "sigma", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands. `-d`, `-t`, `-l` work as aliases of decode, verify and inspect, and a bare
/// `sigma FILE` encodes, as with zstd.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Encode files to FILE.sigma (stdin to stdout with no FILE or `-`).
    Encode(EncodeArgs),
    /// Decode FILE.sigma to FILE (stdin to stdout with no FILE or `-`).
    Decode(DecodeArgs),
    /// Check every frame, the index and the whole-content checksum without writing.
    Verify(VerifyArgs),
    /// Show a stream's settings, sizes, frames and glyph counts.
    Inspect(InspectArgs),
    /// Generate a realistic input on the fly, encode, verify and decode it, and show the figures.
    Demo(DemoArgs),
    /// Jobs over directory trees: incremental, parallel, splittable into shards.
    Batch(BatchArgs),
    /// Measure levels, threads and chunk sizes on your own data and recommend a setting.
    Bench(BenchArgs),
}

/// `sigma bench`.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Files to sample (none: a generated sample of logs, prose, CSV and binary records).
    pub files: Vec<PathBuf>,
    /// First level to measure (default: the fast and the default level, 1 and 3).
    #[arg(short = 'b', long = "begin", value_name = "LEVEL", value_parser = clap::value_parser!(u8).range(1..=9))]
    pub begin: Option<u8>,
    /// Last level to measure (with -b: every level from -b to -e).
    #[arg(short = 'e', long = "end", value_name = "LEVEL", value_parser = clap::value_parser!(u8).range(1..=9))]
    pub end: Option<u8>,
    /// Thread counts, e.g. 1,2,4 (default: 1 to all cores in powers of two).
    #[arg(short = 'T', long = "threads", value_name = "N,N,...")]
    pub threads: Option<String>,
    /// Frame sizes, e.g. 1M,4M (default: the automatic rule).
    #[arg(long, value_name = "SIZE,SIZE,...")]
    pub chunk_size: Option<String>,
    /// Bytes sampled from the input(s): 16 evenly spaced pieces of a larger file.
    #[arg(long, default_value = "64M", value_name = "SIZE")]
    pub sample: String,
    /// Generated sample size when no file is given.
    #[arg(long, default_value = "16M", value_name = "SIZE")]
    pub generated: String,
    /// Least time per measurement, seconds (each is repeated until then, at least 3 times).
    #[arg(long, default_value_t = 0.5, value_name = "SECONDS")]
    pub min_time: f64,
    /// Recommend the fastest setting that reaches this ratio.
    #[arg(long, value_name = "RATIO")]
    pub target_ratio: Option<f64>,
    /// Recommend the best ratio that encodes at least this fast (MB/s).
    #[arg(long, value_name = "MB/S")]
    pub min_speed: Option<f64>,
    /// Only recommend settings whose memory estimate fits (e.g. 64M).
    #[arg(long, value_name = "SIZE")]
    pub memory_limit: Option<String>,
    /// Print one JSON object (results and recommendation) instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Never show a progress bar.
    #[arg(long)]
    pub no_progress: bool,
    /// Internal: measure the one case given, on the whole file, and print it as JSON
    /// (each case runs in a fresh process so its memory is its own).
    #[arg(long, hide = true)]
    pub child: bool,
}

/// `sigma batch`.
#[derive(Args, Debug)]
pub struct BatchArgs {
    /// What to do with the tree.
    #[command(subcommand)]
    pub op: BatchOp,
}

/// Batch operations.
#[derive(Subcommand, Debug)]
pub enum BatchOp {
    /// Encode every regular file under SRC to DEST/PATH.sigma, skipping files unchanged
    /// since the last run (a manifest in DEST records each file).
    Encode(BatchEncodeArgs),
    /// Decode a batch-encoded tree back, restoring each file's mode and mtime.
    Decode(BatchDecodeArgs),
    /// Check every stream of a batch-encoded tree against its manifest (and the sources).
    Verify(BatchVerifyArgs),
}

/// Flags shared by the batch operations.
#[derive(Args, Debug, Clone)]
pub struct BatchCommon {
    /// Worker threads (0 = one per core).
    #[arg(short = 'T', long, default_value_t = 0, value_name = "N")]
    pub threads: usize,
    /// Print only errors.
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Print a line per file.
    #[arg(short = 'v', long)]
    pub verbose: bool,
    /// One JSON line per file and a final summary line, on stdout.
    #[arg(long)]
    pub json: bool,
    /// Show progress: a bar when stderr is a terminal (shown there by default), else a
    /// line a second (for logs).
    #[arg(long, overrides_with = "no_progress")]
    pub progress: bool,
    /// Never show a progress bar.
    #[arg(long)]
    pub no_progress: bool,
}

/// `sigma batch encode`.
#[derive(Args, Debug)]
pub struct BatchEncodeArgs {
    /// The tree to encode.
    pub src: PathBuf,
    /// Where the streams go (created if needed; may lie inside SRC, it is never walked).
    #[arg(short = 'o', long = "output", value_name = "DEST")]
    pub dest: PathBuf,
    #[command(flatten)]
    pub common: BatchCommon,
    /// Level 1 (fastest) to 9 (strongest); also -1 ... -9.
    #[arg(short = 'L', long, default_value_t = 3, value_parser = clap::value_parser!(u8).range(1..=9))]
    pub level: u8,
    /// Frame size (e.g. 64K, 4M) or `auto`.
    #[arg(long, default_value = "auto", value_name = "SIZE|auto")]
    pub chunk_size: String,
    /// Frames per group: every frame but a group's first may copy from the frame before
    /// it (better ratio across frame boundaries); 1 makes every frame independent.
    #[arg(long, default_value_t = sigmalang::pipeline::sizing::DEFAULT_GROUP, value_name = "N",
          value_parser = clap::value_parser!(u8).range(1..=sigmalang::format::MAX_GROUP as i64))]
    pub group: u8,
    /// Memory budget (e.g. 64M, 1G).
    #[arg(long, value_name = "SIZE")]
    pub memory_limit: Option<String>,
    /// Memory-map large files (default: plain reads, safe for files that change).
    #[arg(long)]
    pub mmap: bool,
    /// Handle only shard I of N (`I/N`), or `N` to take I from JOB_COMPLETION_INDEX
    /// (Kubernetes) or SLURM_ARRAY_TASK_ID (Slurm).
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Remove the streams of source files that are gone.
    #[arg(long)]
    pub prune: bool,
}

/// `sigma batch decode`.
#[derive(Args, Debug)]
pub struct BatchDecodeArgs {
    /// A tree written by `sigma batch encode`.
    pub src: PathBuf,
    /// Where the decoded files go.
    #[arg(short = 'o', long = "output", value_name = "DEST")]
    pub dest: PathBuf,
    /// Replace files that exist in DEST (without it, a file already restored as the
    /// manifest lists it, same size, mtime and mode, is passed over and any other fails).
    #[arg(short = 'f', long)]
    pub force: bool,
    #[command(flatten)]
    pub common: BatchCommon,
}

/// `sigma batch verify`.
#[derive(Args, Debug)]
pub struct BatchVerifyArgs {
    /// A tree written by `sigma batch encode`.
    pub dest: PathBuf,
    /// Also check that the source files still match what was encoded.
    #[arg(long, value_name = "SRC")]
    pub source: Option<PathBuf>,
    #[command(flatten)]
    pub common: BatchCommon,
}

/// Flags shared by the commands that write files.
#[derive(Args, Debug, Clone)]
pub struct OutputArgs {
    /// Write to this file (one input only).
    #[arg(short = 'o', long = "output", value_name = "OUT")]
    pub output: Option<PathBuf>,
    /// Write to standard output.
    #[arg(short = 'c', long = "stdout")]
    pub stdout: bool,
    /// Overwrite existing outputs (and allow binary output to a terminal).
    #[arg(short = 'f', long)]
    pub force: bool,
    /// Keep the input (the default).
    #[arg(short = 'k', long, overrides_with = "rm")]
    pub keep: bool,
    /// Remove the input once the output is complete, synced and verified.
    #[arg(long, overrides_with = "keep")]
    pub rm: bool,
}

/// Flags shared by all commands that do work.
#[derive(Args, Debug, Clone)]
pub struct CommonArgs {
    /// Worker threads (0 = one per core).
    #[arg(short = 'T', long, default_value_t = 0, value_name = "N")]
    pub threads: usize,
    /// Print nothing but errors.
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Print a summary line per file.
    #[arg(short = 'v', long)]
    pub verbose: bool,
    /// Show progress: a bar when stderr is a terminal (shown there by default), else a
    /// line a second (for logs).
    #[arg(long, overrides_with = "no_progress")]
    pub progress: bool,
    /// Never show a progress bar.
    #[arg(long)]
    pub no_progress: bool,
    /// Print the final figures as one JSON line, the last line on stderr.
    #[arg(long)]
    pub json: bool,
}

/// `sigma encode`.
#[derive(Args, Debug)]
pub struct EncodeArgs {
    /// Inputs (`-` or none: standard input).
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub out: OutputArgs,
    #[command(flatten)]
    pub common: CommonArgs,
    /// Level 1 (fastest) to 9 (strongest); also -1 ... -9.
    #[arg(short = 'L', long, default_value_t = 3, value_parser = clap::value_parser!(u8).range(1..=9))]
    pub level: u8,
    /// Frame size (e.g. 64K, 4M) or `auto` (by input size).
    #[arg(long, default_value = "auto", value_name = "SIZE|auto")]
    pub chunk_size: String,
    /// Frames per group: every frame but a group's first may copy from the frame before
    /// it (better ratio across frame boundaries); 1 makes every frame independent.
    #[arg(long, default_value_t = sigmalang::pipeline::sizing::DEFAULT_GROUP, value_name = "N",
          value_parser = clap::value_parser!(u8).range(1..=sigmalang::format::MAX_GROUP as i64))]
    pub group: u8,
    /// Memory budget (e.g. 64M, 1G); lowers threads, then chunk size, to fit.
    #[arg(long, value_name = "SIZE")]
    pub memory_limit: Option<String>,
    /// Always memory-map regular files.
    #[arg(long, overrides_with = "no_mmap")]
    pub mmap: bool,
    /// Never memory-map; use buffered reads.
    #[arg(long)]
    pub no_mmap: bool,
    /// Print the plan (chunk size, threads, memory estimate vs a load-everything encoder)
    /// for each input and exit without encoding.
    #[arg(long)]
    pub estimate: bool,
    /// Store the file's name, mode and modification time in the stream (decode restores
    /// the mode and time; inspect shows the name); off by default so the same content
    /// always gives the same bytes.
    #[arg(long)]
    pub meta: bool,
    /// Benchmark contrast only: load the whole input into memory and encode it on one
    /// thread with the in-memory reference encoder (same output bytes).
    #[arg(long, hide = true)]
    pub full_load: bool,
}

/// `sigma decode`.
#[derive(Args, Debug)]
pub struct DecodeArgs {
    /// Streams to decode (`-` or none: standard input).
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub out: OutputArgs,
    #[command(flatten)]
    pub common: CommonArgs,
    /// Decode only bytes START..END of the original (reads only the frames covering them).
    #[arg(long, value_name = "START:END")]
    pub range: Option<String>,
    /// Memory budget (e.g. 64M, 1G); fewer frames are decoded at once to fit.
    #[arg(long, value_name = "SIZE")]
    pub memory_limit: Option<String>,
    /// Recover every intact frame of a damaged stream (at its original offset when that
    /// can be known), report the lost byte ranges (and intact frames that a surviving
    /// index places nowhere), and exit 1 if anything was lost.
    #[arg(long, conflicts_with = "range")]
    pub salvage: bool,
}

/// `sigma verify`.
#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// Streams to check (`-`: standard input).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub common: CommonArgs,
    /// Memory budget (e.g. 64M, 1G); fewer frames are checked at once to fit.
    #[arg(long, value_name = "SIZE")]
    pub memory_limit: Option<String>,
}

/// `sigma inspect`.
#[derive(Args, Debug)]
pub struct InspectArgs {
    /// Streams to describe.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Add a line per frame.
    #[arg(long)]
    pub frames: bool,
    /// One JSON object per file on stdout.
    #[arg(long)]
    pub json: bool,
}

/// `sigma demo`.
#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Size of the generated input (e.g. 256M, 1G).
    #[arg(long, default_value = "1G", value_name = "SIZE")]
    pub size: String,
    /// Level 1 to 9.
    #[arg(short = 'L', long, default_value_t = 3, value_parser = clap::value_parser!(u8).range(1..=9))]
    pub level: u8,
    /// Worker threads (0 = one per core).
    #[arg(short = 'T', long, default_value_t = 0, value_name = "N")]
    pub threads: usize,
    /// Frame size or `auto`.
    #[arg(long, default_value = "auto", value_name = "SIZE|auto")]
    pub chunk_size: String,
}

/// Flags that take a value as the next argument (so that value is never read as a
/// subcommand or shorthand).
const VALUE_FLAGS: &[&str] = &[
    "-o",
    "--output",
    "-T",
    "--threads",
    "-L",
    "--level",
    "--chunk-size",
    "--memory-limit",
    "--range",
    "--size",
    "--shard",
    "--source",
    "-b",
    "--begin",
    "-e",
    "--end",
    "--sample",
    "--generated",
    "--min-time",
    "--target-ratio",
    "--min-speed",
];

/// Rewrites zstd-style shorthands into subcommands: a leading `-d`/`-t`/`-l`/`-z` (alone or
/// in a cluster such as `-dc`) selects decode, verify, inspect or encode; a subcommand
/// named after flags is still the subcommand (`sigma -v decode f`); a bare file list
/// encodes; `-1` ... `-9` become `--level N` where a level applies.
///
/// # Errors
/// A numeric shorthand that is not a level (`-19`).
pub fn normalize(args: Vec<OsString>) -> Result<Vec<OsString>, String> {
    const COMMANDS: &[&str] = &[
        "encode", "decode", "verify", "inspect", "demo", "batch", "bench", "help",
    ];
    let mut iter = args.into_iter();
    let program = iter.next().unwrap_or_else(|| "sigma".into());
    let rest: Vec<OsString> = iter.collect();
    let mut command: Option<String> = None;
    let mut explicit = false;
    let mut others: Vec<OsString> = Vec::new();
    let mut takes_value = false;
    let mut only_flags = true;
    for a in rest {
        let text = a.to_str().unwrap_or("");
        if takes_value {
            takes_value = false;
            others.push(a);
            continue;
        }
        if text == "--" {
            only_flags = false;
            others.push(a);
            continue;
        }
        if command.is_none() && !explicit && only_flags {
            if COMMANDS.contains(&text) {
                command = Some(text.to_string());
                explicit = true;
                continue;
            }
            if let Some(c) = shorthand_command(text) {
                command = Some(c.to_string());
                let left: String = text[1..]
                    .chars()
                    .filter(|ch| !"dtlz".contains(*ch))
                    .collect();
                if !left.is_empty() {
                    others.push(format!("-{left}").into());
                }
                continue;
            }
        }
        let takes_level = matches!(command.as_deref(), None | Some("encode" | "demo" | "batch"));
        if let Some(digits) = text
            .strip_prefix('-')
            .filter(|d| takes_level && !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
        {
            match digits.parse::<u8>() {
                Ok(n @ 1..=9) => {
                    others.push("--level".into());
                    others.push(n.to_string().into());
                    continue;
                }
                _ => {
                    return Err(format!(
                        "-{digits} is not a level: levels are -1 (fastest) to -9 (strongest)"
                    ))
                }
            }
        }
        if VALUE_FLAGS.contains(&text) {
            takes_value = true;
        } else if !text.starts_with('-') || text == "-" {
            only_flags = false;
        }
        others.push(a);
    }
    let mut out = vec![program];
    match command {
        Some(c) => out.push(c.into()),
        None if others
            .iter()
            .any(|a| matches!(a.to_str(), Some("-h" | "--help" | "-V" | "--version")))
            && others.len() == 1 => {}
        None => out.push("encode".into()),
    }
    out.extend(others);
    Ok(out)
}

/// The subcommand a zstd-style flag or flag cluster selects (`-d`, `-dc`, `--test` ...).
fn shorthand_command(arg: &str) -> Option<&'static str> {
    match arg {
        "-d" | "--decompress" | "--decode" => return Some("decode"),
        "-t" | "--test" => return Some("verify"),
        "-l" | "--list" => return Some("inspect"),
        "-z" | "--compress" => return Some("encode"),
        _ => {}
    }
    let cluster = arg.strip_prefix('-').filter(|c| {
        c.len() > 1 && !c.starts_with('-') && c.bytes().all(|b| b.is_ascii_alphabetic())
    })?;
    cluster.chars().find_map(|ch| match ch {
        'd' => Some("decode"),
        't' => Some("verify"),
        'l' => Some("inspect"),
        'z' => Some("encode"),
        _ => None,
    })
}

/// Parses sizes like `4096`, `64K`, `4M`, `1G` (binary units; `KiB`, `MB` ... accepted).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("invalid size '{s}': expected a number like 64K, 4M or 1G"))?;
    let mult: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        "t" | "tb" | "tib" => 1 << 40,
        _ => {
            return Err(format!(
                "invalid size '{s}': unknown unit '{unit}' (use K, M, G)"
            ))
        }
    };
    n.checked_mul(mult)
        .ok_or_else(|| format!("size '{s}' is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> String {
        let v = normalize(s.split_whitespace().map(OsString::from).collect()).unwrap();
        v.iter()
            .map(|a| a.to_string_lossy())
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn shorthands() {
        assert_eq!(norm("sigma -d a.sigma"), "sigma decode a.sigma");
        assert_eq!(norm("sigma a.txt -9"), "sigma encode a.txt --level 9");
        assert_eq!(norm("sigma encode -1 a"), "sigma encode --level 1 a");
        assert_eq!(norm("sigma -t x"), "sigma verify x");
        assert_eq!(norm("sigma -l x --json"), "sigma inspect x --json");
        assert_eq!(norm("sigma demo --size 1M"), "sigma demo --size 1M");
        assert_eq!(norm("sigma"), "sigma encode");
        assert_eq!(norm("sigma -c"), "sigma encode -c");
        assert_eq!(norm("sigma -dc x"), "sigma decode -c x");
        assert_eq!(norm("sigma -cdf x"), "sigma decode -cf x");
        assert_eq!(norm("sigma --help"), "sigma --help");
    }

    #[test]
    fn flags_before_the_subcommand_keep_it() {
        assert_eq!(norm("sigma -v decode -f f.txt"), "sigma decode -v -f f.txt");
        assert_eq!(norm("sigma -q -T 2 verify x"), "sigma verify -q -T 2 x");
        // A file named like a subcommand after a file is a file.
        assert_eq!(norm("sigma a decode"), "sigma encode a decode");
        // The value of -o is never a subcommand.
        assert_eq!(norm("sigma -o decode f"), "sigma encode -o decode f");
    }

    #[test]
    fn numeric_shorthand_outside_levels_is_refused() {
        let e = normalize(["sigma", "-19", "f"].map(OsString::from).to_vec()).unwrap_err();
        assert!(
            e.contains("-19") && e.contains("-1") && e.contains("-9"),
            "{e}"
        );
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("64K"), Ok(65536));
        assert_eq!(parse_size("4M"), Ok(4 << 20));
        assert_eq!(parse_size("1G"), Ok(1 << 30));
        assert_eq!(parse_size("123"), Ok(123));
        assert!(parse_size("12Q").is_err());
        assert!(parse_size("x").is_err());
    }
}
