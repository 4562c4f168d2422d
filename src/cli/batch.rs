//! `sigma batch encode | decode | verify`.

use std::io::{self, Write};
use std::path::Path;

use indicatif::{ProgressBar, ProgressStyle};

use super::args::{self, BatchArgs, BatchCommon, BatchOp};
use super::{memory_limit, name_text, printable, Exit};
use sigmalang::batch::walk::{Found, Shard, Walk};
use sigmalang::batch::{self, Action, BatchConfig, Outcome, Summary};
use sigmalang::output::Partials;
use sigmalang::pipeline::{ChunkSize, EncoderConfig, ReadMode};
use sigmalang::Level;

/// Runs `sigma batch ...`.
pub fn run(a: BatchArgs, partials: &Partials) -> Result<Exit, String> {
    match a.op {
        BatchOp::Encode(e) => {
            let cfg = BatchConfig {
                encoder: EncoderConfig {
                    level: Level::new(e.level).ok_or("level must be 1-9")?,
                    chunk_size: chunk_size(&e.chunk_size)?,
                    threads: e.common.threads,
                    read_mode: if e.mmap {
                        ReadMode::Mmap
                    } else {
                        ReadMode::Read
                    },
                    memory_limit: memory_limit(e.memory_limit.as_deref())?,
                    group: e.group,
                },
                shard: parse_shard(e.shard.as_deref())?,
                prune: e.prune,
            };
            batch::check_roots(&e.src, &e.dest).map_err(|e| printable(&e.to_string()))?;
            let bar = bar(&e.common, || total_bytes(&e.src, &e.dest, cfg.shard));
            let progress = |n: u64| bar.set_position(n);
            let mut report = Reporter::new(&e.common, &bar);
            let r = batch::encode_tree(
                &e.src,
                &e.dest,
                &cfg,
                partials,
                &mut |o| report.outcome(o),
                &progress,
            );
            bar.finish_and_clear();
            report.finish(r)
        }
        BatchOp::Decode(d) => {
            batch::check_roots(&d.src, &d.dest).map_err(|e| printable(&e.to_string()))?;
            let bar = bar(&d.common, || None);
            let mut report = Reporter::new(&d.common, &bar);
            let r = batch::decode_tree(
                &d.src,
                &d.dest,
                d.common.threads,
                d.force,
                partials,
                &mut |o| report.outcome(o),
            );
            bar.finish_and_clear();
            report.finish(r)
        }
        BatchOp::Verify(v) => {
            let bar = bar(&v.common, || None);
            let mut report = Reporter::new(&v.common, &bar);
            let r = batch::verify_tree(&v.dest, v.source.as_deref(), v.common.threads, &mut |o| {
                report.outcome(o)
            });
            bar.finish_and_clear();
            report.finish(r)
        }
    }
}

fn chunk_size(s: &str) -> Result<ChunkSize, String> {
    if s.eq_ignore_ascii_case("auto") {
        return Ok(ChunkSize::Auto);
    }
    let n = args::parse_size(s)?;
    sigmalang::format::check_chunk_size(n).map_err(|e| e.to_string())?;
    Ok(ChunkSize::Fixed(n))
}

/// `I/N`, or `N` with I from the scheduler's environment (Kubernetes Indexed Jobs set
/// JOB_COMPLETION_INDEX, Slurm job arrays SLURM_ARRAY_TASK_ID).
fn parse_shard(s: Option<&str>) -> Result<Shard, String> {
    let Some(s) = s else {
        return Ok(Shard::ALL);
    };
    let bad = || format!("invalid shard '{s}': expected I/N with 0 <= I < N, or N");
    let (index, count) = match s.split_once('/') {
        Some((i, n)) => (
            i.trim().parse::<u64>().map_err(|_| bad())?,
            n.trim().parse::<u64>().map_err(|_| bad())?,
        ),
        None => {
            let count = s.trim().parse::<u64>().map_err(|_| bad())?;
            let (var, value) = ["JOB_COMPLETION_INDEX", "SLURM_ARRAY_TASK_ID"]
                .iter()
                .find_map(|v| std::env::var(v).ok().map(|x| (*v, x)))
                .ok_or_else(|| {
                    format!("--shard {s} needs JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID to say which shard this is")
                })?;
            let index = value
                .trim()
                .parse::<u64>()
                .map_err(|_| format!("{var} is '{value}', not a shard number"))?;
            if index >= count {
                return Err(format!(
                    "{var} is {index}, but --shard {s} makes shards 0 to {}",
                    count.saturating_sub(1)
                ));
            }
            (index, count)
        }
    };
    if count == 0 || index >= count {
        return Err(bad());
    }
    Ok(Shard { index, count })
}

