"""Read-side queries shared by the command line and the portal."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from storage.matching import organisation_key_plain
from storage.models import (
    Course,
    CrawlRun,
    Listing,
    ListingChange,
    Organisation,
    Platform,
    QuarantinedRecord,
    Session,
    Topic,
)
from storage.readindex import facet_counts
from storage.search import STATES, CourseFilters, count_courses


def catalogue_stats(engine: Engine) -> dict:
    with engine.connect() as conn:
        by_platform = dict(
            conn.execute(
                select(Platform.name, func.count(Listing.id))
                .join(Listing, Listing.platform_id == Platform.id)
                .group_by(Platform.name)
                .order_by(Platform.name)
            ).all()
        )
        return {
            "courses": conn.execute(select(func.count(Course.id))).scalar_one(),
            "listings": conn.execute(select(func.count(Listing.id))).scalar_one(),
            "sessions": conn.execute(select(func.count(Session.id))).scalar_one(),
            "by_platform": by_platform,
            "crawl_runs": conn.execute(select(func.count(CrawlRun.id))).scalar_one(),
        }


RUN_FIELDS = (
    "id",
    "spider",
    "replay",
    "started_at",
    "finished_at",
    "finish_reason",
    "items_scraped",
    "items_stored",
    "items_dropped",
    "dropped_by_reason",
    "listings_new",
    "listings_changed",
    "listings_unchanged",
    "errors",
    "healthy",
    "health_reasons",
    "stats",
)


def recent_runs(engine: Engine, limit: int = 20, spider: str | None = None) -> list[dict]:
    """The newest crawl runs first, with their health."""
    query = select(*(getattr(CrawlRun, name) for name in RUN_FIELDS))
    if spider:
        query = query.where(CrawlRun.spider == spider)
    with engine.connect() as conn:
        rows = conn.execute(query.order_by(CrawlRun.id.desc()).limit(limit)).all()
    return [dict(row._mapping) for row in rows]


def quarantined_records(engine: Engine, limit: int = 50) -> list[dict]:
    """Records the store set aside (``storage.catalogue``), the latest first."""
    query = (
        select(
            Platform.name.label("platform"),
            QuarantinedRecord.external_id,
            QuarantinedRecord.url,
            QuarantinedRecord.reason,
            QuarantinedRecord.first_seen,
            QuarantinedRecord.last_seen,
            QuarantinedRecord.crawl_run_id,
        )
        .join(Platform, Platform.id == QuarantinedRecord.platform_id)
        .order_by(QuarantinedRecord.last_seen.desc(), QuarantinedRecord.id.desc())
        .limit(limit)
    )
    with engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]


def find_listing(engine: Engine, reference: str) -> dict | None:
    """A listing by its id, or by ``platform:external_id``."""
    query = select(
        Listing.id,
        Platform.name.label("platform"),
        Listing.external_id,
        Listing.title,
        Listing.url,
        Listing.first_seen,
        Listing.last_seen,
        Listing.missing_since,
        Listing.missing_runs,
        Listing.hidden,
        Listing.course_id,
        Listing.link_method,
        Listing.link_score,
    ).join(Platform, Platform.id == Listing.platform_id)
    platform, sep, external_id = reference.partition(":")
    if sep:
        query = query.where(Platform.name == platform, Listing.external_id == external_id)
    elif reference.isdigit() and int(reference) < 2**63:  # ids are 64-bit integers
        query = query.where(Listing.id == int(reference))
    else:
        return None
    with engine.connect() as conn:
        row = conn.execute(query).first()
    return dict(row._mapping) if row else None


def listing_history(engine: Engine, listing_id: int) -> list[dict]:
    """Every recorded change of a listing, oldest first."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                ListingChange.changed_at,
                ListingChange.crawl_run_id,
                ListingChange.old_hash,
                ListingChange.new_hash,
                ListingChange.changed_fields,
            )
            .where(ListingChange.listing_id == listing_id)
            .order_by(ListingChange.id)
        ).all()
    return [dict(row._mapping) for row in rows]


# -- the portal's lists ----------------------------------------------------------------------
# Counts are of visible courses: a course whose every listing is hidden is not shown. They
# group the read index's facet rows (storage/readindex.py): one pass over a facet's rows.


