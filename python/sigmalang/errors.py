"""Exceptions raised by sigmalang.

Every error of the engine is a :class:`SigmaError`; ``str(error)`` is the message the
``sigma`` command prints after the file name (for example
``frame 0 at byte 23: frame data checksum mismatch: stored 1c2d3e4f, computed 0a1b2c3d``).
The engine also sets the error's details as attributes (``offset``, ``frame``, ...).

Hierarchy::

    SigmaError
    ├── SigmaIOError        (also OSError: errno, strerror, action)
    ├── InvalidSetting      (also ValueError: detail)
    ├── InputChanged        (the input file changed while it was encoded: detail)
    ├── UnsupportedVersion  (also ValueError: found, supported)
    └── CorruptStream       (also ValueError: frame, offset, detail)
        ├── NotSigmaStream  (found: the first bytes)
        ├── TruncatedStream (offset, detail)
        └── ChecksumMismatch (what, frame, offset, expected, found)
"""

from __future__ import annotations

__all__ = [
    "SigmaError",
    "SigmaIOError",
    "InvalidSetting",
    "InputChanged",
    "UnsupportedVersion",
    "CorruptStream",
    "NotSigmaStream",
    "TruncatedStream",
    "ChecksumMismatch",
]


class SigmaError(Exception):
    """Base class of every sigmalang error."""

    @property
    def message(self) -> str:
        """The message, as the ``sigma`` command prints it."""
        return str(self)


class SigmaIOError(SigmaError, OSError):
    """An operating-system I/O error while doing ``action`` (e.g. ``"opening input"``);
    ``errno`` holds the OS error number when there is one."""

    action: str = ""

    def __str__(self) -> str:
        # OSError's own __str__ would prefer "[Errno n] strerror" once errno is set.
        return str(self.args[0]) if self.args else ""


class InvalidSetting(SigmaError, ValueError):
    """A setting or argument is out of range (``detail`` says which and why)."""

    detail: str = ""


class InputChanged(SigmaError):
    """The input file changed while it was being encoded; the output was not kept."""

    detail: str = ""


class UnsupportedVersion(SigmaError, ValueError):
    """The stream was written by a newer or unknown format version."""

    found: int = 0
    supported: int = 0


class CorruptStream(SigmaError, ValueError):
    """The stream is malformed; ``offset`` is the byte offset in the stream and ``frame``
    the frame number (or ``None`` outside frames)."""

    frame: int | None = None
    offset: int = 0
    detail: str = ""


class NotSigmaStream(CorruptStream):
    """The data does not start with a ``.sigma`` stream header (``found``: its first
    bytes)."""

    found: bytes = b""


class TruncatedStream(CorruptStream):
    """The stream ends before it is complete."""


class ChecksumMismatch(CorruptStream):
    """A checksum does not match its data (``what`` it covers, ``expected`` as stored,
    ``found`` as computed)."""

    what: str = ""
    expected: int = 0
    found: int = 0
