"""What an incremental second night costs against a full crawl: requests and bytes.

    .venv/bin/python -m benchmarks.incremental [--spiders openclassrooms udemy …]

Three replayed crawls of the sitemap spiders (course pages, sitemaps asked for
conditionally) and of the API spiders whose pages are asked for conditionally or whose
records state their change (fun_mooc, richie_sites, coursera, canal_u) into a fresh
SQLite catalogue, through
``moisson crawl --replay --json`` (Scrapy's real engine; the replay answers conditional
requests as a server would, crawlers/replay.py): the first night, then the second night
incremental (the default) and, as the baseline, a second night with
``MOISSON_INCREMENTAL=False``, which reads every page again. Nothing changed between the
nights, which is what most pages of a real platform do from one night to the next.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from crawlers import incremental

REFERENCE_TIME = "2026-11-15T12:00:00+01:00"  # the recordings' "now"
SPIDERS = (
    "openclassrooms", "udemy", "schema_org", "fun_mooc", "richie_sites", "coursera", "canal_u",
)  # fmt: skip


def night(db: str, spiders: list[str], *extra: str) -> dict:
    command = [sys.executable, "-m", "moisson.cli", "crawl", *spiders, "--replay", "--json"]
    command += ["--db", db, "--reference-time", REFERENCE_TIME, "--quiet", *extra]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"crawl failed ({result.returncode}):\n{result.stderr[-2000:]}")
    reports = json.loads(result.stdout)["spiders"]
    total = {"requests": 0, "bytes": 0, "unchanged": 0, "missing": 0}
    for report in reports.values():
        for key in total:
            total[key] += report[key]
    total["incremental"] = {
        key: sum(r["incremental"].get(key, 0) for r in reports.values())
        for key in incremental.COUNTERS
    }
    total["spiders"] = {name: (r["requests"], r["bytes"]) for name, r in reports.items()}
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spiders", nargs="+", default=list(SPIDERS))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        db = f"sqlite:///{Path(folder) / 'catalogue.sqlite3'}"
        first = night(db, args.spiders)
        second = night(db, args.spiders)
        full = night(db, args.spiders, "--set", "MOISSON_INCREMENTAL=False")
    print(f"spiders: {', '.join(args.spiders)} (replayed recordings, nothing changed)")
    print(f"{'':34}{'requests':>10}{'bytes':>12}")
    print(f"{'first night':34}{first['requests']:>10}{first['bytes']:>12,}")
    print(f"{'second night, full (baseline)':34}{full['requests']:>10}{full['bytes']:>12,}")
    print(f"{'second night, incremental':34}{second['requests']:>10}{second['bytes']:>12,}")
    print(
        f"ratio incremental / full: requests {second['requests'] / full['requests']:.2f}, "
        f"bytes {second['bytes'] / full['bytes']:.3f}"
    )
    print(
        "incremental night: {conditional} conditional requests, {not_modified} answered 304, "
        "{skipped_lastmod} pages skipped by sitemap lastmod, {skipped_modified} API records "
        "skipped by their modified date".format(**second["incremental"])
    )
    print(f"{'per spider (incremental / full)':34}{'requests':>10}{'bytes':>12}")
    for name in args.spiders:
        (requests, size), (all_requests, all_size) = second["spiders"][name], full["spiders"][name]
        print(f"  {name:32}{requests:>4} / {all_requests:<4}{size:>9,} / {all_size:,}")
    print(
        f"listings seen unchanged: {second['unchanged']} (full night: {full['unchanged']}); "
        f"marked missing: {second['missing']}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
