"""The catalogue read for the open-data exports, a batch of courses at a time.

An export reads every visible course a search selects (``storage.search.CourseFilters``),
in id order, resuming after the last id read (keyset paging): each batch is one query for
its ids and the few reads of ``course_details`` for those ids, so what is held at once is
one batch whatever the size of the catalogue. ``since`` keeps the courses recomputed
(``course.updated_at``) at or after that time: a course is recomputed whenever one of its
listings is new, changed, hidden or shown again.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy.engine import Engine

from storage.models import Course
from storage.search import CourseFilters, _Search, course_details

BATCH = 500


def export_courses(
    engine: Engine,
    filters: CourseFilters,
    now: datetime,
    since: datetime | None = None,
    batch: int = BATCH,
) -> Iterator[dict]:
    """Each selected visible course as ``course_detail`` describes it, by id.

    One connection (so one snapshot on PostgreSQL, one read transaction on SQLite) serves
    the whole export; it is closed when the iterator is exhausted or closed.
    """
    with engine.connect() as conn:
        search = _Search(conn, filters, now)
        after = 0
        while True:
            stmt = search.courses(filters, Course.id).where(Course.id > after)
            if since is not None:
                stmt = stmt.where(Course.updated_at >= since)
            ids = list(conn.execute(stmt.order_by(Course.id).limit(batch)).scalars())
            if not ids:
                return
            yield from course_details(conn, ids, now)
            if len(ids) < batch:
                return
            after = ids[-1]
