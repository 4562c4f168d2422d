"""Type stubs of ``sigmalang._native``, the Rust engine under the ``sigmalang`` package.

Results are plain dictionaries; the pure-Python package turns them into ``StreamStats``.
A stats dictionary has: ``bytes_in``, ``bytes_out``, ``raw_size``, ``encoded_size``,
``frames``, ``glyphs`` (``primitive``, ``reference``, ``delta``, ``iteration``, ``total``,
``literal_bytes``, ``copied_bytes``), ``chunk_size``, ``threads``, ``level``, ``elapsed``
(the engine's run, seconds), ``peak_rss`` (bytes), ``write_time``, ``finish_time``
(permissions, sync, rename) and ``call_time`` (the whole call), all in seconds.
"""

from os import PathLike
from typing import Any, Callable, Dict, Optional, Tuple, Union

_Path = Union[str, PathLike[str]]
_Progress = Callable[[int, int, int], Any]
_Bytes = Union[bytes, bytearray]

__version__: str
MIN_CHUNK: int
MAX_CHUNK: int

class Encoder:
    """A streaming encoder with its own worker pool, kept between calls."""

    def __init__(
        self,
        level: int = 3,
        chunk_size: Optional[int] = None,
        threads: int = 0,
        memory_limit: Optional[int] = None,
    ) -> None: ...
    @property
    def level(self) -> int: ...
    @property
    def threads(self) -> int: ...
    def plan(self, size: Optional[int] = None) -> Dict[str, Any]:
        """``chunk_size``, ``threads``, ``slots``, ``estimate`` (bytes), ``notes``."""
    def encode_file(
        self,
        input: _Path,
        output: _Path,
        overwrite: bool = True,
        progress: Optional[_Progress] = None,
    ) -> Dict[str, Any]: ...
    def encode_bytes(
        self, data: _Bytes, progress: Optional[_Progress] = None
    ) -> Tuple[bytes, Dict[str, Any]]: ...

class Decoder:
    """A streaming decoder with its own worker pool, kept between calls."""

    def __init__(self, threads: int = 0) -> None: ...
    @property
    def threads(self) -> int: ...
    def decode_file(
        self,
        input: _Path,
        output: _Path,
        overwrite: bool = True,
        progress: Optional[_Progress] = None,
    ) -> Dict[str, Any]: ...
    def decode_bytes(
        self, data: _Bytes, progress: Optional[_Progress] = None
    ) -> Tuple[bytes, Dict[str, Any]]: ...
    def verify(self, path: _Path) -> Dict[str, Any]: ...

def decode_range(path: _Path, start: int, end: int) -> bytes: ...
def inspect(path: _Path, frames: bool = False) -> Dict[str, Any]: ...
def auto_chunk_size(size: Optional[int] = None, level: int = 3) -> int: ...
def memory_estimate(
    level: int = 3,
    chunk_size: Optional[int] = None,
    threads: int = 0,
    memory_limit: Optional[int] = None,
    size: Optional[int] = None,
) -> Dict[str, Any]:
    """``chunk_buffer``, ``encoder_state``, ``output_buffer``, ``overhead`` (adding up to
    ``estimate``), ``chunk_size``, ``threads``, ``slots``, ``notes``."""
def full_load_estimate(size: int, level: int = 3) -> int: ...
def peak_rss() -> Optional[int]: ...

