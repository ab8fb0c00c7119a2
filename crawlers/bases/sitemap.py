"""Sites whose course pages state the course as schema.org ``Course`` (JSON-LD, microdata, RDFa).

A spider on this base names its sitemaps and the URL rules of its course pages; the base
walks the sitemaps (index files, gzip), asks for each course page with an errback, reads
the page's structured data and maps the schema.org ``Course`` to a ``RawCourse``. A
spider adds what its pages state outside the markup in ``complete_item``.

Pages that yield no course are counted by reason: ``no_structured_data``,
``wrong_type`` (schema.org data, but no ``Course``), ``invalid_jsonld`` (the only course
block is not valid JSON), ``login_redirect``, ``http_<status>``.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from scrapy import Request
from scrapy.http import Response
from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import Sitemap

from crawlers.bases.common import MoissonSpider
from crawlers.items import RawCourse
from crawlers.structured import (
    as_list,
    first,
    name_of,
    names,
    nodes_of_type,
    read_structured_data,
    url_of,
)

SITEMAP_URL = re.compile(r"sitemap|\.xml(\.gz)?($|\?)", re.I)


class CourseSitemapSpider(MoissonSpider):
    """Configure ``sitemap_urls`` and ``course_url_rules``; override the hooks you need."""

    sitemap_urls: ClassVar[list[str]] = []
    # Course pages: URLs matching any of these regular expressions.
    course_url_rules: ClassVar[list[str]] = []
    # Sitemaps of an index worth following (all by default).
    sitemap_follow: ClassVar[list[str]] = [""]
    course_types: ClassVar[tuple[str, ...]] = ("Course",)
    id_fields: ClassVar[tuple[str, ...]] = ("@id", "url", "name")

    async def start(self):
        for url in self.sitemap_urls:
            yield Request(url, callback=self.parse_sitemap, errback=self.request_failed)

    # -- sitemaps -----------------------------------------------------------------------

    def parse_sitemap(self, response: Response):
        body = response.body
        if body[:2] == b"\x1f\x8b":
            body = gunzip(body)
        try:
            sitemap = Sitemap(body)
            entries = list(sitemap)
        except Exception as exc:  # lxml raises many kinds on a page that is not XML
            self.page_failed(response, response.url, "invalid_sitemap", repr(exc))
            return
        if not entries:
            self.page_failed(response, response.url, "empty_sitemap", "no <loc> in the sitemap")
            return
        for entry in entries:
            loc = entry.get("loc")
            if not loc:
                continue
            if sitemap.type == "sitemapindex":
                if any(re.search(rule, loc) for rule in self.sitemap_follow):
                    yield Request(loc, callback=self.parse_sitemap, errback=self.request_failed)
            elif self.is_course_url(loc):
                yield self.course_request(loc, entry)

    def is_course_url(self, url: str) -> bool:
        return any(re.search(rule, url) for rule in self.course_url_rules)

    def course_request(self, url: str, entry: dict[str, Any]) -> Request:
        return Request(url, callback=self.parse_course, errback=self.request_failed)

    # -- course pages ---------------------------------------------------------------------

    def parse_course(self, response: Response):
        if self.redirected_to_login(response):
            self.page_failed(response, response.url, "login_redirect", "redirected to sign in")
            return
        if not hasattr(response, "xpath"):
            self.page_failed(response, response.url, "not_html", "the course page is not HTML")
            return
        data = read_structured_data(response)
        courses = nodes_of_type(data.nodes, *self.course_types)
        if not courses:
            if data.invalid_jsonld:
                reason, detail = "invalid_jsonld", "; ".join(data.invalid_jsonld)
            elif data.nodes:
                found = sorted({str(n.get("@type")) for n in data.nodes})
                reason, detail = "wrong_type", f"no {'/'.join(self.course_types)}, only {found}"
            else:
                reason, detail = "no_structured_data", "no schema.org data in the page"
            self.page_failed(response, response.url, reason, detail)
            return
        yield from self.items_from(
            courses[:1], lambda node: self.course_item(node, response, data.nodes)
        )

    def course_item(
        self, node: dict[str, Any], response: Response, nodes: list[dict[str, Any]]
    ) -> RawCourse | None:
        item = RawCourse(
            platform=self.platform,
            external_id=self.external_id(node, response),
            url=self.course_url(node, response),
            source_url=response.url,
            raw=node,
            **schema_course_fields(node),
        )
        return self.complete_item(item, response, node, nodes)

    def external_id(self, node: dict[str, Any], response: Response) -> str:
        """The platform's id of the course; by default its canonical URL."""
        return self.course_url(node, response)

    def course_url(self, node: dict[str, Any], response: Response) -> str:
        canonical = response.xpath('//link[@rel="canonical"]/@href').get()
        return response.urljoin(canonical or url_of(node.get("url")) or response.url)

    def complete_item(
        self, item: RawCourse, response: Response, node: dict[str, Any], nodes: list[dict]
    ) -> RawCourse | None:
        """What the page says outside its schema.org ``Course``; the item as is by default."""
        return item

    def callback_for_url(self, url: str):
        if url in self.sitemap_urls or SITEMAP_URL.search(url) or not self.is_course_url(url):
            return self.parse_sitemap
        return self.parse_course


