//! The `sigma` command: parse, resolve, call the library once per file, report.

/// `eprintln!` that ignores a failed write: a closed standard error must not become a
/// panic (exit 101) in place of the exit code the run earned.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// `println!` that ignores a failed write: output cut short by a closed pipe (`| head`)
/// is not an error worth a panic.
macro_rules! tell {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

mod args;
mod batch;
mod bench;
mod decode;
mod demo;
mod encode;

use std::io::{self, IsTerminal};
use std::path::{Path, PathBuf};

use clap::Parser;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use args::{Cli, Command, CommonArgs};
use sigmalang::base::name_text;
use sigmalang::output::Partials;
use sigmalang::stats::Stats;
use sigmalang::Error;

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

/// A failure of one file: its name, what went wrong, and whether it was a usage error.
struct Failed {
    file: String,
    error: Error,
    usage: bool,
    /// The output was standard output (a closed stdout ends quietly).
    stdout: bool,
}

type FileResult<T> = Result<T, Failed>;

fn fail(file: &str, error: Error) -> Failed {
    Failed {
        file: file.to_string(),
        error,
        usage: false,
        stdout: false,
    }
}

/// A failure while writing to standard output.
fn fail_stdout(file: &str, error: Error) -> Failed {
    Failed {
        stdout: true,
        ..fail(file, error)
    }
}

/// A per-file failure that is the command line's fault (exit 2).
fn usage_fail(file: &str, detail: impl Into<String>) -> Failed {
    Failed {
        file: file.to_string(),
        error: Error::InvalidSetting {
            detail: detail.into(),
        },
        usage: true,
        stdout: false,
    }
}

/// Runs the command line and returns the exit code.
pub fn run() -> Exit {
    let argv = match args::normalize(std::env::args_os().collect()) {
        Ok(a) => a,
        Err(msg) => {
            say!("sigma: {msg}");
            return Exit::Usage;
        }
    };
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
    let partials = Partials::default();
    remove_partials_on_signals(&partials);
    let outcome = match cli.command {
        Command::Encode(a) => encode::run(a, &partials),
        Command::Decode(a) => decode::run_decode(a, &partials),
        Command::Verify(a) => decode::run_verify(a),
        Command::Inspect(a) => decode::run_inspect(a),
        Command::Demo(a) => demo::run(a),
        Command::Batch(a) => batch::run(a, &partials),
        Command::Bench(a) => bench::run(a),
    };
    match outcome {
        Ok(code) => code,
        Err(msg) => {
            say!("sigma: {msg}");
            Exit::Usage
        }
    }
}

/// Reports per-file results as each one comes (an error is printed when its file is
/// done, not after the files that follow it); returns the exit code (usage errors win
/// over failures).
fn report(results: impl IntoIterator<Item = FileResult<()>>) -> Exit {
    let mut code = Exit::Success;
    for r in results {
        if let Err(f) = r {
            if f.stdout && f.error.is_broken_pipe() {
                continue;
            }
            say!(
                "sigma: {}: {}",
                printable(&f.file),
                printable(&f.error.to_string())
            );
            code = match (code, f.usage) {
                (_, true) | (Exit::Usage, _) => Exit::Usage,
                _ => Exit::Failure,
            };
        }
    }
    code
}

/// `n` and `what`, plural unless `n` is 1.
fn count(n: u64, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// `s` with control characters escaped, so every message stays one line.
fn printable(s: &str) -> String {
    if s.chars().any(char::is_control) {
        s.chars()
            .flat_map(|c| {
                if c.is_control() {
                    c.escape_default().collect::<Vec<_>>()
                } else {
                    vec![c]
                }
            })
            .collect()
    } else {
        s.to_string()
    }
}

/// A file name as JSON output gives it: the name itself (JSON escapes what it must),
/// with bytes that are not UTF-8 as U+FFFD.
fn json_name(p: &Path) -> String {
    if is_stdin(p) {
        "<stdin>".into()
    } else {
        p.to_string_lossy().into_owned()
    }
}

fn display(p: &Path) -> String {
    if is_stdin(p) {
        "<stdin>".into()
    } else {
        sigmalang::base::path_text(p)
    }
}

fn is_stdin(p: &Path) -> bool {
    p.as_os_str() == "-"
}

/// Refuses, before any work, an input that is not a regular file (a device, fifo or
/// socket) when `--rm` would remove it or when the output would be named after it: like
/// gzip and zstd, such inputs are coded only to `-c` or `-o OUT`, and never removed.
fn check_special_input(
    input: &Path,
    out: &args::OutputArgs,
    to_stdout: bool,
    what: &str,
) -> FileResult<()> {
    if is_stdin(input) {
        return Ok(());
    }
    let name = display(input);
    let meta = std::fs::metadata(input).map_err(|e| fail(&name, Error::io("opening input", e)))?;
    if meta.is_file() || meta.is_dir() {
        return Ok(()); // a folder fails on opening, with the system's message
    }
    if out.rm {
        return Err(usage_fail(
            &name,
            "is not a regular file (a device, fifo or socket); --rm removes only regular files",
        ));
    }
    if !to_stdout && out.output.is_none() {
        return Err(usage_fail(
            &name,
            format!(
                "is not a regular file (a device, fifo or socket); use -c or -o OUT to {what} it"
            ),
        ));
    }
    Ok(())
}

/// The inputs to process (`-`, stdin, when none are named); `-o` takes exactly one.
fn input_list(files: &[PathBuf], out: &args::OutputArgs) -> Result<Vec<PathBuf>, String> {
    if out.output.is_some() && files.len() > 1 {
        return Err("-o needs exactly one input".into());
    }
    if out.rm && out.stdout {
        return Err("--rm cannot be used with -c: the input is kept when writing to stdout".into());
    }
    Ok(if files.is_empty() {
        vec![PathBuf::from("-")]
    } else {
        files.to_vec()
    })
}

/// Progress bar over raw bytes (a counter when the total is unknown), or a hidden one.
fn progress_bar(common: &CommonArgs, total: Option<u64>, file: &str) -> ProgressBar {
    let Some(target) = progress_target(common.quiet, common.no_progress, common.progress) else {
        return ProgressBar::hidden();
    };
    let (bar, template) = match total {
        Some(n) => (
            ProgressBar::new(n),
            "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}",
        ),
        None => (
            ProgressBar::new_spinner(),
            "{msg} {spinner} {bytes} {bytes_per_sec} {elapsed}",
        ),
    };
    let style = ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    bar.set_style(style);
    bar.set_message(file.to_string());
    bar.set_draw_target(target);
    bar
}

/// Where a progress bar draws, or `None` for no bar: on a terminal, over itself; with
/// `--progress` when standard error is not a terminal (a log), a line a second.
fn progress_target(quiet: bool, never: bool, asked: bool) -> Option<ProgressDrawTarget> {
    if quiet || never {
        return None;
    }
    if io::stderr().is_terminal() {
        Some(ProgressDrawTarget::stderr())
    } else if asked {
        Some(ProgressDrawTarget::term_like_with_hz(
            Box::new(LogLines::default()),
            1,
        ))
    } else {
        None
    }
}

/// A progress bar's drawing as plain lines on standard error: each drawing of the bar
/// becomes one line (cursor moves and clears are dropped), for logs.
#[derive(Debug, Default)]
struct LogLines {
    line: std::sync::Mutex<String>,
    /// When the last line was printed: at most one a second.
    printed: std::sync::Mutex<Option<std::time::Instant>>,
}

impl indicatif::TermLike for LogLines {
    fn width(&self) -> u16 {
        100
    }

    fn move_cursor_up(&self, _: usize) -> io::Result<()> {
        Ok(())
    }

    fn move_cursor_down(&self, _: usize) -> io::Result<()> {
        Ok(())
    }

    fn move_cursor_right(&self, _: usize) -> io::Result<()> {
        Ok(())
    }

    fn move_cursor_left(&self, _: usize) -> io::Result<()> {
        Ok(())
    }

    fn write_line(&self, s: &str) -> io::Result<()> {
        self.write_str(s)?;
        self.flush()
    }

    fn write_str(&self, s: &str) -> io::Result<()> {
        if let Ok(mut line) = self.line.lock() {
            line.push_str(s);
        }
        Ok(())
    }

    fn clear_line(&self) -> io::Result<()> {
        Ok(())
    }

    fn flush(&self) -> io::Result<()> {
        if let (Ok(mut line), Ok(mut printed)) = (self.line.lock(), self.printed.lock()) {
            let text = line.trim_end();
            let due = printed.is_none_or(|t| t.elapsed() >= std::time::Duration::from_secs(1));
            if due && !text.is_empty() {
                say!("{text}");
                *printed = Some(std::time::Instant::now());
            }
            line.clear();
        }
        Ok(())
    }
}

/// What `summarize` calls a `decode --range`.
const RANGE_VERB: &str = "decoded a range";

/// The per-file summary line (`-v`) and JSON line (`--json`, last on stderr).
fn summarize(common: &CommonArgs, input: &Path, verb: &str, s: &Stats) {
    let file = display(input);
    if common.verbose && !common.quiet && verb == RANGE_VERB {
        say!(
            "{file}: {verb} of {} bytes from {} frame{} ({} stream bytes read), {:.2} s, peak {:.1} MiB",
            s.bytes_out,
            s.frames,
            if s.frames == 1 { "" } else { "s" },
            s.bytes_in,
            s.elapsed.as_secs_f64(),
            s.peak_rss as f64 / 1048576.0
        );
    } else if common.verbose && !common.quiet {
        let (from, to) = if verb == "decoded" {
            (s.encoded_size, s.raw_size)
        } else {
            (s.raw_size, s.encoded_size)
        };
        say!(
            "{file}: {verb} {from} -> {to} bytes (ratio {:.3}), {}, {:.2} s, {:.1} MB/s, {}, peak {:.1} MiB",
            s.ratio(),
            count(s.frames, "frame"),
            s.elapsed.as_secs_f64(),
            s.throughput_mb_s(),
            count(s.threads as u64, "thread"),
            s.peak_rss as f64 / 1048576.0
        );
    }
    if common.json {
        say!("{}", json_line(&json_name(input), s));
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

/// Parses an optional `--memory-limit`.
fn memory_limit(arg: Option<&str>) -> Result<Option<u64>, String> {
    arg.map(args::parse_size).transpose()
}

/// Standard output as a plain file, for the bytes made from `input`. `io::stdout()` is
/// line-buffered: it searches every write for its last newline and writes the bytes up
/// to it and the rest in separate system calls. Refused when standard output is the input
/// file itself (`sigma -dc s.sigma >> s.sigma`): writing would change the input while it
/// is read.
fn raw_stdout(input: &Path) -> Result<std::fs::File, Error> {
    use std::os::fd::AsFd;
    use std::os::unix::fs::MetadataExt;
    let open = |fd: std::os::fd::BorrowedFd<'_>| {
        fd.try_clone_to_owned()
            .map(std::fs::File::from)
            .map_err(|e| Error::io("opening standard output", e))
    };
    let out = open(io::stdout().as_fd())?;
    let Ok(out_meta) = out.metadata() else {
        return Ok(out);
    };
    if !out_meta.is_file() {
        return Ok(out);
    }
    let in_meta = if is_stdin(input) {
        open(io::stdin().as_fd())?.metadata()
    } else {
        std::fs::metadata(input)
    };
    match in_meta {
        Ok(m) if m.dev() == out_meta.dev() && m.ino() == out_meta.ino() => {
            Err(Error::InvalidSetting {
                detail: "standard output is the input file; the input is never written to".into(),
            })
        }
        _ => Ok(out),
    }
}

/// Refuses to write encoded (binary) data to a terminal unless forced.
fn refuse_terminal(force: bool) -> Result<(), Error> {
    if !force && io::stdout().is_terminal() {
        return Err(Error::InvalidSetting {
            detail: "refusing to write binary data to a terminal; redirect it, use -o FILE, or -f"
                .into(),
        });
    }
    Ok(())
}

/// Removes every registered temporary output on SIGINT, SIGTERM or SIGHUP, then exits
/// with 128 + the signal number, as a shell reports a killed process.
/// SIGXFSZ (a file-size limit, `ulimit -f`) gets a handler that does nothing, so the
/// write fails with "File too large" and the usual cleanup runs instead of the default
/// action killing the process.
fn remove_partials_on_signals(partials: &Partials) {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM, SIGXFSZ};
    let _ = signal_hook::flag::register(
        SIGXFSZ,
        std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false)),
    );
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
        return;
    };
    let partials = partials.clone();
    std::thread::spawn(move || {
        if let Some(sig) = signals.forever().next() {
            partials.remove_all();
            std::process::exit(128 + sig);
        }
    });
}
