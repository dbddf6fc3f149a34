"""Audio bytes: valid silent streams to answer TTS with, and sniffing/duration of uploads.

Encoders write real container formats so decoders accept them: MPEG-1 Layer III frames whose
side info says "no data" (silence), RIFF/WAVE (PCM, µ-law, A-law), Ogg Opus pages holding the
well-known 3-byte silent Opus frame, FLAC with CONSTANT subframes, and AAC-LC in ADTS frames
with an empty single-channel element.
"""

from __future__ import annotations

import math
import struct

# ---------------------------------------------------------------------------------------------
# MP3

_MP3_BITRATES = {
    1: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),  # MPEG-1 Layer III
    2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),  # MPEG-2/2.5 Layer III
}
_MP3_RATES = {1: (44100, 48000, 32000), 2: (22050, 24000, 16000), 25: (11025, 12000, 8000)}


def mp3_silence(seconds: float, sample_rate: int = 44100, bit_rate: int = 128000) -> bytes:
    """MPEG-1 Layer III mono frames of silence lasting about `seconds`."""
    if sample_rate not in _MP3_RATES[1]:
        sample_rate = 44100
    kbps = bit_rate // 1000 if bit_rate // 1000 in _MP3_BITRATES[1][1:] else 128
    br_index, sr_index = _MP3_BITRATES[1].index(kbps), _MP3_RATES[1].index(sample_rate)
    # 0xFFFB: sync, MPEG-1, Layer III, no CRC. Last byte 0xC4: mono, original.
    header = bytes([0xFF, 0xFB, (br_index << 4) | (sr_index << 2), 0xC4])
    frames = max(1, math.ceil(seconds * sample_rate / 1152))
    out = bytearray()
    remainder = 0
    for _ in range(frames):
        # Padding slots keep the average bitrate exact when 144*br/sr is not whole.
        remainder += (144 * kbps * 1000) % sample_rate
        pad = 1 if remainder >= sample_rate else 0
        remainder -= sample_rate * pad
        size = 144 * kbps * 1000 // sample_rate + pad
        frame_header = header[:2] + bytes([header[2] | (pad << 1)]) + header[3:]
        # Zeroed side info (17 bytes for mono) means part2_3_length 0: every sample is silence.
        out += frame_header + bytes(size - 4)
    return bytes(out)


