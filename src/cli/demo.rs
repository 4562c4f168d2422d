//! `sigma demo`: the visual proof on a generated input that is never held in memory.

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};

use super::args::{parse_size, DemoArgs};
use super::output::OUTPUT_BUFFER;
use super::Exit;
use sigmalang::decode::Decoder;
use sigmalang::demo::DemoData;
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

pub fn run(a: DemoArgs) -> Result<Exit, String> {
    let size = parse_size(&a.size)?;
    let chunk_size = if a.chunk_size.eq_ignore_ascii_case("auto") {
        ChunkSize::Auto
    } else {
        ChunkSize::Fixed(parse_size(&a.chunk_size)?)
    };
    let level = Level::new(a.level).ok_or("level must be 1-9")?;
    let config = EncoderConfig {
        level,
        chunk_size,
        threads: a.threads,
        ..EncoderConfig::default()
    };
    let fail = |what: &str, e: sigmalang::Error| format!("demo: {what}: {e}");
    let encoder = Encoder::new(config).map_err(|e| fail("starting encoder", e))?;
    let plan = encoder.plan(Some(size)).map_err(|e| fail("planning", e))?;
    let decoder = Decoder::new(plan.threads).map_err(|e| fail("starting decoder", e))?;
    let dir = tempfile::tempdir().map_err(|e| format!("demo: creating a temporary folder: {e}"))?;
    let path = dir.path().join("demo.sigma");

    println!(
        "sigma demo: {} ({size} bytes) of generated logs, prose, CSV, binary records and noise",
        mib(size)
    );
    println!(
        "level {}, {} KiB chunks, {} threads; the input is generated on the fly and never stored\n",
        level.get(),
        plan.chunk_size / 1024,
        plan.threads
    );
    let per_step = reset_peak();

    let file =
        File::create(&path).map_err(|e| format!("demo: creating {}: {e}", path.display()))?;
    let mut w = BufWriter::with_capacity(OUTPUT_BUFFER, file);
    let enc = encoder
        .encode_reader(DemoData::new(size), Some(size), &mut w, &|_| {})
        .map_err(|e| fail("encoding", e))?;
    drop(w);
    let enc_peak = stats::peak_rss().unwrap_or(0);

    reset_peak();
    let f = File::open(&path).map_err(|e| format!("demo: {e}"))?;
    let ver = decoder
        .decode(f, &mut io::sink(), &|_| {})
        .map_err(|e| fail("verifying", e))?;
    let ver_peak = stats::peak_rss().unwrap_or(0);

    reset_peak();
    let f = File::open(&path).map_err(|e| format!("demo: {e}"))?;
    let mut cmp = CompareWriter {
        expected: DemoData::new(size),
        offset: 0,
        buf: Vec::new(),
    };
    let dec = decoder
        .decode(f, &mut cmp, &|_| {})
        .map_err(|e| fail("decoding", e))?;
    let dec_peak = stats::peak_rss().unwrap_or(0);
    if cmp.offset != size {
        return Err(format!(
            "demo: decoded {} bytes, expected {size}",
            cmp.offset
        ));
    }

    println!(
        "  {:<8} {:>15} {:>15} {:>11} {:>15} {:>12}",
        "step", "bytes in", "bytes out", "time", "throughput", "peak memory"
    );
    println!(
        "{}",
        row("encode", size, enc.encoded_size, &enc, size, enc_peak)
    );
    println!(
        "{}",
        row("verify", ver.encoded_size, 0, &ver, size, ver_peak)
    );
    println!(
        "{}",
        row("decode", dec.encoded_size, size, &dec, size, dec_peak)
    );
    println!();
    println!(
        "  ratio {:.3} ({} -> {}); {} frames; glyphs: {} primitive, {} reference, {} delta, {} iteration",
        enc.ratio(),
        mib(size),
        mib(enc.encoded_size),
        enc.frames,
        enc.glyphs.primitive,
        enc.glyphs.reference,
        enc.glyphs.delta,
        enc.glyphs.iteration
    );
    println!(
        "  decoded output matches the input byte for byte; all frame, index and content checksums verified"
    );
    println!(
        "  memory: streaming peak {} (estimate {}); a load-everything encoder would need about {}",
        mib(enc_peak.max(dec_peak)),
        mib(plan.estimate),
        mib(sizing::full_load_estimate(level, size))
    );
    if !per_step {
        println!("  (peak memory is cumulative: this system cannot reset it between steps)");
    }
    Ok(Exit::Success)
}
