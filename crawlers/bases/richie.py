"""Sites running openfun/richie (FUN-MOOC and its sister sites).

Richie's search API pages through ``/api/v1.0/<kind>/?limit=&offset=`` and answers
``{"meta": {"count", "offset", "total_count"}, "objects": [...]}``. Course objects name
their organisations and categories by id only, so the spider reads those two lists
first and then the courses, which it turns into items with the names resolved.
The course object's shape is built by richie's
``src/richie/apps/search/indexers/courses.py`` (``format_es_object_for_api``).
"""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import parse_qs, urlencode, urljoin, urlparse

from scrapy import Request
from scrapy.http import Response

from crawlers.bases.common import MoissonSpider, UnparseablePage, failure_reason
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


class RichieSpider(MoissonSpider):
    """Configure ``name``, ``platform`` and ``base_url``; the rest is richie's API."""

    api_path: ClassVar[str] = "/api/v1.0/"
    page_size: ClassVar[int] = 10
    lookup_page_size: ClassVar[int] = 100
    default_language: ClassVar[str | None] = "fr"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.names: dict[str, dict[str, str]] = {kind: {} for kind in LOOKUPS}
        self.total_courses: int | None = None

    def api_url(self, kind: str, offset: int, limit: int) -> str:
        query = urlencode({"limit": limit, "offset": offset})
        return urljoin(self.base_url, f"{self.api_path}{kind}/?{query}")

    async def start(self):
        yield self.lookup_request(LOOKUPS[0], 0)

    # -- organisations and categories: id -> name -----------------------------------

    def lookup_request(self, kind: str, offset: int) -> Request:
        return Request(
            self.api_url(kind, offset, self.lookup_page_size),
            callback=self.parse_lookup,
            errback=self.lookup_failed,
            cb_kwargs={"kind": kind, "offset": offset},
        )

    def after_lookup(self, kind: str):
        following = LOOKUPS.index(kind) + 1
        if following < len(LOOKUPS):
            return self.lookup_request(LOOKUPS[following], 0)
        return self.courses_request(0)

    def parse_lookup(self, response: Response, kind: str, offset: int | None = None):
        offset = url_offset(response.url)
        try:
            page = self.read_json(response)
            objects, total = page["objects"], page["meta"]["total_count"]
        except (UnparseablePage, KeyError, TypeError) as exc:
            self.page_failed(response, response.url, "unparseable", str(exc))
            yield self.after_lookup(kind)
            return
        for obj in objects:
            if isinstance(obj, dict) and obj.get("id") is not None and obj.get("title"):
                self.names[kind][str(obj["id"])] = obj["title"]
        if objects and offset + len(objects) < total:
            yield self.lookup_request(kind, offset + len(objects))
        else:
            yield self.after_lookup(kind)

    def lookup_failed(self, failure):
        request = failure.request
        self.page_failed(None, request.url, failure_reason(failure), repr(failure.value))
        # Names are a nicety: without them the courses still come, with ids only.
        yield self.after_lookup(request.cb_kwargs["kind"])

    # -- courses ------------------------------------------------------------------------

    def courses_request(self, offset: int) -> Request:
        return Request(
            self.api_url("courses", offset, self.page_size),
            callback=self.parse_courses,
            errback=self.courses_failed,
            cb_kwargs={"offset": offset},
        )

    def next_courses_page(self, offset: int, count: int):
        """The next page, guessed from the page size when this one could not be read."""
        step = count or self.page_size
        if self.total_courses is not None and offset + step < self.total_courses:
            return self.courses_request(offset + step)
        return None

    def parse_courses(self, response: Response, offset: int | None = None):
        offset = url_offset(response.url)
        try:
            page = self.read_json(response)
            objects = page["objects"]
            self.total_courses = int(page["meta"]["total_count"])
            self.crawler.stats.set_value("moisson/items/expected", self.total_courses)
        except (UnparseablePage, KeyError, TypeError, ValueError) as exc:
            self.page_failed(response, response.url, "unparseable", str(exc))
            following = self.next_courses_page(offset, 0)
            if following:
                yield following
            return
        for obj in objects:
            if not isinstance(obj, dict) or obj.get("id") is None:
                self.crawler.stats.inc_value("moisson/objects/without_id")
                continue
            yield self.course_item(obj, response)
        if objects:
            following = self.next_courses_page(offset, len(objects))
            if following:
                yield following

    def courses_failed(self, failure):
        request = failure.request
        self.page_failed(None, request.url, failure_reason(failure), repr(failure.value))
        following = self.next_courses_page(url_offset(request.url), 0)
        if following:
            yield following

    def course_item(self, obj: dict[str, Any], response: Response) -> RawCourse:
        organisations = [
            self.names["organizations"].get(str(i)) for i in obj.get("organizations") or []
        ]
        highlighted = obj.get("organization_highlighted")
        names = [n for n in organisations if n]
        if highlighted and highlighted not in names:
            names.insert(0, highlighted)
        cover = obj.get("cover_image") if isinstance(obj.get("cover_image"), dict) else {}
        return RawCourse(
            platform=self.platform,
            external_id=str(obj["id"]),
            url=urljoin(self.base_url, obj["absolute_url"]) if obj.get("absolute_url") else None,
            source_url=response.url,
            title=obj.get("title"),
            code=obj.get("code"),
            introduction=obj.get("introduction"),
            duration=obj.get("duration"),
            effort=obj.get("effort"),
            categories=[
                self.names["categories"].get(str(i), str(i)) for i in obj.get("categories") or []
            ],
            organisations=names,
            image=urljoin(self.base_url, cover["src"]) if cover.get("src") else None,
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
