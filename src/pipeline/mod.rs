//! The streaming encoder: source, boundary pre-scan, buffer pool, workers, ordered writer.

pub mod prescan;
