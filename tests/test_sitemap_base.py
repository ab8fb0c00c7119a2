"""The sitemap base on Scrapy's SitemapSpider: robots.txt, gzip cap, alternates, filters, depth.

Sitemaps here are built in the test (the format is sitemaps.org's); robots.txt is the
OpenClassrooms recording.
"""

from __future__ import annotations

import gzip

from scrapy import Request
from scrapy.http import XmlResponse

from crawlers.bases.sitemap import SITEMAP_DEPTH
from crawlers.offline import run_callback
from tests.recorded import fresh_crawler, parse_body, recorded

SITE = "https://openclassrooms.com"
COURSE = f"{SITE}/fr/courses/4425126-testez-votre-projet-avec-python"
ENGLISH = f"{SITE}/en/courses/4425126-test-your-python-project"
FAILED = "moisson/pages/failed/"


def urlset(*entries: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
        ' xmlns:xhtml="http://www.w3.org/1999/xhtml">' + "".join(entries) + "</urlset>"
    ).encode()


def index(*locs: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        + "".join(f"<sitemap><loc>{loc}</loc></sitemap>" for loc in locs)
        + "</sitemapindex>"
    ).encode()


def url(loc: str, extra: str = "") -> str:
    return f"<url><loc>{loc}</loc>{extra}</url>"


def test_sitemaps_listed_in_robots_txt_are_followed():
    _items, requests, stats = parse_body(
        "openclassrooms", recorded("openclassrooms", "robots.txt"), f"{SITE}/robots.txt"
    )
    assert [r.url for r in requests] == [f"{SITE}/sitemap.xml"]
    spider = fresh_crawler("openclassrooms").spider
    assert requests[0].callback.__name__ == spider._parse_sitemap.__name__
    assert requests[0].errback is not None and requests[0].meta[SITEMAP_DEPTH] == 1
    assert not any(k.startswith(FAILED) for k in stats)


def test_a_robots_txt_without_sitemap_is_counted():
    _items, requests, stats = parse_body(
        "openclassrooms", b"User-agent: *\nDisallow: /admin\n", f"{SITE}/robots.txt"
    )
    assert requests == [] and stats[FAILED + "empty_sitemap"] == 1


def test_gzip_sitemap_is_read_under_the_cap():
    body = gzip.compress(urlset(url(COURSE), url(f"{SITE}/fr/search?page=1")))
    _items, requests, stats = parse_body(
        "openclassrooms", body, f"{SITE}/sitemap-courses.xml.gz", "application/gzip"
    )
    assert [r.url for r in requests] == [COURSE]


def test_a_gzip_bomb_sitemap_is_refused_and_counted():
    # 4 MB of XML in a few kilobytes; the cap is 1 MB
    padding = "<!-- " + "x" * (4 * 1024 * 1024) + " -->"
    body = gzip.compress(urlset(url(COURSE), padding))
    assert len(body) < 20_000
    crawler = fresh_crawler("openclassrooms", DOWNLOAD_MAXSIZE=1024 * 1024)
    _items, requests, stats = parse_body(
        "openclassrooms",
        body,
        f"{SITE}/sitemap-courses.xml.gz",
        "application/gzip",
        crawler=crawler,
    )
    assert requests == []
    assert stats[FAILED + "sitemap_too_large"] == 1


def test_alternate_links_when_asked_for():
    alternate = f'<xhtml:link rel="alternate" hreflang="en" href="{ENGLISH}"/>'
    body = urlset(url(COURSE, alternate))
    rule = [r"^https://openclassrooms\.com/(fr|en)/courses/\d+-[^/]+/?$"]

    def requested(alternates: bool) -> list[str]:
        crawler = fresh_crawler("openclassrooms")
        crawler.spider.sitemap_alternate_links = alternates
        crawler.spider.course_url_rules = rule
        crawler.spider.__init__()  # the rules are compiled when the spider is made
        _items, requests, _stats = parse_body(
            "openclassrooms", body, f"{SITE}/sitemap.xml", "application/xml", crawler=crawler
        )
        return [r.url for r in requests]

    assert requested(False) == [COURSE]
    assert requested(True) == [COURSE, ENGLISH]


def test_a_spiders_sitemap_filter_sees_lastmod():
    crawler = fresh_crawler("openclassrooms")
    spider = crawler.spider
    base_filter = spider.sitemap_filter

    def recent_only(entries):
        return (e for e in base_filter(entries) if e.get("lastmod", "") >= "2026-11-01")

    spider.sitemap_filter = recent_only
    other = f"{SITE}/fr/courses/7168871-apprenez-les-bases-du-langage-python"
    body = urlset(
        url(COURSE, "<lastmod>2026-11-02</lastmod>"), url(other, "<lastmod>2025-01-01</lastmod>")
    )
    _items, requests, _stats = parse_body(
        "openclassrooms", body, f"{SITE}/sitemap.xml", "application/xml", crawler=crawler
    )
    assert [r.url for r in requests] == [COURSE]


def test_invalid_and_empty_sitemaps_are_counted():
    _i, requests, stats = parse_body(
        "openclassrooms", b"<html>En travaux</html>", f"{SITE}/sitemap.xml", "text/html"
    )
    assert requests == [] and stats[FAILED + "invalid_sitemap"] == 1
    _i, requests, stats = parse_body(
        "openclassrooms", urlset(), f"{SITE}/sitemap.xml", "application/xml"
    )
    assert requests == [] and stats[FAILED + "empty_sitemap"] == 1


def test_sitemap_index_recursion_is_bounded():
    crawler = fresh_crawler("openclassrooms")
    deep = crawler.spider.sitemap_max_depth
    sitemap = f"{SITE}/sitemap-{deep}.xml"
    response = XmlResponse(
        url=sitemap,
        body=index(f"{SITE}/sitemap-{deep + 1}.xml"),
        request=Request(sitemap, meta={SITEMAP_DEPTH: deep}),
    )
    _items, requests = run_callback(crawler, response)
    stats = crawler.stats.get_stats()
    assert requests == []
    assert stats["moisson/paging/stopped/sitemap_depth"] == 1
    assert stats["moisson/paging/stopped_at"] == f"{SITE}/sitemap-{deep + 1}.xml"


def test_sitemaps_count_towards_the_page_ceiling():
    crawler = fresh_crawler("openclassrooms", MOISSON_MAX_PAGES=2)
    body = index(*(f"{SITE}/sitemap-{n}.xml" for n in range(3)))
    _items, requests, stats = parse_body(
        "openclassrooms", body, f"{SITE}/sitemap.xml", "application/xml", crawler=crawler
    )
    assert [r.url for r in requests] == [f"{SITE}/sitemap-0.xml", f"{SITE}/sitemap-1.xml"]
    assert all(r.errback is not None for r in requests)
    assert stats["moisson/paging/stopped/ceiling"] == 1