def schema_course_fields(node: dict[str, Any]) -> dict[str, Any]:
    """RawCourse fields a schema.org ``Course`` states, as it states them."""
    offer = first(node.get("offers"))
    offer = offer if isinstance(offer, dict) else {}
    rating = node.get("aggregateRating")
    rating = rating if isinstance(rating, dict) else {}
    price = offer.get("price")
    if price is None and node.get("isAccessibleForFree") in (True, "true", "True"):
        price = 0
    instances = [i for i in as_list(node.get("hasCourseInstance")) if isinstance(i, dict)]
    language = _language(node.get("inLanguage"))
    return {
        "title": name_of(node),
        "code": first(node.get("courseCode")),
        "description": first(node.get("description")),
        "language": language,
        "duration": first(node.get("timeRequired")),
        "level": name_of(first(node.get("educationalLevel"))),
        "categories": names(node.get("about")),
        "organisations": names(node.get("provider")),
        "image": url_of(node.get("image")),
        "price": price,
        "currency": offer.get("priceCurrency"),
        "certificate": name_of(first(node.get("educationalCredentialAwarded"))),
        "rating": rating.get("ratingValue"),
        "rating_scale": rating.get("bestRating"),
        "rating_count": rating.get("ratingCount") or rating.get("reviewCount"),
        "enrolments": first(node.get("totalHistoricalEnrollment")),
        "effort": _shared_workload(instances),
        "sessions": [course_instance_session(i, n, language) for n, i in enumerate(instances)],
    }


def course_instance_session(
    instance: dict[str, Any], number: int, course_language: str | None = None
) -> dict[str, Any]:
    """A session; an instance that states no language is taught in the course's."""
    language = _language(instance.get("inLanguage")) or course_language
    mode = first(instance.get("courseMode"))
    start = first(instance.get("startDate"))
    offer = first(instance.get("offers"))
    offer = offer if isinstance(offer, dict) else {}
    return {
        "key": str(instance.get("@id") or f"{start or ''}|{mode or ''}|{number}"),
        "start": start,
        "end": first(instance.get("endDate")),
        "languages": [language] if language else [],
        "price": offer.get("price"),
        "currency": offer.get("priceCurrency"),
        "effort": first(instance.get("courseWorkload")),
    }


def _shared_workload(instances: list[dict[str, Any]]) -> Any:
    """The course's effort: the workload every instance states alike; each session keeps its own."""
    stated = {str(first(i.get("courseWorkload"))) for i in instances if i.get("courseWorkload")}
    if len(stated) == 1 and all(i.get("courseWorkload") for i in instances):
        return first(instances[0].get("courseWorkload"))
    return None


def _language(value: Any) -> str | None:
    value = first(value)
    if isinstance(value, dict):
        value = value.get("alternateName") or value.get("name")
    return value if isinstance(value, str) and value else None
