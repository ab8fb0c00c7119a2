"""FutureLearn (https://www.futurelearn.com): its French courses, from its public course feed.

``https://www.futurelearn.com/feeds/courses`` answers one JSON array of every course, no
paging: ``uuid``, ``url``, ``name``, ``introduction``, ``description``, ``language``,
``image_url``, ``categories``, ``educator``, ``hours_per_week``, ``has_certificates``,
``organisation`` (``name``, ``url``) and ``runs`` (``uuid``, ``start_date``,
``duration_in_weeks``). The feed's fields are those other harvesters read
(mammooc/mammooc.org, app/workers/future_learn_course_worker.rb). A course whose stated
language is not French is skipped and counted (``moisson/records/skipped/not_french``); a
course stating none goes on to the pipelines' language detector.
"""

from __future__ import annotations

from typing import Any

from scrapy.http import Response

from crawlers.bases.json_api import JsonApiSpider
from crawlers.items import RawCourse
from pipelines.language import language_code

FEED = "https://www.futurelearn.com/feeds/courses"


class FutureLearnSpider(JsonApiSpider):
    name = "futurelearn"
    platform = "futurelearn"
    platform_label = "FutureLearn"
    base_url = "https://www.futurelearn.com"
    allowed_domains = ["www.futurelearn.com"]
    id_fields = ("uuid",)

    def first_page_url(self) -> str:
        return FEED

    def records(self, page: Any) -> list[Any]:
        return page  # the feed is the array itself

    def next_page_url(self, page: Any, url: str, count: int) -> str | None:
        return None  # one document

    def course_item(self, course: dict[str, Any], response: Response, page: Any):
        stated = language_code(course.get("language"))
        if stated is not None and stated != "fr":
            self.crawler.stats.inc_value("moisson/records/skipped/not_french")
            return None
        organisation = course.get("organisation") or {}
        categories = course.get("categories") or []
        if isinstance(categories, dict):  # the feed has written it as {"0": …, "1": …}
            categories = list(categories.values())
        return RawCourse(
            platform=self.platform,
            external_id=str(course["uuid"]),
            url=course.get("url"),
            source_url=response.url,
            title=course.get("name"),
            introduction=course.get("introduction"),
            description=course.get("description"),
            language=course.get("language"),
            # a bare number: hours per week (pipelines/data/durations.json)
            effort=stated_number(course.get("hours_per_week")),
            categories=[str(c) for c in categories],
            organisations=[organisation["name"]] if organisation.get("name") else [],
            image=course.get("image_url"),
            sessions=[self.session(run, course) for run in course.get("runs") or []],
            raw=course,
        )

    @staticmethod
    def session(run: dict[str, Any], course: dict[str, Any]) -> dict[str, Any]:
        return {
            "key": str(run.get("uuid") or run.get("start_date")),
            "start": run.get("start_date"),
            # a bare number of weeks (pipelines/data/durations.json)
            "duration": stated_number(run.get("duration_in_weeks")),
            "languages": [course["language"]] if course.get("language") else [],
        }


def stated_number(value) -> str | None:
    """A number the feed states, as its text (``3`` -> ``"3"``); None when absent."""
    return None if value in (None, "") else str(value)
