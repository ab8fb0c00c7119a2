"""Spiders aimed at tests.mockserver's sites (``MOISSON_TEST_SITE_URL``), for tests only.

Loaded with ``--set SPIDER_MODULES=crawlers.spiders,tests.mockserver.spiders``.
"""

from __future__ import annotations

from scrapy import Request

from crawlers.bases.common import MoissonSpider
from crawlers.bases.richie import RichieSpider
from crawlers.items import RawCourse


class _AtTestSite:
    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.base_url = crawler.settings["MOISSON_TEST_SITE_URL"]
        return spider


class MockRichieSpider(_AtTestSite, RichieSpider):
    """The richie base exactly as FUN-MOOC uses it, on the local site."""

    name = "mock_richie"
    platform = "mock_richie"
    base_url = "http://127.0.0.1"


class MockCatalogueSpider(_AtTestSite, MoissonSpider):
    """A plain HTML catalogue with many pages: a listing of listings, then courses."""

    name = "mock_catalogue"
    platform = "mock_catalogue"
    base_url = "http://127.0.0.1"

    async def start(self):
        yield Request(f"{self.base_url}/catalogue/", callback=self.parse_catalogue)

    def parse_catalogue(self, response):
        for href in response.css("a::attr(href)").getall():
            callback = self.parse_catalogue if "/catalogue/" in href else self.parse_course
            yield response.follow(href, callback=callback)

    def parse_course(self, response):
        yield RawCourse(
            platform=self.platform,
            external_id=response.url.rstrip("/").rsplit("/", 1)[-1],
            url=response.url,
            source_url=response.url,
            title=response.css("h1::text").get(),
            language=response.css("html::attr(lang)").get(),
            sessions=[{"key": "1", "start": response.css("time.start::attr(datetime)").get()}],
        )
