"""Build benchmarks/data/jobs/labelled.jsonl: the hand labels of labels.csv joined with the
course texts the recordings hold, as a replayed catalogue stores them.

    moisson demo --db sqlite:///var/bench/demo.sqlite3
    python -m benchmarks.build_jobs_set --db sqlite:///var/bench/demo.sqlite3

Each label row names a listing by platform and exact title; its text (title, categories,
introduction, description) is copied from the listing's record. Listings stating official
ROME codes (LHEO, CPF) are added with those codes as their acceptable jobs. Rows alternate
between the ``tune`` and ``test`` splits in file order.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

from sqlalchemy import select

from storage.db import make_engine
from storage.models import Listing, Platform

HERE = Path(__file__).resolve().parent / "data" / "jobs"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    args = parser.parse_args(argv)
    engine = make_engine(args.db)
    with engine.connect() as conn:
        records = [
            (platform, record)
            for platform, record in conn.execute(
                select(Platform.name, Listing.record).join(Platform).order_by(Listing.id)
            )
            if record
        ]
    by_title = {(p, r["title"]): r for p, r in records}
    rows = []
    with (HERE / "labels.csv").open(encoding="utf-8", newline="") as handle:
        for label in csv.DictReader(handle):
            record = by_title.get((label["platform"], label["title"]))
            if record is None:  # not in the catalogue (dropped as not French…): said, skipped
                print(f"skipped, no listing {label['platform']}: {label['title']!r}")
                continue
            rows.append((record, label["acceptable"].split(), "hand", label["note"]))
    for _platform, record in records:
        codes = (record.get("codes") or {}).get("rome")
        if codes:
            rows.append((record, codes, "official codes", "codes stated by the platform"))
    with (HERE / "labelled.jsonl").open("w", encoding="utf-8") as out:
        for i, (record, acceptable, label, note) in enumerate(rows):
            entry = {
                "split": "tune" if i % 2 == 0 else "test",
                "label": label,
                "platform": record["platform"],
                "external_id": record["external_id"],
                "title": record["title"],
                "categories": record.get("categories") or [],
                "introduction": record.get("introduction"),
                "description": record.get("description"),
                "acceptable": acceptable,
                "note": note,
            }
            out.write(json.dumps(entry, ensure_ascii=False) + "\n")
    print(f"{len(rows)} labelled texts written to {HERE / 'labelled.jsonl'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
