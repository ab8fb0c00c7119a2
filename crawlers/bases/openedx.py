"""Sites running Open edX, read through the LMS's public course API.

``GET /api/courses/v1/courses/?page_size=100`` lists course runs, paged with
``{"results": [...], "pagination": {"next", "previous", "count", "num_pages"}}``
(edx-platform ``lms/djangoapps/course_api``: ``views.CourseListView`` with edx-drf-extensions'
``NamespacedPageNumberPagination``; the run's fields are ``serializers.CourseSerializer``).
A run's id is ``course-v1:ORG+NUMBER+RUN`` (or the older ``ORG/NUMBER/RUN``): the runs of
one ``ORG+NUMBER`` are sessions of one listing. Runs of a course may sit on different pages,
so a site's listings are made once its paging ends (its last page, a failed page, the page
ceiling), from every run read until then.

A spider reads one site (``platform``, ``platform_label``, ``base_url``) or, with a
``sites_file``, several (``crawlers/spiders/openedx.py`` reads
``crawlers/data/openedx_sites.json``; crawlers/bases/sites.py).
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import quote, urljoin, urlparse

from scrapy import Request
from scrapy.http import Response

from crawlers.bases.common import UnparseablePage
from crawlers.bases.json_api import JsonApiSpider
from crawlers.bases.sites import SitesMixin
from crawlers.items import RawCourse

# How the API writes a run's pacing, in the words of pipelines/sessions.py (data).
PACINGS = json.loads(
    (Path(__file__).resolve().parent.parent / "data" / "openedx_pacing.json").read_text()
)["pacing"]
HIDDEN = "moisson/objects/hidden"


def course_key(run_id: str) -> str:
    """``ORG+NUMBER`` of a run id: ``course-v1:FUN+CS101+2027_T1`` -> ``FUN+CS101``."""
    key = run_id.split(":", 1)[1] if run_id.startswith("course-v1:") else run_id
    parts = key.replace("/", "+").split("+")
    if len(parts) != 3 or not all(parts):
        raise ValueError(f"not a course run id: {run_id!r}")
    return f"{parts[0]}+{parts[1]}"


class OpenEdxSpider(SitesMixin, JsonApiSpider):
    """Configure ``name``, ``platform`` and ``base_url``; the rest is Open edX's course API."""

    api_path: ClassVar[str] = "/api/courses/v1/courses/"
    page_size: ClassVar[int] = 100
    id_fields = ("id", "course_id")
    # a listing is made of runs of several pages: a page's 304 cannot say which are unchanged
    conditional_list_pages = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # per site (by host): the runs read so far, by course key
        self.runs: defaultdict[str, dict[str, list[dict[str, Any]]]] = defaultdict(dict)

    async def start(self):
        for site in self.sites:
            first = self.page_request(
                urljoin(site["base_url"], f"{self.api_path}?page_size={self.page_size}")
            )
            if first is not None:
                yield first

    def records(self, page: Any) -> list[Any]:
        return page["results"]

    def next_page_url(self, page: Any, url: str, count: int) -> str | None:
        return (page.get("pagination") or {}).get("next") or None

    def parse_page(self, response: Response):
        try:
            host = urlparse(self.site_for(response.url)["base_url"]).netloc
        except UnparseablePage as exc:
            self.page_failed(response, response.url, "unparseable", str(exc))
            return
        following = False
        for out in super().parse_page(response):
            following = following or isinstance(out, Request)
            yield out
        if not following:  # the site's paging ends here
            yield from self.listings(host, response.url)

    def page_request_failed(self, failure):
        super().page_request_failed(failure)
        host = urlparse(failure.request.url).netloc
        if host in self.by_host:
            yield from self.listings(host, failure.request.url)

    def course_item(self, record: dict[str, Any], response: Response, page: Any) -> None:
        """Keep the run until the site's paging ends (a run is not yet a listing)."""
        key = course_key(self.object_id(record))  # items_from skipped the runs without one
        if record.get("hidden"):  # catalog visibility "about" or "none": not in the catalogue
            self.crawler.stats.inc_value(HIDDEN)
            return None
        host = urlparse(response.url).netloc
        self.runs[host].setdefault(key, []).append({**record, "_source_url": response.url})
        return None

    def held_objects(self) -> int:
        """Runs read but not yet listings: they wait for their site's paging to end."""
        return sum(len(runs) for site in self.runs.values() for runs in site.values())

    def listings(self, host: str, url: str):
        site = self.by_host[host]
        gathered, self.runs[host] = self.runs[host], {}
        for key, runs in gathered.items():
            yield self.listing(site, key, runs)

    def listing(self, site: dict[str, Any], key: str, runs: list[dict[str, Any]]) -> RawCourse:
        # the run that starts last speaks for the course (its latest title and texts)
        runs = sorted(runs, key=lambda r: r.get("start") or "")
        latest = runs[-1]
        media = latest.get("media") if isinstance(latest.get("media"), dict) else {}
        image = (media.get("image") or {}).get("large") or (media.get("course_image") or {}).get(
            "uri"
        )
        run_id = str(latest.get("id") or latest.get("course_id"))
        return RawCourse(
            platform=site["platform"],
            external_id=key,
            url=urljoin(site["base_url"], f"/courses/{quote(run_id, safe=':+')}/about"),
            source_url=latest["_source_url"],
            title=latest.get("name"),
            code=latest.get("number"),
            introduction=latest.get("short_description"),
            effort=latest.get("effort"),
            organisations=[latest["org"]] if latest.get("org") else [],
            language=latest.get("language") or site.get("language"),
            image=urljoin(site["base_url"], image) if image else None,
            sessions=[self.session(run) for run in runs],
            raw={"runs": [{k: v for k, v in r.items() if k != "_source_url"} for r in runs]},
        )

    @staticmethod
    def session(run: dict[str, Any]) -> dict[str, Any]:
        pacing = run.get("pacing")
        return {
            "key": str(run.get("id") or run.get("course_id")),
            "start": run.get("start"),
            "end": run.get("end"),
            "enrolment_start": run.get("enrollment_start"),
            "enrolment_end": run.get("enrollment_end"),
            "languages": [run["language"]] if run.get("language") else [],
            "pace": PACINGS.get(pacing, pacing),
            "effort": run.get("effort"),
        }
