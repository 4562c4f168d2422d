"""StreamStats is filled from the engine's real figures: sizes, frames and glyphs agree with
the stream itself, times add up, and peak memory is measured, not computed."""

from __future__ import annotations

import dataclasses
import os

import pytest
from conftest import KIB, MIB, frame_bounds, log_text

import sigmalang
from sigmalang import StreamingDecoder, StreamingEncoder, StreamStats, get_optimal_chunk_size
from sigmalang.core.streaming_encoder import estimate_memory_usage, get_streaming_vs_full_memory


def proc_status_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise LookupError(field)


def test_sigmalang_fields_come_first_with_their_defaults():
    names = [f.name for f in dataclasses.fields(StreamStats)]
    assert names[:10] == [
        "total_bytes_read",
        "total_bytes_encoded",
        "total_chunks",
        "total_glyphs",
        "read_time",
        "encode_time",
        "write_time",
        "peak_memory_mb",
        "avg_chunk_size",
        "compression_ratio",
    ]
    s = StreamStats()
    assert (s.read_time, s.encode_time, s.write_time, s.peak_memory_mb) == (0.0,) * 4
    assert (s.avg_chunk_size, s.compression_ratio, s.total_glyphs) == (0, 1.0, 0)


def test_encode_stats_agree_with_the_stream(tmp_path):
    size = 1 * MIB + 12345
    src = tmp_path / "in.txt"
    src.write_bytes(log_text(size))
    out = tmp_path / "in.txt.sigma"
    s = StreamingEncoder(chunk_size=128 * KIB, adaptive_chunking=False, threads=2, level=4).encode_file(
        src, out
    )
    info = sigmalang.inspect(out)
    assert s.total_bytes_read == s.raw_size == s.input_bytes == size
    assert s.total_bytes_encoded == s.encoded_size == s.bytes_written == os.path.getsize(out)
    low, high = frame_bounds(size, 128 * KIB)
    assert s.total_chunks == s.frames == info["frames"] and low <= s.frames <= high
    assert (s.chunk_size, s.threads, s.level) == (128 * KIB, 2, 4)
    assert s.avg_chunk_size == size // s.total_chunks
    assert s.compression_ratio == pytest.approx(size / os.path.getsize(out))
    assert s.compression_ratio > 1.5
    g = s.glyphs
    assert g == {k: info["glyphs"][k] for k in g}
    assert s.total_glyphs == g["primitive"] + g["reference"] + g["delta"] + g["iteration"]
    assert s.total_glyphs > 1000 and g["reference"] > 0 and g["delta"] > 0
    assert g["literal_bytes"] + g["copied_bytes"] == size
    # Times: measured, non-negative, and they add up to the whole call.
    assert s.read_time == 0.0
    assert s.encode_time > 0 and s.write_time > 0
    assert s.read_time + s.encode_time + s.write_time == pytest.approx(s.elapsed)
    assert s.throughput_mbs() == pytest.approx(size / MIB / s.elapsed)
    assert s.throughput == s.throughput_mbs()


def test_decode_stats(tmp_path):
    data = log_text(500 * KIB)
    src = tmp_path / "a.txt"
    src.write_bytes(data)
    enc = StreamingEncoder().encode_file(src, tmp_path / "a.sigma")
    dec = StreamingDecoder().decode_file(tmp_path / "a.sigma", tmp_path / "a.out")
    assert dec.total_bytes_read == enc.total_bytes_encoded == dec.encoded_size
    assert dec.bytes_written == dec.raw_size == len(data)
    assert dec.total_chunks == enc.total_chunks
    assert dec.total_glyphs == enc.total_glyphs
    assert dec.compression_ratio == pytest.approx(enc.compression_ratio)
    v = sigmalang.verify(tmp_path / "a.sigma")
    assert (v.raw_size, v.frames, v.bytes_written) == (len(data), enc.frames, len(data))


def test_peak_memory_is_the_measured_process_peak(tmp_path):
    src = tmp_path / "m.txt"
    src.write_bytes(log_text(300 * KIB))
    before = proc_status_kib("VmRSS") * KIB
    s = StreamingEncoder().encode_file(src, tmp_path / "m.sigma")
    after_peak = proc_status_kib("VmHWM") * KIB
    peak = s.peak_memory_mb * MIB
    assert before <= peak <= after_peak
    # Touch 160 MiB, free it, and encode again: the measured peak must show it.
    block = bytearray(160 * MIB)
    for i in range(0, len(block), 4096):
        block[i] = 1
    del block
    s = StreamingEncoder().encode_file(src, tmp_path / "m.sigma")
    assert s.peak_memory_mb >= 160


def test_memory_estimates_come_from_the_engine():
    from sigmalang import _native

    parts = estimate_memory_usage(1024 * MIB, MIB, threads=2, memory_limit=1 << 40)
    d = _native.memory_estimate(level=3, chunk_size=MIB, threads=2, memory_limit=1 << 40, size=1024 * MIB)
    assert sum(parts.values()) == d["estimate"]
    # Per frame in flight (2 x threads): its chunk and the chunk before it (frames linked
    # in groups of two).
    assert parts["chunk_buffer"] == 8 * MIB
    assert parts["output_buffer"] == 4 * MIB // 2  # 2 x threads frames at half a chunk
    four = estimate_memory_usage(1024 * MIB, MIB, threads=4, memory_limit=1 << 40)
    assert four["chunk_buffer"] == 16 * MIB and four["encoder_state"] == 2 * parts["encoder_state"]
    # Stronger levels keep larger match-finder tables.
    nine = estimate_memory_usage(1024 * MIB, MIB, threads=2, level=9, memory_limit=1 << 40)
    assert nine["encoder_state"] > parts["encoder_state"]
    # A budget lowers threads first, as it would for a real encode.
    tight = estimate_memory_usage(1024 * MIB, MIB, threads=4, memory_limit=sum(parts.values()) + 4 * MIB)
    assert tight["chunk_buffer"] < four["chunk_buffer"]
    cmp = get_streaming_vs_full_memory(1024 * MIB, threads=2, memory_limit=1 << 40)
    auto = _native.memory_estimate(threads=2, memory_limit=1 << 40, size=1024 * MIB)
    assert auto["chunk_size"] == 4 * MIB
    assert cmp["streaming_mb"] == auto["estimate"] / MIB
    assert cmp["full_load_mb"] == _native.full_load_estimate(1024 * MIB, 3) / MIB
    assert cmp["reduction_ratio"] == pytest.approx(cmp["full_load_mb"] / cmp["streaming_mb"])
    # A small input is also coded with level 9's parse: the terms still add up.
    small = _native.memory_estimate(threads=2, memory_limit=1 << 40, size=64 * 1024)
    terms = ("chunk_buffer", "encoder_state", "output_buffer", "overhead")
    assert sum(small[k] for k in terms) == small["estimate"]


def test_plan_reports_what_encode_uses(tmp_path):
    enc = StreamingEncoder(threads=3)
    plan = enc.plan(50 * MIB)
    assert (plan["chunk_size"], plan["threads"], plan["slots"]) == (
        get_optimal_chunk_size(50 * MIB),
        3,
        6,
    )
    src = tmp_path / "p.txt"
    src.write_bytes(log_text(20 * KIB))
    s = enc.encode_file(src, tmp_path / "p.sigma")
    assert (s.chunk_size, s.threads) == (enc.plan(20 * KIB)["chunk_size"], 3)
