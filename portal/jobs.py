"""What the API and the pages share about jobs (ROME 4.0, docs/JOBS.md): the job code a
path takes, a course's job links and qualifications, a job with a page of its courses, and
job search with course counts — each with this portal's URLs."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path
from starlette.requests import Request

from portal.urls import absolute_url
from storage import jobs as queries
from storage.offers import offers_of

# a ROME 4.0 code: the grand domain's letter and four digits (« M1811 »), either case
JOB_CODE = r"^[A-Za-z][0-9]{4}$"
JobCode = Annotated[
    str, Path(pattern=JOB_CODE, description="a ROME 4.0 code, e.g. M1811", examples=["M1811"])
]
JOBS_PER_PAGE = 20


def job_url(request: Request, code: str) -> str:
    return absolute_url(request, "job_page", code=code)


def course_jobs(request: Request, course_id: int) -> dict:
    """The course's job links (with their job pages) and the qualifications it leads to."""
    engine = request.app.state.engine
    links = queries.jobs_of_course(engine, course_id)
    for link in links:
        link["url"] = job_url(request, link["code"])
    return {"jobs": links, "qualifications": queries.course_qualifications(engine, course_id)}


def job_with_courses(
    request: Request, code: str, page: int = 1, per_page: int = JOBS_PER_PAGE
) -> dict | None:
    """The job and a page of its courses, open and upcoming ones first; None if unknown."""
    engine = request.app.state.engine
    found = queries.job(engine, code)
    if found is None:
        return None
    listed = queries.courses_of_job(
        engine,
        found["code"],
        request.app.state.clock(),
        limit=per_page,
        offset=(page - 1) * per_page,
    )
    for course in listed["courses"]:
        course["url"] = absolute_url(request, "course_page", course_id=course["id"])
    found["url"] = job_url(request, found["code"])
    found["offers"] = offers_of(engine, found["code"])
    return {
        **found,
        "total": listed["total"],
        "page": page,
        "per_page": per_page,
        "courses": listed["courses"],
    }


def search(request: Request, text: str, limit: int = 10) -> list[dict]:
    """Jobs whose titles or synonyms the text names, with how many courses each has."""
    engine = request.app.state.engine
    hits = queries.search_jobs(engine, text, limit=limit)
    counts = queries.course_counts(engine, [h["code"] for h in hits])
    return [{**h, "url": job_url(request, h["code"]), "courses": counts[h["code"]]} for h in hits]


def attribution(request: Request) -> str | None:
    return queries.attribution(request.app.state.engine)
