"""Coursera (https://www.coursera.org): courses taught in French, from the catalogue API.

``https://api.coursera.org/api/courses.v1`` pages with ``start``/``limit`` and answers
``{"elements": [...], "paging": {"next": "100", "total": N}, "linked": {"partners.v1":
[...]}}``; ``includes=partnerIds`` brings the partners' names in ``linked``. The API cannot
filter by language, so the spider keeps the courses whose ``primaryLanguages`` include
French and counts the others (``moisson/records/skipped/not_french``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from scrapy.http import Response

from crawlers.bases.json_api import JsonApiSpider, with_query
from crawlers.items import RawCourse

API = "https://api.coursera.org/api/courses.v1"
FIELDS = (
    "name,slug,description,workload,primaryLanguages,subtitleLanguages,partnerIds,"
    "domainTypes,photoUrl,certificates,partners.v1(name,shortName)"
)


class CourseraSpider(JsonApiSpider):
    # The platform's data states neither sessions nor a pace (see the recordings), so the
    # health check does not ask for them (docs/OPERATIONS.md, "Health checks").
    key_field_minimums = {"sessions_or_pace": 0}
    name = "coursera"
    platform = "coursera"
    platform_label = "Coursera"
    base_url = "https://www.coursera.org"
    allowed_domains = ["api.coursera.org"]
    page_size = 100

    def first_page_url(self) -> str:
        query = {"start": 0, "limit": self.page_size, "includes": "partnerIds", "fields": FIELDS}
        return f"{API}?{urlencode(query)}"

    def records(self, page: Any) -> list[Any]:
        return page["elements"]

    def next_page_url(self, page: Any, url: str, count: int) -> str | None:
        following = (page.get("paging") or {}).get("next")
        return with_query(url, start=following) if following else None

    def course_item(self, course: dict[str, Any], response: Response, page: Any):
        languages = [str(code) for code in course.get("primaryLanguages") or []]
        if not any(code.lower().startswith("fr") for code in languages):
            self.crawler.stats.inc_value("moisson/records/skipped/not_french")
            return None
        partners = {
            str(p.get("id")): p.get("name")
            for p in ((page.get("linked") or {}).get("partners.v1") or [])
            if isinstance(p, dict)
        }
        return RawCourse(
            platform=self.platform,
            external_id=str(course["id"]),
            url=f"{self.base_url}/learn/{course['slug']}" if course.get("slug") else None,
            source_url=response.url,
            title=course.get("name"),
            description=course.get("description"),
            language=languages[0],
            effort=course.get("workload"),
            categories=[
                d.get("domainId") for d in course.get("domainTypes") or [] if d.get("domainId")
            ],
            organisations=[
                partners[str(i)] for i in course.get("partnerIds") or [] if partners.get(str(i))
            ],
            image=course.get("photoUrl"),
            certificate=", ".join(course.get("certificates") or []) or None,
            kind=course.get("courseType"),
            raw=course,
        )
