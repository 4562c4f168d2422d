//! `sigma bench`: measures levels, thread counts and chunk sizes on the user's own data,
//! in memory (the input read once, nothing written to disk in the timed part), checking
//! every decode against the input, and recommends a setting for a goal.
#![forbid(unsafe_code)]

use std::io::{self, Cursor, Read, Seek, SeekFrom, Write};
use std::time::{Duration, Instant};

use crate::base::Level;
use crate::decode::Decoder;
use crate::error::{Error, Result};
use crate::pipeline::{sizing, ChunkSize, Encoder, EncoderConfig, ReadMode};
use crate::stats;

/// One setting to measure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Case {
    /// Level.
    pub level: u8,
    /// Worker threads.
    pub threads: usize,
    /// Frame size; `None` is the automatic rule.
    pub chunk_size: Option<u64>,
}

/// What one setting measured.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Measured {
    /// The setting.
    #[serde(flatten)]
    pub case: Case,
    /// Frame size used.
    pub chunk_used: u64,
    /// Input bytes / encoded bytes.
    pub ratio: f64,
    /// Median encode speed, MB/s (10^6 bytes of input per second).
    pub encode_mb_s: f64,
    /// Median decode speed, MB/s of output.
    pub decode_mb_s: f64,
    /// Runs behind each median.
    pub runs: usize,
    /// Memory the encoder's plan estimates, bytes.
    pub estimate: u64,
    /// Peak resident memory the encoder and decoder added while running (the sample and
    /// the output buffers excluded), bytes; 0 when the system does not say.
    pub measured_peak: u64,
}

/// A goal for the recommendation.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Goal {
    /// Reach at least this ratio, as fast as possible.
    pub target_ratio: Option<f64>,
    /// Encode at least this fast (MB/s), with the best ratio.
    pub min_speed: Option<f64>,
    /// Fit the encoder's estimate in this many bytes.
    pub memory_limit: Option<u64>,
}

/// Picks the result that meets `goal`: with a target ratio, the fastest encode that
/// reaches it; with a minimum speed, the best ratio at or above it; with neither, the
/// fastest encode within 2% of the best ratio. Only results within the memory limit
/// count. `None` when nothing qualifies.
pub fn recommend(results: &[Measured], goal: &Goal) -> Option<usize> {
    let fits = |m: &Measured| goal.memory_limit.is_none_or(|l| m.estimate <= l);
    let candidates: Vec<(usize, &Measured)> = results
        .iter()
        .enumerate()
        .filter(|(_, m)| fits(m))
        .collect();
    let fastest = |c: &[(usize, &Measured)]| {
        c.iter()
            .max_by(|a, b| a.1.encode_mb_s.total_cmp(&b.1.encode_mb_s))
            .map(|(i, _)| *i)
    };
    let best_ratio = |c: &[(usize, &Measured)]| {
        c.iter()
            .max_by(|a, b| {
                a.1.ratio
                    .total_cmp(&b.1.ratio)
                    .then(a.1.encode_mb_s.total_cmp(&b.1.encode_mb_s))
            })
            .map(|(i, _)| *i)
    };
    let filtered = |keep: &dyn Fn(&Measured) -> bool| -> Vec<(usize, &Measured)> {
        candidates
            .iter()
            .copied()
            .filter(|(_, m)| keep(m))
            .collect()
    };
    match (goal.target_ratio, goal.min_speed) {
        (Some(r), Some(s)) => fastest(&filtered(&|m| m.ratio >= r && m.encode_mb_s >= s)),
        (Some(r), None) => fastest(&filtered(&|m| m.ratio >= r)),
        (None, Some(s)) => best_ratio(&filtered(&|m| m.encode_mb_s >= s)),
        (None, None) => {
            let top = candidates.iter().map(|(_, m)| m.ratio).fold(0.0, f64::max);
            fastest(&filtered(&|m| m.ratio >= top * 0.98))
        }
    }
}

/// Reads a sample of at most `size` bytes of `f` (of `len` bytes): the whole file when
/// it fits, else 16 evenly spaced pieces, so the sample looks like the whole file.
///
/// # Errors
/// A read error.
pub fn sample<F: Read + Seek>(f: &mut F, len: u64, size: u64) -> Result<Vec<u8>> {
    let io = |e| Error::io("reading the sample", e);
    if len <= size {
        let mut all = Vec::with_capacity(len as usize);
        f.read_to_end(&mut all).map_err(io)?;
        return Ok(all);
    }
    const PIECES: u64 = 16;
    let piece = size / PIECES;
    let mut out = Vec::with_capacity(size as usize);
    for i in 0..PIECES {
        let at = (len - piece) / (PIECES - 1) * i;
        f.seek(SeekFrom::Start(at)).map_err(io)?;
        let before = out.len();
        f.by_ref().take(piece).read_to_end(&mut out).map_err(io)?;
        if out.len() - before < piece as usize {
            break;
        }
    }
    Ok(out)
}

/// Checks what the decoder writes against the input.
struct Check<'a> {
    expected: &'a [u8],
    pos: usize,
}

impl Write for Check<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let end = self.pos + buf.len();
        if self.expected.get(self.pos..end) != Some(buf) {
            return Err(io::Error::other(format!(
                "decoded bytes differ from the input near byte {}",
                self.pos
            )));
        }
        self.pos = end;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// Measures `case` on `data`: encodes and decodes (checked) until `min_time` has passed
