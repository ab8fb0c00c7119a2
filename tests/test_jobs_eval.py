"""The labelled set of benchmarks/jobs_eval.py is well formed (its figures are measured by the
benchmark, not asserted here: building the matcher takes a minute, see docs/BENCHMARKS.md)."""

from __future__ import annotations

import csv
import gzip

from benchmarks.build_jobs_set import split_of
from benchmarks.jobs_eval import load_set
from storage.rome import SNAPSHOT


def _codes() -> set[str]:
    (path,) = SNAPSHOT.glob("unix_referentiel_code_rome_v*_utf8.csv.gz")
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return {row["code_rome"] for row in csv.DictReader(handle)}


def test_every_label_is_a_job_of_the_shipped_referential_with_its_source():
    codes = _codes()
    rows = load_set("all")
    assert len(rows) >= 100
    assert {r["split"] for r in rows} == {"tune", "test"}
    for row in rows:
        assert set(row["acceptable"]) <= codes, row["title"]
        assert row["platform"] and row["external_id"] and row["title"], row
        assert row["source"].startswith(("crawlers/recordings/", "../shared/realdata/")), row
        assert row["split"] == split_of(row["platform"], row["external_id"]), "the fixed rule"
    keys = [(r["platform"], r["external_id"]) for r in rows]
    assert len(keys) == len(set(keys)), "one case per listing"
    official = [r for r in rows if r["label"] == "official codes"]
    assert official, "the recorded offers that state ROME codes are cases"
    for row in official:
        stated = row["note"].split(": ")[1].split()
        assert set(stated) <= set(row["acceptable"]), row
    assert sum(1 for r in rows if not r["acceptable"]) >= 5, "texts that should get no job"
