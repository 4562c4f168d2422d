"""Errors are SigmaError exceptions carrying the sigma command's messages, and a failed
call never leaves an output (or a temporary file) behind."""

from __future__ import annotations

import errno
import re
import subprocess

import pytest
from conftest import KIB, leftovers, log_text

import sigmalang
from sigmalang import (
    ChecksumMismatch,
    CorruptStream,
    InvalidSetting,
    NotSigmaStream,
    SigmaError,
    SigmaIOError,
    StreamingDecoder,
    StreamingEncoder,
    TruncatedStream,
)


@pytest.fixture
def stream(tmp_path):
    """A valid stream of 200 KiB of text in 64 KiB frames, and its content."""
    data = log_text(200 * KIB, seed=3)
    src = tmp_path / "data.txt"
    src.write_bytes(data)
    StreamingEncoder(chunk_size=64 * KIB, adaptive_chunking=False).encode_file(
        src, tmp_path / "data.sigma"
    )
    return tmp_path / "data.sigma", data


def damaged(tmp_path, stream_path, edit) -> str:
    raw = bytearray(stream_path.read_bytes())
    edit(raw)
    p = tmp_path / "damaged.sigma"
    p.write_bytes(bytes(raw))
    return str(p)


def frame_offset(stream_path, n: int) -> int:
    return sigmalang.inspect(stream_path, frames=True)["frame_list"][n]["offset"]


def test_flipped_byte_in_a_frame_is_a_checksum_mismatch(tmp_path, stream):
    path, _ = stream
    at = frame_offset(path, 1) + 40

    def flip(raw):
        raw[at] ^= 0x10

    bad = damaged(tmp_path, path, flip)
    with pytest.raises(CorruptStream) as info:
        StreamingDecoder().decode_file(bad, tmp_path / "out.txt")
    e = info.value
    assert isinstance(e, SigmaError) and isinstance(e, ValueError)
    assert e.frame == 1
    assert e.offset == frame_offset(path, 1)
    assert re.fullmatch(
        rf"frame 1 at byte {e.offset}: .*(checksum mismatch: stored [0-9a-f]{{8}}, computed [0-9a-f]{{8}}|corrupt stream: .+)",
        str(e),
    ), str(e)
    # Nothing is written under the final name, and no temporary file is left.
    assert not (tmp_path / "out.txt").exists()
    assert leftovers(tmp_path) == []
    with pytest.raises(CorruptStream):
        sigmalang.verify(bad)


def test_checksum_mismatch_carries_both_values(tmp_path, stream):
    path, _ = stream
    at = frame_offset(path, 2) + 60  # inside the body of frame 2

    def flip(raw):
        raw[at] ^= 0x01

    bad = damaged(tmp_path, path, flip)
    try:
        sigmalang.verify(bad)
    except ChecksumMismatch as e:
        assert e.frame == 2 and e.expected != e.found
        assert f"stored {e.expected:08x}, computed {e.found:08x}" in str(e)
    except CorruptStream as e:  # a flip may also break the structure before the checksum
        assert e.frame == 2, str(e)
    else:
        pytest.fail("a flipped body byte was not detected")


