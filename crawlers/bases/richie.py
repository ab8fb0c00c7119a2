"""Sites running openfun/richie (FUN-MOOC and its sister sites).

Richie's search API pages through ``/api/v1.0/<kind>/?limit=&offset=`` and answers
``{"meta": {"count", "offset", "total_count"}, "objects": [...]}``. Course objects name
their organisations and categories by id only, so the spider reads those two lists
first and then the courses, which it turns into items with the names resolved.
The course object's shape is built by richie's
``src/richie/apps/search/indexers/courses.py`` (``format_es_object_for_api``).

A spider reads one site (its ``platform``, ``platform_label`` and ``base_url``) or, when
its ``sites_file`` names several (crawlers/bases/sites.py; ``crawlers/spiders/richie_sites.py``
reads ``crawlers/data/richie_sites.json``), each as its own platform: the site of a response
is the one whose host it is on, and each site keeps its own names and count.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlencode, urljoin, urlparse

from scrapy import Request
from scrapy.http import Response

from crawlers import incremental
from crawlers.bases.common import MoissonSpider, UnparseablePage, failure_reason
from crawlers.bases.sites import SitesMixin
from crawlers.items import RawCourse

LOOKUPS = ("organizations", "categories")
RUN_FIELDS = (
    "price",
    "price_currency",
    "offer",
    "discounted_price",
    "discount",
    "certificate_price",
    "certificate_offer",
    "certificate_discounted_price",
    "certificate_discount",
)


class RichieSpider(SitesMixin, MoissonSpider):
    """Configure ``name``, ``platform`` and ``base_url``; the rest is richie's API."""

    api_path: ClassVar[str] = "/api/v1.0/"
    page_size: ClassVar[int] = 10
    lookup_page_size: ClassVar[int] = 100
    default_language: ClassVar[str | None] = "fr"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # per site (by host): organisation and category names, and the announced count
        self.names: defaultdict[str, dict[str, dict[str, str]]] = defaultdict(
            lambda: {kind: {} for kind in LOOKUPS}
        )
        self.total_courses: dict[str, int] = {}

    def api_url(self, base_url: str, kind: str, offset: int, limit: int) -> str:
        query = urlencode({"limit": limit, "offset": offset})
        return urljoin(base_url, f"{self.api_path}{kind}/?{query}")

    async def start(self):
        for site in self.by_host.values():
            first = self.lookup_request(site["base_url"], LOOKUPS[0], 0)
            if first is not None:
                yield first

    # -- organisations and categories: id -> name -----------------------------------

    def lookup_request(self, base_url: str, kind: str, offset: int) -> Request | None:
        return self.listing_page(
            Request(
                self.api_url(base_url, kind, offset, self.lookup_page_size),
                callback=self.parse_lookup,
                errback=self.lookup_failed,
                cb_kwargs={"kind": kind},
            )
        )

    def after_lookup(self, url: str, kind: str):
        """The next list's first page on ``url``'s site: the following lookup, then the courses."""
        site = self.by_host.get(urlparse(url).netloc)
        if site is None:  # a page of no site of this spider (moisson parse): nothing follows
            return
        base_url = site["base_url"]
        following = LOOKUPS.index(kind) + 1
        if following < len(LOOKUPS):
            request = self.lookup_request(base_url, LOOKUPS[following], 0)
        else:
            request = self.courses_request(base_url, 0)
        if request is not None:
            yield request

    def parse_lookup(self, response: Response, kind: str):
        offset = url_offset(response.url)
        try:
            site = self.site_for(response.url)
            page = self.read_json(response)
            objects, total = page["objects"], page["meta"]["total_count"]
            if not isinstance(objects, list):
                raise TypeError(f"objects is {type(objects).__name__}, not a list")
            total = int(total)
        except (UnparseablePage, KeyError, TypeError, ValueError) as exc:
            self.page_failed(response, response.url, "unparseable", str(exc))
            self.paging_stopped("failed_page", response.url, f"the {kind} page failed")
            yield from self.after_lookup(response.url, kind)
            return
        names = self.names[urlparse(site["base_url"]).netloc][kind]
        for obj in objects:
            if isinstance(obj, dict) and obj.get("id") is not None and obj.get("title"):
                names[str(obj["id"])] = obj["title"]
        if objects and offset + len(objects) < total:
            following = self.lookup_request(site["base_url"], kind, offset + len(objects))
            if following is not None:  # None: the page ceiling is reached
                yield following
            return
        if not objects and offset < total:
            self.paging_stopped("empty_page", response.url, f"no {kind}, {total} announced")
        # Names are a nicety: without them the courses still come, with ids only.
        yield from self.after_lookup(response.url, kind)

    def lookup_failed(self, failure):
        request = failure.request
        self.page_failed(None, request.url, failure_reason(failure), repr(failure.value))
        kind = request.cb_kwargs["kind"]
        self.paging_stopped("failed_page", request.url, f"the {kind} page failed")
        yield from self.after_lookup(request.url, kind)

    # -- courses ------------------------------------------------------------------------

    def courses_request(self, base_url: str, offset: int) -> Request | None:
        return self.listing_page(self.courses_page(self.api_url(base_url, "courses", offset,
                                                                self.page_size)))  # fmt: skip

    def courses_page(self, url: str) -> Request:
        """A courses page, asked for conditionally when its validators are kept
        (crawlers/incremental.py)."""
        return self.list_page_request(
            Request(url, callback=self.parse_courses, errback=self.courses_failed)
        )

    def parse_courses(self, response: Response):
        if response.status == 304:  # its courses are those of its last read
            _listings, following = self.list_page_unchanged(response)
            request = self.listing_page(self.courses_page(following)) if following else None
            if request is not None:
                yield request
            return
        offset = url_offset(response.url)
        host = urlparse(response.url).netloc
        try:
            site = self.site_for(response.url)
            page = self.read_json(response)
            objects = page["objects"]
            if not isinstance(objects, list):
                raise TypeError(f"objects is {type(objects).__name__}, not a list")
            total = self.total_courses[host] = int(page["meta"]["total_count"])
            expected = sum(self.total_courses.values())
            self.crawler.stats.set_value("moisson/items/expected", expected)
        except (UnparseablePage, KeyError, TypeError, ValueError) as exc:
            self.page_failed(response, response.url, "unparseable", str(exc))
            self.paging_stopped("failed_page", response.url, "a courses page failed")
            return
        listed_on = incremental.page_url(response)
        yield from self.items_from(
            objects, lambda obj: self.course_item(obj, response), listed_on=listed_on
        )
        following = None
        if not objects:
            if offset < total:
                self.paging_stopped("empty_page", response.url, f"no courses, {total} announced")
        elif offset + len(objects) < total:
            following = self.api_url(
                site["base_url"], "courses", offset + len(objects), self.page_size
            )
        self.list_page_read(response, following)
        request = self.listing_page(self.courses_page(following)) if following else None
        if request is not None:
            yield request

    def courses_failed(self, failure):
        request = failure.request
        self.page_failed(None, request.url, failure_reason(failure), repr(failure.value))
        self.paging_stopped("failed_page", request.url, "a courses page failed")

    def course_item(self, obj: dict[str, Any], response: Response) -> RawCourse | None:
        site = self.site_for(response.url)
        base_url = site["base_url"]
        names_of = self.names[urlparse(base_url).netloc]
        organisations = [
            names_of["organizations"].get(str(i)) for i in obj.get("organizations") or []
        ]
        highlighted = obj.get("organization_highlighted")
        names = [n for n in organisations if n]
        if highlighted and highlighted not in names:
            names.insert(0, highlighted)
        cover = obj.get("cover_image") if isinstance(obj.get("cover_image"), dict) else {}
        return RawCourse(
            platform=site["platform"],
            external_id=str(obj["id"]),
            url=urljoin(base_url, obj["absolute_url"]) if obj.get("absolute_url") else None,
            source_url=response.url,
            title=obj.get("title"),
            code=obj.get("code"),
            introduction=obj.get("introduction"),
            duration=obj.get("duration"),
            effort=obj.get("effort"),
            categories=[
                names_of["categories"].get(str(i), str(i)) for i in obj.get("categories") or []
            ],
            organisations=names,
            image=urljoin(base_url, cover["src"]) if cover.get("src") else None,
            sessions=[self.session(run) for run in obj.get("course_runs") or []],
            raw=obj,
        )

    @staticmethod
    def session(run: dict[str, Any]) -> dict[str, Any]:
        languages = run.get("languages") or []
        key = run.get("id") or f"{run.get('start')}|{','.join(languages)}"
        session = {
            "key": str(key),
            "start": run.get("start"),
            "end": run.get("end"),
            "enrolment_start": run.get("enrollment_start"),
            "enrolment_end": run.get("enrollment_end"),
            "languages": languages,
        }
        session.update({field: run.get(field) for field in RUN_FIELDS})
        return session

    def callback_for_url(self, url: str):
        path = urlparse(url).path.rstrip("/")
        kind = path.rsplit("/", 1)[-1]
        if kind in LOOKUPS:
            return lambda response: self.parse_lookup(response, kind=kind)
        return self.parse_courses


def url_offset(url: str) -> int:
    """The page's offset, read from its URL: the URL is what the spider asked for."""
    try:
        return int(parse_qs(urlparse(url).query).get("offset", ["0"])[0])
    except ValueError:
        return 0
