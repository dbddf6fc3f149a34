"""`formats.filebytes.FileBytes`: the format readers answer the same over an upload read a block
at a time as over its bytes, and hold no more than a block of it unless they must."""

from __future__ import annotations

import io
import random

import pytest
from PIL import Image

from bench.uploads import noise_png
from formats import filebytes, imagesize, pngmask
from formats.filebytes import FileBytes
from tests.unit.test_pngmask import RGBA_ROWS, make_png, pil_bytes, pixels


class Reader:
    """A file in memory that logs each read."""

    def __init__(self, data: bytes) -> None:
        self.data, self.size = data, len(data)
        self.reads: list[tuple[int, int]] = []

    def read(self, start: int, stop: int) -> bytes:
        self.reads.append((start, stop))
        return self.data[start:stop]


def _image(mode: str, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    Image.new(mode, (33, 17)).save(out, fmt, **options)
    return out.getvalue()


def _corrupt(png: bytes, at: int) -> bytes:
    damaged = bytearray(png)
    damaged[at] ^= 1
    return bytes(damaged)


SMALL = make_png(pixels(4, [0, 9, 255], 1), 8, 6)
CORPUS = (
    [
        SMALL,
        make_png(pixels(1, [0, 44, 255], 3), 8, 0, trns=(44).to_bytes(2, "big")),
        make_png(RGBA_ROWS, 8, 6, interlace=1),
        pil_bytes(Image.new("RGB", (40, 30), "white")),
        pil_bytes(Image.new("P", (40, 30)), transparency=0),
        _corrupt(SMALL, len(SMALL) - 20),  # a bad CRC in the image data
        _image("RGB", "JPEG"),
        _image("RGB", "JPEG", progressive=True),
        _image("RGBA", "WEBP", quality=80),
        b"",
        b"GIF89a",
    ]
    + [SMALL[:cut] for cut in range(0, len(SMALL), 3)]
)


def _outcome(read, data):
    try:
        return read(data)
    except pngmask.PngError as exc:
        return ("PngError", str(exc))


@pytest.fixture
def tiny_blocks(monkeypatch):
    """Blocks of 7 bytes: every header and chunk straddles one."""
    monkeypatch.setattr(filebytes, "BLOCK", 7)
    monkeypatch.setattr(pngmask, "BLOCK", 7)


READERS = (
    pngmask.transparent_pixels,
    pngmask.sd_mask,
    pngmask.read_header,
    imagesize.dimensions,
    imagesize.sniff,
)


@pytest.mark.usefixtures("tiny_blocks")
@pytest.mark.parametrize("read", READERS, ids=lambda f: f.__name__)
def test_the_same_answers_and_errors_as_over_bytes(read):
    for data in CORPUS:
        assert _outcome(read, FileBytes(Reader(data))) == _outcome(read, data), data[:40]


@pytest.mark.usefixtures("tiny_blocks")
def test_slices_are_those_of_bytes():
    data = bytes(range(50))
    view = FileBytes(Reader(data))
    rng = random.Random(3)
    for _ in range(500):
        start, stop = rng.randrange(-60, 60), rng.randrange(-60, 60)
        assert view[start:stop] == data[start:stop], (start, stop)
    assert view[:] == data and len(view) == 50
    for index in (3, slice(0, 9, 2)):
        with pytest.raises(TypeError):
            view[index]


def test_a_png_without_transparency_is_checked_a_block_at_a_time():
    data = noise_png(1024 * 1024)  # RGB: no pixel can be transparent
    reader = Reader(data)
    assert pngmask.sd_mask(FileBytes(reader)) is None
    assert max(stop - start for start, stop in reader.reads) <= filebytes.BLOCK
    assert sum(stop - start for start, stop in reader.reads) < 2 * len(data)
