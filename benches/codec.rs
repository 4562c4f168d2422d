//! Codec and in-memory pipeline throughput per level, on deterministic in-memory samples
//! (`cargo bench`). Real-corpus, side-by-side figures come from `tools/bench`.
//!
//! `frame_decode` times the frame-body decoder alone (no container, checksums, threads
//! or I/O) on level-3 bodies of independent 4 MiB frames: of the first 16 MiB of
//! `SIGMA_BENCH_FILE` when that is set, else of the generated sample
//! (`SIGMA_BENCH_FILE=big.tar cargo bench --bench codec -- frame_decode`).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use sigmalang::codec::{decode_body_into, encode_body, DecodeScratch, EncodeScratch, DECODE_SLACK};
use sigmalang::demo::DemoData;
use sigmalang::memory;
use sigmalang::pipeline::{ChunkSize, Encoder, EncoderConfig, ReadMode};
use sigmalang::Level;
use std::io::Read;

fn sample() -> Vec<u8> {
    let mut data = Vec::new();
    DemoData::new(8 << 20)
        .read_to_end(&mut data)
        .expect("generated data");
    data
}

fn codec(c: &mut Criterion) {
    let data = sample();
    let mut group = c.benchmark_group("codec");
    group.throughput(Throughput::Bytes(data.len() as u64));
    group.sample_size(10);
    for level in [1u8, 3, 6, 9] {
        let level = Level::new(level).expect("valid level");
        group.bench_with_input(BenchmarkId::new("encode", level.get()), &data, |b, d| {
            b.iter(|| memory::encode(d, level, 1 << 20).expect("encode"))
        });
        let stream = memory::encode(&data, level, 1 << 20).expect("encode");
        group.bench_with_input(BenchmarkId::new("decode", level.get()), &stream, |b, s| {
            b.iter(|| memory::decode(s).expect("decode"))
        });
    }
    group.finish();
}

fn frame_decode(c: &mut Criterion) {
    const FRAME: usize = 4 << 20;
    let data = match std::env::var_os("SIGMA_BENCH_FILE") {
        Some(path) => {
            let mut data = Vec::new();
            std::fs::File::open(&path)
                .and_then(|f| f.take(16 << 20).read_to_end(&mut data))
                .expect("SIGMA_BENCH_FILE readable");
            data
        }
        None => sample(),
    };
    let mut scratch = EncodeScratch::default();
    let bodies: Vec<(Vec<u8>, usize)> = data
        .chunks(FRAME)
        .map(|frame| {
            let mut body = Vec::new();
            encode_body(frame, 0, Level::DEFAULT, &mut scratch, &mut body);
            (body, frame.len())
        })
        .collect();
    let mut group = c.benchmark_group("frame_decode");
    group.throughput(Throughput::Bytes(data.len() as u64));
    group.sample_size(20);
    let mut decoder = DecodeScratch::default();
    let mut out = vec![0u8; FRAME + DECODE_SLACK];
    group.bench_function("level_3", |b| {
        b.iter(|| {
            for (body, raw) in &bodies {
                decode_body_into(body, 0, *raw, &mut decoder, &mut out).expect("decode");
            }
        })
    });
    group.finish();
}

fn pipeline(c: &mut Criterion) {
    let data = sample();
    let mut group = c.benchmark_group("pipeline");
    group.throughput(Throughput::Bytes(data.len() as u64));
    group.sample_size(10);
    for threads in [1usize, 2] {
        let enc = Encoder::new(EncoderConfig {
            level: Level::DEFAULT,
            chunk_size: ChunkSize::Fixed(1 << 20),
            threads,
            read_mode: ReadMode::Read,
            memory_limit: Some(1 << 30),
            ..EncoderConfig::default()
        })
        .expect("encoder");
        group.bench_with_input(BenchmarkId::new("encode_reader", threads), &data, |b, d| {
            b.iter(|| {
                let mut out = Vec::with_capacity(d.len() / 2);
                enc.encode_reader(&d[..], Some(d.len() as u64), &mut out, &|_| {})
                    .expect("encode");
                out
            })
        });
    }
    group.finish();
}

criterion_group!(benches, codec, frame_decode, pipeline);
criterion_main!(benches);
