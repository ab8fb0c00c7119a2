"""The labelled corpus: big enough, every line sourced, and the accuracy targets hold.

The accuracy report with every miss: ``.venv/bin/python -m benchmarks.accuracy``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.corpus import FIELDS, TARGETS, load, score
from tests.conftest import ROOT

MINIMUMS = {"dates": 100, "duration+effort": 40, "level": 30, "all": 250}


def test_corpus_is_large_enough():
    counts = {field: len(load(field)) for field in FIELDS}
    assert counts["dates"] >= MINIMUMS["dates"]
    assert counts["duration"] + counts["effort"] >= MINIMUMS["duration+effort"]
    assert counts["level"] >= MINIMUMS["level"]
    assert sum(counts.values()) >= MINIMUMS["all"]


@pytest.mark.parametrize("field", FIELDS)
def test_every_line_is_sourced_and_labelled(field):
    for line in load(field):
        assert line["field"] == field
        assert line["text"] is not None and line["source"]
        assert isinstance(line["expected"], dict) and line["expected"]
        assert "fun_mooc" not in line["source"], "the FUN-MOOC recordings are built, not real"
        if field == "dates":
            assert line["today"]


def _realdata() -> Path | None:
    for base in (ROOT.parent, ROOT.parent.parent):
        if (base / "shared" / "realdata").is_dir():
            return base
    return None


def test_strings_from_shared_realdata_are_verbatim():
    base = _realdata()
    if base is None:
        pytest.skip("../shared/realdata is not beside this checkout; cannot re-read the sources")
    checked = 0
    for field in FIELDS:
        for line in load(field):
            source = line["source"]
            if not source.startswith("shared/realdata/") or "joined" in source:
                continue
            path = base / source.split(" ")[0]
            raw = path.read_text(encoding="utf-8")
            assert line["text"] in raw, (line["text"], path)
            checked += 1
    assert checked >= 60


@pytest.mark.parametrize("field", sorted(TARGETS))
def test_accuracy_targets_hold(field):
    count, misses = score(field)
    accuracy = (count - len(misses)) / count
    listed = [miss.line["text"] for miss in misses]
    assert accuracy >= TARGETS[field], f"{field}: {accuracy:.1%} < {TARGETS[field]:.0%}; {listed}"
