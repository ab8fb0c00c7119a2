"""Store many listings that share a few courses, beside as many listings of distinct courses.

A training catalogue (LHEO: one formation, thousands of actions) lists one course many
times; storing must cost about the same per listing either way. Prints the wall and
CPU seconds of each and the ratio of CPU seconds (shared / distinct; target ≤ 2). CPU
time is the figure: wall time follows the machine's other load.

Run: ``python -m benchmarks.shared_course`` (``--listings 3600 --courses 3``).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

BATCH = 500
WHEN = datetime(2026, 11, 15, 1, tzinfo=UTC)


def records(listings: int, courses: int | None):
    """``listings`` records; titles cycle over ``courses`` (None: every title distinct)."""
    from pipelines.records import CourseRecord, SessionRecord

    out = []
    for i in range(listings):
        title = f"Formation {i % courses if courses else i} : gestion de projet"
        start = WHEN + timedelta(days=i % 300)
        out.append(
            CourseRecord(
                platform="lheo",
                external_id=f"action-{i}",
                url=f"https://formations.example.org/actions/{i}",
                title=title,
                organisations=[f"Organisme {i % courses if courses else i}"],
                sessions=[
                    SessionRecord(
                        key=f"s{i}", start=start, end=start + timedelta(days=30), pace="scheduled"
                    )
                ],
            )
        )
    return out


def store_seconds(listings: int, courses: int | None) -> tuple[float, float]:
    """(wall, CPU) seconds to store the listings in batches of ``BATCH``."""
    from storage.catalogue import CatalogueWriter
    from storage.db import ensure_schema, make_engine

    entries = [(record, {"id": record.external_id}) for record in records(listings, courses)]
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'shared.sqlite3'}")
        ensure_schema(engine)
        writer = CatalogueWriter(engine)
        platform_id = writer.platform_id("lheo")
        run_id = writer.start_run("lheo", platform_id, WHEN, replay=True)
        started, cpu = time.perf_counter(), time.process_time()
        for offset in range(0, len(entries), BATCH):
            writer.store(run_id, platform_id, entries[offset : offset + BATCH], WHEN)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        engine.dispose()
    return elapsed, cpu


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listings", type=int, default=3600)
    parser.add_argument("--courses", type=int, default=3)
    args = parser.parse_args(argv)
    distinct, distinct_cpu = store_seconds(args.listings, None)
    shared, shared_cpu = store_seconds(args.listings, args.courses)
    print(
        f"{args.listings} listings of {args.listings} courses (baseline): "
        f"{distinct:.2f} s ({distinct_cpu:.2f} s CPU)"
    )
    print(
        f"{args.listings} listings of {args.courses} courses: "
        f"{shared:.2f} s ({shared_cpu:.2f} s CPU)"
    )
    print(f"ratio shared / distinct, CPU: {shared_cpu / distinct_cpu:.2f} (target <= 2)")


if __name__ == "__main__":
    main()
