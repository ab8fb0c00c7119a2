"""Replaying a night from Scrapy's HTTP cache, as docs/OPERATIONS.md tells the operator to."""

from __future__ import annotations

from types import SimpleNamespace

from tests.mockserver import RichieSite, free_port
from tests.test_ops_faults import COURSES, crawl_site, spider


def test_a_cached_night_replays_without_the_site(tmp_path):
    port = free_port()
    night = {
        "HTTPCACHE_ENABLED": "True",
        "HTTPCACHE_DIR": str(tmp_path / "httpcache" / "2026-11-27"),
    }
    with RichieSite(port=port) as site:
        result, summary, _elapsed = crawl_site(
            f"sqlite:///{tmp_path / 'night.sqlite3'}", site, **night
        )
        assert result.returncode == 0, result.stderr
        fetched = len(site.requests)
    assert fetched == 6  # robots.txt, organisations, categories, three course pages

    # the site is gone; the cache alone answers, and nothing is downloaded
    replay_db = f"sqlite:///{tmp_path / 'replay.sqlite3'}"
    offline = SimpleNamespace(url=f"http://127.0.0.1:{port}")  # nobody listens there now
    result, summary, _elapsed = crawl_site(
        replay_db, offline, HTTPCACHE_IGNORE_MISSING="True", **night
    )
    assert result.returncode == 0, result.stderr
    report = spider(summary)
    assert report["healthy"], report["reasons"]
    assert report["new"] == COURSES
    assert report["faults"] == {}
