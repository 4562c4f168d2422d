//! `sigmalang._native`: the Rust engine for the Python package `sigmalang`.
//!
//! A thin layer over the library, the way the `sigma` command uses it: an encoder and a
//! decoder that keep their worker pools between calls, random access, inspection and the
//! sizing rules. Every long call releases the GIL; outputs are written through a guarded
//! writer (Ctrl-C and callback errors stop the run) into a temporary file renamed into
//! place when complete. Results come back as plain dictionaries; the pure-Python package
//! builds SigmaLang's classes (`StreamingEncoder`, `StreamStats`, ...) from them.
#![deny(unsafe_code)]

mod convert;
mod errors;
mod output;

use std::fs::File;
use std::io;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::Instant;

use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::types::{PyBytes, PyDict};
use sigmalang::decode::{self, Decoder};
use sigmalang::pipeline::{sizing, ChunkSize, Encoder, EncoderConfig};
use sigmalang::stats::Stats;
use sigmalang::{Error, Level};

use output::{Guarded, Watch, WriteTimes};

fn level(py: Python<'_>, n: u8) -> PyResult<Level> {
    Level::new(n).ok_or_else(|| errors::setting(py, format!("level is {n}, should be 1-9")))
}

fn chunk_setting(py: Python<'_>, chunk_size: Option<u64>) -> PyResult<ChunkSize> {
    match chunk_size {
        None => Ok(ChunkSize::Auto),
        Some(n) => {
            sigmalang::format::check_chunk_size(n).map_err(|e| errors::to_py(py, &e))?;
            Ok(ChunkSize::Fixed(n))
        }
    }
}

/// Python delivers signals to its main thread only, so only a call made there polls them.
fn on_main_thread(py: Python<'_>) -> PyResult<bool> {
    let threading = py.import("threading")?;
    let main = threading.call_method0("main_thread")?;
    let current = threading.call_method0("current_thread")?;
    Ok(main.is(&current))
}

/// The library's progress callback: counts frames and, when Python gave a callable, calls
/// it as `progress(frames_done, raw_bytes_done, bytes_written)` (on the calling thread,
/// with the GIL taken for the call). An exception it raises stops the run.
fn progress_fn<'a>(watch: &'a Watch, callback: Option<&'a Py<PyAny>>) -> impl Fn(u64) + Sync + 'a {
    move |raw| {
        let frames = watch.frames.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(cb) = callback {
            let written = watch.written.load(Ordering::Relaxed);
            Python::attach(|py| {
                if let Err(e) = cb.call1(py, (frames, raw, written)) {
                    watch.fail(e);
                }
            });
        }
    }
}

/// Turns the outcome of a run into a stats dictionary or the exception to raise; a stop
/// requested through the watch (KeyboardInterrupt, a callback's error) wins.
fn finish<'py>(
    py: Python<'py>,
    watch: &Watch,
    result: Result<(Stats, WriteTimes), Error>,
    started: Instant,
) -> PyResult<Bound<'py, PyDict>> {
    if let Some(e) = watch.take() {
        return Err(e);
    }
    let (stats, times) = result.map_err(|e| errors::to_py(py, &e))?;
    convert::stats(py, &stats, times, started.elapsed().as_secs_f64())
}

/// Runs `f` on an in-memory output with the GIL released; returns the bytes and the stats.
fn in_memory<'py, F>(
    py: Python<'py>,
    watch: &Watch,
    f: F,
) -> PyResult<(Bound<'py, PyBytes>, Bound<'py, PyDict>)>
where
    F: FnOnce(&mut dyn io::Write) -> Result<Stats, Error> + Send,
{
    let started = Instant::now();
    let (out, result) = py.detach(|| {
        let mut out = Vec::new();
        let mut w = Guarded::new(&mut out, watch);
        let result = f(&mut w).map(|s| {
            let times = WriteTimes {
                writing: w.write_time,
                ..WriteTimes::default()
            };
            (s, times)
        });
        (out, result)
    });
    let stats = finish(py, watch, result, started)?;
    Ok((PyBytes::new(py, &out), stats))
}

