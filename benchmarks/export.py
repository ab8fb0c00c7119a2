"""Time and peak memory of each open-data export on a catalogue of generated courses.

    .venv/bin/python -m benchmarks.export [--size 100000] [--db URL] [--formats lheo,csv]

Builds (once, then reuses) the catalogue of ``benchmarks.api_latency`` (``--size`` courses
stored through ``CatalogueWriter``), then runs each export in a fresh process, writing to
``/dev/null`` exactly what ``moisson export FORMAT`` writes, and prints its time, courses
per second, and the process's memory once a tenth of the courses are written and at the
end: its peak resident size, and the largest anonymous memory (heap: ``RssAnon``) sampled
once a batch. The resident size also counts the catalogue file's pages that the portal's
read-only engine maps into memory (``mmap_size``, bounded by the mapping); the heap is
what the export itself holds. Equal heaps at a tenth and at the end mean memory does not
grow with the number of courses (the issue: bounded memory, ≤ 30 s per format for 100,000
courses on SQLite). The baseline
beside them is the read alone (``storage.export_queries.export_courses`` without a writer);
``× read`` is the format's time over the baseline's; ``× target`` the rate over the
target's (≥ 1 meets it), by wall clock and by CPU time of the export's process (on a shared
machine the CPU time is the steadier figure). The load average is printed first.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

TARGET_SECONDS = 30.0
TARGET_COURSES = 100_000
TARGET_RATE = TARGET_COURSES / TARGET_SECONDS  # courses/s, whatever the catalogue's size
FORMATS = ("lheo", "jsonld", "moochub", "csv")


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _anon_mib() -> float:
    """The process's anonymous memory now (heap and stacks: RssAnon), without the pages of
    the catalogue file that SQLite maps into memory (``mmap_size``), which count in the
    peak resident size but belong to the page cache, bounded by the mapping's size."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run_one(url: str, fmt: str, total: int) -> dict:
    """One export in this process (the child's side): figures as a dict."""
    from datetime import UTC, datetime

    from portal.opendata import Export
    from portal.opendata.formats import FORMATS as WRITERS
    from storage.export_queries import export_courses
    from storage.readonly import open_readonly
    from storage.search import CourseFilters

    engine = open_readonly(url)
    now = datetime(2026, 11, 15, 11, 0, tzinfo=UTC)
    export = Export("https://cours.example.fr", now)
    tenth = max(1, total // 10)
    seen = {"count": 0, "peak_tenth": None, "anon": 0.0, "anon_tenth": None}
    start_mib = _peak_mib()

    def courses():
        for course in export_courses(engine, CourseFilters(), now):
            seen["count"] += 1
            if seen["count"] % 500 == 0:  # sampled once a batch
                seen["anon"] = max(seen["anon"], _anon_mib())
            if seen["count"] == tenth:
                seen["peak_tenth"] = _peak_mib()
                seen["anon_tenth"] = seen["anon"]
            yield course

    started, cpu = time.perf_counter(), time.process_time()
    with open("/dev/null", "wb") as out:
        if fmt == "read":
            for _course in courses():
                pass
        else:
            for piece in WRITERS[fmt].write(courses(), export):
                out.write(piece.encode("utf-8") if isinstance(piece, str) else piece)
    seconds = time.perf_counter() - started
    return {
        "format": fmt,
        "courses": seen["count"],
        "seconds": seconds,
        "cpu_seconds": time.process_time() - cpu,
        "peak_start_mib": start_mib,
        "peak_tenth_mib": seen["peak_tenth"],
        "peak_end_mib": _peak_mib(),
        "anon_tenth_mib": seen["anon_tenth"],
        "anon_end_mib": max(seen["anon"], _anon_mib()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000, help="courses to generate")
    parser.add_argument("--db", help="catalogue URL (default: var/bench/courses-SIZE.sqlite3)")
    parser.add_argument("--formats", default=",".join(FORMATS))
    parser.add_argument("--child", help=argparse.SUPPRESS)  # FORMAT: run one export, print JSON
    args = parser.parse_args(argv)
    url = args.db or f"sqlite:///{Path('var') / 'bench' / f'courses-{args.size}.sqlite3'}"
    if args.child:
        print(json.dumps(run_one(url, args.child, args.size)))
        return 0
    from benchmarks.api_latency import build_catalogue

    build_catalogue(url, args.size)
    rows = []
    for fmt in ["read", *args.formats.split(",")]:
        child = subprocess.run(
            [sys.executable, "-m", "benchmarks.export", "--db", url, "--size", str(args.size)]
            + ["--child", fmt],
            check=True,
            capture_output=True,
            text=True,
        )
        rows.append(json.loads(child.stdout.splitlines()[-1]))
    baseline = rows[0]["seconds"]
    load = os.getloadavg()
    print(
        f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
        f"({os.cpu_count()} cores); target ≥ {TARGET_RATE:,.0f} courses/s "
        f"({TARGET_COURSES:,} in ≤ {TARGET_SECONDS:.0f} s); × target is the rate over it "
        "(≥ 1 meets it), by wall clock and by CPU time"
    )
    print(
        f"{'export':<10} {'courses':>8} {'seconds':>8} {'CPU s':>7} {'courses/s':>10} "
        f"{'× target':>8} {'CPU × target':>12} {'× read':>7} "
        f"{'peak RSS MiB 1/10':>17} {'end':>5} {'heap MiB 1/10':>13} {'end':>5}"
    )
    for row in rows:
        rate = row["courses"] / row["seconds"]
        cpu_rate = row["courses"] / max(row["cpu_seconds"], 1e-9)
        verdict = "" if row["format"] == "read" else ("met" if rate >= TARGET_RATE else "MISSED")
        print(
            f"{row['format'] if row['format'] != 'read' else 'read alone':<10} "
            f"{row['courses']:>8} {row['seconds']:>8.1f} {row['cpu_seconds']:>7.1f} "
            f"{rate:>10.0f} {rate / TARGET_RATE:>8.2f} {cpu_rate / TARGET_RATE:>12.2f} "
            f"{row['seconds'] / baseline:>7.2f} "
            f"{row['peak_tenth_mib'] or 0:>17.0f} {row['peak_end_mib']:>5.0f} "
            f"{row['anon_tenth_mib'] or 0:>13.0f} {row['anon_end_mib']:>5.0f}  {verdict}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
