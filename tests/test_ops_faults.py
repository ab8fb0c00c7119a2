"""Faults of a live crawl, each against a local server (tests.mockserver) on 127.0.0.1.

The crawl is the real ``moisson crawl`` in a subprocess, with the richie base spider
pointed at the local site. One healthy crawl builds the catalogue once per module; each
fault test then crawls a copy of it through one fault and checks that the crawl ends
within bounded requests and time, reports the fault in its summary, is unhealthy when it
lost data, and that the catalogue keeps everything it had.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time

import pytest
from sqlalchemy import func, select

from storage.db import make_engine
from storage.models import CrawlRun, Listing
from tests.conftest import REFERENCE_TIME, ROOT
from tests.mockserver import Fault, RichieSite, free_port

PAGE = "/api/v1.0/courses/?limit=10&offset={}"
COURSES = 26  # French courses of the FUN-MOOC recordings
FAST = {  # the site is local: no politeness delays, short timeouts, two retries
    "DOWNLOAD_DELAY": "0",
    "AUTOTHROTTLE_ENABLED": "False",
    "DOWNLOAD_TIMEOUT": "5",
    "RETRY_TIMES": "2",
    "SPIDER_MODULES": "crawlers.spiders,tests.mockserver.spiders",
}
TIME_BOUND = 90  # seconds; every crawl here takes a few


def crawl_site(db_url: str, site, *extra: str, **settings: str):
    """``moisson crawl mock_richie --json`` against ``site``; (exit status, summary, seconds)."""
    command = [sys.executable, "-m", "moisson.cli", "crawl", "mock_richie", "--json", "--quiet"]
    command += ["--db", db_url, "--reference-time", REFERENCE_TIME]
    for name, value in {**FAST, "MOISSON_TEST_SITE_URL": site.url, **settings}.items():
        command += ["--set", f"{name}={value}"]
    started = time.monotonic()
    result = subprocess.run(
        [*command, *extra], capture_output=True, text=True, cwd=ROOT, timeout=TIME_BOUND
    )
    elapsed = time.monotonic() - started
    summary = json.loads(result.stdout) if result.stdout.strip().startswith("{") else None
    return result, summary, elapsed


def listings(db_url: str) -> dict:
    engine = make_engine(db_url)
    with engine.connect() as conn:
        rows = conn.execute(select(Listing.external_id, Listing.missing_since, Listing.hidden))
        found = {row.external_id: (row.missing_since, row.hidden) for row in rows}
    engine.dispose()
    return found


# One address for the module: course URLs include it, and must not change between crawls.
PORT = free_port()


def Site() -> RichieSite:  # noqa: N802 (reads as the class it builds)
    return RichieSite(port=PORT)


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    """A catalogue after one healthy crawl of the local site."""
    folder = tmp_path_factory.mktemp("baseline")
    url = f"sqlite:///{folder / 'catalogue.sqlite3'}"
    with Site() as site:
        result, summary, _elapsed = crawl_site(url, site)
    assert result.returncode == 0, result.stderr
    assert summary["spiders"]["mock_richie"]["healthy"] is True
    assert len(listings(url)) == COURSES
    return folder


@pytest.fixture
def catalogue(baseline, tmp_path):
    for path in baseline.iterdir():
        shutil.copy(path, tmp_path / path.name)
    return f"sqlite:///{tmp_path / 'catalogue.sqlite3'}"


def assert_kept(db_url: str) -> None:
    """The catalogue still has every listing, none marked missing or hidden."""
    found = listings(db_url)
    assert len(found) == COURSES
    assert all(state == (None, False) for state in found.values())


def spider(summary) -> dict:
    return summary["spiders"]["mock_richie"]


def test_a_healthy_crawl_fetches_each_page_once(catalogue):
    with Site() as site:
        result, summary, _elapsed = crawl_site(catalogue, site)
    assert result.returncode == 0, result.stderr
    report = spider(summary)
    assert report["healthy"] and report["reasons"] == []
    assert (report["new"], report["unchanged"]) == (0, COURSES)
    assert report["faults"] == {}
    assert max(site.counts().values()) == 1


def test_timeouts(catalogue):
    with Site() as site:
        site.inject(PAGE.format(10), *[Fault.timeout(4)] * 3)
        result, summary, elapsed = crawl_site(catalogue, site, DOWNLOAD_TIMEOUT="1")
    assert result.returncode == 1
    report = spider(summary)
    assert report["faults"]["download error: DownloadTimeoutError"] == 3
    assert report["faults"]["page failed: DownloadTimeoutError"] == 1
    assert any("gave up after their last retry" in r for r in report["reasons"])
    assert site.counts()[PAGE.format(10)] == 3  # the first try and two retries, no more
    assert elapsed < 30
    assert_kept(catalogue)


def test_connection_resets(catalogue):
    with Site() as site:
        site.inject(PAGE.format(0), *[Fault.reset()] * 3)
        result, summary, _elapsed = crawl_site(catalogue, site)
    assert result.returncode == 1
    report = spider(summary)
    resets = {k: v for k, v in report["faults"].items() if k.startswith("download error")}
    assert sum(resets.values()) == 3, report["faults"]
    assert any(k.startswith("page failed") for k in report["faults"])
    assert not report["healthy"]
    assert site.counts()[PAGE.format(0)] == 3
    assert_kept(catalogue)


def test_429_retry_after_is_waited_for_and_the_run_recovers(catalogue):
    with Site() as site:
        site.inject(PAGE.format(10), Fault.answer(429, **{"Retry-After": "1"}))
        result, summary, _elapsed = crawl_site(catalogue, site)
    assert result.returncode == 0, summary
    report = spider(summary)
    assert report["healthy"], report["reasons"]
    assert report["faults"]["HTTP 429 (too many requests)"] == 1
    assert report["retries"] == 1
    times = [when for when, path in site.requests if path == PAGE.format(10)]
    assert len(times) == 2 and times[1] - times[0] >= 1.0  # Retry-After honoured
    assert (report["unchanged"], report["missing"]) == (COURSES, 0)


def test_429_asking_for_hours_gives_the_page_up_at_once(catalogue):
    with Site() as site:
        site.inject(PAGE.format(10), Fault.answer(429, **{"Retry-After": "7200"}))
        result, summary, elapsed = crawl_site(catalogue, site)
    assert result.returncode == 1
    report = spider(summary)
    assert report["faults"]["page failed: http_429"] == 1
    assert site.counts()[PAGE.format(10)] == 1  # not hammered, not waited for
    assert elapsed < 30
    assert_kept(catalogue)


def test_503_burst_longer_than_the_retries(catalogue):
    with Site() as site:
        site.inject(PAGE.format(20), *[Fault.answer(503)] * 5)
        result, summary, _elapsed = crawl_site(catalogue, site)
    assert result.returncode == 1
    report = spider(summary)
    assert report["faults"]["HTTP 503"] == 3
    assert report["faults"]["page failed: http_503"] == 1
    assert site.counts()[PAGE.format(20)] == 3
    assert_kept(catalogue)


def test_response_larger_than_the_limit(catalogue):
    with Site() as site:
        site.inject(PAGE.format(20), Fault.oversize(300_000))
        result, summary, _elapsed = crawl_site(catalogue, site, DOWNLOAD_MAXSIZE="100000")
    assert result.returncode == 1
    report = spider(summary)
    failed = [k for k in report["faults"] if k.startswith("page failed")]
    assert len(failed) == 1, report["faults"]
    assert site.counts()[PAGE.format(20)] == 1
    assert_kept(catalogue)


def test_endless_redirects(catalogue):
    with Site() as site:
        site.inject(PAGE.format(10), Fault.redirect_loop())
        result, summary, _elapsed = crawl_site(catalogue, site, REDIRECT_MAX_TIMES="5")
    assert result.returncode == 1
    report = spider(summary)
    assert report["faults"]["page failed: IgnoreRequest"] == 1
    assert len(site.requests) < 20  # five hops, then given up
    assert_kept(catalogue)


def test_server_that_stops_mid_crawl(catalogue):
    with Site() as site:
        site.stop_after = 4  # robots.txt, organisations, categories, first course page
        result, summary, elapsed = crawl_site(catalogue, site)
    assert result.returncode == 1
    report = spider(summary)
    assert any("ConnectionRefusedError" in k for k in report["faults"]), report["faults"]
    assert report["unchanged"] == 9  # the first page's French courses came in before
    assert elapsed < 30
    assert_kept(catalogue)


def test_database_unavailable_when_the_crawl_starts():
    with Site() as site:
        result, summary, elapsed = crawl_site("postgresql+psycopg://nobody@127.0.0.1:9/none", site)
    assert result.returncode == 2
    assert "cannot open the catalogue database" in result.stderr
    assert summary is None
    assert site.requests == []  # nothing crawled that could not be stored
    assert elapsed < 30


@pytest.mark.postgres
def test_database_that_goes_away_during_the_store(postgres_url):
    from sqlalchemy.engine import make_url

    from tests.mockserver.network import TcpProxy

    with Site() as site:
        result, _summary, _elapsed = crawl_site(postgres_url, site)
        assert result.returncode == 0, result.stderr
    database = make_url(postgres_url)
    proxy = TcpProxy(database.host or "127.0.0.1", database.port or 5432)
    through_proxy = database.set(host="127.0.0.1", port=proxy.port).render_as_string(
        hide_password=False
    )

    def cut_at_last_page(path):
        if "offset=20" in path:
            proxy.cut()

    with Site() as site:
        site.on_request = cut_at_last_page
        result, summary, elapsed = crawl_site(through_proxy, site, MOISSON_STORE_BATCH_SIZE="5")
    assert result.returncode == 1, result.stderr
    report = spider(summary)
    assert not report["healthy"]
    assert report["faults"]["catalogue unavailable"] == 1
    assert report["faults"]["items the catalogue could not take"] >= 1
    assert any("catalogue" in reason for reason in report["reasons"])
    assert elapsed < 60
    assert_kept(postgres_url)
    engine = make_engine(postgres_url)
    with engine.connect() as conn:
        runs = conn.execute(select(CrawlRun).order_by(CrawlRun.id)).all()
        assert conn.execute(select(func.count(Listing.id))).scalar_one() == COURSES
    engine.dispose()
    assert runs[0].healthy is True
    assert runs[1].finished_at is None  # its end could not be written: no verdict stored