/// A streaming encoder with its own worker pool (kept between calls).
#[pyclass(frozen, name = "Encoder", module = "sigmalang._native")]
struct NativeEncoder {
    inner: Encoder,
    threads: usize,
}

#[pymethods]
impl NativeEncoder {
    /// `Encoder(level=3, chunk_size=None, threads=0, memory_limit=None)`: chunk size
    /// `None` is the automatic rule, threads 0 one per core, memory limit `None` half the
    /// available memory (bytes).
    #[new]
    #[pyo3(signature = (level=3, chunk_size=None, threads=0, memory_limit=None))]
    fn new(
        py: Python<'_>,
        level: u8,
        chunk_size: Option<u64>,
        threads: usize,
        memory_limit: Option<u64>,
    ) -> PyResult<Self> {
        let config = EncoderConfig {
            level: crate::level(py, level)?,
            chunk_size: chunk_setting(py, chunk_size)?,
            threads,
            memory_limit,
            ..EncoderConfig::default()
        };
        let inner = Encoder::new(config).map_err(|e| errors::to_py(py, &e))?;
        Ok(NativeEncoder {
            inner,
            threads: sizing::resolve_threads(threads),
        })
    }

    /// Compression level.
    #[getter]
    fn level(&self) -> u8 {
        self.inner.level().get()
    }

    /// Worker threads of the pool.
    #[getter]
    fn threads(&self) -> usize {
        self.threads
    }

    /// The settings used for an input of `size` bytes (`None`: unknown size): a dict with
    /// `chunk_size`, `threads`, `slots`, `estimate` (bytes) and `notes`.
    #[pyo3(signature = (size=None))]
    fn plan<'py>(&self, py: Python<'py>, size: Option<u64>) -> PyResult<Bound<'py, PyDict>> {
        let plan = self.inner.plan(size).map_err(|e| errors::to_py(py, &e))?;
        let d = PyDict::new(py);
        d.set_item("chunk_size", plan.chunk_size)?;
        d.set_item("threads", plan.threads)?;
        d.set_item("slots", plan.slots())?;
        d.set_item("estimate", plan.estimate)?;
        d.set_item("notes", plan.notes)?;
        Ok(d)
    }

    /// Encodes the file `input` into `output` (written beside it as a temporary file and
    /// renamed when complete). Releases the GIL. Returns the stats dict.
    #[pyo3(signature = (input, output, overwrite=true, progress=None))]
    fn encode_file<'py>(
        &self,
        py: Python<'py>,
        input: PathBuf,
        output: PathBuf,
        overwrite: bool,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let watch = Watch::new(on_main_thread(py)?);
        let started = Instant::now();
        let result = py.detach(|| {
            let report = progress_fn(&watch, progress.as_ref());
            output::write_atomically(&output, Some(&input), overwrite, &watch, |w| {
                self.inner.encode_file(&input, w, &report)
            })
        });
        finish(py, &watch, result, started)
    }

    /// Encodes `data` (bytes-like) in memory; returns `(stream, stats)`. Releases the GIL.
    #[pyo3(signature = (data, progress=None))]
    fn encode_bytes<'py>(
        &self,
        py: Python<'py>,
        data: PyBackedBytes,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<(Bound<'py, PyBytes>, Bound<'py, PyDict>)> {
        let watch = Watch::new(on_main_thread(py)?);
        let report = progress_fn(&watch, progress.as_ref());
        in_memory(py, &watch, |w| {
            self.inner
                .encode_reader(&data[..], Some(data.len() as u64), w, &report)
        })
    }
}

/// A streaming decoder with its own worker pool (kept between calls).
#[pyclass(frozen, name = "Decoder", module = "sigmalang._native")]
struct NativeDecoder {
    inner: Decoder,
    threads: usize,
}

fn open(path: &PathBuf) -> Result<File, Error> {
    File::open(path).map_err(|e| Error::io("opening input", e))
}

