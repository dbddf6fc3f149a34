"""`pngmask` and `imagesize`: every PNG colour type, bit depth and filter, checked pixel by pixel.

PNGs come from Pillow (each mode it writes) and from a small encoder here that applies a chosen
filter to every row (Pillow picks its own filters); Pillow reads those back, which checks the
encoder. Expected transparency is computed from the pixel values the test chose, not decoded.
"""

from __future__ import annotations

import io
import random
import struct
import zlib

import pytest
from PIL import Image

from formats import imagesize, pngmask

W, H = 13, 7  # odd sizes: row padding for sub-byte depths, lanes that are not a power of two
FILTERS = (0, 1, 2, 3, 4)


# --- a PNG encoder with chosen filters --------------------------------------------------------


def paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else b if pb <= pc else c


def filter_row(kind: int, row: bytes, prev: bytes, unit: int) -> bytes:
    out = bytearray()
    for i, x in enumerate(row):
        a = row[i - unit] if i >= unit else 0
        b = prev[i]
        c = prev[i - unit] if i >= unit else 0
        pred = (0, a, b, (a + b) // 2, paeth(a, b, c), 0)[kind]  # 5: no such filter
        out.append((x - pred) & 255)
    return bytes(out)


def chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def scanlines(samples: list[list[tuple[int, ...]]], depth: int) -> list[bytes]:
    """Rows of pixels (tuples of samples) packed at `depth` bits, MSB first, rows padded."""
    rows = []
    for row in samples:
        if depth >= 8:
            rows.append(b"".join(v.to_bytes(depth // 8, "big") for px in row for v in px))
            continue
        bits = "".join(format(v, f"0{depth}b") for px in row for v in px)
        bits += "0" * (-len(bits) % 8)
        rows.append(int(bits, 2).to_bytes(len(bits) // 8, "big"))
    return rows


def make_png(
    samples: list[list[tuple[int, ...]]],
    depth: int,
    colour: int,
    filters: tuple[int, ...] = (0,),
    *,
    trns: bytes | None = None,
    plte: bytes | None = None,
    interlace: int = 0,
) -> bytes:
    height, width = len(samples), len(samples[0])
    unit = max(1, len(samples[0][0]) * depth // 8)
    rows = scanlines(samples, depth)
    raw, prev = b"", bytes(len(rows[0]))
    for i, row in enumerate(rows):
        kind = filters[i % len(filters)]
        raw += bytes([kind]) + filter_row(kind, row, prev, unit)
        prev = row
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, interlace)
    body = chunk(b"IHDR", ihdr)
    if plte is not None:
        body += chunk(b"PLTE", plte)
    if trns is not None:
        body += chunk(b"tRNS", trns)
    # Two IDAT chunks: decoders must join them.
    packed = zlib.compress(raw)
    half = len(packed) // 2
    body += chunk(b"IDAT", packed[:half]) + chunk(b"IDAT", packed[half:])
    return pngmask.SIGNATURE + body + chunk(b"IEND", b"")


def pixels(channels: int, choices: list[int], seed: int) -> list[list[tuple[int, ...]]]:
    rnd = random.Random(seed)
    return [
        [tuple(rnd.choice(choices) for _ in range(channels)) for _ in range(W)] for _ in range(H)
    ]


def flags(rows: list[list[tuple[int, ...]]], transparent) -> bytes:
    return bytes(255 if transparent(px) else 0 for row in rows for px in row)


def pil_bytes(image: Image.Image, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG", **options)
    return out.getvalue()


def gray_of(png: bytes) -> tuple[tuple[int, int], bytes]:
    with Image.open(io.BytesIO(png)) as image:
        assert image.mode == "L"
        return image.size, image.tobytes()


@pytest.mark.parametrize("kind", FILTERS)
def test_each_filter_is_undone_exactly(kind):
    # The whole byte range, so Paeth's ties and Average's rounding are all exercised.
    rnd = random.Random(kind)
    prev = bytes(rnd.randrange(256) for _ in range(4096))
    for row in (rnd.randbytes(4096), bytes(range(256)) * 16, bytes(4096), b"\xff" * 4096):
        assert pngmask._unfilter(kind, filter_row(kind, row, prev, 1), prev) == row
        prev = row


# --- alpha channels: RGBA and gray+alpha, 8 and 16 bits, every filter -------------------------

# Alpha values next to 0 in either byte, so a decoder that looks at one byte only fails.
ALPHA8 = [0, 0, 1, 128, 254, 255]
ALPHA16 = [0, 0, 1, 0x00FF, 0x0100, 0x8000, 0xFFFF]


@pytest.mark.parametrize("filters", [(k,) for k in FILTERS] + [FILTERS])
@pytest.mark.parametrize(("colour", "depth"), [(6, 8), (6, 16), (4, 8), (4, 16)])
def test_alpha_channels_every_filter(colour, depth, filters):
    rnd = random.Random(f"{colour}{depth}{filters}")
    channels = pngmask.CHANNELS[colour]
    top = (1 << depth) - 1
    rows = [
        [
            (
                *(rnd.randrange(top + 1) for _ in range(channels - 1)),
                rnd.choice(ALPHA16 if depth == 16 else ALPHA8),
            )
            for _ in range(W)
        ]
        for _ in range(H)
    ]
    png = make_png(rows, depth, colour, filters)
    with Image.open(io.BytesIO(png)) as image:  # Pillow agrees the file is valid
        image.load()
        assert image.size == (W, H)
        if depth == 8:
            assert image.tobytes() == b"".join(bytes(px) for row in rows for px in row)
    expected = flags(rows, lambda px: px[-1] == 0)
    assert pngmask.transparent_pixels(png) == expected
    assert gray_of(pngmask.sd_mask(png)) == ((W, H), expected)


def test_pillow_rgba_and_la():
    rnd = random.Random(1)
    rgba = [[(rnd.randrange(256), 9, 9, rnd.choice(ALPHA8)) for _ in range(W)] for _ in range(H)]
    image = Image.new("RGBA", (W, H))
    image.putdata([px for row in rgba for px in row])
    expected = flags(rgba, lambda px: px[3] == 0)
    assert pngmask.transparent_pixels(pil_bytes(image)) == expected
    assert pngmask.transparent_pixels(pil_bytes(image.convert("LA"))) == expected


# --- tRNS: grayscale, RGB, palette ---------------------------------------------------------------


@pytest.mark.parametrize("filters", [(k,) for k in FILTERS])
@pytest.mark.parametrize("depth", [1, 2, 4, 8, 16])
def test_grayscale_trns_every_depth_and_filter(depth, filters):
    top = (1 << depth) - 1
    key = top // 2 if depth > 1 else 1
    choices = sorted({0, key, top, key ^ 1, (key + 0x100) & top})
    rows = pixels(1, choices, depth)
    png = make_png(rows, depth, 0, filters, trns=key.to_bytes(2, "big"))
    with Image.open(io.BytesIO(png)) as image:
        image.load()
    assert pngmask.transparent_pixels(png) == flags(rows, lambda px: px[0] == key)


@pytest.mark.parametrize("filters", [(k,) for k in FILTERS])
@pytest.mark.parametrize("depth", [8, 16])
def test_rgb_trns_every_filter(depth, filters):
    key = (7, 0x0107, 200) if depth == 16 else (7, 0, 200)
    values = [0, 7, 200, 0x0107 if depth == 16 else 1]
    rows = pixels(3, values, depth)
    rows[0][0] = rows[-1][-1] = key  # at least two exact matches; partial ones are likely too
    png = make_png(rows, depth, 2, filters, trns=b"".join(v.to_bytes(2, "big") for v in key))
    assert pngmask.transparent_pixels(png) == flags(rows, lambda px: px == key)


@pytest.mark.parametrize("filters", [(k,) for k in FILTERS])
@pytest.mark.parametrize("depth", [1, 2, 4, 8])
def test_palette_trns_every_depth_and_filter(depth, filters):
    entries = 1 << depth
    plte = bytes(i % 256 for i in range(3 * entries))
    alphas = [0, 255, 0, 40] if depth > 1 else [255, 0]  # shorter than the palette: rest opaque
    rows = pixels(1, list(range(entries)), depth)
    png = make_png(rows, depth, 3, filters, trns=bytes(alphas), plte=plte)
    with Image.open(io.BytesIO(png)) as image:
        image.load()
    zero = {i for i, a in enumerate(alphas) if a == 0}
    assert pngmask.transparent_pixels(png) == flags(rows, lambda px: px[0] in zero)


@pytest.mark.parametrize("bits", [1, 2, 4, 8])
def test_pillow_palette_with_transparency(bits):
    image = Image.new("P", (W, H))
    image.putpalette([i % 256 for i in range(3 << bits)])  # Pillow's bit depth follows its size
    indices = [random.Random(bits).randrange(2 if bits == 1 else 4) for _ in range(W * H)]
    image.putdata(indices)
    image.info["transparency"] = bytes([255, 0, 128, 0])[: 2 if bits == 1 else 4]
    expected = bytes(255 if i in (1, 3) else 0 for i in indices)
    png = pil_bytes(image, bits=bits)
    assert pngmask.read_header(png).bit_depth == bits
    assert pngmask.transparent_pixels(png) == expected


@pytest.mark.parametrize(("mode", "key", "values"), [
    ("L", 77, [0, 77, 78, 255]),
    ("RGB", (1, 2, 3), [(1, 2, 3), (1, 2, 4), (0, 2, 3), (9, 9, 9)]),
    ("I;16", 0x0102, [0x0102, 0x0101, 0x0202, 0x0002, 0]),
    ("1", 255, [0, 255]),
])  # fmt: skip
def test_pillow_color_key_transparency(mode, key, values):
    rnd = random.Random(mode)
    data = [rnd.choice(values) for _ in range(W * H)]
    image = Image.new(mode, (W, H))
    image.putdata(data)
    png = pil_bytes(image, transparency=key)
    expected = bytes(255 if v == key else 0 for v in data)
    assert 255 in expected
    assert pngmask.transparent_pixels(png) == expected


def test_a_trns_colour_outside_the_bit_depth_matches_nothing():
    rows = pixels(1, [0, 44, 255], 3)
    png = make_png(rows, 8, 0, trns=(300).to_bytes(2, "big"))  # 300 & 0xFF == 44
    assert pngmask.transparent_pixels(png) == bytes(W * H)
    assert pngmask.sd_mask(png) is None


# --- what sd_mask decides --------------------------------------------------------------------


def test_without_transparency_there_is_nothing_to_convert():
    assert pngmask.transparent_pixels(pil_bytes(Image.new("RGB", (4, 4), "white"))) is None
    assert pngmask.transparent_pixels(pil_bytes(Image.new("L", (4, 4)))) is None
    opaque = pil_bytes(Image.new("RGBA", (4, 4), (0, 0, 0, 1)))
    assert pngmask.transparent_pixels(opaque) == bytes(16)
    assert pngmask.sd_mask(opaque) is None


def test_sd_mask_is_a_grayscale_png_white_where_transparent():
    image = Image.new("RGBA", (64, 32), (10, 20, 30, 255))
    image.paste((0, 0, 0, 0), (8, 4, 40, 20))
    mask = pngmask.sd_mask(pil_bytes(image))
    header = pngmask.read_header(mask)
    assert (header.width, header.height, header.bit_depth, header.colour_type) == (64, 32, 8, 0)
    size, gray = gray_of(mask)
    assert size == (64, 32)
    for y in range(32):
        for x in range(64):
            assert gray[y * 64 + x] == (255 if 8 <= x < 40 and 4 <= y < 20 else 0), (x, y)


def test_encode_gray_round_trips_through_pillow():
    data = bytes(random.Random(5).randrange(256) for _ in range(W * H))
    assert gray_of(pngmask.encode_gray(W, H, data)) == ((W, H), data)


# --- refusals --------------------------------------------------------------------------------

RGBA_ROWS = [[(0, 0, 0, 0)] * W] * H


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"GIF89a" + bytes(40), "not a PNG file"),
        (pngmask.SIGNATURE + bytes(30), "not a PNG file"),
        (make_png(RGBA_ROWS, 8, 6)[:60], "truncated PNG"),
        (make_png(RGBA_ROWS, 8, 6, interlace=1), "interlaced PNGs are not supported"),
        (make_png([[(0, 0)]], 3, 4), "invalid PNG header"),  # 3-bit gray+alpha does not exist
        (make_png(RGBA_ROWS, 8, 6, (5,)), "unknown filter type 5"),
        (make_png([[(0,)]], 8, 0, trns=b"\x00"), "tRNS chunk of the wrong size"),
    ],
)
def test_unreadable_pngs_raise_png_error(data, message):
    with pytest.raises(pngmask.PngError, match=message):
        pngmask.transparent_pixels(data)


def test_a_bad_crc_is_refused():
    png = bytearray(make_png(RGBA_ROWS, 8, 6))
    png[-20] ^= 1  # inside the last IDAT's data
    with pytest.raises(pngmask.PngError, match="bad CRC"):
        pngmask.transparent_pixels(bytes(png))


def test_image_data_must_match_the_header_no_decompression_bombs():
    header = struct.pack(">IIBBBBB", 2, 2, 8, 6, 0, 0, 0)
    for raw in (bytes(3), bytes(100_000_000)):
        png = (
            pngmask.SIGNATURE
            + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raw))
            + chunk(b"IEND", b"")
        )
        with pytest.raises(pngmask.PngError, match="does not match its size"):
            pngmask.transparent_pixels(png)


def test_too_many_pixels_is_refused_before_decoding():
    header = struct.pack(">IIBBBBB", 4096, 4096, 8, 6, 0, 0, 0)
    png = pngmask.SIGNATURE + chunk(b"IHDR", header) + chunk(b"IDAT", b"x") + chunk(b"IEND", b"")
    with pytest.raises(pngmask.PngError, match="4096x4096 has more pixels than 2048x2048"):
        pngmask.transparent_pixels(png)


# --- imagesize -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "options", "mode"),
    [
        ("PNG", {}, "RGB"),
        ("JPEG", {}, "RGB"),
        ("JPEG", {"progressive": True}, "RGB"),
        ("WEBP", {"quality": 80}, "RGB"),
        ("WEBP", {"lossless": True}, "RGB"),
        ("WEBP", {"quality": 80}, "RGBA"),  # VP8X with an alpha chunk
    ],
)
def test_dimensions_from_headers(fmt, options, mode):
    out = io.BytesIO()
    Image.new(mode, (321, 123)).save(out, fmt, **options)
    assert imagesize.dimensions(out.getvalue()) == (321, 123)


def test_dimensions_of_garbage_is_none():
    for data in (
        b"",
        b"\xff\xd8\xff",
        b"\xff\xd8" + b"\x00" * 10,
        b"RIFF\x00\x00\x00\x00WEBPVP8 ",
        b"GIF89a",
    ):
        assert imagesize.dimensions(data) is None
