"""sigmalang: SigmaLang's streaming encoder API on the sigmalang Rust engine.

Encode files of any size into ``.sigma`` glyph streams and back, bit for bit, on every
core with small fixed memory::

    from sigmalang import StreamingEncoder, StreamingDecoder

    stats = StreamingEncoder().encode_file("data.bin", "data.bin.sigma")
    print(stats.total_bytes_read, stats.compression_ratio, stats.peak_memory_mb)
    StreamingDecoder().decode_file("data.bin.sigma", "data.bin.out")

The same names are importable from ``sigmalang.core.streaming_encoder``, the module path
SigmaLang's users import today. Errors are :class:`SigmaError` exceptions (see
:mod:`sigmalang.errors`).
"""

from . import errors
from ._native import __version__ as _engine_version
from .core.streaming_encoder import (
    StreamingDecoder,
    StreamingEncoder,
    StreamStats,
    decode_bytes,
    decode_range,
    encode_bytes,
    estimate_memory_usage,
    get_optimal_chunk_size,
    get_streaming_vs_full_memory,
    inspect,
    verify,
)
from .errors import (
    ChecksumMismatch,
    CorruptStream,
    InputChanged,
    InvalidSetting,
    NotSigmaStream,
    SigmaError,
    SigmaIOError,
    TruncatedStream,
    UnsupportedVersion,
)

__version__ = _engine_version

__all__ = [
    "StreamingEncoder",
    "StreamingDecoder",
    "StreamStats",
    "get_optimal_chunk_size",
    "estimate_memory_usage",
    "get_streaming_vs_full_memory",
    "encode_bytes",
    "decode_bytes",
    "decode_range",
    "verify",
    "inspect",
    "errors",
    "SigmaError",
    "SigmaIOError",
    "InvalidSetting",
    "InputChanged",
    "UnsupportedVersion",
    "CorruptStream",
    "NotSigmaStream",
    "TruncatedStream",
    "ChecksumMismatch",
    "__version__",
]
