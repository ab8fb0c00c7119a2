"""Store and link 10,000 then 100,000 synthetic listings through the real code, into SQLite.

Prints listings per second for each size, the 100k/10k time ratio beside the linear
baseline (10; target ≤ 12), peak memory, and the time of a second run of the same 100k
listings (nothing changed) beside the first run (target ≤ 0.33). Also reports how well the
catalogue's linkage recovered the generator's known duplicates and near misses.

Run: ``python -m benchmarks.scale`` (``--sizes 2000 20000`` for a quick look). Each size runs
in its own process so that peak memory is that size's alone.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

BATCH = 500


def store_all(writer, entries, when) -> float:
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


def run_size(size: int, second_run: bool) -> dict:
    """In a child process: generate, store, optionally store again; report JSON."""
    from benchmarks.synthetic import generate
    from storage.catalogue import CatalogueWriter
    from storage.db import ensure_schema, make_engine

    catalogue = generate(size, seed=size)
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'scale.sqlite3'}")
        ensure_schema(engine)
        when = datetime(2026, 11, 15, 1, tzinfo=UTC)
        first, first_cpu = store_all(CatalogueWriter(engine), catalogue.entries, when)
        result = {"size": len(catalogue.entries), "first_seconds": first, "first_cpu": first_cpu}
        if second_run:
            again, again_cpu = store_all(
                CatalogueWriter(engine), catalogue.entries, when + timedelta(days=1)
            )
            result["second_seconds"], result["second_cpu"] = again, again_cpu
        result.update(linkage_quality(engine, catalogue))
        engine.dispose()
    result["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def child(size: int, second_run: bool) -> dict:
    command = [sys.executable, "-m", "benchmarks.scale", "--child", str(size)]
    if second_run:
        command.append("--second-run")
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs=2, default=[10_000, 100_000])
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--second-run", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_size(args.child, args.second_run)))
        return 0
    small_size, large_size = args.sizes
    small = child(small_size, second_run=False)
    large = child(large_size, second_run=True)
    for r in (small, large):
        print(
            f"{r['size']:>7} listings: {r['first_seconds']:7.1f} s, "
            f"{r['size'] / r['first_seconds']:7.0f} listings/s, "
            f"peak memory {r['peak_rss_mib']:.0f} MiB; "
            f"linkage: {r['duplicates_linked']}/{r['duplicates']} duplicates linked, "
            f"{r['near_misses_merged']}/{r['near_misses']} near misses merged, "
            f"{r['courses']} courses for {r['true_courses']} true"
        )
    linear = large["size"] / small["size"]
    ok = True
    for clock, suffix in (("wall clock", "seconds"), ("CPU time", "cpu")):
        scale = large[f"first_{suffix}"] / small[f"first_{suffix}"]
        second = large[f"second_{suffix}"] / large[f"first_{suffix}"]
        print(
            f"{clock:>10}: time {large['size']}/{small['size']} = {scale:.2f} "
            f"(linear baseline {linear:.0f}, ratio to linear {scale / linear:.2f}, "
            f"target ≤ {1.2 * linear:.0f}); second run of the same {large['size']} "
            f"(no changes) {large[f'second_{suffix}']:.1f} s vs first "
            f"{large[f'first_{suffix}']:.1f} s = {second:.2f} (target ≤ 0.33)"
        )
        ok &= scale <= 1.2 * linear and second <= 0.33
    print(
        "The wall clock counts disk waits and any other load on the machine; CPU time "
        "is this process alone."
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
