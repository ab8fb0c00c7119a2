"""Paging that must end, and objects that must not cost their page: live crawls of a local site.

The site is tests.mockserver's richie API serving the FUN-MOOC recordings; each test builds
its damaged pages from a recording (the recordings themselves stay as recorded): a
``total_count`` inflated far beyond the courses there are, a site answering every offset,
a page holding one malformed course object.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.mockserver import RECORDINGS, RichieSite, key
from tests.test_ops_faults import COURSES, PAGE, crawl_site, listings, spider

INFLATED = 1_000_000  # courses the damaged pages announce; the recordings hold 27


def course_page(offset: int) -> dict:
    return json.loads((RECORDINGS / f"courses-{offset}.json").read_text())


def inflated(offset: int) -> bytes:
    page = course_page(offset)
    page["meta"]["total_count"] = INFLATED
    return json.dumps(page).encode()


def course_requests(site) -> list[int]:
    """Offsets of the course pages the crawl asked for, in order."""
    return [
        int(parse_qs(urlsplit(path).query)["offset"][0])
        for _when, path in site.requests
        if path.startswith("/api/v1.0/courses/")
    ]


@pytest.fixture
def db_url(tmp_path):
    return f"sqlite:///{tmp_path / 'catalogue.sqlite3'}"


def test_inflated_total_count_stops_at_the_first_failing_page(db_url):
    with RichieSite() as site:
        for offset in (0, 10, 20):
            site.pages[key(PAGE.format(offset))] = (inflated(offset), "application/json")
        result, summary, _elapsed = crawl_site(db_url, site)
    assert result.returncode == 1, result.stderr
    report = spider(summary)
    # the three real pages, then one page the site does not have (404): no more
    assert course_requests(site) == [0, 10, 20, 27]
    assert len(site.requests) <= 7  # robots.txt, two lookups, four course pages
    assert report["faults"]["page failed: http_404"] == 1
    assert report["faults"]["paging stopped: failed_page"] == 1
    assert not report["healthy"]
    assert any(
        r.startswith("paging stopped at http") and "a page failed" in r for r in report["reasons"]
    ), report["reasons"]
    assert len(listings(db_url)) == COURSES  # what the real pages held is stored


def test_an_empty_page_before_the_announced_total_stops_paging(db_url):
    empty = course_page(20)
    empty["meta"].update(offset=27, count=0, total_count=INFLATED)
    empty["objects"] = []
    with RichieSite() as site:
        for offset in (0, 10, 20):
            site.pages[key(PAGE.format(offset))] = (inflated(offset), "application/json")
        site.pages[key(PAGE.format(27))] = (json.dumps(empty).encode(), "application/json")
        result, summary, _elapsed = crawl_site(db_url, site)
    assert result.returncode == 1, result.stderr
    report = spider(summary)
    assert course_requests(site) == [0, 10, 20, 27]
    assert report["faults"]["paging stopped: empty_page"] == 1
    assert any("a page was empty" in r for r in report["reasons"]), report["reasons"]
    assert len(listings(db_url)) == COURSES


class EveryOffsetSite(RichieSite):
    """A site that answers every course offset with its first page and a huge total."""

    def page(self, handler) -> None:
        if urlsplit(handler.path).path == "/api/v1.0/courses/":
            return self.send(handler, 200, inflated(0), "application/json")
        return super().page(handler)


def test_the_page_ceiling_bounds_a_site_that_answers_every_offset(db_url):
    with EveryOffsetSite() as site:
        result, summary, _elapsed = crawl_site(db_url, site, MOISSON_MAX_PAGES="6")
    assert result.returncode == 1, result.stderr
    report = spider(summary)
    # six listing pages in all: the two lookups, then four course pages
    assert course_requests(site) == [0, 10, 20, 30]
    assert report["faults"]["paging stopped: ceiling"] == 1
    assert any("MOISSON_MAX_PAGES" in r for r in report["reasons"]), report["reasons"]


def test_one_malformed_course_object_costs_only_itself(db_url):
    page = course_page(10)
    damaged = page["objects"][1]
    damaged["course_runs"] = "none"  # richie would send a list of runs
    with RichieSite() as site:
        site.pages[key(PAGE.format(10))] = (json.dumps(page).encode(), "application/json")
        result, summary, _elapsed = crawl_site(db_url, site)
    assert result.returncode == 1, result.stderr
    report = spider(summary)
    assert course_requests(site) == [0, 10, 20]  # the pages after it are still fetched
    stored = listings(db_url)
    assert len(stored) == COURSES - 1 and str(damaged["id"]) not in stored
    assert report["faults"]["malformed objects skipped"] == 1
    assert not report["healthy"]  # a course this run did not see: nothing marked missing
    assert any(
        r.startswith(f"1 malformed course objects skipped: {damaged['id']} (AttributeError")
        for r in report["reasons"]
    ), report["reasons"]
