"""Writing crawl results into the catalogue: batched upserts, change records, runs.

One ``store`` call is one transaction: a crash mid-batch leaves the previous batches
and nothing half-written. Unchanged listings (same content hash) are only marked as
seen; changed ones are rewritten with their sessions and a ``listing_change`` row.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.engine import Connection, Engine

from storage.models import (
    Course,
    CrawlRun,
    Listing,
    ListingChange,
    Organisation,
    Platform,
    Session,
    course_organisation,
)
from storage.topics import link_topics

CHUNK = 500
# CourseRecord fields copied onto the course as they are.
COURSE_FIELDS = (
    "language",
    "level",
    "duration_weeks_min",
    "duration_weeks_max",
    "duration_hours_min",
    "duration_hours_max",
    "effort_hours_per_week_min",
    "effort_hours_per_week_max",
    "free",
    "price_amount",
    "currency",
    "certificate",
    "certificate_price",
    "rating",
    "rating_count",
    "enrolments",
)


def dialect_insert(connection: Connection, table):
    """``INSERT`` with the dialect's ``ON CONFLICT`` support."""
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    if connection.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table)
    raise NotImplementedError(f"no upsert for {connection.dialect.name}")


def normalised_name(name: str) -> str:
    """Case, accents, punctuation and spacing removed: the key organisations match on."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    text = re.sub(r"[^\w]+", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def _chunks(values: Sequence, size: int = CHUNK) -> Iterable[Sequence]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _json_default(value: Any):
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=_json_default))


@dataclass
class StoreCounts:
    new: int = 0
    changed: int = 0
    unchanged: int = 0

    def add(self, other: StoreCounts) -> None:
        self.new += other.new
        self.changed += other.changed
        self.unchanged += other.unchanged


@dataclass
class RunSummary:
    finish_reason: str
    finished_at: datetime
    items_scraped: int = 0
    errors: int = 0
    dropped_by_reason: dict[str, int] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)


class CatalogueWriter:
    def __init__(self, engine: Engine):
        self.engine = engine

    # -- platforms and runs -------------------------------------------------------------

    def platform_id(
        self, name: str, label: str | None = None, base_url: str | None = None, spider=None
    ) -> int:
        with self.engine.begin() as conn:
            stmt = dialect_insert(conn, Platform).values(
                name=name, label=label, base_url=base_url, spider=spider
            )
            stmt = stmt.on_conflict_do_update(
                index_elements=[Platform.name],
                set_={"label": label, "base_url": base_url, "spider": spider},
            )
            conn.execute(stmt)
            return conn.execute(select(Platform.id).where(Platform.name == name)).scalar_one()

    def start_run(self, spider: str, platform_id: int | None, started_at: datetime, replay: bool):
        with self.engine.begin() as conn:
            return conn.execute(
                insert(CrawlRun)
                .values(
                    spider=spider, platform_id=platform_id, started_at=started_at, replay=replay
                )
                .returning(CrawlRun.id)
            ).scalar_one()

    def finish_run(self, run_id: int, summary: RunSummary, counts: StoreCounts) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(CrawlRun)
                .where(CrawlRun.id == run_id)
                .values(
                    finished_at=summary.finished_at,
                    finish_reason=summary.finish_reason,
                    items_scraped=summary.items_scraped,
                    items_stored=counts.new + counts.changed + counts.unchanged,
                    items_dropped=sum(summary.dropped_by_reason.values()),
                    dropped_by_reason=summary.dropped_by_reason,
                    listings_new=counts.new,
                    listings_changed=counts.changed,
                    listings_unchanged=counts.unchanged,
                    errors=summary.errors,
                    stats=jsonable(summary.stats),
                )
            )

    # -- listings -------------------------------------------------------------------------

    def store(self, run_id: int, platform_id: int, entries: Sequence, seen_at: datetime):
        """Upsert one batch in one transaction.

        ``entries`` are ``(record, raw)`` pairs: a ``CourseRecord`` (unique per external id
        within the batch) and the platform's own record, kept for re-normalising later.
        """
        counts = StoreCounts()
        if not entries:
            return counts
        raws = {record.external_id: raw for record, raw in entries}
        records = [record for record, _raw in entries]
        with self.engine.begin() as conn:
            existing = {}
            for chunk in _chunks([r.external_id for r in records]):
                rows = conn.execute(
                    select(
                        Listing.id,
                        Listing.external_id,
                        Listing.content_hash,
                        Listing.course_id,
                        Listing.record,
                    ).where(Listing.platform_id == platform_id, Listing.external_id.in_(chunk))
                )
                existing.update({row.external_id: row for row in rows})

            unchanged_ids, to_write = [], []
            for record in records:
                content_hash = record.content_hash()
                row = existing.get(record.external_id)
                if row is not None and row.content_hash == content_hash:
                    unchanged_ids.append(row.id)
                else:
                    to_write.append((record, content_hash, row))
            counts.unchanged = len(unchanged_ids)

            for chunk in _chunks(unchanged_ids):
                conn.execute(
                    update(Listing)
                    .where(Listing.id.in_(chunk))
                    .values(last_seen=seen_at, last_seen_run_id=run_id, missing_since=None)
                )
            if to_write:
                self._write(conn, run_id, platform_id, to_write, raws, seen_at, counts)
        return counts

    def _write(self, conn, run_id, platform_id, to_write, raws, seen_at, counts) -> None:
        course_ids = self._upsert_courses(conn, to_write, seen_at)
        listing_rows = []
        for (record, content_hash, _row), course_id in zip(to_write, course_ids, strict=True):
            listing_rows.append(
                {
                    "platform_id": platform_id,
                    "external_id": record.external_id,
                    "url": record.url,
                    "title": record.title,
                    "raw": raws.get(record.external_id),
                    "record": record.content(),
                    "content_hash": content_hash,
                    "first_seen": seen_at,
                    "last_seen": seen_at,
                    "last_seen_run_id": run_id,
                    "missing_since": None,
                    "course_id": course_id,
                }
            )
        stmt = dialect_insert(conn, Listing)
        stmt = stmt.on_conflict_do_update(
            index_elements=[Listing.platform_id, Listing.external_id],
            set_={
                name: stmt.excluded[name]
                for name in (
                    "url",
                    "title",
                    "raw",
                    "record",
                    "content_hash",
                    "last_seen",
                    "last_seen_run_id",
                    "missing_since",
                    "course_id",
                )
            },
        ).returning(Listing.id, sort_by_parameter_order=True)
        listing_ids = list(conn.execute(stmt, listing_rows).scalars())

        changes, sessions = [], []
        for listing_id, (record, content_hash, row) in zip(listing_ids, to_write, strict=True):
            if row is None:
                counts.new += 1
            else:
                counts.changed += 1
            changes.append(
                {
                    "listing_id": listing_id,
                    "crawl_run_id": run_id,
                    "changed_at": seen_at,
                    "old_hash": row.content_hash if row is not None else None,
                    "new_hash": content_hash,
                    "changed_fields": _changed_fields(
                        row.record if row else None, record.content()
                    ),
                }
            )
            for session in record.sessions:
                sessions.append({"listing_id": listing_id, **session.model_dump()})
        conn.execute(insert(ListingChange), changes)
        rewritten = [row.id for _rec, _h, row in to_write if row is not None]
        for chunk in _chunks(rewritten):
            conn.execute(delete(Session).where(Session.listing_id.in_(chunk)))
        if sessions:
            conn.execute(insert(Session), sessions)
        self._link_organisations(conn, to_write, course_ids)
        link_topics(conn, to_write, course_ids)

    def _upsert_courses(self, conn, to_write, seen_at) -> list[int]:
        """One course per new listing; a changed listing refreshes its course."""
        new = [record for record, _h, row in to_write if row is None or row.course_id is None]
        new_ids = []
        if new:
            new_ids = list(
                conn.execute(
                    insert(Course).returning(Course.id, sort_by_parameter_order=True),
                    [_course_values(record, seen_at, created=True) for record in new],
                ).scalars()
            )
        refreshed = [
            {"b_id": row.course_id, **_course_values(record, seen_at)}
            for record, _h, row in to_write
            if row is not None and row.course_id is not None
        ]
        if refreshed:
            conn.execute(
                update(Course).where(Course.id == bindparam("b_id")),
                refreshed,
                execution_options={"synchronize_session": False},
            )
        ids, fresh = [], iter(new_ids)
        for _record, _h, row in to_write:
            ids.append(row.course_id if row is not None and row.course_id else next(fresh))
        return ids

    def _link_organisations(self, conn, to_write, course_ids) -> None:
        by_key: dict[str, str] = {}
        for record, _h, _row in to_write:
            for name in record.organisations:
                key = normalised_name(name)
                if key:
                    by_key.setdefault(key, name)
        ids: dict[str, int] = {}
        if by_key:
            stmt = dialect_insert(conn, Organisation).on_conflict_do_nothing(
                index_elements=[Organisation.normalised_name]
            )
            conn.execute(
                stmt, [{"name": name, "normalised_name": key} for key, name in by_key.items()]
            )
            for chunk in _chunks(list(by_key)):
                rows = conn.execute(
                    select(Organisation.id, Organisation.normalised_name).where(
                        Organisation.normalised_name.in_(chunk)
                    )
                )
                ids.update({row.normalised_name: row.id for row in rows})
        for chunk in _chunks(list(set(course_ids))):
            conn.execute(
                delete(course_organisation).where(course_organisation.c.course_id.in_(chunk))
            )
        links = {
            (course_id, ids[normalised_name(name)])
            for (record, _h, _row), course_id in zip(to_write, course_ids, strict=True)
            for name in record.organisations
            if normalised_name(name)
        }
        if links:
            conn.execute(
                insert(course_organisation),
                [{"course_id": c, "organisation_id": o} for c, o in sorted(links)],
            )


def _course_values(record, seen_at: datetime, created: bool = False) -> dict:
    values = {
        "title": record.title,
        "description": record.description or record.introduction,
        "updated_at": seen_at,
    }
    values.update({name: getattr(record, name) for name in COURSE_FIELDS})
    if created:
        values["created_at"] = seen_at
    return values


def _changed_fields(old: dict | None, new: dict) -> list[str]:
    if old is None:
        return sorted(new)
    return sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
