"""Turn a layer blob (gzip, zstd or plain tar) into a bounded stream of uncompressed tar bytes.

The compression is recognised by magic bytes, not by media type: registries see layers pushed
with wrong or generic media types. Every byte handed on is counted against
`Limits.max_total_bytes`, so a decompression bomb stops with `LayerRejected` after a bounded
amount of work, whatever it claims.
"""

from __future__ import annotations

import gzip
from typing import IO, Protocol, cast

import zstandard

from portside.analysis.model import LayerRejected

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
#: zstd frames may ask for a window up to this size (zstd's own default decoder limit, 128 MiB);
#: larger windows are refused instead of allocated.
ZSTD_MAX_WINDOW = 1 << 27


class BinaryReader(Protocol):
    """The part of a binary file object the analysis uses."""

    def read(self, size: int = -1, /) -> bytes: ...


class _Prefixed:
    """A reader that first returns `prefix` (bytes already peeked), then the rest of `inner`."""

    def __init__(self, prefix: bytes, inner: BinaryReader) -> None:
        self._prefix = prefix
        self._inner = inner

    def read(self, size: int = -1, /) -> bytes:
        if not self._prefix:
            return self._inner.read(size)
        if size < 0:
            data, self._prefix = self._prefix + self._inner.read(), b""
            return data
        data, self._prefix = self._prefix[:size], self._prefix[size:]
        if len(data) < size:
            data += self._inner.read(size - len(data))
        return data


class CountingReader:
    """Passes reads through and raises `LayerRejected` once more than `limit` bytes went by,
    or more than a temporary `ceiling` (see `set_ceiling`)."""

    def __init__(self, inner: BinaryReader, limit: int) -> None:
        self._inner = inner
        self._limit = limit
        self._ceiling: int | None = None
        self.count = 0

    def set_ceiling(self, extra: int | None) -> None:
        """Allow at most `extra` more bytes until called again (None: no ceiling)."""
        self._ceiling = None if extra is None else self.count + extra

    def read(self, size: int = -1, /) -> bytes:
        bound = self._limit if self._ceiling is None else min(self._limit, self._ceiling)
        # Never ask for more than one byte past the bound: a single huge read must not
        # materialise a bomb before we get to count it.
        allowed = bound - self.count + 1
        data = self._inner.read(allowed if size < 0 else min(size, allowed))
        self.count += len(data)
        if self.count > self._limit:
            raise LayerRejected(f"more than {self._limit} bytes uncompressed")
        if self._ceiling is not None and self.count > self._ceiling:
            raise LayerRejected("tar headers of one member too large")
        return data


def _peek(fileobj: BinaryReader, size: int) -> bytes:
    """Read up to `size` bytes, looping because a stream may return short reads."""
    parts: list[bytes] = []
    remaining = size
    while remaining > 0:
        part = fileobj.read(remaining)
        if not part:
            break
        parts.append(part)
        remaining -= len(part)
    return b"".join(parts)


def open_uncompressed(fileobj: BinaryReader, limit: int) -> CountingReader:
    """A reader of the uncompressed tar inside `fileobj`, bounded to `limit` bytes."""
    magic = _peek(fileobj, len(ZSTD_MAGIC))
    # The stubs of GzipFile and zstandard ask for IO[bytes]; reading forward, both only call read().
    raw = cast(IO[bytes], _Prefixed(magic, fileobj))
    stream: BinaryReader
    if magic.startswith(GZIP_MAGIC):
        stream = gzip.GzipFile(fileobj=raw, mode="rb")
    elif magic.startswith(ZSTD_MAGIC):
        decompressor = zstandard.ZstdDecompressor(max_window_size=ZSTD_MAX_WINDOW)
        stream = decompressor.stream_reader(raw, read_across_frames=True)
    else:
        stream = raw
    return CountingReader(stream, limit)


def as_io(reader: CountingReader) -> IO[bytes]:
    """`reader` typed as the IO[bytes] tarfile's stubs ask for; tarfile's stream mode only reads."""
    return cast(IO[bytes], reader)