def _mp3_frames(data: bytes) -> tuple[int, float]:
    """(frame count, seconds) of the Layer III frames at the start of `data`."""
    pos = 0
    if data[:3] == b"ID3" and len(data) >= 10:
        size = (data[6] << 21) | (data[7] << 14) | (data[8] << 7) | data[9]
        pos = 10 + size
    frames, seconds = 0, 0.0
    while pos + 4 <= len(data):
        b1, b2 = data[pos + 1], data[pos + 2]
        if data[pos] != 0xFF or (b1 & 0xE0) != 0xE0 or (b1 >> 1) & 3 != 1:
            break  # not a Layer III frame header
        version = {3: 1, 2: 2, 0: 25}.get((b1 >> 3) & 3)
        br_i, sr_i = b2 >> 4, (b2 >> 2) & 3
        if version is None or br_i in (0, 15) or sr_i == 3:
            break
        kbps = _MP3_BITRATES[1 if version == 1 else 2][br_i]
        rate = _MP3_RATES[version][sr_i]
        per_frame = 1152 if version == 1 else 576
        size = (per_frame // 8) * kbps * 1000 // rate + ((b2 >> 1) & 1)
        frames += 1
        seconds += per_frame / rate
        pos += size
    return frames, seconds


# ---------------------------------------------------------------------------------------------
# WAV

WAVE_PCM, WAVE_ALAW, WAVE_MULAW = 1, 6, 7
_SILENCE_BYTE = {WAVE_PCM: 0x00, WAVE_ALAW: 0xD5, WAVE_MULAW: 0xFF}


def wav_silence(seconds: float, sample_rate: int = 24000, fmt: int = WAVE_PCM) -> bytes:
    """A RIFF/WAVE file of mono silence: 16-bit PCM, or 8-bit A-law/µ-law."""
    width = 2 if fmt == WAVE_PCM else 1
    frames = max(1, round(seconds * sample_rate))
    data = bytes([_SILENCE_BYTE[fmt]]) * (frames * width)
    fmt_chunk = struct.pack("<HHIIHH", fmt, 1, sample_rate, sample_rate * width, width, width * 8)
    chunks = b"fmt " + struct.pack("<I", len(fmt_chunk)) + fmt_chunk
    if fmt != WAVE_PCM:
        # Non-PCM WAVE needs cbSize in fmt and a fact chunk with the sample count.
        chunks = b"fmt " + struct.pack("<I", 18) + fmt_chunk + b"\0\0"
        chunks += b"fact" + struct.pack("<II", 4, frames)
    chunks += b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks


def wav_duration(data: bytes) -> float | None:
    """Seconds of audio in a RIFF/WAVE file, from its fmt byte rate and data size."""
    pos, byte_rate, size = 12, 0, None
    while pos + 8 <= len(data):
        cid, length = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        if cid == b"fmt " and pos + 16 <= len(data):
            byte_rate = struct.unpack("<I", data[pos + 16 : pos + 20])[0]
        elif cid == b"data":
            # Streamed WAVs may leave the size unset (0 or 0xFFFFFFFF): use what is there.
            available = len(data) - pos - 8
            size = available if length in (0, 0xFFFFFFFF) else min(length, available)
            break
        pos += 8 + length + (length & 1)
    if not byte_rate or size is None:
        return None
    return size / byte_rate


# ---------------------------------------------------------------------------------------------
# Ogg Opus


def _ogg_crc(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else crc << 1
            crc &= 0xFFFFFFFF
    return crc


def _ogg_page(packets: list[bytes], granule: int, seq: int, flags: int) -> bytes:
    lacing = bytearray()
    for packet in packets:
        lacing += b"\xff" * (len(packet) // 255) + bytes([len(packet) % 255])
    header = b"OggS" + struct.pack("<BBqIIIB", 0, flags, granule, 0x454D55, seq, 0, len(lacing))
    page = bytearray(header + lacing + b"".join(packets))
    page[22:26] = struct.pack("<I", _ogg_crc(bytes(page)))
    return bytes(page)


def ogg_opus_silence(seconds: float, sample_rate: int = 48000) -> bytes:
    """An Ogg Opus stream of 20 ms silent frames (the 3-byte 0xF8FFFE packet)."""
    pre_skip = 312
    head = b"OpusHead" + struct.pack("<BBHIhB", 1, 1, pre_skip, sample_rate, 0, 0)
    vendor = b"workers-ai-emulator"
    tags = b"OpusTags" + struct.pack("<I", len(vendor)) + vendor + struct.pack("<I", 0)
    out = [_ogg_page([head], 0, 0, 0x02), _ogg_page([tags], 0, 1, 0)]
    total = max(1, math.ceil(seconds / 0.02))
    seq, done = 2, 0
    while done < total:
        batch = min(50, total - done)
        done += batch
        flags = 0x04 if done == total else 0
        out.append(_ogg_page([b"\xf8\xff\xfe"] * batch, pre_skip + done * 960, seq, flags))
        seq += 1
    return b"".join(out)


def _ogg_duration(data: bytes) -> float | None:
    last = data.rfind(b"OggS")
    if last < 0 or last + 14 > len(data):
        return None
    granule = struct.unpack("<q", data[last + 6 : last + 14])[0]
    if b"OpusHead" in data[:200]:
        return max(0, granule - 312) / 48000
    vorbis = data.find(b"\x01vorbis")
    if vorbis >= 0 and vorbis + 16 <= len(data):
        return granule / struct.unpack("<I", data[vorbis + 12 : vorbis + 16])[0]
    return None


# ---------------------------------------------------------------------------------------------
# FLAC


def _crc8(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def _crc16(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x8005) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc


def _utf8_number(n: int) -> bytes:
    """FLAC's UTF-8-like coding of a frame number."""
    if n < 0x80:
        return bytes([n])
    out = []
    while n >= (0x40 >> len(out)) or not out:
        out.insert(0, 0x80 | (n & 0x3F))
        n >>= 6
    prefix = (0xFF00 >> (len(out) + 1)) & 0xFF
    return bytes([prefix | n, *out])


_FLAC_RATE_CODES = {88200: 1, 176400: 2, 192000: 3, 8000: 4, 16000: 5, 22050: 6, 24000: 7,
                    32000: 8, 44100: 9, 48000: 10, 96000: 11}  # fmt: skip


def flac_silence(seconds: float, sample_rate: int = 24000) -> bytes:
    """A FLAC stream of 16-bit mono silence in 4096-sample frames with CONSTANT subframes."""
    if sample_rate not in _FLAC_RATE_CODES:
        sample_rate = 24000
    block = 4096
    total = max(1, round(seconds * sample_rate))
    info = struct.pack(">HH", block, block) + b"\0\0\0\0\0\0"  # min/max frame size unknown
    packed = (sample_rate << 44) | (0 << 41) | (15 << 36) | total  # 1 channel, 16 bits
    info += packed.to_bytes(8, "big") + bytes(16)  # MD5 0 = not computed
    out = bytearray(b"fLaC" + bytes([0x80]) + len(info).to_bytes(3, "big") + info)
    done, number = 0, 0
    while done < total:
        size = min(block, total - done)
        size_code = 0b1100 if size == block else 0b0111  # 4096, or 16-bit size-1 follows
        header = bytearray([0xFF, 0xF8, (size_code << 4) | _FLAC_RATE_CODES[sample_rate], 0x08])
        header += _utf8_number(number)
        if size_code == 0b0111:
            header += struct.pack(">H", size - 1)
        header.append(_crc8(bytes(header)))
        frame = bytes(header) + b"\x00" + b"\x00\x00"  # CONSTANT subframe, value 0
        out += frame + struct.pack(">H", _crc16(frame))
        done += size
        number += 1
    return bytes(out)


# ---------------------------------------------------------------------------------------------
# AAC (ADTS)

_AAC_RATES = (96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000)


def aac_silence(seconds: float, sample_rate: int = 24000) -> bytes:
    """AAC-LC mono ADTS frames, each an empty single-channel element (silence)."""
    if sample_rate not in _AAC_RATES:
        sample_rate = 24000
    # SCE, tag 0, global_gain 0, ics_info with max_sfb 0, no pulse/tns/gain data, then ID_END.
    payload = b"\x00\x00\x00\x07"
    length = 7 + len(payload)
    sfi, profile, channels = _AAC_RATES.index(sample_rate), 1, 1
    header = bytes(
        [
            0xFF,
            0xF1,  # sync, MPEG-4, no CRC
            (profile << 6) | (sfi << 2) | (channels >> 2),
            ((channels & 3) << 6) | (length >> 11),
            (length >> 3) & 0xFF,
            ((length & 7) << 5) | 0x1F,
            0xFC,
        ]
    )
    frames = max(1, math.ceil(seconds * sample_rate / 1024))
    return (header + payload) * frames


def _adts_duration(data: bytes) -> float | None:
    pos, seconds = 0, 0.0
    while pos + 7 <= len(data) and data[pos] == 0xFF and data[pos + 1] & 0xF6 == 0xF0:
        sfi = (data[pos + 2] >> 2) & 0xF
        length = ((data[pos + 3] & 3) << 11) | (data[pos + 4] << 3) | (data[pos + 5] >> 5)
        if sfi >= len(_AAC_RATES) or length < 7:
            break
        seconds += 1024 / _AAC_RATES[sfi]
        pos += length
    return seconds or None


# ---------------------------------------------------------------------------------------------
# Sniffing uploads


def sniff(data: bytes) -> str | None:
    """The container of an audio upload, or None if it does not look like audio."""
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "wav"
    if data[:3] == b"ID3":
        return "mp3"
    if len(data) >= 2 and data[0] == 0xFF and (data[1] & 0xF6) == 0xF0:
        return "aac"  # ADTS: sync + layer 00
    if len(data) >= 2 and data[0] == 0xFF and (data[1] & 0xE0) == 0xE0:
        return "mp3"
    if data[:4] == b"OggS":
        return "ogg"
    if data[:4] == b"fLaC":
        return "flac"
    if data[:4] == b"\x1a\x45\xdf\xa3":
        return "webm"
    if data[4:8] == b"ftyp":
        return "mp4"
    return None


def duration(data: bytes, kind: str) -> float:
    """Seconds of audio: exact for WAV, MP3, FLAC and Ogg; estimated at 128 kbps otherwise."""
    seconds: float | None = None
    if kind == "wav":
        seconds = wav_duration(data)
    elif kind == "mp3":
        frames, secs = _mp3_frames(data)
        seconds = secs if frames else None
    elif kind == "flac" and len(data) >= 26:
        packed = int.from_bytes(data[18:26], "big")
        rate, total = packed >> 44, packed & ((1 << 36) - 1)
        seconds = total / rate if rate else None
    elif kind == "ogg":
        seconds = _ogg_duration(data)
    elif kind == "aac":
        seconds = _adts_duration(data)
    if seconds is None:
        seconds = len(data) / 16000
    return seconds
