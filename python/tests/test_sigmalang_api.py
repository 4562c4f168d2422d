"""SigmaLang's API used exactly as SigmaLang's users and tests use it, now with real
encoding: round trips bit for bit through StreamingDecoder."""

from __future__ import annotations

import os
import pathlib
import re

import pytest
from conftest import KIB, MIB, frame_bounds, leftovers, log_text, random_bytes

import sigmalang
from sigmalang.core.streaming_encoder import (
    StreamingDecoder,
    StreamingEncoder,
    StreamStats,
    estimate_memory_usage,
    get_optimal_chunk_size,
    get_streaming_vs_full_memory,
)


def roundtrip(tmp_path, data: bytes, encoder: StreamingEncoder | None = None) -> StreamStats:
    src = tmp_path / "input.bin"
    src.write_bytes(data)
    enc, dec = str(tmp_path / "input.bin.sigma"), str(tmp_path / "output.bin")
    stats = (encoder or StreamingEncoder()).encode_file(str(src), enc)
    StreamingDecoder().decode_file(enc, dec)
    assert pathlib.Path(dec).read_bytes() == data
    return stats


def test_both_import_paths_are_the_same_objects():
    import sigmalang.core.streaming_encoder as se

    assert sigmalang.StreamingEncoder is se.StreamingEncoder
    assert sigmalang.StreamingDecoder is se.StreamingDecoder
    assert sigmalang.StreamStats is se.StreamStats


def test_defaults_match_sigmalang():
    e = StreamingEncoder()
    assert (e.chunk_size, e.output_buffer_size, e.use_buffer_pool, e.adaptive_chunking) == (
        65536,
        8,
        True,
        True,
    )
    assert StreamingDecoder().chunk_size == 65536
    assert e.get_stats() == StreamStats()


def test_encode_small_file_as_sigmalang_did(tmp_path):
    # SigmaLang's own test: 5 MB of "A", chunk_size=256 KiB, verbose=False.
    input_file = os.path.join(tmp_path, "input_5mb.bin")
    output_file = os.path.join(tmp_path, "output_5mb.bin")
    test_data = b"A" * (5 * 1024 * 1024)
    with open(input_file, "wb") as f:
        f.write(test_data)
    encoder = StreamingEncoder(chunk_size=256 * 1024)
    stats = encoder.encode_file(input_file, output_file, verbose=False)
    assert stats.total_bytes_read == len(test_data)
    assert stats.total_bytes_encoded > 0
    assert stats.compression_ratio > 100  # a run of one byte: ITERATION glyphs
    assert stats.encode_time > 0
    assert os.path.getsize(output_file) == stats.total_bytes_encoded
    out = os.path.join(tmp_path, "back.bin")
    StreamingDecoder().decode_file(output_file, out)
    with open(out, "rb") as f:
        assert f.read() == test_data


def test_chunk_size_is_used_without_adaptive_chunking(tmp_path):
    data = log_text(300 * KIB)
    stats = roundtrip(
        tmp_path, data, StreamingEncoder(chunk_size=16 * KIB, adaptive_chunking=False)
    )
    assert stats.chunk_size == 16 * KIB
    low, high = frame_bounds(len(data), 16 * KIB)
    assert low <= stats.total_chunks <= high
    # Adaptive (the default) follows the engine's size rule instead: an input of up to
    # 4 MiB is one frame.
    stats = roundtrip(tmp_path, data, StreamingEncoder(chunk_size=16 * KIB))
    assert stats.chunk_size == get_optimal_chunk_size(len(data)) == len(data)
    assert stats.total_chunks == 1


@pytest.mark.parametrize(
    "name,data",
    [
        ("empty", b""),
        ("one_byte", b"X"),
        ("text", log_text(700 * KIB)),
        ("random", random_bytes(300 * KIB)),
        ("zeros", bytes(200 * KIB)),
        ("mixed", log_text(100 * KIB) + random_bytes(100 * KIB) + bytes(50 * KIB)),
    ],
)
def test_roundtrip_bit_for_bit(tmp_path, name, data):
    stats = roundtrip(tmp_path, data)
    assert stats.total_bytes_read == len(data)


def test_roundtrip_on_every_level_and_thread_count(tmp_path):
    data = log_text(400 * KIB, seed=7)
    for level in range(1, 10):
        outputs = set()
        for threads in (1, 3):
            enc = StreamingEncoder(
                chunk_size=64 * KIB, adaptive_chunking=False, level=level, threads=threads
            )
            stats = roundtrip(tmp_path, data, enc)
            assert (stats.level, stats.threads) == (level, threads)
            outputs.add((tmp_path / "input.bin.sigma").read_bytes())
        # The output never depends on the thread count.
        assert len(outputs) == 1, f"level {level}"


def test_paths_may_be_pathlike(tmp_path):
    src = tmp_path / "in.txt"
    src.write_bytes(log_text(50 * KIB))
    StreamingEncoder().encode_file(src, tmp_path / "in.txt.sigma")
    StreamingDecoder().decode_file(tmp_path / "in.txt.sigma", tmp_path / "back.txt")
    assert (tmp_path / "back.txt").read_bytes() == src.read_bytes()


