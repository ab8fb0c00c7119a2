"""The read queries about jobs the portal needs: a job with its core skills and titles, the
courses of a job (open and upcoming ones first, with how many core skills each covers), the
jobs of a course with their reasons, and job search by title or synonym.

They read the ROME tables (``storage.rome``) and the courses' links (``storage.joblinks``);
a job that the loaded referential lacks is not found (None, or left out of a list).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, case, exists, func, select
from sqlalchemy.engine import Engine

from storage.codes import QUALIFICATION_REGISTERS, stated_code
from storage.jobmatch import JobMatcher
from storage.models import (
    Course,
    CourseJob,
    CourseStateSpan,
    Listing,
    RomeItem,
    RomeJob,
    RomeJobItem,
    RomeTitle,
    RomeVersion,
)
from storage.rome import ATTRIBUTION

CORE = "Principale"
# the states a learner can act on now, first in a job's list of courses
ACTIONABLE = ("enrolment_open", "starting_soon", "self_paced", "upcoming")


def job(engine: Engine, code: str) -> dict | None:
    """A job profile: label, domain, tags, definition, titles, core and other skills."""
    code = (code or "").strip().upper()
    with engine.connect() as conn:
        row = conn.execute(select(RomeJob.__table__).where(RomeJob.code == code)).first()
        if row is None:
            return None
        titles = conn.execute(
            select(RomeTitle.label, RomeTitle.synonym)
            .where(RomeTitle.job_code == code)
            .order_by(RomeTitle.synonym, RomeTitle.label)
        ).all()
        items = conn.execute(
            select(RomeItem.label, RomeItem.kind, RomeJobItem.core)
            .join(RomeJobItem, RomeJobItem.item_ogr == RomeItem.ogr)
            .where(RomeJobItem.job_code == code)
            .order_by(RomeItem.kind, RomeItem.label)
        ).all()
        credit = _attribution(conn)
    return {
        "code": row.code,
        "label": row.label,
        "domain": {"code": row.domain, "label": row.domain_label},
        "grand_domain": {"code": row.grand_domain, "label": row.grand_domain_label},
        "tags": row.tags or {},
        "definition": row.definition,
        "access": row.access,
        "titles": [t.label for t in titles if not t.synonym],
        "synonyms": [t.label for t in titles if t.synonym],
        "core_skills": [{"label": i.label, "kind": i.kind} for i in items if i.core == CORE],
        "other_skills": [{"label": i.label, "kind": i.kind} for i in items if i.core != CORE],
        "attribution": credit,
    }


def _core_labels(conn, code: str) -> set[str]:
    return set(
        conn.scalars(
            select(RomeItem.label)
            .join(RomeJobItem, RomeJobItem.item_ogr == RomeItem.ogr)
            .where(RomeJobItem.job_code == code, RomeJobItem.core == CORE)
        )
    )


def courses_of_job(
    engine: Engine, code: str, now: datetime, limit: int = 20, offset: int = 0
) -> dict:
    """The visible courses linked to a job: the ones a learner can join now or soon first,
    then by the link's score; each with the core skills it covers (« couvre k des n
    compétences clés »)."""
    code = (code or "").strip().upper()
    actionable = exists().where(
        CourseStateSpan.course_id == Course.id,
        CourseStateSpan.state.in_(ACTIONABLE),
        CourseStateSpan.since <= now,
        CourseStateSpan.until > now,
    )
    with engine.connect() as conn:
        core = _core_labels(conn, code)
        where = and_(CourseJob.job_code == code, Course.visible.is_(True))
        total = conn.scalar(select(func.count()).select_from(CourseJob).join(Course).where(where))
        rows = conn.execute(
            select(
                Course.id,
                Course.title,
                CourseJob.method,
                CourseJob.score,
                CourseJob.reasons,
                case((actionable, True), else_=False).label("actionable"),
            )
            .join(CourseJob, CourseJob.course_id == Course.id)
            .where(where)
            .order_by(case((actionable, 0), else_=1), CourseJob.score.desc(), Course.id)
            .limit(limit)
            .offset(offset)
        ).all()
    courses = []
    for r in rows:
        covered = sorted(core & set(r.reasons or []))
        courses.append(
            {
                "id": r.id,
                "title": r.title,
                "method": r.method,
                "score": r.score,
                "actionable": bool(r.actionable),
                "reasons": r.reasons or [],
                "core_covered": covered,
                "closeness": f"couvre {len(covered)} des {len(core)} compétences clés",
            }
        )
    return {"code": code, "total": total, "core_skills": len(core), "courses": courses}


def jobs_of_course(engine: Engine, course_id: int) -> list[dict]:
    """The jobs a course prepares for, best first, with how each was found and why."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                RomeJob.code,
                RomeJob.label,
                RomeJob.domain_label,
                CourseJob.method,
                CourseJob.score,
                CourseJob.reasons,
            )
            .join(RomeJob, RomeJob.code == CourseJob.job_code)
            .where(CourseJob.course_id == course_id)
            .order_by(CourseJob.score.desc(), RomeJob.code)
        ).all()
    return [
        {
            "code": r.code,
            "label": r.label,
            "domain": r.domain_label,
            "method": r.method,
            "score": r.score,
            "reasons": r.reasons or [],
        }
        for r in rows
    ]


