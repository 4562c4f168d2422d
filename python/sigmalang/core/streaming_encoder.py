"""SigmaLang's streaming encoder API on the sigmalang Rust engine.

A drop-in for SigmaLang's ``sigmalang/core/streaming_encoder.py``: the same names,
signatures and defaults (``StreamingEncoder``, ``StreamingDecoder``, ``StreamStats``,
``get_optimal_chunk_size``, ``estimate_memory_usage``, ``get_streaming_vs_full_memory``),
backed by the parallel, bounded-memory engine of the ``sigma`` command. Code written for
SigmaLang keeps working::

    from sigmalang.core.streaming_encoder import StreamingEncoder, StreamingDecoder

    stats = StreamingEncoder().encode_file("big.log", "big.log.sigma", verbose=True)
    print(stats.total_bytes_read, stats.compression_ratio, stats.throughput_mbs())
    StreamingDecoder().decode_file("big.log.sigma", "big.log.copy")

What differs from SigmaLang, on purpose:

* The output is a real ``.sigma`` glyph stream (FORMAT.md in the repository) and
  ``StreamingDecoder.decode_file`` decodes it, bit for bit, verifying every checksum.
* Encoding runs on ``threads`` workers (default: one per core) with the GIL released, so
  other Python threads keep running; ``encode_file_async`` really runs ``num_workers``
  workers.
* Outputs appear under their final name only when complete: a temporary file beside the
  destination is synced and renamed. Ctrl-C stops a long call with ``KeyboardInterrupt``
  and leaves no partial output.
* Errors are :class:`sigmalang.errors.SigmaError` exceptions with the ``sigma`` command's
  messages (a corrupt stream raises :class:`~sigmalang.errors.CorruptStream` naming the
  frame and byte offset).
* Statistics are measured, not estimated: ``peak_memory_mb`` is the process's peak
  resident memory as the OS reports it, and the sizing functions answer from the engine's
  own sizing rules.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional, Union

from .. import _native
from ..errors import InvalidSetting

__all__ = [
    "StreamStats",
    "StreamingEncoder",
    "StreamingDecoder",
    "get_optimal_chunk_size",
    "estimate_memory_usage",
    "get_streaming_vs_full_memory",
    "encode_bytes",
    "decode_bytes",
    "decode_range",
    "verify",
    "inspect",
]

#: A path given as ``str``, ``bytes`` or any ``os.PathLike``.
PathArg = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]

#: ``progress(frames_done, raw_bytes_done, bytes_written)``, called after each frame.
ProgressCallback = Callable[[int, int, int], Any]

MIB = 1024 * 1024
DEFAULT_LEVEL = 3
MIN_CHUNK: int = _native.MIN_CHUNK
MAX_CHUNK: int = _native.MAX_CHUNK


# ----------------------------------------------------------------------------------------
# Statistics
# ----------------------------------------------------------------------------------------


@dataclass
class StreamStats:
    """Figures of one encode or decode (SigmaLang's fields first, then ours).

    SigmaLang's fields, filled from the engine's measurements:

    * ``total_bytes_read``: bytes read (raw bytes when encoding, stream bytes when decoding).
    * ``total_bytes_encoded``: size of the encoded stream.
    * ``total_chunks``: frames (one per chunk of input).
    * ``total_glyphs``: glyphs of the content (primitive + reference + delta + iteration).
    * ``read_time``: always 0.0 here. Reading overlaps encoding (memory-mapped windows read
      by the workers), so its time is inside ``encode_time``.
    * ``encode_time``: seconds of the call not spent writing (reading and encoding, or
      decoding), i.e. ``elapsed - write_time``.
    * ``write_time``: seconds spent writing the output, including the final sync and rename.
    * ``peak_memory_mb``: peak resident memory of this process (VmHWM) in MiB, measured at
      the end of the run. It covers the whole process (Python included) since it started.
    * ``avg_chunk_size``: raw bytes per frame.
    * ``compression_ratio``: raw size / encoded size (1.0 when nothing was encoded).

    Ours: ``raw_size``, ``encoded_size``, ``bytes_written``, ``frames``, ``chunk_size``,
    ``threads``, ``level``, ``elapsed`` (seconds of the whole call) and the glyph counts by
    type (``primitive_glyphs``, ``reference_glyphs``, ``delta_glyphs``,
    ``iteration_glyphs``, ``literal_bytes``, ``copied_bytes``).

    ``input_bytes`` and ``throughput``, the names SigmaLang's documentation used, are
    read-only aliases of ``total_bytes_read`` and ``throughput_mbs()``.
    """

    total_bytes_read: int = 0
    total_bytes_encoded: int = 0
    total_chunks: int = 0
    total_glyphs: int = 0
    read_time: float = 0.0
    encode_time: float = 0.0
    write_time: float = 0.0
    peak_memory_mb: float = 0.0
    avg_chunk_size: int = 0
    compression_ratio: float = 1.0
    # Ours.
    raw_size: int = 0
    encoded_size: int = 0
    bytes_written: int = 0
    frames: int = 0
    chunk_size: int = 0
    threads: int = 0
    level: int = 0
    elapsed: float = 0.0
    primitive_glyphs: int = 0
    reference_glyphs: int = 0
    delta_glyphs: int = 0
    iteration_glyphs: int = 0
    literal_bytes: int = 0
    copied_bytes: int = 0

    def throughput_mbs(self) -> float:
        """MiB read per second of read + encode + write time (0.0 when no time passed)."""
        total = self.read_time + self.encode_time + self.write_time
        if total <= 0:
            return 0.0
        return (self.total_bytes_read / MIB) / total

    @property
    def input_bytes(self) -> int:
        """Alias of ``total_bytes_read`` (the name SigmaLang's documentation used)."""
        return self.total_bytes_read

    @property
    def throughput(self) -> float:
        """Alias of ``throughput_mbs()`` in MiB/s (the name SigmaLang's documentation used)."""
        return self.throughput_mbs()

    @property
    def glyphs(self) -> Dict[str, int]:
        """Glyph counts by type, with their ``total``."""
        return {
            "primitive": self.primitive_glyphs,
            "reference": self.reference_glyphs,
            "delta": self.delta_glyphs,
            "iteration": self.iteration_glyphs,
            "total": self.total_glyphs,
            "literal_bytes": self.literal_bytes,
            "copied_bytes": self.copied_bytes,
        }

    @classmethod
    def _from_native(cls, d: Dict[str, Any], decoding: bool = False) -> "StreamStats":
        g = d["glyphs"]
        raw, encoded, frames = d["raw_size"], d["encoded_size"], d["frames"]
        write_time = d["write_time"] + d["finish_time"]
        elapsed = d["call_time"]
        return cls(
            total_bytes_read=encoded if decoding else raw,
            total_bytes_encoded=encoded,
            total_chunks=frames,
            total_glyphs=g["total"],
            read_time=0.0,
            encode_time=max(elapsed - write_time, 0.0),
            write_time=write_time,
            peak_memory_mb=d["peak_rss"] / MIB,
            avg_chunk_size=raw // frames if frames else 0,
            compression_ratio=raw / encoded if encoded else 1.0,
            raw_size=raw,
            encoded_size=encoded,
            bytes_written=d["bytes_out"],
            frames=frames,
            chunk_size=d["chunk_size"],
            threads=d["threads"],
            level=d["level"],
            elapsed=elapsed,
            primitive_glyphs=g["primitive"],
            reference_glyphs=g["reference"],
            delta_glyphs=g["delta"],
            iteration_glyphs=g["iteration"],
            literal_bytes=g["literal_bytes"],
            copied_bytes=g["copied_bytes"],
        )


# ----------------------------------------------------------------------------------------
# Argument checks
# ----------------------------------------------------------------------------------------


def _path(p: PathArg, what: str) -> str:
    try:
        return os.fsdecode(os.fspath(p))
    except TypeError:
        raise TypeError(f"{what} must be a str or os.PathLike, not {type(p).__name__}") from None


def _int(value: Any, name: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if value < minimum:
        raise InvalidSetting(f"{name} is {value}, should be at least {minimum}")
    return value


def _level(value: Any) -> int:
    level = _int(value, "level", 1)
    if level > 9:
        raise InvalidSetting(f"level is {level}, should be 1-9")
    return level


def _chunk(value: Any) -> int:
    chunk_size = _int(value, "chunk_size", 1)
    if not MIN_CHUNK <= chunk_size <= MAX_CHUNK:
        raise InvalidSetting(
            f"chunk size is {chunk_size}, should be {MIN_CHUNK}..={MAX_CHUNK} bytes"
        )
    return chunk_size


def _memory_limit(memory_limit: Any) -> Optional[int]:
    return None if memory_limit is None else _int(memory_limit, "memory_limit", 1)


# ----------------------------------------------------------------------------------------
# Progress printing (verbose=True)
# ----------------------------------------------------------------------------------------


class _Verbose:
    """Prints a progress line every 100 chunks, as SigmaLang's verbose mode did, and
    forwards every call to the user's own callback."""

    EVERY = 100

    def __init__(self, verbose: bool, callback: Optional[ProgressCallback]):
        self.verbose = verbose
        self.callback = callback

    def __call__(self, frames: int, raw: int, written: int) -> None:
        if self.verbose and frames % self.EVERY == 0:
            ratio = raw / max(1, written)
            print(f"  {raw / MIB:.1f}MB read, ratio: {ratio:.2f}x", flush=True)
        if self.callback is not None:
            self.callback(frames, raw, written)

    @staticmethod
    def wrap(verbose: bool, callback: Optional[ProgressCallback]) -> Optional[ProgressCallback]:
        if callback is not None and not callable(callback):
            raise TypeError("progress must be callable")
        return _Verbose(verbose, callback) if verbose or callback is not None else None


def _print_start(name: str, input_path: str, size: Optional[int], plan: Dict[str, Any]) -> None:
    print(f"[{name}] Encoding {input_path}")
    if size is not None:
        print(f"  File size: {size / MIB:.1f}MB")
    print(f"  Chunk size: {plan['chunk_size'] / 1024:.0f}KB ({plan['threads']} threads)")
    for note in plan["notes"]:
        print(f"  {note}")


def _print_summary(name: str, stats: StreamStats) -> None:
    print(f"\n[{name}] Complete!")
    print(f"  Total time: {stats.elapsed:.1f}s")
    print(f"  Throughput: {stats.throughput_mbs():.1f} MB/s")
    print(f"  Compression: {stats.compression_ratio:.2f}x")
    print(f"  Peak memory: {stats.peak_memory_mb:.1f}MB")


# ----------------------------------------------------------------------------------------
# Encoder
# ----------------------------------------------------------------------------------------


class StreamingEncoder:
    """Encodes files into ``.sigma`` glyph streams with bounded memory on every core.

    ``StreamingEncoder(chunk_size=65536, output_buffer_size=8, use_buffer_pool=True,
    adaptive_chunking=True, *, threads=0, level=3, memory_limit=None)``

    SigmaLang's arguments:

    * ``chunk_size``: bytes per frame, used when ``adaptive_chunking`` is false
      (4 KiB to 64 MiB).
    * ``adaptive_chunking``: when true (the default) the chunk size follows the engine's
      rule from the input size (an input of up to 4 MiB is one frame, a larger one is cut
      into equal frames of at most 4 MiB; see :func:`get_optimal_chunk_size`) and
      ``chunk_size`` is not used.
    * ``output_buffer_size`` and ``use_buffer_pool`` are accepted and kept as attributes
      but change nothing: the engine always works from a fixed pool of ``2 x threads``
      frame buffers (its bounded queue and buffer pool in one), sized by ``threads``.

    Ours (keyword only):

    * ``threads``: worker threads, 0 (default) for one per core.
    * ``level``: 1 (fastest) to 9 (strongest), default 3.
    * ``memory_limit``: memory budget in bytes; ``None`` is half the available memory.
      A budget lowers the threads, then the chunk size, to fit.
    """

    def __init__(
        self,
        chunk_size: int = 65536,
        output_buffer_size: int = 8,
        use_buffer_pool: bool = True,
        adaptive_chunking: bool = True,
        *,
        threads: int = 0,
        level: int = DEFAULT_LEVEL,
        memory_limit: Optional[int] = None,
    ) -> None:
        self.chunk_size = _int(chunk_size, "chunk_size", 1)
        self.output_buffer_size = _int(output_buffer_size, "output_buffer_size", 1)
        self.use_buffer_pool = bool(use_buffer_pool)
        self.adaptive_chunking = bool(adaptive_chunking)
        self.threads = _int(threads, "threads", 0)
        self.level = _level(level)
        self.memory_limit = _memory_limit(memory_limit)
        if not self.adaptive_chunking:
            _chunk(self.chunk_size)
        self._engines: Dict[int, _native.Encoder] = {}
        self._engine = self._engine_for(self.threads)
        self.stats = StreamStats()

    def _engine_for(self, threads: int) -> _native.Encoder:
        engine = self._engines.get(threads)
        if engine is None:
            engine = _native.Encoder(
                level=self.level,
                chunk_size=None if self.adaptive_chunking else self.chunk_size,
                threads=threads,
                memory_limit=self.memory_limit,
            )
            self._engines[threads] = engine
        return engine

    def plan(self, file_size: Optional[int] = None) -> Dict[str, Any]:
        """The settings an input of ``file_size`` bytes gets: ``chunk_size``, ``threads``,
        ``slots`` (frames in flight), ``estimate`` (peak memory, bytes) and ``notes``."""
        size = None if file_size is None else _int(file_size, "file_size")
        return self._engine.plan(size)

    def _encode(
        self,
        engine: _native.Encoder,
        input_path: PathArg,
        output_path: PathArg,
        verbose: bool,
        overwrite: bool,
        progress: Optional[ProgressCallback],
    ) -> StreamStats:
        src = _path(input_path, "input_path")
        dst = _path(output_path, "output_path")
        callback = _Verbose.wrap(verbose, progress)
        if verbose:
            try:
                size: Optional[int] = os.stat(src).st_size
            except OSError:
                size = None  # the engine reports the error in its own words
            _print_start("StreamingEncoder", src, size, engine.plan(size))
        self.stats = StreamStats._from_native(
            engine.encode_file(src, dst, overwrite=overwrite, progress=callback)
        )
        if verbose:
            _print_summary("StreamingEncoder", self.stats)
        return self.stats

    def encode_file(
        self,
        input_path: PathArg,
        output_path: PathArg,
        verbose: bool = False,
        *,
        overwrite: bool = True,
        progress: Optional[ProgressCallback] = None,
    ) -> StreamStats:
        """Encodes the file ``input_path`` into ``output_path``; returns its statistics
        (also kept for :meth:`get_stats`).

        ``verbose`` prints the file and chunk size, a line every 100 chunks (MB read and
        ratio so far) and a summary. ``overwrite=False`` refuses an existing output.
        ``progress(frames_done, raw_bytes_done, bytes_written)`` is called after each
        frame; an exception it raises stops the encode and is re-raised.

        The GIL is released while the engine runs. The output is written to a temporary
        file beside ``output_path`` and renamed when complete and synced, so an error or
        Ctrl-C (``KeyboardInterrupt``) leaves no partial output.

        Raises :class:`~sigmalang.errors.SigmaIOError` (also an ``OSError``) when the input
        cannot be read or the output written, :class:`~sigmalang.errors.InputChanged` when
        the input changes while it is read.
        """
        return self._encode(self._engine, input_path, output_path, verbose, overwrite, progress)

    def encode_file_async(
        self, input_path: PathArg, output_path: PathArg, num_workers: int = 2
    ) -> StreamStats:
        """Like :meth:`encode_file` (quietly) with ``num_workers`` worker threads. It
        returns when the output is complete, as SigmaLang's did; the workers really run in
        parallel, and other Python threads run meanwhile (the GIL is released)."""
        engine = self._engine_for(_int(num_workers, "num_workers", 1))
        return self._encode(engine, input_path, output_path, False, True, None)

    def encode_bytes(self, data: Union[bytes, bytearray, memoryview]) -> bytes:
        """Encodes ``data`` in memory into a complete ``.sigma`` stream (chunk size from
        ``len(data)`` when adaptive). Statistics go to :meth:`get_stats`."""
        stream, d = self._engine.encode_bytes(bytes(data) if isinstance(data, memoryview) else data)
        self.stats = StreamStats._from_native(d)
        return stream

    def get_stats(self) -> StreamStats:
        """Statistics of the last encode (a fresh ``StreamStats()`` before any or after
        :meth:`reset`)."""
        return self.stats

    def reset(self) -> None:
        """Clears the statistics. The engine keeps no other state between files (every
        stream is independent), so nothing else needs resetting."""
        self.stats = StreamStats()


# ----------------------------------------------------------------------------------------
# Decoder
# ----------------------------------------------------------------------------------------


class StreamingDecoder:
    """Decodes ``.sigma`` streams back to the original bytes, verifying every checksum.

    ``StreamingDecoder(chunk_size=65536, *, threads=0)``: ``chunk_size`` is accepted for
    SigmaLang compatibility and kept as an attribute; the stream header fixes the frame
    size, so it changes nothing. ``threads`` is the number of workers (0: one per core).
    """

    def __init__(self, chunk_size: int = 65536, *, threads: int = 0) -> None:
        self.chunk_size = _int(chunk_size, "chunk_size", 1)
        self.threads = _int(threads, "threads", 0)
        self._engine = _native.Decoder(threads=self.threads)
        self.stats = StreamStats()

    def decode_file(
        self,
        input_path: PathArg,
        output_path: PathArg,
        sigma_encoder: Any = None,
        *,
        overwrite: bool = True,
        verbose: bool = False,
        progress: Optional[ProgressCallback] = None,
    ) -> StreamStats:
        """Decodes the stream file ``input_path`` into ``output_path``; returns its
        statistics (``total_bytes_read`` is the stream size, ``bytes_written`` the content
        size).

        ``sigma_encoder`` is accepted for SigmaLang compatibility and not used: a stream
        carries everything needed to decode it. The output appears only once decoded and
        verified completely (temporary file, renamed). Raises
        :class:`~sigmalang.errors.CorruptStream` (or a subclass) on damaged input.
        """
        del sigma_encoder
        src = _path(input_path, "input_path")
        dst = _path(output_path, "output_path")
        callback = _Verbose.wrap(verbose, progress)
        if verbose:
            print(f"[StreamingDecoder] Decoding {src}")
        self.stats = StreamStats._from_native(
            self._engine.decode_file(src, dst, overwrite=overwrite, progress=callback),
            decoding=True,
        )
        if verbose:
            _print_summary("StreamingDecoder", self.stats)
        return self.stats

    def decode_range(self, input_path: PathArg, start: int, end: int) -> bytes:
        """Bytes ``[start, end)`` of the original content, decoding only the frames that
        cover them (found through the stream's index)."""
        return decode_range(input_path, start, end)

    def decode_bytes(self, data: Union[bytes, bytearray, memoryview]) -> bytes:
        """Decodes a whole stream held in memory."""
        content, d = self._engine.decode_bytes(
            bytes(data) if isinstance(data, memoryview) else data
        )
        self.stats = StreamStats._from_native(d, decoding=True)
        return content

    def verify(self, input_path: PathArg) -> StreamStats:
        """Decodes ``input_path`` without writing anything, checking every frame, the
        index and the content checksum; raises on the first problem."""
        self.stats = StreamStats._from_native(
            self._engine.verify(_path(input_path, "input_path")), decoding=True
        )
        return self.stats

    def get_stats(self) -> StreamStats:
        """Statistics of the last decode."""
        return self.stats

    def reset(self) -> None:
        """Clears the statistics."""
        self.stats = StreamStats()


# ----------------------------------------------------------------------------------------
# Functions
# ----------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def _encoder(
    level: int, chunk_size: Optional[int], threads: int, memory_limit: Optional[int]
) -> _native.Encoder:
    return _native.Encoder(
        level=level, chunk_size=chunk_size, threads=threads, memory_limit=memory_limit
    )


@functools.lru_cache(maxsize=4)
def _decoder(threads: int) -> _native.Decoder:
    return _native.Decoder(threads=threads)


def get_optimal_chunk_size(file_size: int) -> int:
    """The engine's frame size for a file of ``file_size`` bytes: the whole file up to
    4 MiB (at least 4 KiB), else equal frames of at most 4 MiB. (SigmaLang's own rule,
    64 KiB frames below 10 MB and so on, cost small and mid-size files 5-14% of ratio.)"""
    return _native.auto_chunk_size(_int(file_size, "file_size"))


def estimate_memory_usage(
    file_size: int,
    chunk_size: int,
    *,
    threads: int = 0,
    level: int = DEFAULT_LEVEL,
    memory_limit: Optional[int] = None,
) -> Dict[str, int]:
    """The engine's own peak-memory estimate (bytes) for encoding ``file_size`` bytes in
    ``chunk_size`` chunks, in SigmaLang's four terms, which add up to the estimate:

    * ``chunk_buffer``: one input chunk per frame in flight (``2 x threads``);
    * ``encoder_state``: the match-finder tables of every worker at ``level``;
    * ``output_buffer``: the encoded frames in flight (``2 x threads``, half a chunk each);
    * ``overhead``: the process before any frame work.

    ``threads`` 0 means one per core; a ``memory_limit`` (default: half the available
    memory) may lower threads and chunk size first, as it would for a real encode.
    """
    d = _native.memory_estimate(
        level=_level(level),
        chunk_size=_chunk(chunk_size),
        threads=_int(threads, "threads"),
        memory_limit=_memory_limit(memory_limit),
        size=_int(file_size, "file_size"),
    )
    return {k: d[k] for k in ("chunk_buffer", "encoder_state", "output_buffer", "overhead")}


def get_streaming_vs_full_memory(
    file_size: int,
    *,
    threads: int = 0,
    level: int = DEFAULT_LEVEL,
    memory_limit: Optional[int] = None,
) -> Dict[str, float]:
    """Peak memory of streaming ``file_size`` bytes (automatic chunk size) against loading
    it whole (input + worst-case output + one set of tables), in MiB, from the engine's
    estimates: ``streaming_mb``, ``full_load_mb`` and ``reduction_ratio``
    (full / streaming)."""
    size = _int(file_size, "file_size")
    level = _level(level)
    streaming = _native.memory_estimate(
        level=level,
        chunk_size=None,
        threads=_int(threads, "threads"),
        memory_limit=_memory_limit(memory_limit),
        size=size,
    )["estimate"]
    full = _native.full_load_estimate(size, level)
    return {
        "streaming_mb": streaming / MIB,
        "full_load_mb": full / MIB,
        "reduction_ratio": full / streaming if streaming else float("inf"),
    }


def encode_bytes(
    data: Union[bytes, bytearray, memoryview],
    *,
    level: int = DEFAULT_LEVEL,
    chunk_size: Optional[int] = None,
    threads: int = 0,
    memory_limit: Optional[int] = None,
) -> bytes:
    """Encodes ``data`` into a complete ``.sigma`` stream in memory (``chunk_size``
    ``None``: the automatic rule). Releases the GIL."""
    engine = _encoder(
        _level(level),
        None if chunk_size is None else _chunk(chunk_size),
        _int(threads, "threads"),
        _memory_limit(memory_limit),
    )
    stream, _ = engine.encode_bytes(bytes(data) if isinstance(data, memoryview) else data)
    return stream


def decode_bytes(data: Union[bytes, bytearray, memoryview], *, threads: int = 0) -> bytes:
    """Decodes a complete ``.sigma`` stream held in memory. Releases the GIL."""
    content, _ = _decoder(_int(threads, "threads")).decode_bytes(
        bytes(data) if isinstance(data, memoryview) else data
    )
    return content


def decode_range(input_path: PathArg, start: int, end: int) -> bytes:
    """Bytes ``[start, end)`` of the content of the stream file ``input_path``, decoding
    only the frames that cover them. Raises
    :class:`~sigmalang.errors.InvalidSetting` for a range outside the content."""
    start = _int(start, "start")
    end = _int(end, "end")
    return _native.decode_range(_path(input_path, "input_path"), start, end)


def verify(input_path: PathArg, *, threads: int = 0) -> StreamStats:
    """Checks every frame, the index and the content checksum of the stream file
    ``input_path`` without writing anything; returns its statistics or raises."""
    d = _decoder(_int(threads, "threads")).verify(_path(input_path, "input_path"))
    return StreamStats._from_native(d, decoding=True)


def inspect(input_path: PathArg, frames: bool = False) -> Dict[str, Any]:
    """What the stream file's header, index and trailer say, without decoding frames:
    ``version``, ``level``, ``chunk_size``, ``raw_size``, ``encoded_size``, ``ratio``,
    ``frames``, ``frame_raw_min``, ``frame_raw_max``, ``content_crc32c``, ``glyphs`` (by
    type) and ``file``, the same fields as ``sigma inspect --json``; ``frames=True`` adds
    ``frame_list`` (``offset``, ``encoded_len``, ``raw_size``, ``glyphs`` per frame)."""
    return _native.inspect(_path(input_path, "input_path"), bool(frames))

