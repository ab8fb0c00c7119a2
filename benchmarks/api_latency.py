"""Latency of the API's query kinds on a catalogue of 100,000 generated courses.

    .venv/bin/python -m benchmarks.api_latency [--size 100000] [--runs 50] [--db URL]...

``--db`` may be repeated (``--db sqlite:///… --db postgresql+psycopg://…``): one table
then shows both databases side by side, each figure with its baseline.

Builds (once, then reuses) a catalogue of ``--size`` courses from ``benchmarks.synthetic``
through ``CatalogueWriter``, the way crawls store them (about 9 % of the courses are listed
on two platforms, which linkage joins), then measures p50 and p95 of each query kind
in-process (the ASGI app through Starlette's TestClient, no network). The baseline beside
each figure is a bare ``SELECT 1`` round trip on the same read-only engine; the ratio
column is p95 / baseline. The issue's target is p95 ≤ 50 ms per query kind on both
databases. The figures are cold: the portal's minute cache is off (``cache_size=0``).
"""

from __future__ import annotations

import argparse
import random
import socket
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select, text

TARGET_MS = 50.0
NOW = datetime(2026, 11, 15, 11, 0, tzinfo=UTC)  # the generator's "now"


def build_catalogue(url: str, size: int) -> None:
    from benchmarks.synthetic import generate
    from storage.catalogue import CatalogueWriter, RunSummary, StoreCounts
    from storage.db import ensure_schema, make_engine
    from storage.models import Course

    engine = make_engine(url)
    ensure_schema(engine)
    with engine.connect() as conn:
        existing = conn.execute(select(func.count(Course.id))).scalar_one()
    if existing >= size * 0.99:  # linkage may join a few of the generator's near misses
        print(f"reusing the catalogue at {url} ({existing} courses)")
        engine.dispose()
        return
    if existing:
        raise SystemExit(f"{url} holds {existing} courses, fewer than {size}: remove it first")
    started = time.perf_counter()
    catalogue = generate(int(size * 1.15), seed=6)  # a listing per course and ~9 % more
    by_platform: dict[str, list] = {}
    for record, raw in catalogue.entries:
        if catalogue.truth[(record.platform, record.external_id)] <= size:  # course number
            by_platform.setdefault(record.platform, []).append((record, raw))
    writer = CatalogueWriter(engine)
    for platform, entries in by_platform.items():
        platform_id = writer.platform_id(platform, platform.replace("_", " ").title())
        run = writer.start_run(platform, platform_id, NOW, replay=True)
        counts = StoreCounts()
        for start in range(0, len(entries), 500):
            counts.add(writer.store(run, platform_id, entries[start : start + 500], NOW))
        writer.finish_run(run, RunSummary("finished", NOW, items_scraped=len(entries)), counts)
    engine.dispose()
    listings = sum(len(entries) for entries in by_platform.values())
    print(
        f"built {size} courses ({listings} listings) into {url} "
        f"in {time.perf_counter() - started:.0f} s"
    )


def queries(course_ids: list[int]) -> dict[str, Callable[[random.Random], str]]:
    """The query kinds of issue 12, each a function of a random generator."""
    words = ["statistique", "python", "gestion de projet", "données", "droit", "énergie"]
    return {
        "text": lambda r: f"/api/v1/courses?q={r.choice(words)}&facets=false",
        "text + filters": lambda r: (
            f"/api/v1/courses?q={r.choice(words)}&state=enrolment_open&level=debutant"
            "&platform=fun_mooc&facets=false"
        ),
        "state sorted by start": lambda r: (
            f"/api/v1/courses?state={r.choice(['enrolment_open', 'upcoming', 'starting_soon'])}"
            f"&sort=start&page={r.randint(1, 5)}&facets=false"
        ),
        "landing facets": lambda r: "/api/v1/courses?per_page=20&facets=true",
        "one choice": lambda r: (
            "/api/v1/courses?per_page=20&facets=true&"
            + r.choice(["state=enrolment_open", "platform=fun_mooc", "level=debutant"])
        ),
        "two choices, two facets": lambda r: (
            "/api/v1/courses?per_page=20&facets=true&state=upcoming&"
            + r.choice(["platform=fun_mooc", "level=debutant", "free=true"])
        ),
        "two values of one facet": lambda r: (
            "/api/v1/courses?per_page=20&facets=true&"
            + r.choice(
                [
                    "platform=fun_mooc&platform=edx",
                    "level=debutant&level=avance",
                    "state=upcoming&state=self_paced",
                ]
            )
        ),
        "detail": lambda r: f"/api/v1/courses/{r.choice(course_ids)}",
    }


