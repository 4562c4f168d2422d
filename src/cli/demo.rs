//! `sigma demo`: the visual proof on a generated input that is never held in memory.

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};

use super::args::{parse_size, DemoArgs};
use super::Exit;
use sigmalang::decode::Decoder;
use sigmalang::demo::DemoData;
use sigmalang::output::OUTPUT_BUFFER;
use sigmalang::pipeline::{sizing, ChunkSize, Encoder, EncoderConfig};
use sigmalang::stats::{self, Stats};
use sigmalang::Level;

/// Compares everything written to it with a fresh copy of the generated input.
struct CompareWriter {
    expected: DemoData,
    offset: u64,
    buf: Vec<u8>,
}

impl Write for CompareWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.resize(data.len(), 0);
        self.expected.read_exact(&mut self.buf).map_err(|_| {
            io::Error::other(format!(
                "decoded output is longer than the input at byte {}",
                self.offset
            ))
        })?;
        if let Some(i) = self.buf.iter().zip(data).position(|(a, b)| a != b) {
            return Err(io::Error::other(format!(
                "decoded output differs from the input at byte {}",
                self.offset + i as u64
            )));
        }
        self.offset += data.len() as u64;
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Starts a new peak-memory measurement (Linux: resets VmHWM); false if unsupported.
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn mib(b: u64) -> String {
    format!("{:.1} MiB", b as f64 / 1048576.0)
}

fn row(step: &str, bytes_in: u64, bytes_out: u64, s: &Stats, raw: u64, peak: u64) -> String {
    let secs = s.elapsed.as_secs_f64();
    format!(
        "  {step:<8} {bytes_in:>15} {bytes_out:>15} {secs:>9.2} s {:>10.1} MB/s {:>12}",
        raw as f64 / secs.max(1e-9) / 1e6,
        mib(peak)
    )
}

/// Runs `sigma demo`: settings errors are usage errors (exit 2), anything that goes
/// wrong while running is a failure (exit 1).
pub fn run(a: DemoArgs) -> Result<Exit, String> {
    let size = parse_size(&a.size)?;
    let chunk_size = if a.chunk_size.eq_ignore_ascii_case("auto") {
        ChunkSize::Auto
    } else {
        let n = parse_size(&a.chunk_size)?;
        sigmalang::format::check_chunk_size(n).map_err(|e| e.to_string())?;
        ChunkSize::Fixed(n)
    };
    let level = Level::new(a.level).ok_or("level must be 1-9")?;
    let config = EncoderConfig {
        level,
        chunk_size,
        threads: a.threads,
        ..EncoderConfig::default()
    };
    match run_steps(config, size) {
        Ok(()) => Ok(Exit::Success),
        Err(msg) => {
            say!("sigma: demo: {msg}");
            Ok(Exit::Failure)
        }
    }
}

/// What one step measured.
struct Step {
    stats: Stats,
    peak: u64,
}

fn run_steps(config: EncoderConfig, size: u64) -> Result<(), String> {
    let level = config.level;
    let fail = |what: &str, e: sigmalang::Error| format!("{what}: {e}");
    let encoder = Encoder::new(config).map_err(|e| fail("starting encoder", e))?;
    let plan = encoder.plan(Some(size)).map_err(|e| fail("planning", e))?;
    let decoder = Decoder::new(plan.threads).map_err(|e| fail("starting decoder", e))?;
    let dir = tempfile::tempdir().map_err(|e| format!("creating a temporary folder: {e}"))?;
    let path = dir.path().join("demo.sigma");

    tell!(
        "sigma demo: {} ({size} bytes) of generated logs, prose, CSV, binary records and noise",
        mib(size)
    );
    tell!(
        "level {}, {} KiB chunks, {}; the input is generated on the fly and never stored\n",
        level.get(),
        plan.chunk_size / 1024,
        super::count(plan.threads as u64, "thread")
    );
    let per_step = reset_peak();
    let enc = encode_step(&encoder, &path, size)?;
    // The encoder keeps its buffers for a next input; there is none.
    drop(encoder);
    reset_peak();
    let ver = decode_step(&decoder, &path, &mut io::sink()).map_err(|e| fail("verifying", e))?;
    reset_peak();
    let mut cmp = CompareWriter {
        expected: DemoData::new(size),
        offset: 0,
        buf: Vec::new(),
    };
    let dec = decode_step(&decoder, &path, &mut cmp).map_err(|e| fail("decoding", e))?;
    if cmp.offset != size {
        return Err(format!("decoded {} bytes, expected {size}", cmp.offset));
    }
    print_table(size, &enc, &ver, &dec);
    tell!(
        "  memory: streaming peak {} (estimate {}); a load-everything encoder would need about {}",
        mib(enc.peak.max(dec.peak)),
        mib(plan.estimate),
        mib(sizing::full_load_estimate(level, size))
    );
    if !per_step {
        tell!("  (peak memory is cumulative: this system cannot reset it between steps)");
    }
    Ok(())
}

fn encode_step(encoder: &Encoder, path: &std::path::Path, size: u64) -> Result<Step, String> {
    let file = File::create(path).map_err(|e| format!("creating {}: {e}", path.display()))?;
    let mut w = BufWriter::with_capacity(OUTPUT_BUFFER, file);
    let stats = encoder
        .encode_reader(DemoData::new(size), Some(size), &mut w, &|_| {})
        .map_err(|e| format!("encoding: {e}"))?;
    w.flush()
        .map_err(|e| format!("writing {}: {e}", path.display()))?;
    Ok(Step {
        stats,
        peak: stats::peak_rss().unwrap_or(0),
    })
}

fn decode_step(
    decoder: &Decoder,
    path: &std::path::Path,
    out: &mut dyn Write,
) -> Result<Step, sigmalang::Error> {
    let f = File::open(path).map_err(|e| sigmalang::Error::io("opening the stream", e))?;
    let stats = decoder.decode(f, out, &|_| {})?;
    Ok(Step {
        stats,
        peak: stats::peak_rss().unwrap_or(0),
    })
}

fn print_table(size: u64, enc: &Step, ver: &Step, dec: &Step) {
    tell!(
        "  {:<8} {:>15} {:>15} {:>11} {:>15} {:>12}",
        "step",
        "bytes in",
        "bytes out",
        "time",
        "throughput",
        "peak memory"
    );
    let e = &enc.stats;
    tell!("{}", row("encode", size, e.encoded_size, e, size, enc.peak));
    let v = &ver.stats;
    tell!("{}", row("verify", v.encoded_size, 0, v, size, ver.peak));
    let d = &dec.stats;
    tell!("{}", row("decode", d.encoded_size, size, d, size, dec.peak));
    tell!();
    tell!(
        "  ratio {:.3} ({} -> {}); {} frames; glyphs: {} primitive, {} reference, {} delta, {} iteration",
        e.ratio(),
        mib(size),
        mib(e.encoded_size),
        e.frames,
        e.glyphs.primitive,
        e.glyphs.reference,
        e.glyphs.delta,
        e.glyphs.iteration
    );
    tell!(
        "  decoded output matches the input byte for byte; all frame, index and content checksums verified"
    );
}
