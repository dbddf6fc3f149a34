"""Cutting a byte stream into network-chunk-like pieces, for the chunking tests."""

from __future__ import annotations

from collections.abc import Iterable


def split_at(data: bytes, cuts: Iterable[int]) -> list[bytes]:
    """`data` in pieces ending at each cut (sorted, duplicates ignored); a cut at 0 or at the
    end gives an empty piece, which a stream must take in its stride too."""
    points = sorted(set(cuts))
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]