def percentiles(samples: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples, n=20, method="inclusive")
    return statistics.median(samples), cuts[18]


def measure(call: Callable[[], object], runs: int, warmup: int = 3) -> tuple[float, float]:
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return percentiles(samples)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(url: str, size: int, runs: int) -> tuple[str, float, dict[str, tuple[float, float]]]:
    """(dialect, baseline p95, {query kind: (p50, p95)}) of one catalogue, in-process
    (the ASGI app through Starlette's TestClient), the minute cache off."""
    build_catalogue(url, size)
    from fastapi.testclient import TestClient

    from portal.app import create_app
    from storage.models import Course
    from storage.readonly import open_readonly

    engine = open_readonly(url)
    with engine.connect() as conn:
        course_ids = list(conn.execute(select(Course.id)).scalars())
    app = create_app(engine, clock=lambda: NOW, cache_size=0)
    # entered once: each request then runs on one event loop, as in a server
    local = TestClient(app).__enter__()

    def select_one():
        with engine.connect() as conn:
            conn.execute(text("SELECT 1")).scalar()

    _base50, base95 = measure(select_one, runs * 4)
    figures = {}
    for name, make in queries(course_ids).items():
        rng = random.Random(name)
        figures[name] = measure(lambda make=make, rng=rng: _ok(local.get(make(rng))), runs)
    local.__exit__(None, None, None)
    engine.dispose()
    print(f"{engine.dialect.name}: {len(course_ids)} courses measured")
    return engine.dialect.name, base95, figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000, help="courses to generate")
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument(
        "--db",
        action="append",
        help="catalogue URL, repeatable (default: var/bench/courses-SIZE.sqlite3)",
    )
    args = parser.parse_args(argv)
    urls = args.db or [f"sqlite:///{Path('var') / 'bench' / f'courses-{args.size}.sqlite3'}"]
    results = [run(url, args.size, args.runs) for url in urls]
    print(f"\n{args.size} courses, {args.runs} runs per query, now = {NOW.isoformat()}")
    print("baseline: a SELECT 1 round trip on the same read-only engine (p95)")
    header = f"{'query':<26}" + "".join(
        f" | {dialect + ' p50':>16} {'p95':>8} {'baseline':>9} {'ratio':>6}"
        for dialect, _b, _f in results
    )
    print(header + f"   target p95 ≤ {TARGET_MS:.0f} ms")
    print("-" * len(header))
    failures = 0
    for name in queries([0]):
        line = f"{name:<26}"
        for _dialect, base95, figures in results:
            p50, p95 = figures[name]
            failures += p95 > TARGET_MS
            line += f" | {p50:>13.1f} ms {p95:>5.1f} ms {base95:>6.2f} ms {p95 / base95:>5.0f}x"
        print(line)
    total = len(results) * len(queries([0]))
    print(f"\nmissed the target: {failures} of {total}" if failures else "\nall on target")
    return 0


def _ok(response):
    if response.status_code != 200:
        raise RuntimeError(f"{response.request.url}: {response.status_code} {response.text[:200]}")
    return response


if __name__ == "__main__":
    raise SystemExit(main())
