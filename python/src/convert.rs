//! Library results as Python dictionaries (the pure-Python layer turns them into
//! `StreamStats` and friends).

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};
use sigmalang::decode::{FrameInfo, StreamInfo};
use sigmalang::stats::Stats;
use sigmalang::GlyphCounts;

use crate::output::WriteTimes;

/// Glyph counts by type.
pub fn glyphs<'py>(py: Python<'py>, g: &GlyphCounts) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("primitive", g.primitive)?;
    d.set_item("reference", g.reference)?;
    d.set_item("delta", g.delta)?;
    d.set_item("iteration", g.iteration)?;
    d.set_item("total", g.total())?;
    d.set_item("literal_bytes", g.literal_bytes)?;
    d.set_item("copied_bytes", g.copied_bytes)?;
    Ok(d)
}

/// The library's figures of one run, plus what the binding measured around it: time in
/// output writes (`write_time`), after the run (`finish_time`: permissions, sync, rename)
/// and the whole call (`call_time`).
pub fn stats<'py>(
    py: Python<'py>,
    s: &Stats,
    times: WriteTimes,
    call_time: f64,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("bytes_in", s.bytes_in)?;
    d.set_item("bytes_out", s.bytes_out)?;
    d.set_item("raw_size", s.raw_size)?;
    d.set_item("encoded_size", s.encoded_size)?;
    d.set_item("frames", s.frames)?;
    d.set_item("glyphs", glyphs(py, &s.glyphs)?)?;
    d.set_item("chunk_size", s.chunk_size)?;
    d.set_item("threads", s.threads)?;
    d.set_item("level", s.level)?;
    d.set_item("elapsed", s.elapsed.as_secs_f64())?;
    d.set_item("peak_rss", s.peak_rss)?;
    d.set_item("write_time", times.writing.as_secs_f64())?;
    d.set_item("finish_time", times.finishing.as_secs_f64())?;
    d.set_item("call_time", call_time)?;
    Ok(d)
}

/// What `sigma inspect --json` shows, with the per-frame list when `frames` is set.
pub fn stream_info<'py>(
    py: Python<'py>,
    info: &StreamInfo,
    frames: Option<&[FrameInfo]>,
) -> PyResult<Bound<'py, PyDict>> {
    let raw = info.trailer.raw_size;
    let d = PyDict::new(py);
    d.set_item("version", info.header.version)?;
    d.set_item("level", info.header.level.get())?;
    d.set_item("chunk_size", info.header.chunk_size)?;
    d.set_item("group", info.header.group)?;
    d.set_item("raw_size", raw)?;
    d.set_item("encoded_size", info.encoded_size)?;
    let ratio = if info.encoded_size == 0 {
        0.0
    } else {
        raw as f64 / info.encoded_size as f64
    };
    d.set_item("ratio", ratio)?;
    d.set_item("frames", info.trailer.frames)?;
    d.set_item("frame_raw_min", info.frame_raw_min)?;
    d.set_item("frame_raw_max", info.frame_raw_max)?;
    d.set_item(
        "content_crc32c",
        format!("{:08x}", info.trailer.content_crc),
    )?;
    d.set_item("glyphs", glyphs(py, &info.glyphs)?)?;
    d.set_item("compact", info.compact.is_some())?;
    d.set_item("metadata_damaged", info.metadata_damaged)?;
    match &info.metadata {
        Some(m) => {
            let md = PyDict::new(py);
            md.set_item("name", PyBytes::new(py, &m.name))?;
            md.set_item("mode", m.mode)?;
            md.set_item("mtime", m.mtime)?;
            md.set_item("mtime_nanos", m.mtime_nanos)?;
            d.set_item("metadata", md)?;
        }
        None => d.set_item("metadata", py.None())?,
    }
    if let Some(frames) = frames {
        let mut list = Vec::with_capacity(frames.len());
        for fr in frames {
            let e = &fr.entry;
            let f = PyDict::new(py);
            f.set_item("offset", fr.offset)?;
            f.set_item("encoded_len", e.encoded_len)?;
            f.set_item("raw_size", e.raw_size)?;
            f.set_item("glyphs", glyphs(py, &e.glyphs)?)?;
            list.push(f);
        }
        d.set_item("frame_list", list)?;
    }
    Ok(d)
}
