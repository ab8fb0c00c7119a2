"""Udemy (https://www.udemy.com): courses taught in French.

Without credentials the spider walks the course sitemaps and reads each landing page's
JSON-LD ``Course`` (name, description, inLanguage, provider, aggregateRating), the
breadcrumb for categories and the enrolment count shown on the page; the language
pipeline keeps the French ones. With affiliate API credentials (``UDEMY_CLIENT_ID`` and
``UDEMY_CLIENT_SECRET`` settings or environment variables) it asks
``/api-2.0/courses/?language=fr`` instead, which only answers French courses.
"""

from __future__ import annotations

import os
import re
from base64 import b64encode
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlparse

from scrapy import Request
from scrapy.http import Response

from crawlers.bases.common import UnparseablePage
from crawlers.bases.sitemap import CourseSitemapSpider
from crawlers.items import RawCourse
from crawlers.structured import names, nodes_of_type

API = "https://www.udemy.com/api-2.0/courses/"
API_FIELDS = (
    "@default,headline,description,locale,avg_rating,num_reviews,num_subscribers,"
    "instructional_level,content_info,primary_category,has_certificate"
)


class UdemySpider(CourseSitemapSpider):
    # The platform's data states neither sessions nor a pace (see the recordings), so the
    # health check does not ask for them (docs/OPERATIONS.md, "Health checks").
    key_field_minimums = {"sessions_or_pace": 0}
    name = "udemy"
    platform = "udemy"
    platform_label = "Udemy"
    base_url = "https://www.udemy.com"
    allowed_domains = ["www.udemy.com"]
    sitemap_urls = ["https://www.udemy.com/sitemap.xml"]
    sitemap_follow = [r"/sitemap/courses"]
    course_url_rules = [r"^https://www\.udemy\.com/course/[^/]+/?$"]
    page_size = 100

    def credentials(self) -> tuple[str, str] | None:
        settings = self.crawler.settings
        client_id = settings.get("UDEMY_CLIENT_ID") or os.environ.get("UDEMY_CLIENT_ID")
        secret = settings.get("UDEMY_CLIENT_SECRET") or os.environ.get("UDEMY_CLIENT_SECRET")
        return (client_id, secret) if client_id and secret else None

    async def start(self):
        if self.credentials():
            first = self.listing_page(self.api_request(1))
            if first is not None:
                yield first
            return
        async for request in super().start():
            yield request

    # -- landing pages (sitemap mode) -----------------------------------------------------

    def external_id(self, node, response: Response) -> str:
        return response.xpath("//body/@data-clp-course-id").get() or self.course_url(node, response)

    def complete_item(self, item: RawCourse, response: Response, node, nodes) -> RawCourse:
        item["language"] = (
            item.get("language") or response.css('meta[property="og:locale"]::attr(content)').get()
        )
        crumbs = nodes_of_type(nodes, "BreadcrumbList")
        if crumbs:
            item["categories"] = names(crumbs[0].get("itemListElement"))
        item["enrolments"] = response.css('[data-purpose="enrollment"]::text').get()
        item["kind"] = "course"
        return item

    # -- affiliate API (credentials configured) -------------------------------------------

    def api_request(self, page: int) -> Request:
        query = urlencode(
            {
                "language": "fr",
                "page": page,
                "page_size": self.page_size,
                "fields[course]": API_FIELDS,
            }
        )
        client_id, secret = self.credentials() or ("", "")
        token = b64encode(f"{client_id}:{secret}".encode()).decode()
        return Request(
            f"{API}?{query}",
            callback=self.parse_api,
            errback=self.api_failed,
            headers={"Authorization": f"Basic {token}", "Accept": "application/json"},
        )

    def parse_api(self, response: Response):
        try:
            page = self.read_json(response)
            results = page["results"]
            if not isinstance(results, list):
                raise TypeError(f"results is {type(results).__name__}, not a list")
        except (UnparseablePage, KeyError, TypeError) as exc:
            self.page_failed(response, response.url, "unparseable", str(exc))
            self.paging_stopped("failed_page", response.url, "the page could not be read")
            return
        asked = parse_qs(urlparse(response.url).query).get("language", [None])[0]
        yield from self.items_from(
            results, lambda record: self.api_item(record, response, asked), id_fields=("id",)
        )
        if not results and page.get("next"):
            self.paging_stopped("empty_page", response.url, "no results, a next page announced")
        elif page.get("next"):
            following = self.listing_page(
                response.request.replace(url=page["next"])
                if response.request
                else Request(page["next"], callback=self.parse_api)
            )
            if following is not None:
                yield following

    def api_failed(self, failure) -> None:
        self.request_failed(failure)
        self.paging_stopped("failed_page", failure.request.url, "the page failed")

    def api_item(self, record: dict[str, Any], response: Response, asked: str | None):
        locale = record.get("locale") if isinstance(record.get("locale"), dict) else {}
        price = record.get("price_detail") if isinstance(record.get("price_detail"), dict) else {}
        category = record.get("primary_category") or {}
        return RawCourse(
            platform=self.platform,
            external_id=str(record["id"]),
            url=_landing_page(record.get("url")),
            source_url=response.url,
            title=record.get("title"),
            introduction=record.get("headline"),
            description=record.get("description"),
            # the API was asked for one language: a record without a locale is in it
            language=locale.get("locale") or asked,
            level=record.get("instructional_level"),
            duration=record.get("content_info"),
            categories=[category["title"]]
            if isinstance(category, dict) and category.get("title")
            else [],
            organisations=[
                i.get("display_name") or i.get("title")
                for i in record.get("visible_instructors") or []
                if isinstance(i, dict) and (i.get("display_name") or i.get("title"))
            ],
            image=record.get("image_480x270"),
            price=price.get("amount", record.get("price")) if record.get("is_paid", True) else 0,
            currency=price.get("currency"),
            rating=record.get("avg_rating"),
            rating_count=record.get("num_reviews"),
            enrolments=record.get("num_subscribers"),
            certificate="certificate" if record.get("has_certificate") else None,
            kind="course",
            raw=record,
        )

    def callback_for_url(self, url: str):
        if urlparse(url).path.startswith("/api-2.0/"):
            return self.parse_api
        return super().callback_for_url(url)


def _landing_page(url: str | None) -> str | None:
    """The public landing page: the API gives ``/course/<slug>/`` (or ``/course/<slug>/learn/``)."""
    if not url:
        return None
    return urljoin("https://www.udemy.com", re.sub(r"learn/?$", "", url))
