"""Shared helpers: deterministic inputs and the `sigma` command for cross-checks."""

from __future__ import annotations

import os
import random
import shutil
import string
from pathlib import Path

import pytest

KIB = 1024
MIB = 1024 * 1024

REPO_ROOT = Path(__file__).resolve().parents[2]


def log_text(size: int, seed: int = 1) -> bytes:
    """`size` bytes of log-like text: compressible, but not trivially (varied words and
    numbers), so the match finder and entropy coder really work."""
    rng = random.Random(seed)
    words = [
        "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(2, 9)))
        for _ in range(3000)
    ]
    levels = ["INFO", "WARN", "ERROR", "DEBUG"]
    base = []
    n = 0
    while n < min(size, 2 * MIB):
        line = (
            f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T"
            f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d} "
            f"{rng.choice(levels)} pid={rng.randint(100, 99999)} "
            + " ".join(rng.choices(words, k=rng.randint(4, 14)))
            + "\n"
        )
        base.append(line)
        n += len(line)
    block = "".join(base).encode()
    if len(block) >= size:
        return block[:size]
    # Larger inputs: the base block again from varying offsets (frames are independent,
    # so this is as hard for the encoder as fresh text of the same kind).
    out = bytearray()
    while len(out) < size:
        start = rng.randrange(len(block) // 2)
        out += block[start:]
    return bytes(out[:size])


def random_bytes(size: int, seed: int = 2) -> bytes:
    return random.Random(seed).randbytes(size)


@pytest.fixture
def make_file(tmp_path: Path):
    """make_file(name, data) -> path of a new file under tmp_path."""

    def make(name: str, data: bytes) -> Path:
        p = tmp_path / name
        p.write_bytes(data)
        return p

    return make


@pytest.fixture(scope="session")
def sigma_cli() -> str:
    """The `sigma` command built from this repository (SIGMA_CLI, or target/release/sigma,
    or target/debug/sigma), for checks that the package and the CLI agree."""
    candidates = [
        os.environ.get("SIGMA_CLI"),
        str(REPO_ROOT / "target" / "release" / "sigma"),
        str(REPO_ROOT / "target" / "debug" / "sigma"),
        shutil.which("sigma"),
    ]
    for c in candidates:
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    pytest.skip("the sigma command is not built (cargo build --release at the repository root)")


def frame_bounds(size: int, chunk: int) -> tuple[int, int]:
    """Fewest and most frames `size` bytes can make in `chunk`-byte frames: text frames
    end at a line or word boundary within the last 1/16 of the chunk."""
    return -(-size // chunk), -(-size // (chunk - chunk // 16))


def leftovers(directory: Path) -> list[str]:
    """Temporary outputs left in `directory` (there should never be any)."""
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".partial"))
