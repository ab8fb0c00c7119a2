"""Read-side queries shared by the command line and the portal."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from storage.models import Course, CrawlRun, Listing, Platform, Session


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


def recent_runs(engine: Engine, limit: int = 20) -> list[dict]:
    with engine.connect() as conn:
        rows = conn.execute(select(CrawlRun).order_by(CrawlRun.id.desc()).limit(limit)).all()
    return [dict(row._mapping["CrawlRun"].__dict__) for row in rows]
