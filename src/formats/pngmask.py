"""OpenAI-style PNG masks → Stable Diffusion masks, with the standard library only.

OpenAI marks the area to edit with the fully transparent pixels (alpha 0) of a PNG mask, or of
the image itself when no mask is sent; SD 1.5 inpainting repaints where its mask is white. This
module finds a PNG's fully transparent pixels (alpha channel, or `tRNS` for grayscale, RGB and
palette images) and writes them as the grayscale PNG SD expects.

Speed: PNG filters predict each byte from the byte one pixel to the left, the one above and the
one above-left — always the same byte of another pixel. So each byte position of a pixel (a
"lane": R, G, B, A, or the high/low byte of a 16-bit sample) unfilters on its own, and only the
lanes that carry transparency are unfiltered: for RGBA that is a quarter of the bytes.

Memory: the data is `bytes` or a `filebytes.FileBytes` (an upload kept in JavaScript), read only
through `len()` and slices. Chunks are checked a block at a time, and the image data is joined
into one piece only when the PNG can have transparent pixels (an alpha channel or `tRNS`).
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from itertools import accumulate

from formats.filebytes import BLOCK, Data

SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_SIDE = 2048  # the SD models' largest side
MAX_PIXELS = MAX_SIDE * MAX_SIDE  # bounds the memory and CPU one request can take

CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # colour type → samples per pixel
DEPTHS = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}

WHITE, BLACK = 255, 0


class PngError(ValueError):
    """The data is not a PNG this module can read; the message says why, for a 400."""


@dataclass(frozen=True)
class Header:
    """The IHDR fields that matter here."""

    width: int
    height: int
    bit_depth: int
    colour_type: int
    interlaced: bool


@dataclass(frozen=True)
class _Png:
    header: Header
    trns: bytes | None
    idat: list[slice]  # where the IDAT chunks' bodies are, in order


def read_header(data: Data) -> Header:
    """The PNG's IHDR (PngError if `data` is not a PNG or the header is invalid)."""
    head = data[:33]
    if len(head) < 33 or head[:8] != SIGNATURE or head[8:16] != b"\x00\x00\x00\x0dIHDR":
        raise PngError("not a PNG file")
    width, height, depth, colour, compression, filtering, interlace = struct.unpack(
        ">IIBBBBB", head[16:29]
    )
    if not width or not height or depth not in DEPTHS.get(colour, ()):
        raise PngError("invalid PNG header")
    if compression or filtering or interlace not in (0, 1):
        raise PngError("invalid PNG header")
    return Header(width, height, depth, colour, interlace == 1)


def _crc(data: Data, start: int, stop: int) -> int:
    """CRC-32 of `data[start:stop]`, read a block at a time."""
    crc = 0
    for at in range(start, stop, BLOCK):
        crc = zlib.crc32(data[at : min(at + BLOCK, stop)], crc)
    return crc


def _parse(data: Data) -> _Png:
    """The header, `tRNS` and where the image data is; every chunk's CRC checked."""
    header = read_header(data)
    trns = None
    idat: list[slice] = []
    pos = len(SIGNATURE)
    size = len(data)
    while True:
        if pos + 12 > size:
            raise PngError("truncated PNG (no IEND chunk)")
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        end = pos + 12 + length
        if end > size:
            raise PngError(f"truncated PNG ({kind.decode('latin-1')} chunk)")
        if _crc(data, pos + 4, end - 4) != struct.unpack(">I", data[end - 4 : end])[0]:
            raise PngError(f"corrupt PNG (bad CRC in its {kind.decode('latin-1')} chunk)")
        if kind == b"IDAT":
            idat.append(slice(pos + 8, end - 4))
        elif kind == b"tRNS":
            trns = data[pos + 8 : end - 4]
        elif kind == b"IEND":
            break
        pos = end
    if not idat:
        raise PngError("PNG without image data")
    return _Png(header, trns, idat)