def test_truncated_stream(tmp_path, stream):
    path, _ = stream

    def cut(raw):
        del raw[len(raw) // 2 :]

    bad = damaged(tmp_path, path, cut)
    with pytest.raises(TruncatedStream) as info:
        StreamingDecoder().decode_file(bad, tmp_path / "out.txt")
    assert str(info.value).startswith("truncated stream: ")
    assert isinstance(info.value, CorruptStream)
    assert not (tmp_path / "out.txt").exists()
    with pytest.raises(TruncatedStream):
        sigmalang.decode_bytes((path.read_bytes())[:-3])


def test_not_a_stream(tmp_path):
    p = tmp_path / "plain.txt"
    p.write_bytes(b"just some text, not a stream")
    with pytest.raises(NotSigmaStream) as info:
        StreamingDecoder().decode_file(p, tmp_path / "out")
    assert str(info.value) == (
        "not a .sigma stream (starts with 6a 75, should start with ff 7e)"
    )
    assert info.value.found == b"ju"
    with pytest.raises(CorruptStream):
        sigmalang.inspect(p)


def test_missing_input_is_an_os_error(tmp_path):
    with pytest.raises(SigmaIOError) as info:
        StreamingEncoder().encode_file(tmp_path / "nope", tmp_path / "nope.sigma")
    e = info.value
    assert isinstance(e, OSError) and e.errno == errno.ENOENT
    assert str(e) == "opening input: No such file or directory (os error 2)"
    assert e.action == "opening input"
    assert not (tmp_path / "nope.sigma").exists()
    assert leftovers(tmp_path) == []


def test_invalid_settings(tmp_path):
    with pytest.raises(InvalidSetting, match=r"chunk size is 100, should be 4096\.\.=67108864"):
        StreamingEncoder(chunk_size=100, adaptive_chunking=False)
    with pytest.raises(ValueError, match="level is 10, should be 1-9"):
        StreamingEncoder(level=10)
    with pytest.raises(TypeError):
        StreamingEncoder(threads="two")
    with pytest.raises(InvalidSetting, match="memory limit 1000 bytes is too small"):
        StreamingEncoder(memory_limit=1000).plan(10 * KIB)


def test_range_outside_the_content(stream):
    path, data = stream
    assert sigmalang.decode_range(path, 10, 10) == b""
    with pytest.raises(InvalidSetting) as info:
        sigmalang.decode_range(path, 0, len(data) + 1)
    assert str(info.value) == f"range 0:{len(data) + 1} is outside the content (0:{len(data)})"
    with pytest.raises(InvalidSetting) as info:
        sigmalang.decode_range(path, 10, 5)
    assert str(info.value) == "range 10:5 ends before it starts"


def test_output_may_not_be_the_input(tmp_path):
    p = tmp_path / "same.txt"
    p.write_bytes(b"abc" * 100)
    with pytest.raises(InvalidSetting, match="are the same file"):
        StreamingEncoder().encode_file(p, p)
    assert p.read_bytes() == b"abc" * 100


def test_overwrite_false_keeps_an_existing_output(tmp_path):
    src = tmp_path / "a.txt"
    src.write_bytes(b"x" * 1000)
    dst = tmp_path / "a.sigma"
    dst.write_bytes(b"precious")
    with pytest.raises(InvalidSetting, match="already exists"):
        StreamingEncoder().encode_file(src, dst, overwrite=False)
    assert dst.read_bytes() == b"precious"
    StreamingEncoder().encode_file(src, dst)  # SigmaLang's default: replace it
    assert dst.read_bytes() != b"precious"


def test_failed_decode_keeps_the_previous_output(tmp_path, stream):
    path, _ = stream
    dst = tmp_path / "out.txt"
    dst.write_bytes(b"previous")

    def cut(raw):
        del raw[-5:]

    with pytest.raises(TruncatedStream):
        StreamingDecoder().decode_file(damaged(tmp_path, path, cut), dst)
    assert dst.read_bytes() == b"previous"
    assert leftovers(tmp_path) == []


def test_progress_callback_error_stops_the_encode(tmp_path):
    src = tmp_path / "big.txt"
    src.write_bytes(log_text(600 * KIB))
    seen = []

    def progress(frames, raw, written):
        seen.append(frames)
        if frames == 3:
            raise RuntimeError("stop here")

    enc = StreamingEncoder(chunk_size=16 * KIB, adaptive_chunking=False)
    with pytest.raises(RuntimeError, match="stop here"):
        enc.encode_file(src, tmp_path / "big.sigma", progress=progress)
    assert seen == [1, 2, 3]
    assert not (tmp_path / "big.sigma").exists()
    assert leftovers(tmp_path) == []


def test_messages_are_the_cli_messages(tmp_path, stream, sigma_cli):
    """The exception text is exactly what `sigma` prints after `sigma: FILE: `."""
    path, _ = stream
    at = frame_offset(path, 1) + 40

    def flip(raw):
        raw[at] ^= 0x10

    cases = [damaged(tmp_path, path, flip)]
    cut_path = tmp_path / "cut.sigma"
    cut_path.write_bytes(path.read_bytes()[:-7])
    cases.append(str(cut_path))
    plain = tmp_path / "plain.sigma"
    plain.write_bytes(b"hello world")
    cases.append(str(plain))
    for case in cases:
        cli = subprocess.run(
            [sigma_cli, "decode", "-c", "-f", case],
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
        )
        assert cli.returncode == 1
        with pytest.raises(SigmaError) as info:
            sigmalang.verify(case)
        assert cli.stderr.strip() == f"sigma: {case}: {info.value}"