def test_encode_file_async_is_parallel_and_equal(tmp_path):
    data = log_text(1 * MIB)
    src = tmp_path / "in.txt"
    src.write_bytes(data)
    enc = StreamingEncoder()
    a = enc.encode_file(str(src), str(tmp_path / "a.sigma"))
    b = enc.encode_file_async(str(src), str(tmp_path / "b.sigma"), num_workers=3)
    assert b.threads == 3
    assert (tmp_path / "a.sigma").read_bytes() == (tmp_path / "b.sigma").read_bytes()
    assert enc.get_stats() is b
    assert a.total_bytes_encoded == b.total_bytes_encoded


def test_get_stats_and_reset(tmp_path, make_file):
    src = make_file("a.txt", log_text(30 * KIB))
    enc = StreamingEncoder()
    stats = enc.encode_file(str(src), str(tmp_path / "a.sigma"))
    assert enc.get_stats() is stats
    assert enc.get_stats().total_bytes_read == 30 * KIB
    enc.reset()
    assert enc.get_stats() == StreamStats()
    # A second file after reset gets its own figures, not a running total.
    src2 = make_file("b.txt", log_text(10 * KIB))
    assert enc.encode_file(str(src2), str(tmp_path / "b.sigma")).total_bytes_read == 10 * KIB


def test_verbose_prints_like_sigmalang(tmp_path, make_file, capsys):
    # 4 KiB chunks over 450 KiB: 113 chunks, so one progress line at chunk 100.
    src = make_file("v.txt", log_text(450 * KIB))
    enc = StreamingEncoder(chunk_size=4 * KIB, adaptive_chunking=False)
    stats = enc.encode_file(str(src), str(tmp_path / "v.sigma"), verbose=True)
    out = capsys.readouterr().out
    assert f"Encoding {src}" in out
    assert "File size: 0.4MB" in out
    assert "Chunk size: 4KB" in out
    progress = re.findall(r"^  (\d+\.\d)MB read, ratio: (\d+\.\d\d)x$", out, re.M)
    assert len(progress) == 1
    assert float(progress[0][0]) == pytest.approx(100 * 4 * KIB / MIB, abs=0.05)
    assert float(progress[0][1]) > 1.5
    assert "Complete!" in out
    assert f"Compression: {stats.compression_ratio:.2f}x" in out
    assert re.search(r"Throughput: \d+\.\d MB/s", out)


def test_sigmalang_sizing_functions():
    # The engine's rule: one frame up to 4 MiB, else ceil(size / 4 MiB) equal frames,
    # their count rounded down to whole groups of two while frames stay within 6 MiB.
    assert get_optimal_chunk_size(3 * MIB) == 3 * MIB
    assert get_optimal_chunk_size(5 * MIB) == 5 * MIB // 2
    assert get_optimal_chunk_size(9 * MIB) == 9 * MIB // 2
    assert get_optimal_chunk_size(50 * MIB) == -(-50 * MIB // 12)
    assert get_optimal_chunk_size(2 * 1024 * MIB) == 4 * MIB
    breakdown = estimate_memory_usage(1024 * MIB, MIB)
    assert set(breakdown) == {"chunk_buffer", "encoder_state", "output_buffer", "overhead"}
    assert all(isinstance(v, int) and v > 0 for v in breakdown.values())
    comparison = get_streaming_vs_full_memory(1024 * MIB)
    assert set(comparison) == {"streaming_mb", "full_load_mb", "reduction_ratio"}
    assert comparison["reduction_ratio"] > 10
    assert comparison["full_load_mb"] > 2 * 1024  # input + worst-case output


def test_stream_stats_as_sigmalang_tests_use_it():
    stats = StreamStats()
    assert (stats.total_bytes_read, stats.total_bytes_encoded, stats.total_chunks) == (0, 0, 0)
    assert stats.compression_ratio == 1.0
    assert stats.throughput_mbs() == 0.0
    stats.total_bytes_read = 1024 * 1024
    stats.encode_time = 1.0
    assert stats.throughput_mbs() == 1.0
    assert stats.throughput == 1.0 and stats.input_bytes == 1024 * 1024
    stats.total_bytes_encoded = 100000
    stats.total_bytes_read = 1000000
    assert stats.total_bytes_read / stats.total_bytes_encoded == 10.0


def test_decoder_accepts_sigma_encoder_argument(tmp_path, make_file):
    src = make_file("s.txt", b"hello " * 1000)
    StreamingEncoder().encode_file(str(src), str(tmp_path / "s.sigma"))
    stats = StreamingDecoder().decode_file(
        str(tmp_path / "s.sigma"), str(tmp_path / "s.out"), sigma_encoder=None
    )
    assert stats.bytes_written == 6000
    assert (tmp_path / "s.out").read_bytes() == src.read_bytes()
    assert leftovers(tmp_path) == []
