"""The JSON API for sites that query or embed the catalogue: ``/api/v1``."""

from __future__ import annotations

import itertools
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import StreamingResponse

from portal import jobs as job_views
from portal.formatting import sanitise
from portal.opendata import EmptyExport, Export
from portal.opendata.formats import FORMATS
from portal.opendata.tabular import datapackage
from portal.params import (
    CourseId,
    Day,
    SearchParams,
    _paris_midnight,
    day_query,
    search_params,
    single_valued,
    text_query,
)
from portal.schemas import (
    CourseDetail,
    CoursePage,
    JobDetail,
    JobSearch,
    OrganisationPage,
    PlatformOut,
    StatsOut,
    TopicOut,
    ValidationProblem,
)
from portal.urls import absolute_url, base_url
from storage.export_queries import export_courses
from storage.queries import list_organisations, list_platforms, list_topics, portal_stats
from storage.search import course_detail, search_courses

router = APIRouter(prefix="/api/v1", tags=["catalogue"])
INVALID = {422: {"model": ValidationProblem, "description": "an invalid parameter, named"}}


def _course_url(request: Request, course_id: int) -> str:
    return absolute_url(request, "course_page", course_id=course_id)


@router.get(
    "/courses",
    response_model=CoursePage,
    responses=INVALID,
    dependencies=[single_valued("facets")],
)
def courses(
    request: Request,
    params: Annotated[SearchParams, Depends(search_params)],
    facets: Annotated[bool, Query(description="include facet counts")] = True,
):
    """Courses matching the filters, each with its state and next session, and facet counts.

    Each facet counts courses matching every other filter, so a visitor sees what choosing
    a value would give.
    """
    now = request.app.state.clock()
    result = search_courses(
        request.app.state.engine,
        params.filters,
        now,
        sort=params.sort,
        page=params.page,
        per_page=params.per_page,
        facets=facets,
        cache=request.app.state.cache,
    )
    for course in result.courses:
        course["url"] = _course_url(request, course["id"])
    return {
        "total": result.total,
        "page": result.page,
        "per_page": result.per_page,
        "sort": result.sort,
        "now": now,
        "courses": result.courses,
        "facets": result.facets,
    }


@router.get(
    "/courses/{course_id}",
    response_model=CourseDetail,
    responses={404: {"description": "no such visible course"}, **INVALID},
)
def course(request: Request, course_id: CourseId):
    """Every session on every platform, where to enrol, organisations, topics, provenance."""
    found = course_detail(request.app.state.engine, course_id, request.app.state.clock())
    if found is None:
        raise HTTPException(status_code=404, detail=f"no course {course_id}")
    found["description"] = sanitise(found["description"])
    found["url"] = _course_url(request, course_id)
    found.update(job_views.course_jobs(request, course_id))
    return found


@router.get("/topics", response_model=list[TopicOut])
def topics(request: Request):
    return list_topics(request.app.state.engine)


@router.get("/platforms", response_model=list[PlatformOut])
def platforms(request: Request):
    return list_platforms(request.app.state.engine)


@router.get(
    "/organisations",
    response_model=OrganisationPage,
    responses=INVALID,
    dependencies=[single_valued("name", "page", "per_page")],
)
def organisations(
    request: Request,
    name: Annotated[str | None, text_query(200, "part of the name, accents ignored")] = None,
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=200)] = 50,
):
    total, rows = list_organisations(request.app.state.engine, name, page, per_page)
    return {"total": total, "page": page, "per_page": per_page, "organisations": rows}


@router.get("/stats", response_model=StatsOut)
def stats(request: Request):
    state = request.app.state
    return portal_stats(state.engine, state.clock(), state.cache)


# -- jobs (ROME 4.0, docs/JOBS.md) ---------------------------------------------------------


@router.get(
    "/jobs",
    response_model=JobSearch,
    responses=INVALID,
    tags=["jobs"],
    dependencies=[single_valued("q", "limit")],
)
def jobs(
    request: Request,
    q: Annotated[str | None, text_query(200, "a job title, as a learner would say it")] = None,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
):
    """Job profiles whose titles or synonyms the text names (« je veux devenir comptable »,
    « data analyst »), best first, each with how many courses lead to it; none without q."""
    return {
        "q": q,
        "jobs": job_views.search(request, q, limit) if q else [],
        "attribution": job_views.attribution(request),
    }


@router.get(
    "/jobs/{code}",
    response_model=JobDetail,
    responses={404: {"description": "no such job in the loaded ROME release"}, **INVALID},
    tags=["jobs"],
    dependencies=[single_valued("page", "per_page")],
)
def job(
    request: Request,
    code: job_views.JobCode,
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = job_views.JOBS_PER_PAGE,
):
    """The job's definition and skills, and its courses: the ones open or starting soon
    first, each with the core skills it covers (« couvre k des n compétences clés »)."""
    found = job_views.job_with_courses(request, code, page, per_page)
    if found is None:
        raise HTTPException(status_code=404, detail=f"no job {code.upper()} in the loaded ROME")
    return found


# -- open data (docs/OPENDATA.md) ----------------------------------------------------------

ExportFormat = Literal["lheo", "jsonld", "moochub", "csv"]


@router.get("/export/datapackage.json", tags=["open data"])
def export_datapackage(request: Request):
    """The Frictionless Data Package describing ``/api/v1/export/csv`` (same query)."""
    query = f"?{request.url.query}" if request.url.query else ""
    export = Export(base_url(request), request.app.state.clock())
    return datapackage(export, path=f"{base_url(request)}/api/v1/export/csv{query}")


@router.get(
    "/export/{format}",
    tags=["open data"],
    dependencies=[single_valued("since")],
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "the selected courses, streamed: "
            + "; ".join(f"{f.name}: {f.description} ({f.media_type})" for f in FORMATS.values()),
            "content": {f.media_type: {} for f in FORMATS.values()},
        },
        404: {"description": "lheo: no course selected (an LHEO document needs one)"},
        **INVALID,
    },
)
def export(
    request: Request,
    format: ExportFormat,
    params: Annotated[SearchParams, Depends(search_params)],
    since: Annotated[
        Day | None, day_query("only courses changed on or after this day (Paris)")
    ] = None,
):
    """The courses the search filters select (``sort`` and paging are ignored), in an
    open-data format, streamed a batch of courses at a time. ``since`` makes it incremental."""
    state = request.app.state
    now = state.clock()
    fmt = FORMATS[format]
    export = Export(base_url(request), now, self_url=str(request.url))
    courses = export_courses(
        state.engine, params.filters, now, since=_paris_midnight(since) if since else None
    )
    headers = {"Content-Disposition": f'inline; filename="{fmt.file_name}"'}
    if format == "csv":
        query = f"?{request.url.query}" if request.url.query else ""
        headers["Link"] = (
            f'<{base_url(request)}/api/v1/export/datapackage.json{query}>; rel="describedby"'
        )
    pieces = fmt.write(courses, export)
    try:
        first = next(pieces, None)  # a refusal comes before the first byte, and the status
    except EmptyExport as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc
    body = itertools.chain([first] if first is not None else [], pieces)
    return StreamingResponse(body, media_type=fmt.media_type, headers=headers)
