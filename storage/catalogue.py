"""Writing crawl results into the catalogue: batched upserts, change records, runs.

One batch is one transaction: a crash mid-batch leaves the previous batches and nothing
half-written. Unchanged listings (same content hash) are only marked as seen; changed
ones are rewritten with their sessions and a ``listing_change`` row. A record the
catalogue cannot take (a session date outside ``storage.dates``' range, or any error
writing it that is not the database's) is set aside in the ``quarantine`` table with its
reason, and the rest of its batch is stored: a failed batch is retried record by record.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import InterfaceError, OperationalError

from storage import joblinks, ratings, readindex
from storage.bulk import chunks, dialect_insert
from storage.dates import unsupported_session_date
from storage.linkage import OVERRIDES, CourseIndex, Overrides, candidate_of
from storage.matching import canonical_name, organisation_key
from storage.models import (
    Course,
    CrawlRun,
    Listing,
    ListingChange,
    ListPage,
    Organisation,
    Platform,
    QuarantinedRecord,
    Session,
    course_organisation,
)
from storage.topics import link_topics

# The database's own failures (unreachable, locked, gone): no record is to blame for them.
DATABASE_ERRORS = (OperationalError, InterfaceError)
REASON_LENGTH = 1000
# CourseRecord fields copied onto the course as they are.
COURSE_FIELDS = (
    "language",
    "level",
    "qualification_entry",
    "qualification_exit",
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
)
# combined across listings by storage.ratings
RATING_FIELDS = ("rating", "rating_count", "enrolments")
# the course's columns the full-text index reads
TEXT_FIELDS = ("title", "description")
_MISSING = object()


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
    quarantined: int = 0

    def add(self, other: StoreCounts) -> None:
        self.new += other.new
        self.changed += other.changed
        self.unchanged += other.unchanged
        self.quarantined += other.quarantined


@dataclass
class RunSummary:
    finish_reason: str
    finished_at: datetime
    items_scraped: int = 0
    errors: int = 0
    dropped_by_reason: dict[str, int] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)
    healthy: bool | None = None
    health_reasons: list[str] = field(default_factory=list)


# What a listing keeps of the page it was read from (crawlers/incremental.py).
VALIDATORS = ("page_url", "etag", "last_modified", "lastmod", "listed_on")


PREVIOUS_RUNS_LOOKED_AT = 50  # healthy runs searched for one that read the same sites


class CatalogueWriter:
    def __init__(self, engine: Engine, overrides_path: Path | None = None):
        self.engine = engine
        self.overrides_path = overrides_path or OVERRIDES
        self._index: CourseIndex | None = None

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
                    healthy=summary.healthy,
                    health_reasons=summary.health_reasons,
                )
            )
            readindex.after_crawl(conn)  # fresh planner statistics

    def previous_healthy_items(
        self, spider: str, before_run_id: int, site: str | None = None
    ) -> int | None:
        """Items stored by the spider's last healthy run before this one that read what it
        reads: all its sites, or the one ``site`` (``-a site=PLATFORM``, kept in the run's
        stats as ``moisson/site``). A run of one site is not judged against a run of all."""
        with self.engine.connect() as conn:
            runs = conn.execute(
                select(CrawlRun.items_stored, CrawlRun.stats)
                .where(
                    CrawlRun.spider == spider,
                    CrawlRun.healthy.is_(True),
                    CrawlRun.id < before_run_id,
                )
                .order_by(CrawlRun.id.desc())
                .limit(PREVIOUS_RUNS_LOOKED_AT)
            ).all()
        for items, stats in runs:
            if (stats or {}).get("moisson/site") == site:
                return items
        return None

    def platforms_of_spider(self, spider: str, only: Collection[str] | None = None) -> list[int]:
        """The ids of the platforms ``spider`` feeds; of those named in ``only`` if given."""
        query = select(Platform.id).where(Platform.spider == spider)
        if only is not None:
            query = query.where(Platform.name.in_(list(only)))
        with self.engine.connect() as conn:
            return list(conn.execute(query).scalars())

    def mark_missing(
        self, run_id: int, platform_ids: Sequence[int], when: datetime, hide_after: int = 3
    ):
        """After a healthy run: listings of its platform it did not see are missing.

        ``missing_since`` keeps the first miss; after ``hide_after`` healthy misses in a
        row the listing is hidden from the portal. Seen again, the store resets all three.
        Returns (newly missing, newly hidden).
        """
        if not platform_ids:
            return 0, 0
        not_seen = Listing.platform_id.in_(list(platform_ids)) & (
            (Listing.last_seen_run_id != run_id) | Listing.last_seen_run_id.is_(None)
        )
        with self.engine.begin() as conn:
            newly_missing = conn.execute(
                update(Listing)
                .where(not_seen, Listing.missing_since.is_(None))
                .values(missing_since=when)
            ).rowcount
            conn.execute(
                update(Listing).where(not_seen).values(missing_runs=Listing.missing_runs + 1)
            )
            hiding = not_seen & Listing.hidden.is_(False) & (Listing.missing_runs >= hide_after)
            affected = set(conn.execute(select(Listing.course_id).where(hiding)).scalars())
            newly_hidden = conn.execute(update(Listing).where(hiding).values(hidden=True)).rowcount
            # a course shows what its visible listings say
            self.refresh_courses(conn, affected - {None}, when)
        return newly_missing, newly_hidden

    # -- listings -------------------------------------------------------------------------

    def store(self, run_id: int, platform_id: int, entries: Sequence, seen_at: datetime):
        """Upsert one batch in one transaction; set aside what the catalogue cannot take.

        ``entries`` are ``(record, raw)`` pairs: a ``CourseRecord`` (unique per external id
        within the batch) and the platform's own record, kept for re-normalising later.
        If the batch fails for anything but the database itself (``DATABASE_ERRORS``,
        raised), each record is stored alone and the ones that fail are quarantined.
        """
        counts = StoreCounts()
        accepted, rejected = [], []
        for record, raw in entries:
            reason = unsupported_session_date(record.sessions)
            if reason:
                rejected.append((record, raw, reason))
            else:
                accepted.append((record, raw))
        try:
            counts.add(self._store_batch(run_id, platform_id, accepted, seen_at))
        except DATABASE_ERRORS:
            self._index = None
            raise
        except Exception:
            self._index = None  # it learned links the rollback undid
            for record, raw in accepted:
                try:
                    counts.add(self._store_batch(run_id, platform_id, [(record, raw)], seen_at))
                except DATABASE_ERRORS:
                    self._index = None
                    raise
                except Exception as exc:
                    self._index = None
                    rejected.append((record, raw, f"{type(exc).__name__}: {exc}"))
        if rejected:
            self.quarantine(run_id, platform_id, rejected, seen_at)
            counts.quarantined += len(rejected)
        return counts

    def quarantine(self, run_id: int | None, platform_id: int, rejected, seen_at) -> None:
        """Set aside ``(record, raw, reason)`` triples, one row per listing."""
        rows = [
            {
                "platform_id": platform_id,
                "external_id": record.external_id,
                "url": record.url,
                "reason": reason[:REASON_LENGTH],
                "record": jsonable(record.content()),
                "raw": jsonable(raw),
                "first_seen": seen_at,
                "last_seen": seen_at,
                "crawl_run_id": run_id,
            }
            for record, raw, reason in rejected
        ]
        with self.engine.begin() as conn:
            stmt = dialect_insert(conn, QuarantinedRecord)
            stmt = stmt.on_conflict_do_update(
                index_elements=[QuarantinedRecord.platform_id, QuarantinedRecord.external_id],
                set_={
                    name: stmt.excluded[name]
                    for name in ("url", "reason", "record", "raw", "last_seen", "crawl_run_id")
                },
            )
            conn.execute(stmt, rows)

    def _store_batch(self, run_id: int, platform_id: int, entries: Sequence, seen_at: datetime):
        """Upsert one batch in one transaction; its listings leave the quarantine.

        The number of statements does not depend on the batch's size (up to ``CHUNK``
        listings per statement); an unchanged listing costs its hash and its share of one
        ``UPDATE``: its course, sessions and links are not touched.
        """
        counts = StoreCounts()
        if not entries:
            return counts
        raws = {record.external_id: raw for record, raw in entries}
        records = [record for record, _raw in entries]
        with self.engine.begin() as conn:
            existing = {}
            for chunk in chunks([r.external_id for r in records]):
                rows = conn.execute(
                    select(
                        Listing.id,
                        Listing.external_id,
                        Listing.content_hash,
                        Listing.course_id,
                        Listing.hidden,
                        Listing.link_method,
                        Listing.link_score,
                    ).where(Listing.platform_id == platform_id, Listing.external_id.in_(chunk))
                )
                existing.update({row.external_id: row for row in rows})

            unchanged_ids, to_write = [], []
            reappeared = set()  # a hidden listing seen again makes its course visible again
            for record in records:
                content_hash = record.content_hash()
                row = existing.get(record.external_id)
                if row is not None and row.content_hash == content_hash:
                    unchanged_ids.append(row.id)
                    if row.hidden and row.course_id is not None:
                        reappeared.add(row.course_id)
                else:
                    to_write.append(_Pending(record, content_hash, row))
            counts.unchanged = len(unchanged_ids)

            for chunk in chunks(unchanged_ids):
                conn.execute(
                    update(Listing).where(Listing.id.in_(chunk)).values(_seen(run_id, seen_at))
                )
            if to_write:
                self._write(conn, run_id, platform_id, to_write, raws, seen_at, counts)
            if reappeared:
                self.refresh_courses(conn, reappeared, seen_at)
            for chunk in chunks([r.external_id for r in records]):
                conn.execute(
                    delete(QuarantinedRecord).where(
                        QuarantinedRecord.platform_id == platform_id,
                        QuarantinedRecord.external_id.in_(chunk),
                    )
                )
        return counts

    def _write(self, conn, run_id, platform_id, to_write, raws, seen_at, counts) -> None:
        links = self._link(conn, to_write, seen_at)
        listing_rows = []
        for pending, (course_id, method, score) in zip(to_write, links, strict=True):
            record = pending.record
            listing_rows.append(
                {
                    "platform_id": platform_id,
                    "external_id": record.external_id,
                    "url": record.url,
                    "title": record.title,
                    "raw": raws.get(record.external_id),
                    "record": pending.content,
                    "content_hash": pending.content_hash,
                    "first_seen": seen_at,
                    "last_seen": seen_at,
                    "last_seen_run_id": run_id,
                    "missing_since": None,
                    "missing_runs": 0,
                    "hidden": False,
                    "course_id": course_id,
                    "link_method": method,
                    "link_score": score,
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
                    "missing_runs",
                    "hidden",
                    "course_id",
                    "link_method",
                    "link_score",
                )
            },
        )
        # the records the changed listings replace, for their change rows
        rewritten = [p.row.id for p in to_write if p.row is not None]
        old_records = {}
        for chunk in chunks(rewritten):
            rows = conn.execute(select(Listing.id, Listing.record).where(Listing.id.in_(chunk)))
            old_records.update({listing_id: record for listing_id, record in rows})
        conn.execute(stmt, listing_rows)
        ids_by_external = {}
        for chunk in chunks([row["external_id"] for row in listing_rows]):
            ids_by_external.update(
                conn.execute(
                    select(Listing.external_id, Listing.id).where(
                        Listing.platform_id == platform_id, Listing.external_id.in_(chunk)
                    )
                ).all()
            )
        listing_ids = [ids_by_external[row["external_id"]] for row in listing_rows]

        changes, sessions = [], []
        for listing_id, pending in zip(listing_ids, to_write, strict=True):
            row = pending.row
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
                    "new_hash": pending.content_hash,
                    "changed_fields": _changed_fields(
                        old_records.get(row.id) if row else None, pending.content
                    ),
                }
            )
            for session in pending.record.sessions:
                sessions.append({"listing_id": listing_id, **session.model_dump()})
        conn.execute(insert(ListingChange), changes)
        for chunk in chunks(rewritten):
            conn.execute(delete(Session).where(Session.listing_id.in_(chunk)))
        if sessions:
            conn.execute(insert(Session), sessions)
        self.refresh_courses(conn, {course_id for course_id, _m, _s in links}, seen_at)

    # -- linkage --------------------------------------------------------------------------

    def index(self, conn) -> CourseIndex:
        """The matching index, loaded once per writer and kept in step with what it writes."""
        if self._index is None:
            self._index = CourseIndex.load(conn, Overrides.load(self.overrides_path))
        return self._index

    def _link(self, conn, to_write, seen_at) -> list[tuple[int, str | None, float | None]]:
        """The course of each listing: its own if it has one, else a match or a new course."""
        index = self.index(conn)
        candidates = [
            candidate_of(p.record.title, p.record.organisations, p.record.level, p.record.platform)
            for p in to_write
        ]
        signatures = index.signatures(candidates)  # the batch's MinHashes, computed at once
        links, fresh = [], {}  # fresh: provisional (negative) id -> record of a new course
        for pending, candidate in zip(to_write, candidates, strict=True):
            record, row = pending.record, pending.row
            key = f"{record.platform}:{record.external_id}"
            if row is not None and row.course_id is not None:
                links.append([row.course_id, row.link_method, row.link_score])
            else:
                decision = index.decide(key, candidate, signatures)
                course_id = decision.course_id
                if course_id is None:
                    course_id = -(len(fresh) + 1)
                    fresh[course_id] = pending
                links.append([course_id, decision.method, decision.score])
            index.add(key, links[-1][0], candidate, signatures)
        if fresh:
            provisional = list(fresh)
            real_ids = _insert_ids(
                conn,
                Course,
                [
                    _course_values(aggregate([fresh[p].content]), seen_at, created=True)
                    for p in provisional
                ],
            )
            real = dict(zip(provisional, real_ids, strict=True))
            index.rename_courses(real)
            for link in links:
                link[0] = real.get(link[0], link[0])
        return [tuple(link) for link in links]

    def refresh_courses(self, conn, course_ids: set[int], when: datetime) -> None:
        """Recompute courses from their listings (visible ones first); drop empty ones."""
        records: dict[int, list[dict]] = defaultdict(list)
        visible: dict[int, list[dict]] = defaultdict(list)
        for chunk in chunks(sorted(course_ids)):
            rows = conn.execute(
                select(Listing.course_id, Listing.record, Listing.hidden)
                .where(Listing.course_id.in_(chunk))
                # visible listings first, so a hidden one never speaks for its course
                .order_by(Listing.course_id, Listing.hidden, Listing.first_seen, Listing.id)
            )
            for course_id, record, hidden in rows:
                records[course_id].append(record)
                if not hidden:
                    visible[course_id].append(record)
        empty = sorted(course_ids - set(records))
        if empty:
            readindex.refresh(conn, empty)  # the counts lose what these courses had
        for chunk in chunks(empty):
            conn.execute(delete(Course).where(Course.id.in_(chunk)))
        if not records:
            return
        aggregates = {
            course_id: aggregate(listed, visible.get(course_id))
            for course_id, listed in records.items()
        }
        self._update_courses(conn, aggregates, when)
        self._link_organisations(
            conn,
            {course_id: values["organisations"] for course_id, values in aggregates.items()},
            {
                key: identity
                for values in aggregates.values()
                for key, identity in values["organisation_identities"].items()
            },
        )
        link_topics(conn, records)
        # the courses' jobs (ROME, when a referential is loaded), before the read index that
        # counts them
        joblinks.link(conn, records, refresh_index=False)
        readindex.refresh(conn, records)

    def _update_courses(self, conn, aggregates: dict[int, dict], when: datetime) -> None:
        """Write the courses' recomputed values where they differ from the stored ones.

        A course created by this batch already holds them (no second write); a course
        whose title and description stay is updated without them, so the full-text
        index (SQLite's ``course_fts`` triggers fire on those two columns) is left alone.
        """
        new = {course_id: _course_values(values, when) for course_id, values in aggregates.items()}
        columns = [getattr(Course, name) for name in next(iter(new.values()))]
        stored = {}
        for chunk in chunks(sorted(new)):
            for row in conn.execute(select(Course.id, *columns).where(Course.id.in_(chunk))):
                stored[row.id] = row._asdict()
        texts, others = [], []
        for course_id, values in new.items():
            old = stored.get(course_id, {})
            if all(old.get(name, _MISSING) == value for name, value in values.items()):
                continue
            if all(old.get(name, _MISSING) == values[name] for name in TEXT_FIELDS):
                rest = {k: v for k, v in values.items() if k not in TEXT_FIELDS}
                others.append({"b_id": course_id, **rest})
            else:
                texts.append({"b_id": course_id, **values})
        for rows in (texts, others):
            if rows:
                conn.execute(
                    update(Course).where(Course.id == bindparam("b_id")),
                    rows,
                    execution_options={"synchronize_session": False},
                )

    def _link_organisations(
        self, conn, names_by_course: dict[int, list[str]], identities: dict[str, dict]
    ) -> None:
        """Link courses to their organisations; ``identities`` (by organisation key) add
        the legal name and SIRET a platform states."""
        by_key: dict[str, str] = {}
        for names in names_by_course.values():
            for name in names:
                key = organisation_key(name)
                if key:
                    by_key.setdefault(key, canonical_name(name))
        ids: dict[str, int] = {}
        if by_key:
            stmt = dialect_insert(conn, Organisation).on_conflict_do_nothing(
                index_elements=[Organisation.normalised_name]
            )
            conn.execute(
                stmt, [{"name": name, "normalised_name": key} for key, name in by_key.items()]
            )
            for chunk in chunks(list(by_key)):
                rows = conn.execute(
                    select(Organisation.id, Organisation.normalised_name).where(
                        Organisation.normalised_name.in_(chunk)
                    )
                )
                ids.update({row.normalised_name: row.id for row in rows})
        known = [
            {"b_id": ids[key], "legal_name": i.get("legal_name"), "siret": i.get("siret")}
            for key, i in sorted(identities.items())
            if key in ids and (i.get("legal_name") or i.get("siret"))
        ]
        if known:
            conn.execute(
                update(Organisation).where(Organisation.id == bindparam("b_id")),
                known,
                execution_options={"synchronize_session": False},
            )
        for chunk in chunks(sorted(names_by_course)):
            conn.execute(
                delete(course_organisation).where(course_organisation.c.course_id.in_(chunk))
            )
        links = {
            (course_id, ids[organisation_key(name)])
            for course_id, names in names_by_course.items()
            for name in names
            if organisation_key(name)
        }
        if links:
            conn.execute(
                insert(course_organisation),
                [{"course_id": c, "organisation_id": o} for c, o in sorted(links)],
            )

    def apply_overrides(self, when: datetime) -> int:
        """Re-apply the maintainers' forced merges and splits; returns listings moved."""
        overrides = Overrides.load(self.overrides_path)
        if not overrides.merges and not overrides.splits:
            return 0
        moved, touched = 0, set()
        with self.engine.begin() as conn:
            keys = {k for pair in overrides.splits for k in pair}
            keys |= set(overrides.merges) | set(overrides.merges.values())
            courses = self._courses_of(conn, keys)
            for key, target in sorted(overrides.merges.items()):
                if key in courses and target in courses and courses[key] != courses[target]:
                    touched |= {courses[key], courses[target]}
                    self._move(conn, key, courses[target], "override")
                    courses[key] = courses[target]
                    moved += 1
            for pair in sorted(overrides.splits, key=sorted):
                a, b = sorted(pair)
                if a in courses and b in courses and courses[a] == courses[b]:
                    new_id = conn.execute(
                        insert(Course)
                        .values(title="", created_at=when, updated_at=when)
                        .returning(Course.id)
                    ).scalar_one()
                    touched |= {courses[b], new_id}
                    self._move(conn, b, new_id, "override")
                    courses[b] = new_id
                    moved += 1
            if touched:
                self.refresh_courses(conn, touched, when)
        self._index = None  # courses moved: reload on next use
        return moved

    def _courses_of(self, conn, keys) -> dict[str, int]:
        found = {}
        for key in keys:
            platform, _, external_id = key.partition(":")
            course_id = conn.execute(
                select(Listing.course_id)
                .join(Platform, Platform.id == Listing.platform_id)
                .where(Platform.name == platform, Listing.external_id == external_id)
            ).scalar()
            if course_id is not None:
                found[key] = course_id
        return found

    def _move(self, conn, key: str, course_id: int, method: str) -> None:
        platform, _, external_id = key.partition(":")
        platform_id = select(Platform.id).where(Platform.name == platform).scalar_subquery()
        conn.execute(
            update(Listing)
            .where(Listing.platform_id == platform_id, Listing.external_id == external_id)
            .values(course_id=course_id, link_method=method, link_score=None)
        )

    # -- incremental crawls (crawlers/incremental.py) ------------------------------------

    def incremental_state(self, spider: str) -> dict[str, list[dict[str, Any]]]:
        """What the next night of ``spider`` needs: its listings (platform, external id, the
        page read, its validators, the stated change date, the list page that listed it)
        and its list pages' validators (``list_page``)."""
        with self.engine.connect() as conn:
            listings = conn.execute(
                select(
                    Platform.name.label("platform"),
                    Listing.external_id,
                    Listing.page_url,
                    Listing.etag,
                    Listing.last_modified,
                    Listing.lastmod,
                    Listing.listed_on,
                )
                .join(Platform, Platform.id == Listing.platform_id)
                .where(Platform.spider == spider)
            )
            listings = [dict(row._mapping) for row in listings]
            pages = conn.execute(
                select(ListPage.url, ListPage.etag, ListPage.last_modified, ListPage.next_url)
                .where(ListPage.spider == spider)
            )  # fmt: skip
            return {"listings": listings, "list_pages": [dict(row._mapping) for row in pages]}

    def set_validators(self, platform_id: int, validators: Sequence[dict[str, Any]]) -> None:
        """Keep each page's validators on its listing, if the listing holds that content.

        ``validators``: ``{"external_id", "content_hash"}`` and the ``VALIDATORS``. A
        listing whose stored hash is not the one the page gave (its batch failed, its
        record was quarantined) keeps no validators, so the next night reads the page
        again instead of trusting a ``304``.
        """
        rows = [
            {
                "b_platform_id": platform_id,
                "b_external_id": v["external_id"],
                "b_content_hash": v["content_hash"],
                **{name: v.get(name) for name in VALIDATORS},
            }
            for v in validators
        ]
        if not rows:
            return
        with self.engine.begin() as conn:
            conn.execute(
                update(Listing).where(
                    Listing.platform_id == bindparam("b_platform_id"),
                    Listing.external_id == bindparam("b_external_id"),
                    Listing.content_hash == bindparam("b_content_hash"),
                ),
                rows,
                execution_options={"synchronize_session": False},
            )

    def keep_list_pages(
        self,
        spider: str,
        kept: Sequence[dict[str, Any]],
        forgotten: Sequence[str],
        platform_ids: Sequence[int],
    ) -> None:
        """Keep the validators of the list pages in ``kept`` (``{"url", "etag",
        "last_modified", "next_url", "listed": [(platform_id, external_id)]}``), whose
        courses all came into the catalogue; forget those of the pages in ``forgotten``
        (read in full, but not every course came in: read in full next night too).

        A kept page's listings become exactly ``listed``: a listing it named before and
        no longer names leaves it (it is not seen when the page answers ``304``)."""
        if not kept and not forgotten:
            return
        ours = Listing.platform_id.in_(list(platform_ids))
        with self.engine.begin() as conn:
            for url in [*forgotten, *(page["url"] for page in kept)]:
                conn.execute(delete(ListPage).where(ListPage.spider == spider, ListPage.url == url))
            for page in kept:
                conn.execute(
                    update(Listing)
                    .where(ours, Listing.listed_on == page["url"])
                    .values(listed_on=None)
                )
                rows = [
                    {"b_platform_id": platform_id, "b_external_id": external_id}
                    for platform_id, external_id in page["listed"]
                ]
                if rows:
                    conn.execute(
                        update(Listing)
                        .where(
                            Listing.platform_id == bindparam("b_platform_id"),
                            Listing.external_id == bindparam("b_external_id"),
                        )
                        .values(listed_on=page["url"]),
                        rows,
                        execution_options={"synchronize_session": False},
                    )
                conn.execute(
                    insert(ListPage).values(
                        spider=spider,
                        **{k: page.get(k) for k in ("url", "etag", "last_modified", "next_url")},
                    )
                )

    def mark_seen(
        self, run_id: int, platform_id: int, external_ids: Sequence[str], seen_at: datetime
    ) -> int:
        """Listings the run saw unchanged without reading their content (a ``304``, a
        sitemap ``lastmod`` not later than the last read): seen, as an unchanged listing
        is. Returns how many there were."""
        seen, reappeared = 0, set()
        with self.engine.begin() as conn:
            for chunk in chunks(sorted(set(external_ids))):
                known = (Listing.platform_id == platform_id) & Listing.external_id.in_(chunk)
                reappeared.update(
                    conn.execute(
                        select(Listing.course_id).where(known, Listing.hidden.is_(True))
                    ).scalars()
                )
                seen += conn.execute(
                    update(Listing).where(known).values(_seen(run_id, seen_at))
                ).rowcount
            if reappeared - {None}:
                self.refresh_courses(conn, reappeared - {None}, seen_at)
        return seen


def _insert_ids(conn, model, rows: list[dict]) -> list[int]:
    """Insert ``rows`` (one statement per page of SQLAlchemy's "insertmanyvalues", not one
    per row); returns their new ids in the rows' order.

    PostgreSQL sorts ``RETURNING`` by parameter order itself (its sentinel is the
    autoincrement key). SQLite cannot, so SQLAlchemy would send one ``INSERT`` per row:
    here its ids are sorted instead. SQLite gives each new row "one larger than the
    largest ROWID in the table prior to the insert" (https://sqlite.org/autoinc.html) and
    this transaction holds the write lock, so the rows take consecutive ids in order; if
    they are not consecutive (the largest id was reached), it falls back to row by row.
    """
    if conn.dialect.name != "sqlite":
        stmt = insert(model).returning(model.id, sort_by_parameter_order=True)
        return list(conn.execute(stmt, rows).scalars())
    ids = sorted(conn.execute(insert(model).returning(model.id), rows).scalars())
    if ids and ids[-1] - ids[0] == len(rows) - 1:
        return ids
    conn.execute(delete(model).where(model.id.in_(ids)))
    stmt = insert(model).returning(model.id, sort_by_parameter_order=True)
    return list(conn.execute(stmt, rows).scalars())


class _Pending:
    """A new or changed listing of the batch, with its content dumped once."""

    __slots__ = ("record", "content_hash", "row", "_content")

    def __init__(self, record, content_hash: str, row):
        self.record, self.content_hash, self.row = record, content_hash, row
        self._content = None

    @property
    def content(self) -> dict:
        if self._content is None:
            self._content = self.record.content()
        return self._content


def aggregate(records: list[dict], visible: list[dict] | None = None) -> dict:
    """A course's values from its listings' records, in order: the first one speaks first;
    ratings and counts combine the ``visible`` listings' (all of them if none is)."""
    primary = records[0]
    values = {
        "title": primary.get("title"),
        "description": primary.get("description") or primary.get("introduction"),
    }
    for name in COURSE_FIELDS:
        values[name] = next((r.get(name) for r in records if r.get(name) is not None), None)
    values.update(ratings.combined(visible or records))
    names, seen = [], set()
    for record in records:
        for name in record.get("organisations") or []:
            key = organisation_key(name)
            if key and key not in seen:
                seen.add(key)
                names.append(name)
    values["organisations"] = names
    identities: dict[str, dict] = {}
    for record in records:
        for identity in record.get("organisation_identities") or []:
            key = organisation_key(identity.get("name") or "")
            if key and key not in identities:
                identities[key] = identity
    values["organisation_identities"] = identities
    return values


def _course_values(values: dict, seen_at: datetime, created: bool = False) -> dict:
    row = {
        "title": values.get("title") or "",
        "description": values.get("description") or values.get("introduction"),
        "updated_at": seen_at,
    }
    row.update({name: values.get(name) for name in COURSE_FIELDS + RATING_FIELDS})
    if created:
        row["created_at"] = seen_at
    return row


def _seen(run_id: int, seen_at: datetime) -> dict[str, Any]:
    """A listing seen by a run: no longer missing, shown again if it was hidden."""
    return {
        "last_seen": seen_at,
        "last_seen_run_id": run_id,
        "missing_since": None,
        "missing_runs": 0,
        "hidden": False,
    }


def _changed_fields(old: dict | None, new: dict) -> list[str]:
    if old is None:
        return sorted(new)
    return sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
