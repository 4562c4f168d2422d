"""Our additions: bytes in memory, random access by range, verify, inspect, and agreement
with the sigma command byte for byte."""

from __future__ import annotations

import random
import subprocess

import pytest
from conftest import KIB, frame_bounds, log_text, random_bytes

import sigmalang
from sigmalang import StreamingDecoder, StreamingEncoder


@pytest.fixture(scope="module")
def stream(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("range")
    data = log_text(300 * KIB, seed=11) + random_bytes(50 * KIB) + bytes(30 * KIB)
    src = tmp / "data.bin"
    src.write_bytes(data)
    StreamingEncoder(chunk_size=32 * KIB, adaptive_chunking=False).encode_file(
        src, tmp / "data.bin.sigma"
    )
    return tmp / "data.bin.sigma", data


def test_bytes_roundtrip():
    for data in (b"", b"a", log_text(200 * KIB), random_bytes(70 * KIB)):
        stream = sigmalang.encode_bytes(data)
        assert stream[:2] == b"\xff\x7e"
        assert sigmalang.decode_bytes(stream) == data
    data = bytearray(log_text(50 * KIB))
    assert sigmalang.decode_bytes(memoryview(sigmalang.encode_bytes(memoryview(data)))) == data
    enc = StreamingEncoder(level=1)
    stream = enc.encode_bytes(bytes(data))
    assert enc.get_stats().total_bytes_read == len(data)
    dec = StreamingDecoder()
    assert dec.decode_bytes(stream) == data
    assert dec.get_stats().bytes_written == len(data)


def test_file_and_bytes_give_the_same_stream(tmp_path):
    data = log_text(400 * KIB, seed=5)
    src = tmp_path / "x.txt"
    src.write_bytes(data)
    StreamingEncoder(level=6).encode_file(src, tmp_path / "x.sigma")
    assert sigmalang.encode_bytes(data, level=6) == (tmp_path / "x.sigma").read_bytes()


def test_decode_range_matches_slices(stream):
    path, data = stream
    rng = random.Random(4)
    frame = 32 * KIB
    cases = [(0, len(data)), (0, 1), (len(data) - 1, len(data)), (frame - 3, frame + 3)]
    cases += [(frame * k, frame * k + frame) for k in range(3)]
    for _ in range(25):
        a = rng.randrange(len(data))
        cases.append((a, min(len(data), a + rng.randrange(1, 100 * KIB))))
    dec = StreamingDecoder()
    for a, b in cases:
        assert sigmalang.decode_range(path, a, b) == data[a:b], (a, b)
    assert dec.decode_range(str(path), 100, 200) == data[100:200]


def test_inspect_and_verify(stream):
    path, data = stream
    info = sigmalang.inspect(path, frames=True)
    assert info["raw_size"] == len(data)
    assert info["chunk_size"] == 32 * KIB and info["level"] == 3 and info["version"] == 5
    assert info["group"] == 2
    low, high = frame_bounds(len(data), 32 * KIB)
    assert info["frames"] == len(info["frame_list"]) and low <= info["frames"] <= high
    assert sum(f["raw_size"] for f in info["frame_list"]) == len(data)
    assert info["frame_raw_max"] == 32 * KIB
    assert info["encoded_size"] == path.stat().st_size
    assert len(info["content_crc32c"]) == 8
    assert "frame_list" not in sigmalang.inspect(path)
    assert info["compact"] is False
    small = path.parent / "small.sigma"
    small.write_bytes(sigmalang.encode_bytes(b"a small input, one glyph"))
    tiny = sigmalang.inspect(small, frames=True)
    assert tiny["compact"] is True and tiny["frames"] == 1 and tiny["raw_size"] == 24
    assert tiny["metadata"] is None
    assert tiny["frame_list"][0]["encoded_len"] == small.stat().st_size
    stats = sigmalang.verify(path)
    assert stats.raw_size == len(data)
    assert stats.frames == info["frames"]


def test_same_bytes_as_the_cli(tmp_path, sigma_cli):
    data = log_text(700 * KIB, seed=9)
    src = tmp_path / "c.txt"
    src.write_bytes(data)
    for level in (1, 3, 9):
        cli_out = subprocess.run(
            [sigma_cli, "encode", "-c", "-L", str(level), str(src)],
            capture_output=True,
            check=True,
            stdin=subprocess.DEVNULL,
        ).stdout
        ours = tmp_path / f"c{level}.sigma"
        StreamingEncoder(level=level).encode_file(src, ours)
        assert ours.read_bytes() == cli_out, f"level {level}"
    # And each side decodes the other's streams.
    back = subprocess.run(
        [sigma_cli, "decode", "-c", str(tmp_path / "c9.sigma")],
        capture_output=True,
        check=True,
        stdin=subprocess.DEVNULL,
    ).stdout
    assert back == data