def _facet_counts(conn, facet: str) -> dict[str, int]:
    return facet_counts(conn, [facet])[facet]


def list_topics(engine: Engine) -> list[dict]:
    """Every topic with its visible courses, those of its subtopics included (as the
    ``topic`` filter selects them)."""
    parent = Topic.__table__.alias("parent")
    with engine.connect() as conn:
        counts = _facet_counts(conn, "topic")
        rows = conn.execute(
            select(Topic.id, Topic.slug, Topic.label, parent.c.slug.label("parent"))
            .outerjoin(parent, parent.c.id == Topic.parent_id)
            .order_by(Topic.label)
        ).all()
    return [
        {"slug": r.slug, "label": r.label, "parent": r.parent, "courses": counts.get(r.slug, 0)}
        for r in rows
    ]


def list_platforms(engine: Engine) -> list[dict]:
    with engine.connect() as conn:
        courses = _facet_counts(conn, "platform")
        listings = dict(
            conn.execute(
                select(Listing.platform_id, func.count())
                .where(Listing.hidden.is_(False))
                .group_by(Listing.platform_id)
            ).all()
        )
        rows = conn.execute(
            select(Platform.id, Platform.name, Platform.label, Platform.base_url).order_by(
                Platform.name
            )
        ).all()
        last = {}
        for run in conn.execute(
            select(CrawlRun.platform_id, CrawlRun.finished_at, CrawlRun.healthy)
            .where(CrawlRun.finished_at.is_not(None))
            .order_by(CrawlRun.finished_at)
        ):
            last[run.platform_id] = run
    return [
        {
            "name": r.name,
            "label": r.label or r.name,
            "base_url": r.base_url,
            "courses": courses.get(r.name, 0),
            "listings": listings.get(r.id, 0),
            "last_crawl": last[r.id].finished_at if r.id in last else None,
            "last_crawl_healthy": last[r.id].healthy if r.id in last else None,
        }
        for r in rows
    ]


def list_organisations(
    engine: Engine, name: str | None = None, page: int = 1, per_page: int = 50
) -> tuple[int, list[dict]]:
    """Organisations with visible courses, most courses first; ``name`` is a substring."""
    stmt = select(Organisation.id, Organisation.name)
    if name is not None:
        key = organisation_key_plain(name)  # as organisation.normalised_name is written
        if not key:  # punctuation alone names nothing
            return 0, []
        escaped = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(Organisation.normalised_name.like(f"%{escaped}%", escape="\\"))
    with engine.connect() as conn:
        counts = {int(value): n for value, n in _facet_counts(conn, "organisation").items()}
        names = dict(conn.execute(stmt).all())
    ranked = sorted((-counts[i], names[i], i) for i in names if i in counts)
    start = (page - 1) * per_page
    return len(ranked), [
        {"id": i, "name": n, "courses": -k} for k, n, i in ranked[start : start + per_page]
    ]


def portal_stats(engine: Engine, now, cache=None) -> dict:
    """The catalogue at a glance, states computed at ``now`` (counts memoised in ``cache``)."""
    with engine.connect() as conn:
        by_platform = dict(
            conn.execute(  # visible listings (ix_listing_platform_id_hidden)
                select(Platform.name, func.count(Listing.id))
                .join(Listing, Listing.platform_id == Platform.id)
                .where(Listing.hidden.is_(False))
                .group_by(Platform.name)
                .order_by(Platform.name)
            ).all()
        )
        sessions = conn.execute(select(func.count(Session.id))).scalar_one()
        organisations = conn.execute(select(func.count(Organisation.id))).scalar_one()
        platforms = conn.execute(select(func.count(Platform.id))).scalar_one()
        last_crawl = conn.execute(select(func.max(CrawlRun.finished_at))).scalar()
    by_state = {
        state: count_courses(engine, CourseFilters(state=state), now, cache) for state in STATES
    }
    return {
        "now": now,
        "courses": count_courses(engine, CourseFilters(), now, cache),
        "listings": sum(by_platform.values()),
        "sessions": sessions,
        "platforms": platforms,
        "organisations": organisations,
        "by_state": by_state,
        "by_platform": by_platform,
        "last_crawl": last_crawl,
    }
