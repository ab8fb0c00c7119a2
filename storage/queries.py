"""Read-side queries shared by the command line and the portal."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from storage.models import Course, CrawlRun, Listing, ListingChange, Platform, Session


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
)


def recent_runs(engine: Engine, limit: int = 20, spider: str | None = None) -> list[dict]:
    """The newest crawl runs first, with their health."""
    query = select(*(getattr(CrawlRun, name) for name in RUN_FIELDS))
    if spider:
        query = query.where(CrawlRun.spider == spider)
    with engine.connect() as conn:
        rows = conn.execute(query.order_by(CrawlRun.id.desc()).limit(limit)).all()
    return [dict(row._mapping) for row in rows]


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
    elif reference.isdigit():
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
