"""A distributed crawl: two worker processes share one Redis queue and duplicate filter.

The Redis server of these machines (``MOISSON_TEST_REDIS_URL``, e.g. redis://127.0.0.1:6379/0)
holds the crawl's keys, named after a crawl id unique to the test and deleted after it.
The site is tests.mockserver's local catalogue of 300 course pages under 11 listing pages.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import pytest
from sqlalchemy import func, select

from storage.db import ensure_schema, make_engine
from storage.models import CrawlRun, Listing, ListingChange
from tests.conftest import REFERENCE_TIME, ROOT
from tests.mockserver import CatalogueSite
from tests.test_ops_faults import FAST

REDIS_ENV = "MOISSON_TEST_REDIS_URL"


@pytest.fixture
def redis_url():
    url = os.environ.get(REDIS_ENV)
    required = os.environ.get("MOISSON_REQUIRE_REDIS") == "1"
    if not url:
        if required:
            pytest.fail(f"MOISSON_REQUIRE_REDIS=1 but {REDIS_ENV} is not set")
        pytest.skip(f"the distributed crawl test needs {REDIS_ENV} (e.g. redis://127.0.0.1:6379/0)")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        if required:
            pytest.fail(f"Redis at {url} unusable: {exc}")
        pytest.skip(f"Redis at {url} unusable: {exc}")
    return url


def worker(site, db_url: str, redis_url: str, crawl: str) -> subprocess.Popen:
    settings = {
        **FAST,
        "SPIDER_MODULES": "tests.mockserver.spiders",
        "MOISSON_TEST_SITE_URL": site.url,
        "MOISSON_REDIS_URL": redis_url,
        "MOISSON_REDIS_CRAWL": crawl,
        "MOISSON_REDIS_IDLE_SECONDS": "6",
        "CONCURRENT_REQUESTS_PER_DOMAIN": "2",
    }
    command = [sys.executable, "-m", "moisson.cli", "crawl", "mock_catalogue", "--json"]
    command += ["--quiet", "--db", db_url, "--reference-time", REFERENCE_TIME]
    for name, value in settings.items():
        command += ["--set", f"{name}={value}"]
    return subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT
    )


def test_two_workers_share_the_crawl(redis_url, tmp_path):
    import redis

    db_url = f"sqlite:///{tmp_path / 'catalogue.sqlite3'}"
    crawl = f"test-{uuid.uuid4().hex[:12]}"
    server = redis.Redis.from_url(redis_url)
    engine = make_engine(db_url)
    ensure_schema(engine)  # `moisson db upgrade` once, before the workers start together
    engine.dispose()
    try:
        with CatalogueSite() as site:
            # slow enough that one worker alone could not finish before the other joins
            # (an idle Scrapy engine looks at its scheduler every 5 s)
            site.latency = 0.04
            workers = [worker(site, db_url, redis_url, crawl) for _ in range(2)]
            outputs = [w.communicate(timeout=120) for w in workers]
        keys = sorted(k.decode() for k in server.scan_iter(f"moisson:{crawl}:*"))
    finally:
        for key in server.scan_iter(f"moisson:{crawl}:*"):
            server.delete(key)
    for process, (_out, err) in zip(workers, outputs, strict=True):
        assert process.returncode == 0, err
    reports = [json.loads(out)["spiders"]["mock_catalogue"] for out, _err in outputs]

    # every page fetched once across both workers (robots.txt is per worker, by design)
    pages = site.counts()
    pages.pop("/robots.txt")
    expected = {"/catalogue/"} | {f"/catalogue/?page={n}" for n in range(1, 11)}
    expected |= {f"/cours/{n}/" for n in site.course_ids()}
    assert set(pages) == expected
    assert set(pages.values()) == {1}
    # both workers took a share, and every course was stored once
    assert all(report["items"] > 0 for report in reports), reports
    assert sum(report["items"] for report in reports) == 300
    assert keys == [f"moisson:{crawl}:mock_catalogue:dupefilter"]  # the queue drained

    engine = make_engine(db_url)
    with engine.connect() as conn:
        assert conn.execute(select(func.count(Listing.id))).scalar_one() == 300
        assert conn.execute(select(func.count(ListingChange.id))).scalar_one() == 300
        runs = conn.execute(select(CrawlRun)).all()
        missing = conn.execute(
            select(func.count(Listing.id)).where(Listing.missing_since.is_not(None))
        ).scalar_one()
    engine.dispose()
    assert len(runs) == 2 and all(run.healthy for run in runs)
    assert sum(run.items_stored for run in runs) == 300
    assert missing == 0  # a worker never marks its peers' listings missing
