"""Moisson's topic taxonomy in the ``topic`` table, and each course's topics.

The taxonomy is a data file (``records/data/topics.json``); every write batch upserts
it (about thirty rows, one statement) so a renamed label or a new topic reaches the
catalogue with the next crawl, without a migration. A course's links are replaced by the
topics of its listings' records, the first-seen listing's first, at most three.
"""

from __future__ import annotations

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.engine import Connection

from records.topics import MAX_TOPICS, taxonomy
from storage.bulk import chunks, dialect_insert
from storage.models import Topic, course_topic


def sync_taxonomy(conn: Connection) -> dict[str, int]:
    """Upsert every topic (label and parent included); slug → id."""
    entries = list(taxonomy().values())
    stmt = dialect_insert(conn, Topic)
    stmt = stmt.on_conflict_do_update(
        index_elements=[Topic.slug], set_={"label": stmt.excluded.label}
    )
    conn.execute(stmt, [{"slug": e["slug"], "label": e["label"]} for e in entries])
    ids = {slug: topic_id for slug, topic_id in conn.execute(select(Topic.slug, Topic.id))}
    conn.execute(
        update(Topic).where(Topic.id == bindparam("b_id")).values(parent_id=bindparam("b_parent")),
        [{"b_id": ids[e["slug"]], "b_parent": ids.get(e["parent"])} for e in entries],
        execution_options={"synchronize_session": False},
    )
    return ids


def course_topic_slugs(records: list[dict]) -> list[str]:
    """The topics of a course from its listings' records (JSON), first-seen listing first."""
    slugs: list[str] = []
    for record in records:
        for slug in record.get("topics") or []:
            if slug not in slugs:
                slugs.append(slug)
    return slugs[:MAX_TOPICS]


def link_topics(conn: Connection, records_by_course: dict[int, list[dict]]) -> None:
    """Replace the topics of these courses by those of their listings' records."""
    if not records_by_course:
        return
    ids = sync_taxonomy(conn)
    course_ids = sorted(records_by_course)
    for chunk in chunks(course_ids):
        conn.execute(delete(course_topic).where(course_topic.c.course_id.in_(chunk)))
    links = [
        {"course_id": course_id, "topic_id": ids[slug]}
        for course_id, records in records_by_course.items()
        for slug in course_topic_slugs(records)
        if slug in ids
    ]
    if links:
        conn.execute(insert(course_topic), links)