def _inflate(idat: bytes, size: int) -> bytes:
    """The filtered scanlines, refusing more than `size` bytes (no decompression bombs)."""
    inflater = zlib.decompressobj()
    try:
        raw = inflater.decompress(idat, size + 1)
    except zlib.error:
        raise PngError("corrupt PNG (bad compressed data)") from None
    if len(raw) != size:
        raise PngError("corrupt PNG (image data does not match its size)")
    return raw


def _add_bytes(x: bytes, y: bytes) -> bytes:
    """Bytewise (x + y) % 256 as one big-integer sum whose carries never cross a byte: add the
    low 7 bits of each byte, then set each top bit by XOR (C speed, no per-byte Python loop)."""
    n = len(x)
    low = int.from_bytes(b"\x7f" * n, "big")
    a, b = int.from_bytes(x, "big"), int.from_bytes(y, "big")
    return (((a & low) + (b & low)) ^ ((a ^ b) & ~low)).to_bytes(n, "big")


def _unfilter(kind: int, cur: bytes, prev: bytes) -> bytes:
    """One lane of one row, predicted from the same lane: left neighbour a, above b, c."""
    if kind == 0:
        return cur
    if kind == 1:  # Sub: a running sum
        return bytes(map((255).__and__, accumulate(cur)))
    if kind == 2:  # Up: bytewise addition mod 256
        return _add_bytes(cur, prev)
    out = bytearray(len(cur))
    a = c = 0
    if kind == 3:  # Average
        for i, (x, b) in enumerate(zip(cur, prev, strict=True)):
            a = out[i] = (x + ((a + b) >> 1)) & 255
        return bytes(out)
    if kind == 4:  # Paeth
        for i, (x, b) in enumerate(zip(cur, prev, strict=True)):
            pa = b - c if b >= c else c - b  # |p - a| with p = a + b - c
            pb = a - c if a >= c else c - a  # |p - b|
            pc = a + b - c - c
            if pc < 0:
                pc = -pc  # |p - c|
            pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
            a = out[i] = (x + pred) & 255
            c = b
        return bytes(out)
    raise PngError(f"corrupt PNG (unknown filter type {kind})")