#[pymethods]
impl NativeDecoder {
    /// `Decoder(threads=0)`: threads 0 is one per core.
    #[new]
    #[pyo3(signature = (threads=0))]
    fn new(py: Python<'_>, threads: usize) -> PyResult<Self> {
        let inner = Decoder::new(threads).map_err(|e| errors::to_py(py, &e))?;
        Ok(NativeDecoder {
            inner,
            threads: sizing::resolve_threads(threads),
        })
    }

    /// Worker threads of the pool.
    #[getter]
    fn threads(&self) -> usize {
        self.threads
    }

    /// Decodes the stream file `input` into `output` (temporary file, renamed when
    /// complete and every checksum verified). Releases the GIL. Returns the stats dict.
    #[pyo3(signature = (input, output, overwrite=true, progress=None))]
    fn decode_file<'py>(
        &self,
        py: Python<'py>,
        input: PathBuf,
        output: PathBuf,
        overwrite: bool,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let watch = Watch::new(on_main_thread(py)?);
        let started = Instant::now();
        let result = py.detach(|| {
            let report = progress_fn(&watch, progress.as_ref());
            output::write_atomically(&output, Some(&input), overwrite, &watch, |w| {
                self.inner.decode(open(&input)?, w, &report)
            })
        });
        finish(py, &watch, result, started)
    }

    /// Decodes the stream `data` in memory; returns `(content, stats)`. Releases the GIL.
    #[pyo3(signature = (data, progress=None))]
    fn decode_bytes<'py>(
        &self,
        py: Python<'py>,
        data: PyBackedBytes,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<(Bound<'py, PyBytes>, Bound<'py, PyDict>)> {
        let watch = Watch::new(on_main_thread(py)?);
        let report = progress_fn(&watch, progress.as_ref());
        in_memory(py, &watch, |w| self.inner.decode(&data[..], w, &report))
    }

    /// Decodes the stream file `path` without writing anything, checking every frame, the
    /// index and the content checksum. Releases the GIL. Returns the stats dict.
    fn verify<'py>(&self, py: Python<'py>, path: PathBuf) -> PyResult<Bound<'py, PyDict>> {
        let watch = Watch::new(on_main_thread(py)?);
        let started = Instant::now();
        let result = py.detach(|| {
            let report = progress_fn(&watch, None);
            let mut sink = Guarded::new(io::sink(), &watch);
            self.inner
                .decode(open(&path)?, &mut sink, &report)
                .map(|s| (s, WriteTimes::default()))
        });
        finish(py, &watch, result, started)
    }
}

/// Bytes `[start, end)` of the content of the stream file `path`, reading only the frames
/// that cover them. Releases the GIL.
#[pyfunction]
fn decode_range<'py>(
    py: Python<'py>,
    path: PathBuf,
    start: u64,
    end: u64,
) -> PyResult<Bound<'py, PyBytes>> {
    let watch = Watch::new(on_main_thread(py)?);
    let (out, result) = py.detach(|| {
        let mut out = Vec::new();
        let mut w = Guarded::new(&mut out, &watch);
        let result = open(&path).and_then(|mut f| decode::decode_range(&mut f, start, end, &mut w));
        (out, result)
    });
    if let Some(e) = watch.take() {
        return Err(e);
    }
    result.map_err(|e| errors::to_py(py, &e))?;
    Ok(PyBytes::new(py, &out))
}

/// What the stream file `path`'s header, index and trailer say (as `sigma inspect
/// --json`), without decoding frames; `frames=True` adds the per-frame list.
#[pyfunction]
#[pyo3(signature = (path, frames=false))]
fn inspect<'py>(py: Python<'py>, path: PathBuf, frames: bool) -> PyResult<Bound<'py, PyDict>> {
    let (info, list) = py
        .detach(|| {
            let mut f = open(&path)?;
            let info = decode::inspect(&mut f)?;
            let mut list = Vec::new();
            if frames {
                decode::frames(&mut f, &info, |fr| {
                    list.push(*fr);
                    Ok(true)
                })?;
            }
            Ok::<_, Error>((info, list))
        })
        .map_err(|e| errors::to_py(py, &e))?;
    let d = convert::stream_info(py, &info, frames.then_some(&list[..]))?;
    d.set_item("file", path.to_string_lossy())?;
    Ok(d)
}

