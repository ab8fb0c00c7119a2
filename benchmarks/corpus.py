"""The labelled corpus of real strings (tests/data/normalisation/*.jsonl) and its scoring.

Each line: ``field``, ``text`` (copied exactly from ``source``), ``expected`` (what a
careful reader understands; ``{"unparsed": true}`` when there is nothing to understand),
optional ``today``, ``platform``, ``description`` (topics and language read title and
description) and ``note``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "data" / "normalisation"
FIELDS = ("dates", "duration", "effort", "level", "topics", "price", "certificate", "language")
TARGETS = {"dates": 0.97, "duration": 0.95, "effort": 0.95, "level": 1.0}
COMPARED = {
    "dates": ("start", "end", "enrolment_start", "enrolment_end", "pace"),
    "duration": ("weeks", "hours"),
    "effort": ("hours_per_week",),
    "level": ("level",),
    "topics": ("topics",),
    "price": ("free", "amount", "currency", "certificate_price"),
    "certificate": ("certificate",),
    "language": ("language",),
}


@dataclass
class Miss:
    line: dict
    got: dict


def load(field: str) -> list[dict]:
    path = CORPUS / f"{field}.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def run(line: dict) -> dict:
    """What the normaliser makes of one corpus line, as the JSON ``moisson normalise`` prints."""
    from moisson.normalise import normalise_text

    today = date.fromisoformat(line["today"]) if "today" in line else None
    return normalise_text(
        line["field"], line["text"], today, line.get("platform"), line.get("description")
    )


def _same(expected, got) -> bool:
    if isinstance(expected, list) and isinstance(got, list):
        if all(isinstance(v, int | float) for v in expected + got):
            return len(expected) == len(got) and all(
                abs(a - b) <= 0.01 for a, b in zip(expected, got, strict=True)
            )
        return sorted(expected) == sorted(got)
    if isinstance(expected, int | float) and isinstance(got, int | float):
        return abs(expected - got) <= 0.01
    return expected == got


def correct(line: dict, got: dict) -> bool:
    expected = line["expected"]
    if expected.get("unparsed"):
        return bool(got.get("unparsed"))
    return all(_same(expected.get(key), got.get(key)) for key in COMPARED[line["field"]])


def score(field: str) -> tuple[int, list[Miss]]:
    lines = load(field)
    misses = [Miss(line, got) for line in lines if not correct(line, got := run(line))]
    return len(lines), misses