_TITLE_MATCHERS: dict[tuple, JobMatcher] = {}
# a title search ranks every job one of whose titles the text contains
TITLE_SEARCH = {"threshold": 1e-6, "relative": 0.0}


def search_jobs(engine: Engine, text: str, limit: int = 10) -> list[dict]:
    """Jobs whose titles or synonyms the text names (« je veux devenir comptable »,
    « data analyst »), best first; [] for a text naming none."""
    text = (text or "").strip()
    if not text:
        return []
    with engine.connect() as conn:
        version = conn.execute(
            select(RomeVersion.number, RomeVersion.loaded_at)
            .order_by(RomeVersion.id.desc())
            .limit(1)
        ).first()
        if version is None:
            return []
        key = tuple(version)
        if key not in _TITLE_MATCHERS:
            _TITLE_MATCHERS.clear()
            _TITLE_MATCHERS[key] = JobMatcher.from_connection(
                conn, parameters=TITLE_SEARCH, titles_only=True
            )
    (hits,) = _TITLE_MATCHERS[key].match([(text, "")], top=limit)
    return [{"code": h.code, "label": h.label, "score": h.score} for h in hits]


def course_counts(engine: Engine, codes: list[str]) -> dict[str, int]:
    """How many visible courses each job of ``codes`` is linked to (0 for none)."""
    if not codes:
        return {}
    with engine.connect() as conn:
        rows = conn.execute(
            select(CourseJob.job_code, func.count())
            .join(Course, Course.id == CourseJob.course_id)
            .where(CourseJob.job_code.in_(codes), Course.visible.is_(True))
            .group_by(CourseJob.job_code)
        ).all()
    counts = dict.fromkeys(codes, 0)
    counts.update({code: n for code, n in rows})
    return counts


def course_qualifications(engine: Engine, course_id: int) -> list[dict]:
    """The qualifications (RNCP, RS) the course's visible listings state it leads to."""
    with engine.connect() as conn:
        records = conn.scalars(
            select(Listing.record).where(Listing.course_id == course_id, Listing.hidden.is_(False))
        ).all()
    found: dict[tuple[str, str], dict] = {}
    for record in records:
        codes = (record or {}).get("codes") or {}
        for register, prefix in QUALIFICATION_REGISTERS.items():
            for code in codes.get(register) or []:
                code = stated_code(register, code)
                if code:
                    found.setdefault(
                        (prefix, code),
                        {"registry": prefix, "code": code, "label": f"{prefix}{code}"},
                    )
    return sorted(found.values(), key=lambda q: (q["registry"], q["code"]))


def attribution(engine: Engine) -> str | None:
    """« Source : France Travail, ROME 4.0 version NN » for the release in use, or None."""
    with engine.connect() as conn:
        return _attribution(conn)


def _attribution(conn) -> str | None:
    number = conn.scalar(select(RomeVersion.number).order_by(RomeVersion.id.desc()).limit(1))
    return ATTRIBUTION.format(number=number) if number else None


def linked_share(engine: Engine) -> tuple[int, int]:
    """(visible courses linked to at least one job, visible courses)."""
    linked = exists().where(CourseJob.course_id == Course.id)
    with engine.connect() as conn:
        visible = conn.scalar(
            select(func.count()).select_from(Course).where(Course.visible.is_(True))
        )
        with_job = conn.scalar(
            select(func.count()).select_from(Course).where(Course.visible.is_(True), linked)
        )
    return with_job, visible
