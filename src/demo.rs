//! A deterministic, realistic mixed text-and-binary input, generated on the fly (never held
//! in memory): service logs, English-like prose, CSV, binary telemetry records and a little
//! incompressible noise, in sections of varying size.
#![forbid(unsafe_code)]

use std::io::{self, Read};

const WORDS: &[&str] = &[
    "the",
    "of",
    "and",
    "to",
    "a",
    "in",
    "is",
    "that",
    "for",
    "it",
    "as",
    "with",
    "be",
    "on",
    "not",
    "this",
    "are",
    "by",
    "from",
    "or",
    "which",
    "an",
    "can",
    "stream",
    "frame",
    "glyph",
    "encoder",
    "memory",
    "thread",
    "chunk",
    "buffer",
    "index",
    "primitive",
    "reference",
    "delta",
    "composite",
    "value",
    "data",
    "file",
    "system",
    "each",
    "when",
    "must",
    "every",
    "order",
    "window",
    "worker",
    "writer",
    "bound",
    "constant",
    "size",
    "input",
    "output",
    "checksum",
    "header",
    "trailer",
    "parallel",
    "decoder",
    "format",
    "version",
    "byte",
    "offset",
    "length",
    "payload",
    "signal",
    "kernel",
    "driver",
    "device",
    "network",
    "packet",
    "queue",
    "lock",
    "page",
    "cache",
    "disk",
    "block",
    "sector",
    "tree",
    "node",
];
const LEVELS: &[&str] = &["INFO", "INFO", "INFO", "DEBUG", "WARN", "ERROR"];
const PATHS: &[&str] = &[
    "/api/v1/items",
    "/api/v1/users",
    "/api/v2/search",
    "/static/app.js",
    "/health",
    "/api/v1/orders",
    "/login",
    "/api/v2/frames",
];

/// Deterministic generator of `size` bytes of mixed content.
pub struct DemoData {
    rng: u64,
    remaining: u64,
    buf: Vec<u8>,
    pos: usize,
    clock: u64,
    counter: u32,
}

impl DemoData {
    /// A generator of exactly `size` bytes; the same size always gives the same bytes.
    pub fn new(size: u64) -> DemoData {
        DemoData {
            rng: 0x9E37_79B9_7F4A_7C15,
            remaining: size,
            buf: Vec::with_capacity(80 * 1024),
            pos: 0,
            clock: 1_790_000_000_000,
            counter: 0,
        }
    }

    fn next(&mut self) -> u64 {
        // xorshift64*
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// Zipf-like pick: small indices much more often.
    fn word(&mut self) -> &'static str {
        let a = self.below(WORDS.len() as u64);
        let b = self.below(WORDS.len() as u64);
        WORDS[a.min(b) as usize]
    }

    fn section(&mut self) {
        self.buf.clear();
        self.pos = 0;
        let target = 4096 + self.below(60 * 1024) as usize;
        let kind = self.below(100);
        while self.buf.len() < target {
            match kind {
                0..=39 => self.log_line(),
                40..=64 => self.prose(),
                65..=74 => self.csv_row(),
                75..=93 => self.record(),
                _ => {
                    let r = self.next();
                    self.buf.extend_from_slice(&r.to_le_bytes());
                }
            }
        }
    }

    fn num(&mut self, mut n: u64) {
        let mut digits = [0u8; 20];
        let mut i = digits.len();
        loop {
            i -= 1;
            digits[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        self.buf.extend_from_slice(&digits[i..]);
    }

    fn text(&mut self, s: &str) {
        self.buf.extend_from_slice(s.as_bytes());
    }

    fn log_line(&mut self) {
        self.clock += self.below(40);
        let (secs, ms) = (self.clock / 1000, self.clock % 1000);
        self.num(secs);
        self.buf.push(b'.');
        self.buf.push(b'0' + (ms / 100) as u8);
        self.buf.push(b'0' + (ms / 10 % 10) as u8);
        self.buf.push(b'0' + (ms % 10) as u8);
        let level = LEVELS[self.below(LEVELS.len() as u64) as usize];
        self.buf.push(b' ');
        self.text(level);
        for _ in level.len()..6 {
            self.buf.push(b' ');
        }
        self.text("worker-");
        let w = self.below(8);
        self.num(w);
        self.text(" request id=");
        let id = self.below(100_000);
        self.num(id);
        self.text(" path=");
        let path = PATHS[self.below(PATHS.len() as u64) as usize];
        self.text(path);
        self.buf.push(b'/');
        let item = self.below(10_000);
        self.num(item);
        self.text(" status=");
        let status = [200, 200, 200, 201, 304, 404, 500][self.below(7) as usize];
        self.num(status);
        self.text(" bytes=");
        let bytes = self.below(20_000);
        self.num(bytes);
        self.text(" took=");
        let took = self.below(300);
        self.num(took);
        self.text("ms\n");
    }

    fn prose(&mut self) {
        let n = 6 + self.below(14);
        for i in 0..n {
            let w = self.word();
            if i == 0 {
                let mut cs = w.chars();
                if let Some(c) = cs.next() {
                    self.buf.extend(c.to_uppercase().to_string().bytes());
                    self.buf.extend_from_slice(cs.as_str().as_bytes());
                }
            } else {
                self.buf.push(b' ');
                self.buf.extend_from_slice(w.as_bytes());
            }
        }
        let end: &[u8] = if self.below(5) == 0 { b".\n\n" } else { b". " };
        self.buf.extend_from_slice(end);
    }

    fn csv_row(&mut self) {
        self.counter += 1;
        let id = u64::from(self.counter);
        self.num(id);
        self.buf.push(b',');
        let word = self.word();
        self.text(word);
        self.buf.push(b',');
        let units = self.below(1000);
        self.num(units);
        self.buf.push(b'.');
        let cents = self.below(100);
        self.buf.push(b'0' + (cents / 10) as u8);
        self.buf.push(b'0' + (cents % 10) as u8);
        let flag = if self.below(2) == 0 {
            ",true,"
        } else {
            ",false,"
        };
        self.text(flag);
        let path = PATHS[self.below(PATHS.len() as u64) as usize];
        self.text(path);
        self.buf.push(b'\n');
    }

    fn record(&mut self) {
        self.counter += 1;
        let value = (self.counter as f32 * 0.01).sin() * 100.0;
        self.buf.extend_from_slice(&self.counter.to_le_bytes());
        let kind = (self.below(4) as u16) << 8;
        self.buf.extend_from_slice(&kind.to_le_bytes());
        self.buf.extend_from_slice(&0x0001u16.to_le_bytes());
        self.buf.extend_from_slice(&value.to_le_bytes());
        self.buf.extend_from_slice(b"TLM\0");
    }
}

impl Read for DemoData {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.remaining == 0 || out.is_empty() {
            return Ok(0);
        }
        if self.pos == self.buf.len() {
            self.section();
        }
        let n = out
            .len()
            .min(self.buf.len() - self.pos)
            .min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        self.remaining -= n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_exact_size() {
        let mut a = Vec::new();
        DemoData::new(300_000).read_to_end(&mut a).unwrap();
        let mut b = Vec::new();
        DemoData::new(300_000).read_to_end(&mut b).unwrap();
        assert_eq!(a.len(), 300_000);
        assert_eq!(a, b);
    }
}