/// The automatic chunk size for an input of `size` bytes (`None`: unknown, a pipe) at
/// `level`, in the encoder's groups of two frames.
#[pyfunction]
#[pyo3(signature = (size=None, level=3))]
fn auto_chunk_size(py: Python<'_>, size: Option<u64>, level: u8) -> PyResult<u64> {
    Ok(sizing::auto_chunk_size(
        self::level(py, level)?,
        size,
        sizing::DEFAULT_GROUP,
    ))
}

/// The library's memory estimate for encoding an input of `size` bytes, split into its
/// terms: `chunk_buffer` (per slot, two per worker, one input chunk and the chunk before it), `encoder_state` (match-finder
/// tables per worker), `output_buffer` (encoded frames in flight, at half a chunk each)
/// and `overhead` (the process before any frame work); they add up to `estimate`. Also
/// the resolved `chunk_size`, `threads`, `slots` and the budget's `notes`.
#[pyfunction]
#[pyo3(signature = (level=3, chunk_size=None, threads=0, memory_limit=None, size=None))]
fn memory_estimate<'py>(
    py: Python<'py>,
    level: u8,
    chunk_size: Option<u64>,
    threads: usize,
    memory_limit: Option<u64>,
    size: Option<u64>,
) -> PyResult<Bound<'py, PyDict>> {
    let level = crate::level(py, level)?;
    let chunk = chunk_setting(py, chunk_size)?;
    let plan = sizing::plan(level, chunk, sizing::DEFAULT_GROUP, threads, memory_limit, size)
        .map_err(|e| errors::to_py(py, &e))?;
    let workers = plan.threads as u64;
    let chunk = plan.chunk_size;
    // A small input is also coded with level 9's parse: its tables are the larger.
    let level = if plan.strongest_too {
        sigmalang::Level::MAX
    } else {
        level
    };
    // A linked frame's input holds the frame before it too.
    let window = sizing::encode_window(chunk, plan.group);
    let d = PyDict::new(py);
    d.set_item("chunk_buffer", plan.slots() as u64 * window)?;
    d.set_item(
        "encoder_state",
        workers * sigmalang::codec::encoder_memory(level, window as usize) as u64,
    )?;
    d.set_item("output_buffer", plan.slots() as u64 * chunk / 2)?;
    d.set_item("overhead", sizing::BASE_MEMORY)?;
    d.set_item("estimate", plan.estimate)?;
    d.set_item("chunk_size", chunk)?;
    d.set_item("threads", plan.threads)?;
    d.set_item("slots", plan.slots())?;
    d.set_item("notes", plan.notes)?;
    Ok(d)
}

/// What a load-everything encoder needs for `size` bytes at `level` (bytes).
#[pyfunction]
#[pyo3(signature = (size, level=3))]
fn full_load_estimate(py: Python<'_>, size: u64, level: u8) -> PyResult<u64> {
    Ok(sizing::full_load_estimate(crate::level(py, level)?, size))
}

/// Peak resident memory of this process so far (bytes), or `None` where the OS does not say.
#[pyfunction]
fn peak_rss() -> Option<u64> {
    sigmalang::stats::peak_rss()
}

/// The Rust engine of the `sigmalang` package.
#[pymodule]
mod _native {
    #[pymodule_export]
    use super::{
        auto_chunk_size, decode_range, full_load_estimate, inspect, memory_estimate, peak_rss,
        NativeDecoder, NativeEncoder,
    };

    #[pymodule_init]
    fn init(m: &pyo3::Bound<'_, pyo3::types::PyModule>) -> pyo3::PyResult<()> {
        use pyo3::types::PyModuleMethods;
        m.add("__version__", env!("CARGO_PKG_VERSION"))?;
        m.add("MIN_CHUNK", sigmalang::format::MIN_CHUNK)?;
        m.add("MAX_CHUNK", sigmalang::format::MAX_CHUNK)?;
        Ok(())
    }
}
