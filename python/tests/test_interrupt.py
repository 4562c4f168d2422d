"""Ctrl-C (SIGINT) stops a long encode promptly with KeyboardInterrupt, leaving no output
under the final name, no temporary file, and an existing output untouched."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest
from conftest import MIB, leftovers, log_text

# Encodes argv[1] into argv[2] on the main thread (where Python handles signals), slowly
# (level 9, one worker), saying when it starts and whether it finished.
SCRIPT = r"""
import sys, time
from sigmalang import StreamingEncoder
enc = StreamingEncoder(level=9, threads=1)
print("ready", flush=True)
started = time.perf_counter()
try:
    enc.encode_file(sys.argv[1], sys.argv[2])
except KeyboardInterrupt:
    print(f"interrupted after {time.perf_counter() - started:.3f}", flush=True)
    raise
print("finished", flush=True)
"""


@pytest.fixture(scope="module")
def big_input(tmp_path_factory):
    p = tmp_path_factory.mktemp("sigint") / "big.txt"
    p.write_bytes(log_text(48 * MIB, seed=31))
    return p


@pytest.mark.parametrize("existing", [False, True])
def test_sigint_stops_encode_cleanly(tmp_path, big_input, existing):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    dst = out_dir / "big.txt.sigma"
    if existing:
        dst.write_bytes(b"the previous output")
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(big_input), str(dst)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout.readline().strip() == "ready"
        # Wait until the encode is writing its temporary output, then press Ctrl-C.
        deadline = time.monotonic() + 20
        while not leftovers(out_dir):
            assert proc.poll() is None, proc.stderr.read()
            assert time.monotonic() < deadline, "the encode never started writing"
            time.sleep(0.01)
        time.sleep(0.3)
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=30)
        stopped_in = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "KeyboardInterrupt" in stderr, stderr
    assert "interrupted after" in stdout and "finished" not in stdout, stdout
    assert proc.returncode != 0
    # Signals are seen between frames (up to 4 MiB each), so stopping takes at most a
    # few frames' time; a loaded machine makes that slow, not wrong.
    assert stopped_in < 20, f"took {stopped_in:.1f} s to stop"
    assert leftovers(out_dir) == []
    if existing:
        assert dst.read_bytes() == b"the previous output"
    else:
        assert not dst.exists()
