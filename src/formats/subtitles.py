"""Subtitles from timed text: SubRip (`srt`) and WebVTT (`vtt`) as OpenAI's transcription
endpoint writes them, and the reverse for the WebVTT that whisper models return."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Cue:
    """One piece of text shown from `start` to `end` seconds."""

    start: float
    end: float
    text: str


def timestamp(seconds: float, separator: str = ".") -> str:
    """`HH:MM:SS<separator>mmm`, rounded to the millisecond; negative or non-finite times are 0.

    Rounding happens once, on whole milliseconds, so 59.9996 s becomes `00:01:00.000` rather
    than `00:00:60.000`. Hours keep counting past 99.
    """
    millis = round(seconds * 1000) if math.isfinite(seconds) and seconds > 0 else 0
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def _clean(text: str) -> str:
    # A blank line ends a cue and "-->" starts a timing line in both formats.
    lines = [line.strip() for line in text.strip().splitlines()]
    return "\n".join(line for line in lines if line).replace("-->", "->")


def _usable(cues: Iterable[Cue]) -> list[Cue]:
    kept = []
    for cue in cues:
        text = _clean(cue.text)
        if text:
            kept.append(Cue(cue.start, max(cue.start, cue.end), text))
    return kept


def srt(cues: Iterable[Cue]) -> str:
    """SubRip: numbered from 1, comma before the milliseconds, a blank line after each cue."""
    return "".join(
        f"{number}\n{timestamp(cue.start, ',')} --> {timestamp(cue.end, ',')}\n{cue.text}\n\n"
        for number, cue in enumerate(_usable(cues), 1)
    )


def vtt(cues: Iterable[Cue]) -> str:
    """WebVTT: a `WEBVTT` header, dot before the milliseconds, a blank line after each cue."""
    return "WEBVTT\n\n" + "".join(
        f"{timestamp(cue.start)} --> {timestamp(cue.end)}\n{cue.text}\n\n" for cue in _usable(cues)
    )


_TIME = r"(?:(\d+):)?(\d{1,2}):(\d{1,2})[.,](\d{1,3})"
_TIMING = re.compile(rf"^\s*{_TIME}\s*-->\s*{_TIME}")


def _seconds(hours: str | None, minutes: str, secs: str, fraction: str) -> float:
    whole = int(hours or 0) * 3600 + int(minutes) * 60 + int(secs)
    return whole + int(fraction.ljust(3, "0")) / 1000


def parse_vtt(text: str) -> list[Cue]:
    """The cues of a WebVTT (or SubRip) document; anything that is not a cue is skipped."""
    cues: list[Cue] = []
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    index = 0
    while index < len(lines):
        match = _TIMING.match(lines[index])
        index += 1
        if not match:
            continue
        body: list[str] = []
        while index < len(lines) and lines[index].strip():
            body.append(lines[index].strip())
            index += 1
        groups = match.groups()
        cues.append(Cue(_seconds(*groups[:4]), _seconds(*groups[4:]), " ".join(body)))
    return cues