/// Bytes of the regular files this shard will read (for the progress bar's total).
fn total_bytes(src: &Path, dest: &Path, shard: Shard) -> Option<u64> {
    Some(
        Walk::new(src, Some(dest), shard)
            .filter_map(|f| match f {
                Found::File(f) => Some(f.size),
                _ => None,
            })
            .sum(),
    )
}

fn bar(common: &BatchCommon, total: impl FnOnce() -> Option<u64>) -> ProgressBar {
    let Some(target) = super::progress_target(common.quiet, common.no_progress, common.progress)
    else {
        return ProgressBar::hidden();
    };
    let (bar, template) = match total() {
        Some(n) => (
            ProgressBar::new(n),
            "batch [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta} {msg}",
        ),
        None => (
            ProgressBar::new_spinner(),
            "batch {spinner} {pos} files {msg}",
        ),
    };
    bar.set_style(
        ProgressStyle::with_template(template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_draw_target(target);
    bar
}

/// Prints outcomes as they come: failures always (one line each), skipped entries unless
/// quiet, every file with -v, JSON lines with --json.
struct Reporter<'a> {
    common: &'a BatchCommon,
    bar: &'a ProgressBar,
    files: u64,
}

impl<'a> Reporter<'a> {
    fn new(common: &'a BatchCommon, bar: &'a ProgressBar) -> Self {
        Reporter {
            common,
            bar,
            files: 0,
        }
    }

    fn outcome(&mut self, o: &Outcome) {
        self.files += 1;
        if self.bar.length().is_none() {
            self.bar.set_position(self.files);
        }
        let path = name_text(&o.path);
        let verb = match o.action {
            Action::Encoded => "encoded",
            Action::Unchanged => "unchanged",
            Action::Decoded => "decoded",
            Action::Verified => "OK",
            Action::Skipped => "skipped",
            Action::Gone => "gone",
            Action::Pruned => "pruned",
            Action::Failed => "failed",
        };
        let line = match (o.action, &o.detail) {
            (Action::Failed, Some(d)) => Some(format!("sigma: {path}: {}", printable(d))),
            (Action::Skipped | Action::Gone | Action::Pruned, Some(d)) if !self.common.quiet => {
                Some(format!("sigma: {path}: {}", printable(d)))
            }
            _ if self.common.verbose && !self.common.quiet => Some(format!(
                "{path}: {verb} {} -> {} bytes, {:.3} s",
                o.bytes_in, o.bytes_out, o.seconds
            )),
            _ => None,
        };
        if let Some(line) = line {
            self.bar.suspend(|| say!("{line}"));
        }
        if self.common.json {
            let v = serde_json::json!({
                "path": batch::display_path(&o.path),
                "action": verb,
                "bytes_in": o.bytes_in,
                "bytes_out": o.bytes_out,
                "seconds": o.seconds,
                "error": if o.action == Action::Failed { o.detail.clone() } else { None },
            });
            let _ = writeln!(io::stdout().lock(), "{v}");
        }
    }

    fn finish(self, result: sigmalang::Result<Summary>) -> Result<Exit, String> {
        let s = match result {
            Ok(s) => s,
            Err(e) => {
                say!("sigma: batch: {}", printable(&e.to_string()));
                return Ok(Exit::Failure);
            }
        };
        if self.common.json {
            let mut v = serde_json::to_value(&s).unwrap_or_default();
            if let Some(m) = v.as_object_mut() {
                m.insert("summary".into(), true.into());
                let ratio = if s.bytes_out == 0 {
                    0.0
                } else {
                    s.bytes_in as f64 / s.bytes_out as f64
                };
                m.insert("ratio".into(), ratio.into());
            }
            let _ = writeln!(io::stdout().lock(), "{v}");
        } else if !self.common.quiet {
            say!(
                "batch: {} done, {} unchanged, {} skipped, {} gone, {} failed; {} -> {} bytes in {:.2} s, peak {:.1} MiB",
                s.done,
                s.unchanged,
                s.skipped,
                s.gone,
                s.failed,
                s.bytes_in,
                s.bytes_out,
                s.seconds,
                s.peak_rss as f64 / 1048576.0
            );
        }
        Ok(if s.failed > 0 {
            Exit::Failure
        } else {
            Exit::Success
        })
    }
}
