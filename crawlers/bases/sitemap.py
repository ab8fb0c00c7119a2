"""Sites whose course pages state the course as schema.org ``Course`` (JSON-LD, microdata, RDFa).

Two parts, composed the way Scrapy projects mix a structured-data base into Scrapy's own
``SitemapSpider`` (``class X(SitemapSpider, StructuredDataSpider)``):

- ``StructuredCourseSpider`` reads a course page's structured data (extruct, through
  ``crawlers/structured.py``) and maps the schema.org ``Course`` to a ``RawCourse``; a
  spider adds what its pages state outside the markup in ``complete_item``.
- ``CourseSitemapSpider`` is ``scrapy.spiders.SitemapSpider`` over it: sitemaps named in
  ``sitemap_urls`` or listed in a ``robots.txt`` there, index files, gzip with Scrapy's
  decompression cap (``DOWNLOAD_MAXSIZE``, warning at ``DOWNLOAD_WARNSIZE``),
  ``sitemap_filter`` (by ``lastmod``, see below) and, with ``sitemap_alternate_links``,
  the ``xhtml:link`` alternates. ``course_url_rules`` become Scrapy's ``sitemap_rules``.

What Scrapy only logs, the base counts: a sitemap that is refused (``sitemap_too_large``:
its decompressed size passes the cap; ``invalid_sitemap``; ``empty_sitemap``) or one
nested deeper than ``sitemap_max_depth`` (paging stopped: the run is not healthy).
Every sitemap counts towards ``MOISSON_MAX_PAGES``; every request has an errback.

Pages that yield no course are counted by reason: ``no_structured_data``,
``wrong_type`` (schema.org data, but no ``Course``), ``invalid_jsonld`` (the only course
block is not valid JSON), ``login_redirect``, ``http_<status>``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, ClassVar

from scrapy import Request
from scrapy.http import Response
from scrapy.spiders import SitemapSpider
from scrapy.utils.gz import gzip_magic_number

from crawlers import incremental
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

SITEMAP_URL = re.compile(r"sitemap|\.xml(\.gz)?($|\?)|/robots\.txt$", re.I)
SITEMAP_DEPTH = "sitemap_depth"  # request meta: how many sitemaps led to this one


class StructuredCourseSpider(MoissonSpider):
    """A course page's schema.org ``Course`` as a ``RawCourse``: the ``parse_course`` callback."""

    course_types: ClassVar[tuple[str, ...]] = ("Course",)
    id_fields: ClassVar[tuple[str, ...]] = ("@id", "url", "name")
    id_required: ClassVar[bool] = False  # a page's course is known by its URL

    # -- course pages ---------------------------------------------------------------------

    def parse_course(self, response: Response):
        if response.status == 304:  # asked conditionally: the page is as we last read it
            known = response.meta[incremental.KNOWN]
            self.seen_unchanged(
                known["platform"],
                known["external_id"],
                incremental.NOT_MODIFIED,
                response.meta.get(incremental.LISTED_ON),
            )
            return
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
        item = self.complete_item(item, response, node, nodes)
        if item is not None:
            item["validators"] = incremental.validators_of(response)
        return item

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
        return self.parse_course