/// for each, at least three times, and reports the medians. The peak memory is what the
/// process's high-water mark grew by over its resident size at the start, less the
/// in-memory output: meaningful in a fresh process (`sigma bench` runs each case in one).
///
/// # Errors
/// An encode error, or a decode that does not give back the input (a bug).
pub fn measure(data: &[u8], case: Case, min_time: Duration) -> Result<Measured> {
    let level = Level::new(case.level).ok_or_else(|| Error::InvalidSetting {
        detail: format!("level is {}, should be 1-9", case.level),
    })?;
    let encoder = Encoder::new(EncoderConfig {
        level,
        chunk_size: case.chunk_size.map_or(ChunkSize::Auto, ChunkSize::Fixed),
        threads: case.threads,
        read_mode: ReadMode::Read,
        ..EncoderConfig::default()
    })?;
    let plan = encoder.plan(Some(data.len() as u64))?;
    let start_rss = stats::current_rss().unwrap_or(0);
    let decoder = Decoder::new(case.threads)?;
    let mut stream = Vec::with_capacity(data.len() + data.len() / 100 + 1024);
    let mb = data.len() as f64 / 1e6;
    // A first, untimed pass grows the buffers; peak memory is measured after it.
    encoder.encode_reader(
        Cursor::new(data),
        Some(data.len() as u64),
        &mut stream,
        &|_| {},
    )?;
    let (mut enc, mut dec) = (Vec::new(), Vec::new());
    let started = Instant::now();
    while enc.len() < 3 || started.elapsed() < min_time {
        stream.clear();
        let t = Instant::now();
        encoder.encode_reader(
            Cursor::new(data),
            Some(data.len() as u64),
            &mut stream,
            &|_| {},
        )?;
        enc.push(mb / t.elapsed().as_secs_f64().max(1e-9));
    }
    let started = Instant::now();
    while dec.len() < 3 || started.elapsed() < min_time {
        let t = Instant::now();
        let mut check = Check {
            expected: data,
            pos: 0,
        };
        decoder.decode(Cursor::new(&stream), &mut check, &|_| {})?;
        if check.pos != data.len() {
            return Err(Error::Internal {
                detail: format!("decoded {} bytes of {}", check.pos, data.len()),
            });
        }
        dec.push(mb / t.elapsed().as_secs_f64().max(1e-9));
    }
    let peak = stats::peak_rss().unwrap_or(0);
    let grown = peak.saturating_sub(start_rss + stream.len() as u64);
    Ok(Measured {
        case,
        chunk_used: plan.chunk_size,
        ratio: data.len() as f64 / stream.len().max(1) as f64,
        encode_mb_s: median(enc.clone()),
        decode_mb_s: median(dec),
        runs: enc.len(),
        estimate: plan.estimate,
        measured_peak: if peak > 0 {
            sizing::BASE_MEMORY + grown
        } else {
            0
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(level: u8, ratio: f64, enc: f64, estimate: u64) -> Measured {
        Measured {
            case: Case {
                level,
                threads: 1,
                chunk_size: None,
            },
            chunk_used: 1 << 22,
            ratio,
            encode_mb_s: enc,
            decode_mb_s: 500.0,
            runs: 3,
            estimate,
            measured_peak: 0,
        }
    }

    #[test]
    fn recommendation_follows_the_goal() {
        let r = [
            m(1, 2.5, 300.0, 10),
            m(3, 3.0, 100.0, 20),
            m(9, 3.05, 5.0, 80),
        ];
        let goal = |t, s, l| Goal {
            target_ratio: t,
            min_speed: s,
            memory_limit: l,
        };
        assert_eq!(recommend(&r, &goal(Some(2.9), None, None)), Some(1));
        assert_eq!(recommend(&r, &goal(Some(3.04), None, None)), Some(2));
        assert_eq!(recommend(&r, &goal(None, Some(50.0), None)), Some(1));
        assert_eq!(recommend(&r, &goal(None, Some(200.0), None)), Some(0));
        assert_eq!(recommend(&r, &goal(Some(3.04), None, Some(50))), None);
        // No goal: the fastest within 2% of the best ratio.
        assert_eq!(recommend(&r, &Goal::default()), Some(1));
        assert_eq!(recommend(&[], &Goal::default()), None);
    }

    #[test]
    fn measuring_checks_the_round_trip_and_reports_ratio() {
        let data: Vec<u8> = (0..300_000u32)
            .flat_map(|i| (i % 1000).to_le_bytes())
            .collect();
        let case = Case {
            level: 1,
            threads: 2,
            chunk_size: Some(1 << 18),
        };
        let r = measure(&data, case, Duration::from_millis(10)).unwrap();
        assert!(r.ratio > 2.0 && r.encode_mb_s > 0.0 && r.decode_mb_s > 0.0 && r.runs >= 3);
        assert_eq!(r.chunk_used, 1 << 18);
    }

    #[test]
    fn samples_are_spread_over_the_file() {
        let data: Vec<u8> = (0..1_000_000u32).map(|i| (i / 1000) as u8).collect();
        let s = sample(&mut Cursor::new(&data), data.len() as u64, 160_000).unwrap();
        assert_eq!(s.len(), 160_000);
        assert_eq!(s[0], 0);
        assert_eq!(s.last(), data.last());
        let all = sample(&mut Cursor::new(&data), data.len() as u64, 2_000_000).unwrap();
        assert_eq!(all, data);
    }
}
