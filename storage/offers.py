"""The number of current job offers per ROME job (France Travail's « Offres d'emploi »
API), cached with the date it was read (table ``job_offers``, docs/JOBS.md).

``moisson jobs refresh-offers`` asks the API (``moisson/offers.py``) for the jobs that have
linked courses (``codes_to_refresh``) and stores each answer (``store``); the job page and
``/api/v1/jobs/{code}`` read it (``offers_of``). A job never read has no row: nothing shown.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.engine import Engine

from storage.bulk import dialect_insert
from storage.models import Course, CourseJob, JobOffers, RomeJob

# the public job search of France Travail for one ROME code (a code is read as a keyword)
PUBLIC_SEARCH_URL = "https://candidat.francetravail.fr/offres/recherche?motsCles={code}"


def codes_to_refresh(engine: Engine) -> list[str]:
    """The jobs of the release in use that some visible course is linked to, by code."""
    with engine.connect() as conn:
        return list(
            conn.scalars(
                select(CourseJob.job_code)
                .join(Course, Course.id == CourseJob.course_id)
                .join(RomeJob, RomeJob.code == CourseJob.job_code)
                .where(Course.visible.is_(True))
                .distinct()
                .order_by(CourseJob.job_code)
            )
        )


def store(engine: Engine, code: str, count: int, at: datetime) -> None:
    """Keep one answer: the job's number of offers at ``at`` (replacing the previous one)."""
    row = {"job_code": code, "count": count, "fetched_at": at}
    with engine.begin() as conn:
        stmt = dialect_insert(conn, JobOffers).values(**row)
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[JobOffers.job_code],
                set_={"count": count, "fetched_at": at},
            )
        )


def offers_of(engine: Engine, code: str) -> dict | None:
    """The job's cached number of offers, its date and the public search for it; None when
    never read (no credentials, or the job is not linked to any course)."""
    with engine.connect() as conn:
        row = conn.execute(
            select(JobOffers.count, JobOffers.fetched_at).where(JobOffers.job_code == code)
        ).first()
    if row is None:
        return None
    return {
        "count": row.count,
        "fetched_at": row.fetched_at,
        "search_url": PUBLIC_SEARCH_URL.format(code=quote(code)),
    }
