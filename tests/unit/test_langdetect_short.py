"""Short everyday texts (greetings, questions, replies of 1–5 words) in the 20 most spoken
languages m2m100 translates must be detected right: they are most of what translation
extensions send, and a wrong or missing language means a wrong translation or a 400.

The labelled set is `tests/data/short_texts.tsv`; docs/translation.md reports the accuracy.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import langdetect

DATA = Path(__file__).resolve().parents[1] / "data" / "short_texts.tsv"
MIN_ACCURACY = 0.95  # overall; measured 0.98 (docs/translation.md)
MIN_LANGUAGE_ACCURACY = 0.8  # no language may be left behind by a good average


def labelled() -> list[tuple[str, str]]:
    """(language, text) pairs of the data file, comments and blank lines skipped."""
    rows = []
    for line in DATA.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            language, text = line.split("\t")
            rows.append((language, text))
    return rows


def accuracy() -> tuple[float, dict[str, float], list[tuple[str, str, str | None]]]:
    """Overall and per-language share detected right, and the misses (language, text, found)."""
    right: Counter[str] = Counter()
    total: Counter[str] = Counter()
    misses = []
    for language, text in labelled():
        found = langdetect.detect(text).language
        total[language] += 1
        if found == language:
            right[language] += 1
        else:
            misses.append((language, text, found))
    per_language = {language: right[language] / total[language] for language in total}
    return sum(right.values()) / sum(total.values()), per_language, misses


def test_the_set_has_500_short_texts_in_20_languages():
    rows = labelled()
    assert len(rows) >= 500
    assert len({language for language, _ in rows}) == 20
    assert all(1 <= len(text.split()) <= 5 for _, text in rows)
    assert len({text for _, text in rows}) == len(rows)  # no text under two labels


def test_short_text_accuracy():
    overall, per_language, misses = accuracy()
    report = ", ".join(f"{code} {share:.0%}" for code, share in sorted(per_language.items()))
    print(f"\nshort-text accuracy {overall:.1%} ({report})")
    for language, text, found in misses:
        print(f"  {language}: {text!r} -> {found}")
    assert overall >= MIN_ACCURACY
    assert min(per_language.values()) >= MIN_LANGUAGE_ACCURACY, report
