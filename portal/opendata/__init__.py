"""The catalogue in the formats downstream sites read: LHEO, schema.org JSON-LD, MOOChub, CSV.

Each format is a writer: a function of the courses (an iterator of ``course_detail``
dictionaries, read a batch at a time by ``storage.export_queries.export_courses``) and an
``Export`` (where course pages live, when the export was made, the licence) that yields the
document in pieces, so nothing holds the whole catalogue. ``moisson export`` writes them to
a file, ``/api/v1/export/…`` streams them (docs/OPENDATA.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

from portal.urls import COURSE_PATH

OPENDATA_FILE = Path(__file__).parent.parent / "data" / "opendata.json"


@cache
def terms() -> dict:
    """The publisher, attribution, licence and placeholders of ``portal/data/opendata.json``."""
    return json.loads(OPENDATA_FILE.read_text(encoding="utf-8"))


class EmptyExport(ValueError):
    """The selection holds no course and the format cannot say so (LHEO: an ``offres``
    holds at least one ``formation``): refused before anything is written."""


@dataclass(frozen=True)
class Export:
    """What an export says of itself: the portal's base URL (course pages), when it was
    made, and the URL it is served at (MOOChub's links)."""

    base_url: str
    generated_at: datetime
    self_url: str | None = None

    def course_url(self, course_id: int) -> str:
        return self.base_url.rstrip("/") + COURSE_PATH.format(course_id=course_id)


def source_pages(course: dict) -> list[dict]:
    """Each visible listing's platform and page: where the course is described and taken."""
    return [
        {"platform": lst["platform"], "platform_label": lst["platform_label"], "url": lst["url"]}
        for lst in course["listings"]
    ]
