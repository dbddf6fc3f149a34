"""A file the format readers read a slice at a time: an upload kept in JavaScript.

`pngmask` and `imagesize` use only `len(data)` and `data[a:b]`, so they take `bytes` or a
`FileBytes`. Over an upload, a 4 MB PNG is then checked by reading it in blocks of `BLOCK`
bytes, and Pyodide's heap never holds the whole file (docs/performance.md, "Uploads").
"""

from __future__ import annotations

from typing import Protocol

BLOCK = 256 * 1024  # bytes copied into Python per read


class Reader(Protocol):
    """Random access to a file held elsewhere (`exchange.Upload` is one)."""

    size: int

    def read(self, start: int, stop: int) -> bytes:
        """Bytes `start:stop` of the file, copied into Python."""
        ...


class FileBytes:
    """`len()` and `[a:b]` of a `Reader`, as bytes have them; slices are served from the block
    last read, so walking a file's small headers costs one read per block, not one per slice."""

    __slots__ = ("_at", "_block", "reader")

    def __init__(self, reader: Reader) -> None:
        self.reader = reader
        self._at = 0
        self._block = b""

    def __len__(self) -> int:
        return self.reader.size

    def __getitem__(self, index: slice) -> bytes:
        if not isinstance(index, slice) or index.step not in (None, 1):
            raise TypeError("FileBytes takes [start:stop] slices only")
        start, stop, _ = index.indices(self.reader.size)
        if stop <= start:
            return b""
        if stop - start > BLOCK:
            return self.reader.read(start, stop)
        if not (self._at <= start and stop <= self._at + len(self._block)):
            self._at = start
            self._block = self.reader.read(start, min(start + BLOCK, self.reader.size))
        return self._block[start - self._at : stop - self._at]


Data = bytes | FileBytes  # what the format readers take
