"""Real audio made at test time with the standard library (no fixtures on disk, no tools)."""

from __future__ import annotations

import io
import math
import struct
import wave


def wav_tone(seconds: float = 1.5, rate: int = 16000, frequency: float = 440.0) -> bytes:
    """A mono 16-bit PCM WAV file holding a sine tone of `seconds`."""
    frames = round(seconds * rate)
    samples = (round(12000 * math.sin(2 * math.pi * frequency * n / rate)) for n in range(frames))
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(struct.pack(f"<{frames}h", *samples))
    return out.getvalue()


def wav_silence(total_bytes: int, rate: int = 16000) -> bytes:
    """A valid mono 16-bit WAV file of about `total_bytes` (silence, for size limits)."""
    frames = max(1, (total_bytes - 44) // 2)
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(bytes(frames * 2))
    return out.getvalue()
