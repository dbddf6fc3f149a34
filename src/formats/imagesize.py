"""Width and height of a PNG, JPEG or WebP from its header bytes, without decoding it.

Used to check that an edit's mask matches its image; anything unreadable is None (the check is
then skipped and the upstream model judges the image). The data is `bytes` or a
`filebytes.FileBytes` (an upload kept in JavaScript), read through slices only.
"""

from __future__ import annotations

import struct

from formats.filebytes import Data

# JPEG start-of-frame markers (baseline, progressive, lossless, …); C4, C8 and CC are not frames.
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def dimensions(data: Data) -> tuple[int, int] | None:
    """(width, height) of a PNG, JPEG or WebP image, or None when the header is unreadable."""
    head = data[:30]  # all a PNG's or a WebP's size needs
    try:
        if head.startswith(b"\x89PNG\r\n\x1a\n") and head[12:16] == b"IHDR":
            return struct.unpack(">II", head[16:24])
        if head.startswith(b"\xff\xd8"):
            return _jpeg(data)
        if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
            return _webp(head)
    except (struct.error, IndexError):
        return None
    return None


def _jpeg(data: Data) -> tuple[int, int] | None:
    pos = 2
    while pos + 4 <= len(data):
        segment = data[pos : pos + 9]  # marker, length, and a frame header's size fields
        if segment[0] != 0xFF:
            return None
        marker = segment[1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):  # markers without a length
            pos += 2
            continue
        if marker in (0xD9, 0xDA):  # end of image, start of scan: no frame header before it
            return None
        (length,) = struct.unpack_from(">H", segment, 2)
        if marker in _SOF:
            height, width = struct.unpack_from(">HH", segment, 5)
            return width, height
        pos += 2 + length
    return None


def _webp(data: bytes) -> tuple[int, int] | None:
    kind = data[12:16]
    if kind == b"VP8 " and data[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack_from("<HH", data, 26)
        return width & 0x3FFF, height & 0x3FFF
    if kind == b"VP8L" and data[20] == 0x2F:
        (bits,) = struct.unpack_from("<I", data, 21)
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if kind == b"VP8X":
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return width, height
    return None


def sniff(data: Data) -> str:
    """The image content type from the first bytes (Workers AI does not always say)."""
    data = data[:12]
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    return "application/octet-stream"
