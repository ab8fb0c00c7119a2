"""Incremental nights on the recordings: the second night asks only for what may have changed.

Udemy's sitemaps state no lastmod: its known pages are asked for with If-None-Match and
the replay answers 304. OpenClassrooms' sitemap states a lastmod: its known pages are not
asked for at all. Either way every listing is seen, none is marked missing, and the
content stays as it was.
"""

from __future__ import annotations

import json

from scrapy import Request
from scrapy.http import Headers
from sqlalchemy import select

from crawlers.incremental import unchanged_since
from crawlers.replay import not_modified
from storage.db import make_engine
from storage.models import Listing
from tests.conftest import replay_crawl

OC_COURSE = "https://openclassrooms.com/fr/courses/7168871-apprenez-les-bases-du-langage-python"


def night(db_url, spider, recordings=None, *extra):
    result = replay_crawl(db_url, "--json", *extra, recordings=recordings, spider=spider)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["spiders"][spider]


def listings(db_url):
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(
                    Listing.external_id,
                    Listing.content_hash,
                    Listing.last_seen_run_id,
                    Listing.missing_since,
                    Listing.etag,
                    Listing.lastmod,
                    Listing.page_url,
                )
            )
            return {row.external_id: row for row in rows}
    finally:
        engine.dispose()


def test_second_night_asks_conditionally_and_a_304_is_seen(db_url):
    first = night(db_url, "udemy")
    stored = first["new"]
    assert stored > 0 and first["incremental"]["conditional"] == 0
    before = listings(db_url)
    assert all(row.etag and row.page_url for row in before.values())

    second = night(db_url, "udemy")
    assert second["healthy"] is True, second["reasons"]
    assert second["incremental"] == {"conditional": stored, "not_modified": stored,
                                     "skipped_lastmod": 0, "skipped_modified": 0,
                                     "bad_change_date": 0}  # fmt: skip
    assert (second["new"], second["changed"], second["unchanged"]) == (0, 0, stored)
    assert second["missing"] == 0
    assert second["bytes"] < first["bytes"]
    after = listings(db_url)
    assert {k: r.content_hash for k, r in after.items()} == {
        k: r.content_hash for k, r in before.items()
    }
    assert {r.last_seen_run_id for r in after.values()} == {second["crawl_run_id"]}
    assert all(r.missing_since is None for r in after.values())


def test_second_night_skips_pages_whose_lastmod_did_not_move(db_url):
    first = night(db_url, "openclassrooms")
    stored = first["new"]
    assert stored == 5
    assert {r.lastmod for r in listings(db_url).values()} == {"2026-11-01"}

    second = night(db_url, "openclassrooms")
    assert second["healthy"] is True, second["reasons"]
    assert second["incremental"]["skipped_lastmod"] == stored
    assert second["requests"] == 2  # robots.txt and the sitemap, no course page
    assert (second["unchanged"], second["missing"]) == (stored, 0)
    assert {r.last_seen_run_id for r in listings(db_url).values()} == {second["crawl_run_id"]}


def test_a_page_that_changed_is_read_again(db_url, recordings_copy):
    night(db_url, "openclassrooms", recordings_copy)
    folder = recordings_copy / "openclassrooms"
    sitemap = folder / "sitemap.xml"
    sitemap.write_text(
        sitemap.read_text().replace(
            f"<loc>{OC_COURSE}</loc><lastmod>2026-11-01</lastmod>",
            f"<loc>{OC_COURSE}</loc><lastmod>2026-11-14</lastmod>",
        )
    )
    page = folder / "course-7168871.html"
    title = '"name": "Apprenez les bases du langage Python"'
    page.write_text(page.read_text().replace(title, title[:-1] + ' 3"'))

    second = night(db_url, "openclassrooms", recordings_copy)
    assert second["incremental"]["skipped_lastmod"] == 4
    # the sitemap and the known course page, each asked with its ETag; both changed: 200s
    assert second["incremental"]["conditional"] == 2
    assert second["incremental"]["not_modified"] == 0
    assert second["requests"] == 3
    assert (second["changed"], second["unchanged"], second["missing"]) == (1, 4, 0)
    assert listings(db_url)["courses/7168871"].lastmod == "2026-11-14"


def test_incremental_off_reads_every_page(db_url):
    night(db_url, "openclassrooms")
    second = night(db_url, "openclassrooms", None, "--set", "MOISSON_INCREMENTAL=False")
    assert not any(second["incremental"].values())
    assert second["requests"] == 7 and second["unchanged"] == 5


def test_lastmod_comparison():
    assert unchanged_since("2026-11-01", {"lastmod": "2026-11-01"})
    assert unchanged_since("2026-11-01T08:00:00+01:00", {"lastmod": "2026-11-01T07:00:00Z"})
    assert not unchanged_since("2026-11-02", {"lastmod": "2026-11-01T23:00:00+00:00"})
    assert not unchanged_since(None, {"lastmod": "2026-11-01"})
    assert not unchanged_since("hier", {"lastmod": "2026-11-01"})
    assert not unchanged_since("2026-11-01", {"lastmod": None})


def test_replay_answers_conditional_requests_as_a_server():
    recorded = Headers({"ETag": '"abc"', "Last-Modified": "Sun, 01 Nov 2026 10:00:00 GMT"})

    def asked(**headers):
        return not_modified(Request("https://example.org/", headers=headers), recorded)

    assert asked(**{"If-None-Match": '"abc"'})
    assert asked(**{"If-None-Match": '"x", "abc"'})
    assert not asked(**{"If-None-Match": '"other"'})
    assert asked(**{"If-Modified-Since": "Sun, 01 Nov 2026 10:00:00 GMT"})
    assert not asked(**{"If-Modified-Since": "Sat, 31 Oct 2026 10:00:00 GMT"})
    # If-None-Match decides when both are sent
    assert not asked(
        **{"If-None-Match": '"other"', "If-Modified-Since": "Sun, 01 Nov 2026 10:00:00 GMT"}
    )
    assert not asked()
