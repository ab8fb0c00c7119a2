"""The JSON API for sites that query or embed the catalogue: ``/api/v1``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request

from portal.formatting import sanitise
from portal.params import CourseId, SearchParams, search_params, text_query
from portal.schemas import (
    CourseDetail,
    CoursePage,
    OrganisationPage,
    PlatformOut,
    StatsOut,
    TopicOut,
    ValidationProblem,
)
from portal.urls import absolute_url
from storage.queries import list_organisations, list_platforms, list_topics, portal_stats
from storage.search import course_detail, search_courses

router = APIRouter(prefix="/api/v1", tags=["catalogue"])
INVALID = {422: {"model": ValidationProblem, "description": "an invalid parameter, named"}}


def _course_url(request: Request, course_id: int) -> str:
    return absolute_url(request, "course_page", course_id=course_id)


@router.get("/courses", response_model=CoursePage, responses=INVALID)
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
    return found


@router.get("/topics", response_model=list[TopicOut])
def topics(request: Request):
    return list_topics(request.app.state.engine)


@router.get("/platforms", response_model=list[PlatformOut])
def platforms(request: Request):
    return list_platforms(request.app.state.engine)


@router.get("/organisations", response_model=OrganisationPage, responses=INVALID)
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