class CourseSitemapSpider(SitemapSpider, StructuredCourseSpider):
    """Configure ``sitemap_urls`` and ``course_url_rules``; override the hooks you need."""

    sitemap_urls: ClassVar[list[str]] = []
    # Course pages: URLs matching any of these regular expressions.
    course_url_rules: ClassVar[list[str]] = []
    # Sitemaps of an index worth following (all by default).
    sitemap_follow: ClassVar[list[str]] = [""]
    # Also follow a sitemap entry's <xhtml:link rel="alternate"> URLs.
    sitemap_alternate_links: ClassVar[bool] = False
    # Sitemaps nested deeper than this (robots.txt -> index -> ... -> urlset) are not read.
    sitemap_max_depth: ClassVar[int] = 4

    @property
    def sitemap_rules(self) -> list[tuple[str, str]]:
        """Scrapy's rules, from ``course_url_rules``: a course page goes to ``parse_course``."""
        return [(rule, "parse_course") for rule in self.course_url_rules]

    async def start(self):
        for url in self.sitemap_urls:
            yield self.sitemap_request(url, depth=0)

    def sitemap_request(self, url: str, depth: int) -> Request:
        """A sitemap, asked for conditionally when its last read listed only courses that
        all came into the catalogue (crawlers/incremental.py)."""
        return self.list_page_request(
            Request(
                url,
                callback=self._parse_sitemap,
                errback=self.request_failed,
                meta={SITEMAP_DEPTH: depth},
            )
        )

    # -- sitemaps: Scrapy's SitemapSpider, with what it leaves out counted ----------------

    def _parse_sitemap(self, response: Response):
        if response.status == 304:  # its courses are those of its last read
            listings, _next = self.list_page_unchanged(response, see=False)
            for known in listings:
                entry = {"loc": known["page_url"], "lastmod": known["lastmod"]}
                following = self.course_request(known["page_url"], entry, response.url)
                if following is not None:
                    yield following
            return
        self._read: dict[str, dict[str, Any]] | None = None  # set by sitemap_filter
        self._too_large = False  # set by _get_sitemap_body
        try:
            found = list(super()._parse_sitemap(response))
        except Exception as exc:  # lxml raises many kinds on a body that is not XML
            self.page_failed(response, response.url, "invalid_sitemap", repr(exc))
            return
        is_robots = response.url.endswith("/robots.txt")
        if self._too_large:
            cap = response.meta.get("download_maxsize", self._max_size)
            detail = f"decompressed size over DOWNLOAD_MAXSIZE ({cap} bytes)"
            self.page_failed(response, response.url, "sitemap_too_large", detail)
            return
        if not is_robots and self._read is None:
            self.page_failed(response, response.url, "invalid_sitemap", "not a sitemap")
            return
        if not found and (is_robots or not self._read):
            detail = "no Sitemap: line" if is_robots else "no <loc> in the sitemap"
            self.page_failed(response, response.url, "empty_sitemap", detail)
            return
        depth = response.meta.get(SITEMAP_DEPTH, 0) + 1
        listed_on = incremental.page_url(response)
        nested = False
        for request in found:
            if request.callback == self._parse_sitemap:
                nested = True
                if depth > self.sitemap_max_depth:
                    detail = f"sitemaps nested deeper than {self.sitemap_max_depth}"
                    self.paging_stopped("sitemap_depth", request.url, detail)
                    continue
                following = self.listing_page(self.sitemap_request(request.url, depth))
            else:
                entry = (self._read or {}).get(request.url, {"loc": request.url})
                following = self.course_request(request.url, entry, listed_on)
            if following is not None:
                yield following
        if not nested and not is_robots:  # a sitemap of course pages only
            self.list_page_read(response, None)

    def _get_sitemap_body(self, response: Response) -> bytes | None:
        body = super()._get_sitemap_body(response)
        if body is None and gzip_magic_number(response):
            self._too_large = True  # Scrapy's gunzip stopped at the size cap
        return body

    def sitemap_filter(self, entries: Iterable[dict[str, Any]]) -> Iterable[dict[str, Any]]:
        """Scrapy's hook on a sitemap's entries; the base remembers each page's entry.

        A spider narrows entries here (``super().sitemap_filter`` first); ``course_request``
        sees the entry (``loc``, ``lastmod``, ``alternate``) of each course page.
        """
        self._read = {}
        for entry in entries:
            for url in [entry.get("loc"), *(entry.get("alternate") or [])]:
                if url:
                    self._read.setdefault(url, entry)
            yield entry

    def is_course_url(self, url: str) -> bool:
        return any(rule.search(url) for rule, _callback in self._cbs)

    def course_request(
        self, url: str, entry: dict[str, Any], listed_on: str | None = None
    ) -> Request | None:
        """The request for one course page of a sitemap; None when it is not to be fetched.

        A page the catalogue read before is skipped when the sitemap's ``lastmod`` is not
        later than that read's, else asked for conditionally (crawlers/incremental.py).
        ``listed_on``: the sitemap that lists it.
        """
        self.count_listed(listed_on)
        known = self.known.pages.get(url)
        lastmod = entry.get("lastmod")
        if self.stated_unchanged(lastmod, known, incremental.SKIPPED, listed_on):
            return None
        request = Request(
            url,
            callback=self.parse_course,
            errback=self.request_failed,
            meta={incremental.LASTMOD: lastmod, incremental.LISTED_ON: listed_on},
        )
        request, asked = incremental.conditional(request, known)
        if asked:
            self.crawler.stats.inc_value(incremental.PREFIX + incremental.CONDITIONAL)
        return request

    def callback_for_url(self, url: str):
        if url in self.sitemap_urls or SITEMAP_URL.search(url) or not self.is_course_url(url):
            return self._parse_sitemap
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
