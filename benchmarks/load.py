"""The portal under load: N clients for a bounded time against a real ``moisson serve``.

    .venv/bin/python -m benchmarks.load [--db URL] [--clients 20] [--seconds 20]
        [--crawl both|off|on] [--workers 1]

Builds the demo catalogue (``moisson demo``) in ``--db`` when it holds none (default: a
fresh SQLite file under var/bench/), starts ``moisson serve`` on a free loopback port and
runs ``--clients`` threads, each sending requests back to back over one keep-alive
connection, for ``--seconds``. Their requests cycle through a visitor's mix: the API's
stats, text searches, course details, the landing page, the search page and course pages.
With ``--crawl on`` a replayed crawl of every recording writes into the same catalogue in a
loop for the whole run; ``both`` (the default) measures without, then with.

It prints requests per second and p50/p95/p99 latency beside two baselines: a bare
``SELECT 1`` round trip on a read-only engine in this process (the database's floor), and
``GET /robots.txt`` (no database) with the same number of clients (the server's floor at
that concurrency); the ratio is the mix's p95 over the robots.txt p95. The mix with one
client gives each request's own cost, with no queue. Target on the demo
catalogue with 20 clients: no error, p95 ≤ 100 ms, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import os
import select
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote_plus, urlsplit

ROOT = Path(__file__).resolve().parent.parent
REFERENCE_TIME = "2026-11-15T12:00:00+01:00"  # the recordings' "now"
TARGET_P95_MS = 100.0
WORDS = [
    "python", "gestion de projet", "données", "droit", "énergie", "anglais",
    "management", "santé", "informatique", "histoire", "marketing", "climat",
]  # fmt: skip


def moisson_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "moisson.cli", *args]


def build_demo(url: str) -> None:
    """The demo catalogue in ``url`` (every recording replayed), unless it has courses."""
    from sqlalchemy import func, select

    from storage.db import ensure_schema, make_engine
    from storage.models import Course

    engine = make_engine(url)
    ensure_schema(engine)
    with engine.connect() as conn:
        existing = conn.execute(select(func.count(Course.id))).scalar_one()
    engine.dispose()
    if existing:
        return
    demo = subprocess.run(
        moisson_command("demo", "--db", url, "--reference-time", REFERENCE_TIME, "--quiet"),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=900,
    )
    if demo.returncode != 0:
        raise RuntimeError(f"moisson demo failed ({demo.returncode}): {demo.stderr[-2000:]}")


class Server:
    """``moisson serve`` in a child process on a port the system picks; its stderr in a file.

    ``prefix`` runs it through another command (tests take privileges away with it).
    """

    def __init__(self, url: str, *extra: str, prefix=(), env=None, startup: float = 60.0):
        self.log = tempfile.NamedTemporaryFile(prefix="moisson-serve-", suffix=".log")  # noqa: SIM115 - closed by __exit__
        args = ["serve", "--db", url, "--port", "0", "--log-level", "warning", *extra]
        self.process = subprocess.Popen(
            [*prefix, *moisson_command(*args)],
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            cwd=ROOT,
            env=env,
        )
        line = self._first_line(startup)
        if "http://" not in line:
            self.stop()
            raise RuntimeError(f"moisson serve did not start: {line!r} {self.stderr()}")
        self.base = line.split()[3].rstrip("/")  # "Moisson portal on http://host:port/ …"
        # the rest of stdout (uvicorn's access log at --log-level info) is read and dropped,
        # or the pipe fills and the server blocks on its next log line
        self._drain = threading.Thread(target=self._discard_stdout, daemon=True)
        self._drain.start()

    def _discard_stdout(self) -> None:
        for _ in self.process.stdout:
            pass

    def _first_line(self, timeout: float) -> str:
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        return self.process.stdout.readline() if ready else ""

    def alive(self) -> bool:
        return self.process.poll() is None

    def stderr(self) -> str:
        return Path(self.log.name).read_text(errors="replace")

    def stop(self) -> int:
        if self.alive():
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if getattr(self, "_drain", None) is not None:
            self._drain.join(timeout=10)  # the server is gone: its stdout ends
        self.process.stdout.close()
        return self.process.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        self.log.close()


def get(base: str, path: str, timeout: float = 30.0) -> tuple[int, bytes]:
    """One request on a fresh connection: (status, body)."""
    where = urlsplit(base)
    conn = http.client.HTTPConnection(where.hostname, where.port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def visitor_paths(base: str) -> list[str]:
    """The mix of requests, over every course and platform the catalogue really has.

    Six requests a course: the API's stats or one platform's courses, a text search (one of
    ``WORDS``, first or second page), the course in the API, the landing page or one
    platform's search page, a search page, the course's page. Every course of the catalogue
    is visited, so the response cache holds as many distinct answers as the catalogue gives.
    """
    import json

    ids, page = [], 1
    while True:
        status, body = get(base, f"/api/v1/courses?per_page=100&page={page}&facets=false")
        if status != 200:
            raise RuntimeError(f"GET /api/v1/courses: {status} {body[:200]!r}")
        batch = [course["id"] for course in json.loads(body)["courses"]]
        ids += batch
        if len(batch) < 100:
            break
        page += 1
    if not ids:
        raise RuntimeError("the catalogue has no course")
    status, body = get(base, "/api/v1/platforms")
    platforms = [platform["name"] for platform in json.loads(body)] if status == 200 else []
    platforms = platforms or [""]
    paths = []
    for i, course in enumerate(ids):
        word = quote_plus(WORDS[i % len(WORDS)])
        platform = quote_plus(platforms[i % len(platforms)])
        second = 1 + (i // len(WORDS)) % 2
        paths += [
            "/api/v1/stats" if i % 2 else f"/api/v1/courses?platform={platform}",
            f"/api/v1/courses?q={word}&page={second}",
            f"/api/v1/courses/{course}",
            "/" if i % 2 else f"/?platform={platform}",
            f"/?q={word}&page={second}",
            f"/cours/{course}",
        ]
    return paths


@dataclass
class LoadResult:
    seconds: float
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    cache_hits: int = 0  # answers the portal's response cache gave (X-Cache: hit)

    @property
    def requests(self) -> int:
        return len(self.latencies_ms) + len(self.errors)

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, q: int) -> float:
        if len(self.latencies_ms) < 2:
            return self.latencies_ms[0] if self.latencies_ms else float("nan")
        return statistics.quantiles(self.latencies_ms, n=100, method="inclusive")[q - 1]


def drive(base: str, paths: list[str], clients: int, seconds: float) -> LoadResult:
    """``clients`` threads sending ``paths`` in turn, back to back, for ``seconds``.

    Every status other than 200 and every connection failure is an error, kept with its
    path. Each client keeps one connection alive and opens a new one after a failure.
    """
    where = urlsplit(base)
    lock = threading.Lock()
    result = LoadResult(seconds)
    start = threading.Barrier(clients + 1)

    def client(offset: int) -> None:
        latencies, errors, hits = [], [], 0
        conn = http.client.HTTPConnection(where.hostname, where.port, timeout=30)
        start.wait()
        deadline = time.perf_counter() + seconds
        for path in itertools.islice(itertools.cycle(paths), offset, None):
            if time.perf_counter() >= deadline:
                break
            began = time.perf_counter()
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                response.read()
                hits += response.getheader("x-cache") == "hit"
                if response.status == 200:
                    latencies.append((time.perf_counter() - began) * 1000)
                else:
                    errors.append(f"{path}: {response.status}")
            except Exception as exc:  # noqa: BLE001 - every failure is a counted error
                errors.append(f"{path}: {type(exc).__name__} {exc}")
                conn.close()
                conn = http.client.HTTPConnection(where.hostname, where.port, timeout=30)
        conn.close()
        with lock:
            result.latencies_ms += latencies
            result.cache_hits += hits
            result.errors += errors

    threads = [threading.Thread(target=client, args=(i * 5,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join(timeout=seconds + 60)
    result.seconds = time.perf_counter() - began
    return result


class CrawlLoop:
    """Replayed crawls of every recording into ``url``, one after another, until stopped.

    ``runs`` counts the crawls begun; the one still writing at the end is stopped.
    """

    def __init__(self, url: str):
        self.url, self.runs, self.failures = url, 0, []
        self._stop = threading.Event()
        self._process = None
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.runs += 1
            self._process = subprocess.Popen(
                moisson_command(
                    "demo", "--db", self.url, "--reference-time", REFERENCE_TIME, "--quiet"
                ),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
                cwd=ROOT,
            )
            _, err = self._process.communicate()
            if self._stop.is_set():
                break
            if self._process.returncode != 0:
                self.failures.append(err[-500:])

    def __enter__(self):
        self._thread.start()
        time.sleep(3)  # past its start-up: the crawl is storing when the clients begin
        return self

    def __exit__(self, *exc):
        self._stop.set()
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
        self._thread.join(timeout=60)


def select_one_ms(url: str, runs: int = 400) -> tuple[float, float]:
    """p50 and p95 of a bare ``SELECT 1`` on a read-only engine, one client."""
    from sqlalchemy import text

    from benchmarks.api_latency import measure
    from storage.readonly import open_readonly

    engine = open_readonly(url)

    def select_one():
        with engine.connect() as conn:
            conn.execute(text("SELECT 1")).scalar()

    try:
        return measure(select_one, runs, warmup=20)
    finally:
        engine.dispose()


def report(label: str, result: LoadResult, floor: LoadResult | None, judged=True) -> str:
    p95 = result.percentile(95)
    ratio = f"{p95 / floor.percentile(95):>6.1f}x" if floor else f"{'':>7}"
    verdict = "ok" if not result.errors and p95 <= TARGET_P95_MS else "MISSED"
    verdict = verdict if judged else ""
    hits = f"{100 * result.cache_hits / result.requests:>5.0f}%" if result.requests else ""
    return (
        f"{label:<42} {result.per_second:>7.0f} {result.percentile(50):>7.1f} "
        f"{p95:>7.1f} {result.percentile(99):>7.1f} {len(result.errors):>6} {hits:>6} "
        f"{ratio}  {verdict}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="catalogue URL (default: a fresh var/bench/load SQLite)")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--crawl", choices=["both", "off", "on"], default="both")
    parser.add_argument("--workers", type=int, default=1, help="moisson serve --workers")
    args = parser.parse_args(argv)
    url = args.db or f"sqlite:///{ROOT / 'var' / 'bench' / 'load' / 'catalogue.sqlite3'}"
    build_demo(url)
    base50, base95 = select_one_ms(url)
    failures = 0
    with Server(url, "--workers", str(args.workers)) as server:
        paths = visitor_paths(server.base)
        drive(server.base, paths, args.clients, 2.0)  # warm: caches, pools, page cache
        floor = drive(server.base, ["/robots.txt"], args.clients, args.seconds / 2)
        print(
            f"\nthe demo catalogue, {url.split(':', 1)[0]}, {args.clients} clients, "
            f"{args.seconds:.0f} s per row, {args.workers} server process(es), "
            f"{os.cpu_count()} cores, "
            f"load average {os.getloadavg()[0]:.1f} before"
        )
        print(f"baseline: SELECT 1 round trip p50 {base50:.3f} ms, p95 {base95:.3f} ms")
        header = (
            f"{'requests':<42} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} "
            f"{'errors':>6} {'cached':>6} {'p95/floor':>7}  "
            f"target: 0 errors, p95 ≤ {TARGET_P95_MS:.0f} ms"
        )
        print(header)
        print("-" * len(header))
        print(report("GET /robots.txt (floor, no database)", floor, None, judged=False))
        alone = drive(server.base, paths, 1, args.seconds / 2)
        print(report("visitor mix, 1 client (service time)", alone, None, judged=False))
        crawls = {"both": [False, True], "off": [False], "on": [True]}[args.crawl]
        for crawling in crawls:
            if crawling:
                with CrawlLoop(url) as crawl:
                    result = drive(server.base, paths, args.clients, args.seconds)
                label = f"visitor mix, crawl writing ({crawl.runs} begun)"
                if crawl.failures:
                    print(f"a crawl failed during the run: {crawl.failures[0]}")
            else:
                result = drive(server.base, paths, args.clients, args.seconds)
                label = "visitor mix, no crawl"
            print(report(label, result, floor))
            failures += bool(result.errors) or result.percentile(95) > TARGET_P95_MS
            for error in sorted(set(result.errors))[:5]:
                print(f"    error: {error}")
        alive = server.alive()
    # the same mix with the response cache off: every request computed, as on a cache miss
    with Server(url, "--workers", str(args.workers), "--cache-size", "0") as uncached:
        drive(uncached.base, paths, args.clients, 2.0)
        result = drive(uncached.base, paths, args.clients, args.seconds)
        print(report("visitor mix, caches off (--cache-size 0)", result, floor, judged=False))
        alive = alive and uncached.alive()
    print(f"load average {os.getloadavg()[0]:.1f} after; server alive: {alive}")
    return 1 if failures or not alive else 0


if __name__ == "__main__":
    raise SystemExit(main())
