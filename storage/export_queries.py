"""The catalogue read for the open-data exports, a batch of courses at a time.

An export reads every visible course a search selects (``storage.search.CourseFilters``),
in id order, resuming after the last id read (keyset paging). Each batch is a fixed number
of set-based statements, whatever its size: the batch's course rows (only the columns the
writers use), then its visible sessions, ROME codes (``storage.codes``), organisations,
topics and visible listings, each read once for all the batch's ids. Of a listing's JSON
``record`` only the stated codes are read (``record["codes"]``, extracted by the database):
the writers use nothing else that lives only there. What is held at once is one batch
whatever the size of the catalogue; on PostgreSQL the rows come through a server-side cursor.

A course is described with the keys the writers read, named and valued as
``storage.search.course_details`` names them (the course page's description), so a writer
is fed the same values by either (``tests/test_opendata.py`` compares the documents).
``since`` keeps the courses recomputed (``course.updated_at``) at or after that time: a
course is recomputed whenever one of its listings is new, changed, hidden or shown again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection, Engine

from storage import ratings
from storage.codes import coded_jobs, course_codes
from storage.models import (
    Course,
    Listing,
    Organisation,
    Platform,
    Session,
    Topic,
    course_organisation,
    course_topic,
)
from storage.search import CourseFilters, _Search, course_facts, next_session, session_states

BATCH = 500
# the batch's ids, bound once as one list (an expanding parameter): the statements are
# built and compiled once, not coerced id by id for every batch
IDS = bindparam("ids", expanding=True)

COURSE_COLUMNS = (
    Course.id,
    Course.title,
    Course.description,
    Course.language,
    Course.level,
    Course.qualification_entry,
    Course.qualification_exit,
    Course.duration_weeks_min,
    Course.duration_weeks_max,
    Course.duration_hours_min,
    Course.duration_hours_max,
    Course.effort_hours_per_week_min,
    Course.effort_hours_per_week_max,
    Course.free,
    Course.price_amount,
    Course.currency,
    Course.certificate,
    Course.rating,
    Course.rating_count,
    Course.created_at,
    Course.updated_at,
)


def export_courses(
    engine: Engine,
    filters: CourseFilters,
    now: datetime,
    since: datetime | None = None,
    batch: int = BATCH,
) -> Iterator[dict]:
    """Each selected visible course, by id, described for the export writers.

    One connection (so one snapshot on PostgreSQL, one read transaction on SQLite) serves
    the whole export; it is closed when the iterator is exhausted or closed.
    """
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(stream_results=True, yield_per=batch)
        search = _Search(conn, filters, now)
        after = 0
        while True:
            stmt = search.courses(filters, *COURSE_COLUMNS).where(Course.id > after)
            if since is not None:
                stmt = stmt.where(Course.updated_at >= since)
            rows = conn.execute(stmt.order_by(Course.id).limit(batch)).all()
            if not rows:
                return
            yield from _described(conn, rows, now)
            if len(rows) < batch:
                return
            after = rows[-1].id


def _described(conn: Connection, rows: list, now: datetime) -> list[dict]:
    """The batch's courses with their sessions, ROME codes, organisations, topics and
    listings (with the codes they state): five statements, one per kind, for all of them."""
    ids = [row.id for row in rows]
    sessions = _sessions(conn, ids, now)
    rome = coded_jobs(conn, ids)
    organisations, topics, listings = defaultdict(list), defaultdict(list), defaultdict(list)
    stated = defaultdict(list)
    for row in conn.execute(
        select(
            course_organisation.c.course_id,
            Organisation.name,
            Organisation.legal_name,
            Organisation.siret,
        )
        .join(Organisation, Organisation.id == course_organisation.c.organisation_id)
        .where(course_organisation.c.course_id.in_(IDS))
        .order_by(Organisation.name),
        {"ids": ids},
    ).all():
        organisations[row.course_id].append(
            {"name": row.name, "legal_name": row.legal_name, "siret": row.siret}
        )
    for row in conn.execute(
        select(course_topic.c.course_id, Topic.label)
        .join(Topic, Topic.id == course_topic.c.topic_id)
        .where(course_topic.c.course_id.in_(IDS))
        .order_by(Topic.label),
        {"ids": ids},
    ).all():
        topics[row.course_id].append({"label": row.label})
    for row in conn.execute(
        select(
            Listing.course_id,
            Listing.url,
            Platform.name,
            Platform.label,
            Listing.record["codes"].label("codes"),  # the stated codes alone, not the record
        )
        .join(Platform, Platform.id == Listing.platform_id)
        .where(Listing.course_id.in_(IDS), Listing.hidden.is_(False))
        .order_by(Listing.first_seen, Listing.id),  # the order course_details reads them in
        {"ids": ids},
    ).all():
        listings[row.course_id].append(
            {"platform": row.name, "platform_label": row.label or row.name, "url": row.url}
        )
        stated[row.course_id].append(row.codes)
    on_five, scale = ratings.on_five, ratings.DEFAULT_SCALE
    out = []
    for c in rows:
        course_sessions = sessions.get(c.id, [])
        out.append(
            {
                **course_facts(c),
                "certificate": {"kind": c.certificate},
                "rating": {"count": c.rating_count, "value_5": on_five(c.rating, scale)},
                "organisations": organisations.get(c.id, []),
                "topics": topics.get(c.id, []),
                "listings": sorted(listings.get(c.id, []), key=lambda lst: lst["platform"]),
                "next_session": next_session(course_sessions),
                "sessions": course_sessions,
                "codes": course_codes(stated.get(c.id, ()), rome.get(c.id, ())),
            }
        )
    return out


def _sessions(conn: Connection, ids: list[int], now: datetime) -> dict[int, list[dict]]:
    """The visible sessions of each course, in ``course_details``' order, with their states
    (which choose the course's next session)."""
    out = defaultdict(list)
    rows = conn.execute(
        select(
            Listing.course_id,
            Platform.name,
            Platform.label,
            Listing.url,
            Session.start,
            Session.end,
            Session.enrolment_start,
            Session.enrolment_end,
            Session.pace,
            Session.language,
            Session.effort_text,
        )
        .join(Listing, Listing.id == Session.listing_id)
        .join(Platform, Platform.id == Listing.platform_id)
        .where(Listing.course_id.in_(IDS), Listing.hidden.is_(False))
        .order_by(Session.start.is_(None), Session.start, Session.id),
        {"ids": ids},
    ).all()
    for course_id, platform, label, url, start, end, e_start, e_end, pace, lang, effort in rows:
        session = {
            "platform": platform,
            "platform_label": label or platform,
            "url": url,
            "start": start,
            "end": end,
            "enrolment_start": e_start,
            "enrolment_end": e_end,
            "pace": pace,
            "language": lang,
            "effort": {"text": effort},
        }
        session["states"] = session_states(session, now)
        out[course_id].append(session)
    return out
