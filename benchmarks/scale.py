"""Store and link 10,000 then 100,000 synthetic listings through the real code.

Prints, for each size, the wall clock and CPU time of a first run and, for the large size,
of a second run of the same listings (nothing changed), each beside its baseline: the
figures of docs/BENCHMARKS.md before issue 12 (313 s for 100,000 listings on SQLite; ratio
100k/10k 10.2; second run / first 0.04) and the issue's targets. The time spent in the
read index's ``readindex.refresh`` is measured apart and the totals are printed with and
without it, so the write path and the read index can be judged separately.

Run: ``python -m benchmarks.scale`` (SQLite, a fresh file per size), ``--db
postgresql+psycopg://…`` (a schema of its own per size, dropped afterwards), ``--sizes 2000
20000`` for a quick look, ``--against DIR`` to run the same generated listings through
another checkout (e.g. ``git worktree add /tmp/base main``) in the same invocation, side
by side. Each size runs in its own process so that peak memory is that size's alone.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

BATCH = 500
HERE = Path(__file__).resolve()
# docs/BENCHMARKS.md, measured on 2026-11-28 (SQLite, 2-core machine, idle), and issue 12
BASELINE = {"large_seconds": 313.0, "ratio": 10.22, "second_ratio": 0.04}
TARGETS = {"sqlite": 60.0, "postgresql": 90.0, "ratio": 11.0, "second_ratio": 0.05}


class RefreshTimer:
    """Time spent in ``storage.readindex.refresh`` (the read index), measured apart."""

    def __init__(self):
        self.seconds = 0.0
        self.cpu = 0.0

    def install(self) -> None:
        from storage import readindex

        real = getattr(readindex, "refresh", None)
        if real is None:  # a read index without a per-batch refresh: nothing to separate
            return

        def timed(*args, **kwargs):
            started, cpu = time.perf_counter(), time.process_time()
            try:
                return real(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started
                self.cpu += time.process_time() - cpu

        readindex.refresh = timed

    def take(self) -> tuple[float, float]:
        taken = (self.seconds, self.cpu)
        self.seconds = self.cpu = 0.0
        return taken


def store_all(writer, entries, when) -> tuple[float, float]:
    platforms: dict[str, list] = {}
    for record, raw in entries:
        platforms.setdefault(record.platform, []).append((record, raw))
    started, cpu = time.perf_counter(), time.process_time()
    for platform, listed in platforms.items():
        platform_id = writer.platform_id(platform)
        run_id = writer.start_run(platform, platform_id, when, replay=True)
        for offset in range(0, len(listed), BATCH):
            writer.store(run_id, platform_id, listed[offset : offset + BATCH], when)
    return time.perf_counter() - started, time.process_time() - cpu


def linkage_quality(engine, catalogue) -> dict:
    from sqlalchemy import select

    from storage.models import Listing, Platform

    with engine.connect() as conn:
        course = {
            (p, e): c
            for p, e, c in conn.execute(
                select(Platform.name, Listing.external_id, Listing.course_id).join(
                    Platform, Platform.id == Listing.platform_id
                )
            )
        }
    found = sum(course[a] == course[b] for a, b in catalogue.duplicate_pairs)
    merged = sum(course[a] == course[b] for a, b in catalogue.near_miss_pairs)
    return {
        "duplicates_linked": found,
        "duplicates": len(catalogue.duplicate_pairs),
        "near_misses_merged": merged,
        "near_misses": len(catalogue.near_miss_pairs),
        "courses": len(set(course.values())),
        "true_courses": len(set(catalogue.truth.values())),
    }


@contextmanager
def database(url: str | None):
    """A fresh catalogue: a new SQLite file, or a new schema in the PostgreSQL ``url``."""
    if not url or url.startswith("sqlite"):
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{Path(folder) / 'scale.sqlite3'}"
        return
    from sqlalchemy import create_engine, text

    schema = f"bench_scale_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        separator = "&" if "?" in url else "?"
        yield f"{url}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def run_size(size: int, second_run: bool, url: str | None) -> dict:
    """In a child process: generate, store, optionally store again; report JSON."""
    from benchmarks.synthetic import generate
    from storage.catalogue import CatalogueWriter
    from storage.db import ensure_schema, make_engine

    timer = RefreshTimer()
    timer.install()
    catalogue = generate(size, seed=size)
    with database(url) as db_url:
        engine = make_engine(db_url)
        ensure_schema(engine)
        when = datetime(2026, 11, 15, 1, tzinfo=UTC)
        first, first_cpu = store_all(CatalogueWriter(engine), catalogue.entries, when)
        result = {"size": len(catalogue.entries), "first_seconds": first, "first_cpu": first_cpu}
        result["first_refresh"], result["first_refresh_cpu"] = timer.take()
        if second_run:
            again, again_cpu = store_all(
                CatalogueWriter(engine), catalogue.entries, when + timedelta(days=1)
            )
            result["second_seconds"], result["second_cpu"] = again, again_cpu
            result["second_refresh"], result["second_refresh_cpu"] = timer.take()
        result.update(linkage_quality(engine, catalogue))
        engine.dispose()
    result["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def child(size: int, second_run: bool, url: str | None, checkout: Path | None) -> dict:
    """One size in its own process; ``checkout``: import the catalogue code from there."""
    command = [sys.executable, str(HERE), "--child", str(size)]
    if second_run:
        command.append("--second-run")
    if url:
        command += ["--db", url]
    root = checkout or HERE.parent.parent
    env = {**os.environ, "PYTHONPATH": str(root)}
    output = subprocess.run(
        command, check=True, capture_output=True, text=True, cwd=root, env=env
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def figures(small: dict, large: dict, engine: str) -> list[tuple[str, float, float, str]]:
    """(figure, measured, baseline, target) rows; ``_w`` = without the read index refresh."""
    rows = []
    for label, key in (("", ""), (" without readindex.refresh", "_w")):

        def first(r, clock="seconds", key=key):
            total = r[f"first_{clock}"]
            if key:
                total -= r["first_refresh" + ("_cpu" if clock == "cpu" else "")]
            return total

        def second(r, clock="seconds", key=key):
            total = r[f"second_{clock}"]
            if key:
                total -= r["second_refresh" + ("_cpu" if clock == "cpu" else "")]
            return total

        rows += [
            (
                f"store + link {large['size']:,}, wall{label}",
                first(large),
                BASELINE["large_seconds"] if engine == "sqlite" else float("nan"),
                f"≤ {TARGETS[engine]:.0f} s",
            ),
            (f"store + link {large['size']:,}, CPU{label}", first(large, "cpu"), float("nan"), ""),
            (
                f"time {large['size']:,} / {small['size']:,}, wall{label}",
                first(large) / first(small),
                BASELINE["ratio"],
                f"≤ {TARGETS['ratio']:.0f}",
            ),
            (
                f"second run (unchanged) / first, wall{label}",
                second(large) / first(large),
                BASELINE["second_ratio"],
                f"≤ {TARGETS['second_ratio']}",
            ),
            (
                f"second run (unchanged) {large['size']:,}, wall{label}",
                second(large),
                float("nan"),
                "",
            ),
        ]
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs=2, default=[10_000, 100_000])
    parser.add_argument("--db", help="a PostgreSQL URL (default: a fresh SQLite file)")
    parser.add_argument("--against", type=Path, help="another checkout, measured alongside")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--second-run", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_size(args.child, args.second_run, args.db)))
        return 0
    engine = "postgresql" if args.db and args.db.startswith("postgresql") else "sqlite"
    small_size, large_size = args.sizes
    checkouts = [("this checkout", None)]
    if args.against:
        checkouts.append((f"{args.against}", args.against.resolve()))
    results = {}
    for name, checkout in checkouts:
        small = child(small_size, False, args.db, checkout)
        large = child(large_size, True, args.db, checkout)
        results[name] = (small, large)
        print(f"== {name} ({engine})")
        for r in (small, large):
            print(
                f"{r['size']:>7} listings: {r['first_seconds']:7.1f} s wall "
                f"({r['first_refresh']:.1f} s of it in readindex.refresh), "
                f"{r['first_cpu']:7.1f} s CPU, {r['size'] / r['first_seconds']:6.0f} listings/s, "
                f"peak memory {r['peak_rss_mib']:.0f} MiB; "
                f"linkage: {r['duplicates_linked']}/{r['duplicates']} duplicates linked, "
                f"{r['near_misses_merged']}/{r['near_misses']} near misses merged, "
                f"{r['courses']} courses for {r['true_courses']} true"
            )
    print(
        f"\n{'figure':<58} {'measured':>9} {'baseline':>9} {'ratio':>6}  target"
        + "".join(f"  {name:>12}" for name, _c in checkouts[1:])
    )
    ok = True
    mine = figures(*results["this checkout"], engine)
    others = [figures(*results[name], engine) for name, _c in checkouts[1:]]
    for index, (label, measured, baseline, target) in enumerate(mine):
        ratio = measured / baseline if baseline == baseline else float("nan")
        line = f"{label:<58} {measured:9.2f} {baseline:9.2f} {ratio:6.2f}  {target:<8}"
        for other in others:
            line += f"  {other[index][1]:12.2f}"
        print(line)
    small, large = results["this checkout"]
    ok = (
        large["first_seconds"] <= TARGETS[engine]
        and large["first_seconds"] / small["first_seconds"] <= TARGETS["ratio"]
        and large["second_seconds"] / large["first_seconds"] <= TARGETS["second_ratio"]
    )
    print(
        "Baseline: docs/BENCHMARKS.md before issue 12 (SQLite). The wall clock counts disk "
        "waits and any other load on the machine; CPU time is the benchmark's process alone "
        "(on PostgreSQL the server's work is not in it)."
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
