"""Moisson's topic taxonomy in the ``topic`` table, and each course's topics.

The taxonomy is a data file (``pipelines/data/topics.json``); every write batch upserts
it (about thirty rows, one statement) so a renamed label or a new topic reaches the
catalogue with the next crawl, without a migration. Links are replaced per course, like
its organisations.
"""

from __future__ import annotations

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.engine import Connection

from storage.models import Topic, course_topic

CHUNK = 500


def sync_taxonomy(conn: Connection) -> dict[str, int]:
    """Upsert every topic (label and parent included); slug → id."""
    from pipelines.normalise.topics import taxonomy
    from storage.catalogue import dialect_insert

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


def link_topics(conn: Connection, to_write, course_ids) -> None:
    """Replace the topics of the written courses by their records' ``topics``."""
    ids = sync_taxonomy(conn)
    unique_ids = list(set(course_ids))
    for start in range(0, len(unique_ids), CHUNK):
        chunk = unique_ids[start : start + CHUNK]
        conn.execute(delete(course_topic).where(course_topic.c.course_id.in_(chunk)))
    links = {
        (course_id, ids[slug])
        for (record, _hash, _row), course_id in zip(to_write, course_ids, strict=True)
        for slug in record.topics
        if slug in ids
    }
    if links:
        conn.execute(
            insert(course_topic), [{"course_id": c, "topic_id": t} for c, t in sorted(links)]
        )