def _lanes(png: _Png, data: Data, offsets: tuple[int, ...]) -> list[bytes]:
    """The unfiltered bytes at `offsets` within each pixel, each lane over the whole image.

    Below 8 bits a pixel is part of a byte; then the only lane is the whole scanline (offset 0,
    padding bits included).
    """
    h = png.header
    bits = CHANNELS[h.colour_type] * h.bit_depth
    unit = max(1, bits // 8)  # bytes per pixel: the filters' distance to the left neighbour
    stride = (h.width * bits + 7) // 8
    raw = _inflate(b"".join(data[span] for span in png.idat), h.height * (stride + 1))
    lane_len = stride // unit
    prev = [bytes(lane_len)] * len(offsets)
    rows: list[list[bytes]] = [[] for _ in offsets]
    for start in range(0, len(raw), stride + 1):
        kind = raw[start]
        row = raw[start + 1 : start + 1 + stride]
        for n, offset in enumerate(offsets):
            prev[n] = _unfilter(kind, row[offset::unit], prev[n])
            rows[n].append(prev[n])
    return [b"".join(lane) for lane in rows]


def _equal_table(value: int) -> bytes:
    """A `bytes.translate` table: WHITE for `value`, BLACK for every other byte."""
    table = bytearray(256)
    table[value] = WHITE
    return bytes(table)


def _all(flags: list[bytes]) -> bytes:
    """Bytewise AND of WHITE/BLACK lanes of equal length (via big integers: C speed)."""
    if len(flags) == 1:
        return flags[0]
    total = int.from_bytes(flags[0], "big")
    for lane in flags[1:]:
        total &= int.from_bytes(lane, "big")
    return total.to_bytes(len(flags[0]), "big")


def _samples(lane: bytes, header: Header) -> bytes:
    """Sub-byte samples (1, 2 or 4 bits) one per byte, padding bits at row ends dropped."""
    depth = header.bit_depth
    if depth == 8:
        return lane
    per_byte = 8 // depth
    out = bytearray(len(lane) * per_byte)
    for j in range(per_byte):
        shift = 8 - depth * (j + 1)
        out[j::per_byte] = lane.translate(
            bytes((v >> shift) & ((1 << depth) - 1) for v in range(256))
        )
    row = (header.width * depth + 7) // 8 * per_byte
    if row == header.width:
        return bytes(out)
    return b"".join(out[r : r + header.width] for r in range(0, len(out), row))


def transparent_pixels(data: Data) -> bytes | None:
    """One byte per pixel, row by row: WHITE where the pixel is fully transparent (alpha 0),
    BLACK elsewhere. None when the PNG has neither an alpha channel nor a `tRNS` chunk.

    Raises PngError for data this cannot read (not a PNG, corrupt, interlaced, too large).
    """
    png = _parse(data)
    h = png.header
    if h.colour_type in (0, 2, 3) and png.trns is None:
        return None
    if h.interlaced:
        raise PngError("interlaced PNGs are not supported; save it without interlacing")
    if h.width * h.height > MAX_PIXELS:
        raise PngError(f"{h.width}x{h.height} has more pixels than {MAX_SIDE}x{MAX_SIDE}")
    size = 16 if h.bit_depth == 16 else 8
    if h.colour_type == 3:  # palette: tRNS holds the alpha of the first entries
        table = bytes(
            WHITE if i < len(png.trns) and png.trns[i] == 0 else BLACK for i in range(256)
        )
        return _samples(_lanes(png, data, (0,))[0], h).translate(table)
    if h.colour_type in (4, 6):  # the alpha sample is the last one: all its bytes must be 0
        last = (CHANNELS[h.colour_type] - 1) * size // 8
        offsets = tuple(range(last, last + size // 8))
        keys = (0,) * len(offsets)
    else:  # grayscale or RGB: tRNS holds the one colour that is transparent (16 bits a sample)
        if len(png.trns) != 2 * CHANNELS[h.colour_type]:
            raise PngError("corrupt PNG (tRNS chunk of the wrong size)")
        values = struct.unpack(f">{CHANNELS[h.colour_type]}H", png.trns)
        top = (1 << h.bit_depth) - 1
        if h.bit_depth < 8 and values[0] > top and values[0] % (255 // top) == 0:
            # An 8-bit level where the spec wants a 1/2/4-bit one (Pillow writes 255 for
            # white in 1-bit images): read it as the level it scales down to.
            values = (values[0] // (255 // top),)
        if any(v > top for v in values):
            return bytes(h.width * h.height)  # a colour no pixel can have
        if h.bit_depth < 8:
            return _samples(_lanes(png, data, (0,))[0], h).translate(_equal_table(values[0]))
        keys = tuple(b for v in values for b in v.to_bytes(size // 8, "big"))
        offsets = tuple(range(len(keys)))
    lanes = _lanes(png, data, offsets)
    return _all([lane.translate(_equal_table(key)) for lane, key in zip(lanes, keys, strict=True)])


def encode_gray(width: int, height: int, pixels: bytes) -> bytes:
    """An 8-bit grayscale PNG of `pixels` (one byte per pixel, row by row)."""
    rows = b"".join(b"\x00" + pixels[i : i + width] for i in range(0, width * height, width))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        SIGNATURE + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    )


def sd_mask(data: Data) -> bytes | None:
    """SD's mask for an OpenAI-style PNG: white where it is fully transparent, black elsewhere.

    None when no pixel is fully transparent (no alpha channel or tRNS, or none at 0): such a
    mask is already in SD's convention, and such an image marks nothing to edit.
    """
    flags = transparent_pixels(data)
    if flags is None or WHITE not in flags:
        return None
    header = read_header(data)
    return encode_gray(header.width, header.height, flags)
