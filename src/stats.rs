//! Run statistics and process memory as reported by the operating system.
#![forbid(unsafe_code)]

use std::time::Duration;

use serde::Serialize;

use crate::base::GlyphCounts;

/// Final figures of one encode or decode.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Stats {
    /// Bytes read (raw bytes when encoding, stream bytes when decoding).
    pub bytes_in: u64,
    /// Bytes written.
    pub bytes_out: u64,
    /// Raw (decoded) size of the content.
    pub raw_size: u64,
    /// Encoded stream size.
    pub encoded_size: u64,
    /// Frames.
    pub frames: u64,
    /// CRC32C of the whole content (0 when not known).
    #[serde(skip)]
    pub content_crc: u32,
    /// Glyphs by type.
    pub glyphs: GlyphCounts,
    /// Chunk size used.
    pub chunk_size: u64,
    /// Worker threads used.
    pub threads: usize,
    /// Level used.
    pub level: u8,
    /// Wall time.
    #[serde(serialize_with = "secs")]
    pub elapsed: Duration,
    /// Peak resident memory of the process so far, bytes (0 when the OS does not say).
    pub peak_rss: u64,
    /// The (first) stream's metadata glyph, when decoding a stream that has one.
    #[serde(skip)]
    pub metadata: Option<crate::format::Metadata>,
    /// What the memory budget changed in the plan the encoder used, for the user.
    pub notes: Vec<String>,
}

fn secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

impl Stats {
    /// raw / encoded (0 when nothing was written).
    pub fn ratio(&self) -> f64 {
        if self.encoded_size == 0 {
            0.0
        } else {
            self.raw_size as f64 / self.encoded_size as f64
        }
    }

    /// Raw megabytes (10^6) per second.
    pub fn throughput_mb_s(&self) -> f64 {
        let s = self.elapsed.as_secs_f64();
        if s == 0.0 {
            0.0
        } else {
            self.raw_size as f64 / s / 1e6
        }
    }
}

/// Peak resident set size of this process (VmHWM), in bytes, if the OS reports it.
pub fn peak_rss() -> Option<u64> {
    status_field(
        &std::fs::read_to_string("/proc/self/status").ok()?,
        "VmHWM:",
    )
}

/// Current resident set size of this process (VmRSS), in bytes, if the OS reports it.
pub fn current_rss() -> Option<u64> {
    status_field(
        &std::fs::read_to_string("/proc/self/status").ok()?,
        "VmRSS:",
    )
}

/// A `kB` field of a `/proc/PID/status` text, in bytes.
fn status_field(status: &str, name: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with(name))?;
    let kib: u64 = line[name.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    #[test]
    fn peak_is_at_least_current() {
        // One snapshot: other test threads may allocate between two reads.
        let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
            return;
        };
        let peak = super::status_field(&status, "VmHWM:").unwrap();
        let cur = super::status_field(&status, "VmRSS:").unwrap();
        assert!(peak >= cur && cur > 0, "peak {peak}, current {cur}");
    }
}
