"""The French portal: search page, course pages, Atom feeds, iCalendar files, sitemap."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from icalendar import Calendar, Event
from jinja2 import pass_context
from markupsafe import Markup

from portal import formatting
from portal import jobs as job_views
from portal.opendata.jsonld import course_json_ld
from portal.params import (
    FRENCH_DAY_PATTERN,
    MAX_ID,
    CourseId,
    SearchParams,
    french_day,
    search_params,
    single_valued,
    text_query,
)
from portal.urls import COURSE_PATH, absolute_url, site_host
from storage.predict import track_record
from storage.ratings import MIN_RATINGS
from storage.readindex import FACET_OF, FACETS, value_labels
from storage.search import (
    count_courses,
    count_visible_courses,
    course_detail,
    search_courses,
    visible_course_index,
)

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).with_name("templates"))
templates.env.finalize = formatting.printable  # every {{ value }} of every page and feed


@pass_context
def _url_for(context, name: str, /, **path_params) -> str:
    return absolute_url(context["request"], name, **path_params)


templates.env.globals.update(
    url_for=_url_for,
    label=formatting.label,
    labels=formatting.labels,
    french_date=formatting.french_date,
    weeks_text=formatting.weeks_text,
    prediction_text=formatting.prediction_text,
    track_record_text=formatting.track_record_text,
    rating_sources_text=formatting.rating_sources_text,
    effort_text=formatting.effort_text,
    qualification_text=formatting.qualification_text,
    price_text=formatting.price_text,
    number_text=formatting.number_text,
    count_text=formatting.count_text,
    beside=formatting.beside,
    min_ratings=MIN_RATINGS,
    french_day=french_day,
    day_pattern=FRENCH_DAY_PATTERN,
)
SITEMAP_SIZE = 50_000
MAX_SITEMAP_PART = MAX_ID // SITEMAP_SIZE  # the part's offset stays a 64-bit integer
FEED_SIZE = 50
CALENDAR_SIZE = 50  # courses in a search's calendar, soonest first
NEW_FOR = timedelta(days=30)
# the job profiles the search words name, above the results: at most JOBS_SHOWN, those
# scoring at least JOBS_CLOSE × the best one (« data analyst »: one; « comptable »: seven)
JOBS_SHOWN, JOBS_CLOSE = 8, 0.5


def _json_ld(data: dict) -> Markup:
    """JSON for a ``<script>`` element: ``<`` escaped so no text can close the element."""
    text = json.dumps(data, ensure_ascii=False, default=str)
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


@router.get("/", response_class=HTMLResponse)
def search_page(request: Request, params: Annotated[SearchParams, Depends(search_params)]):
    now = request.app.state.clock()
    result = search_courses(
        request.app.state.engine,
        params.filters,
        now,
        sort=params.sort,
        page=params.page,
        per_page=params.per_page,
        cache=request.app.state.cache,
    )
    for course in result.courses:
        course["badges"] = formatting.badges(course, now)
    pages = max(1, -(-result.total // params.per_page))
    wider = _wider(request, params, now) if result.total == 0 else []
    # words that name a job (« je veux devenir comptable »): its profile, above the courses
    jobs = job_views.search(request, params.filters.q, limit=JOBS_SHOWN) if params.filters.q else []
    jobs = [j for j in jobs if j["score"] >= JOBS_CLOSE * jobs[0]["score"]]
    switch = _state_switch(params, result) if result.total == 0 else None
    return templates.TemplateResponse(
        request,
        "search.html",
        {
            "params": params,
            "filters": params.filters,
            "facets": FACETS,
            "result": result,
            "now": now,
            "pages": pages,
            "wider": wider,
            "jobs": jobs,
            "switch": switch,
        },
    )


def _calendar(request: Request, name: str, courses: list[dict], now, keep=lambda s: True):
    """An iCalendar of the dated sessions of ``courses`` that ``keep`` accepts, one event
    per session, each pointing at its enrolment page and at the course's page."""
    text = formatting.printable
    calendar = Calendar()
    calendar.add("prodid", "-//Moisson//catalogue des cours en ligne//FR")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", text(name))
    host = site_host(request)
    for course in courses:
        page = absolute_url(request, "course_page", course_id=course["id"])
        for session in course["sessions"]:
            if session["start"] is None or not keep(session):
                continue
            event = Event()
            event.add("uid", f"session-{session['id']}@{host}")
            event.add("dtstamp", now)
            event.add("summary", text(f"{course['title']} ({session['platform_label']})"))
            event.add("dtstart", session["start"])
            if session["end"]:
                event.add("dtend", session["end"])
            lines = [f"Inscription : {text(session['url'])}", f"Fiche : {page}"]
            if session["enrolment_end"]:
                lines.insert(
                    0, f"Inscriptions jusqu'au {formatting.french_date(session['enrolment_end'])}"
                )
            event.add("description", "\n".join(lines))
            event.add("url", text(session["url"]))
            calendar.add_component(event)
    return calendar


def _ics(calendar: Calendar, filename: str) -> Response:
    return Response(
        calendar.to_ical(),
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


# what each choice of the search form is called, for « sans « État : À venir » : 3 cours »:
# the facets' own labels (storage.readindex.FACETS), and the fields that are not facets
FIELD_NAMES = {
    "q": "Mots-clés",
    "starts_after": "Commence après le",
    "starts_before": "Commence avant le",
    "max_weeks": "Durée maximale (semaines)",
    "max_hours_per_week": "Heures par semaine au plus",
}
CHOICE_LABELS = {"state": "state", "level": "level", "free": "boolean", "certificate": "boolean"}


def _shown(name: str, value) -> str:
    if name in CHOICE_LABELS:
        return formatting.label(CHOICE_LABELS[name], value)
    if name in ("starts_after", "starts_before"):
        return formatting.french_date(value)
    if name == "organisation":
        return "celui choisi"
    return formatting.number_text(value) if isinstance(value, float) else str(value)


def _wider(request: Request, params: SearchParams, now) -> list[dict]:
    """For an empty result: each choice made, and how many courses its removal would give
    (only the removals that give some), most first."""
    filters = params.filters
    made = [(name, title, getattr(filters, name)) for name, title in FIELD_NAMES.items()]
    made += [(f.name, f.label, filters.chosen(f.name)) for f in FACETS]
    out = []
    for name, title, value in made:
        if value is None or value == ():
            continue
        count = count_courses(
            request.app.state.engine, filters.without(name), now, cache=request.app.state.cache
        )
        if not count:
            continue
        values = value if isinstance(value, tuple) else (value,)
        named = value_labels(request.app.state.engine, name, values) if name in FACET_OF else {}
        shown = ", ".join(named.get(str(v)) or _shown(name, v) for v in values)
        out.append(
            {
                "text": f"{title} : {shown}",
                "count": count,
                "query": params.query(page=None, **{name: None}),
            }
        )
    return sorted(out, key=lambda w: -w["count"])


def _state_switch(params: SearchParams, result) -> dict | None:
    """For an empty result with states chosen: those states in words, and each other state
    that would give courses with the same other choices (the state facet's counts are
    counted without its own choices), with the search switched to it."""
    chosen = params.filters.chosen("state")
    if not chosen:
        return None
    words = formatting.labels()["state_courses"]
    others = [
        {
            "text": f"{entry['count']} {words[entry['value']]}",
            "query": params.query(page=None, state=[entry["value"]]),
        }
        for entry in (result.facets or {}).get("state", [])
        if entry["value"] not in chosen and entry["count"]
    ]
    return {"chosen": " ou ".join(words[state] for state in chosen), "others": others}


@router.get("/cours/{course_id}.ics", name="course_calendar")
def course_calendar(request: Request, course_id: CourseId):
    """The course's dated sessions, to add to a calendar (an alert without an account)."""
    now = request.app.state.clock()
    course = course_detail(request.app.state.engine, course_id, now)
    if course is None:
        raise HTTPException(status_code=404, detail=f"Aucun cours n° {course_id}")
    return _ics(_calendar(request, course["title"], [course], now), f"cours-{course_id}.ics")


@router.get("/agenda.ics", name="search_calendar")
def search_calendar(request: Request, params: Annotated[SearchParams, Depends(search_params)]):
    """The upcoming sessions of a search's first ``CALENDAR_SIZE`` courses by start date,
    for a learner to subscribe to in their agenda (as ``/flux.atom`` in a feed reader)."""
    now = request.app.state.clock()
    result = search_courses(
        request.app.state.engine,
        params.filters,
        now,
        sort="start",
        per_page=CALENDAR_SIZE,
        facets=False,
        cache=request.app.state.cache,
    )
    q = params.filters.q
    name = f"Moisson : « {q} »" if q else "Moisson : cours à venir"
    calendar = _calendar(
        request, name, result.courses, now, keep=lambda s: "upcoming" in s["states"]
    )
    return _ics(calendar, "recherche.ics")


@router.get(COURSE_PATH, response_class=HTMLResponse, name="course_page")
def course_page(request: Request, course_id: CourseId):
    now = request.app.state.clock()
    course = course_detail(request.app.state.engine, course_id, now)
    if course is None:
        raise HTTPException(status_code=404, detail=f"Aucun cours n° {course_id}")
    course["badges"] = formatting.badges(course, now)
    for session in course["sessions"]:
        session["badges"] = formatting.badges(session, now)
        session["workload"] = formatting.session_workload_text(session)
    course["track_record"] = track_record(course["sessions"], now)
    return templates.TemplateResponse(
        request,
        "course.html",
        {
            "course": course,
            "description": Markup(formatting.sanitise(course["description"]) or ""),
            "summary": formatting.plain_text(course["description"])[:300],
            "json_ld": _json_ld(
                course_json_ld(course, absolute_url(request, "course_page", course_id=course_id))
            ),
            "now": now,
            **job_views.course_jobs(request, course_id),
        },
    )


@router.get(
    "/metiers", response_class=HTMLResponse, name="jobs_page", dependencies=[single_valued("q")]
)
def jobs_page(
    request: Request,
    q: Annotated[str | None, text_query(200, "a job title")] = None,
):
    """Job profiles whose titles or synonyms the text names, with their course counts."""
    return templates.TemplateResponse(
        request,
        "jobs.html",
        {
            "q": q,
            "jobs": job_views.search(request, q, limit=20) if q else [],
            "attribution": job_views.attribution(request),
        },
    )


@router.get(
    "/metiers/{code}",
    response_class=HTMLResponse,
    name="job_page",
    dependencies=[single_valued("page")],
)
def job_page(
    request: Request,
    code: job_views.JobCode,
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
):
    """A job profile: definition, core skills, and the courses that build them."""
    found = job_views.job_with_courses(request, code, page)
    if found is None:
        raise HTTPException(status_code=404, detail=f"Aucun métier {code.upper()} dans le ROME")
    if found["code"] != code:  # one address per job: the code in capitals
        query = f"?{request.url.query}" if request.url.query else ""
        return RedirectResponse(job_views.job_url(request, found["code"]) + query, 301)
    pages = max(1, -(-found["total"] // found["per_page"]))
    return templates.TemplateResponse(request, "job.html", {"job": found, "pages": pages})


@router.get("/flux.atom", name="feed")
def feed(request: Request, params: Annotated[SearchParams, Depends(search_params)]):
    """New and soon-starting courses of a search, newest first, as an Atom feed."""
    now = request.app.state.clock()
    engine = request.app.state.engine
    new = search_courses(engine, params.filters, now, sort="new", per_page=FEED_SIZE, facets=False)
    soon = search_courses(
        engine,
        params.filters.replace(state="starting_soon"),
        now,
        sort="start",
        per_page=FEED_SIZE,
        facets=False,
    )
    entries, seen = [], set()
    for course in soon.courses + [c for c in new.courses if c["created_at"] >= now - NEW_FOR]:
        if course["id"] in seen:
            continue
        seen.add(course["id"])
        course["badges"] = formatting.badges(course, now)
        entries.append(course)
    updated = max((c["updated_at"] for c in entries), default=now)
    return templates.TemplateResponse(
        request,
        "feed.xml",
        {
            "entries": entries,
            "updated": updated,
            "params": params,
            "self_url": absolute_url(request, "feed")
            + (f"?{request.url.query}" if request.url.query else ""),
        },
        media_type="application/atom+xml; charset=utf-8",
    )


@router.get("/sitemap.xml", name="sitemap")
def sitemap(request: Request):
    """Every visible course page; past 50,000 URLs, an index of numbered sitemaps."""
    engine = request.app.state.engine
    total = count_visible_courses(engine)
    if total > SITEMAP_SIZE:
        parts = -(-total // SITEMAP_SIZE)
        return templates.TemplateResponse(
            request,
            "sitemap_index.xml",
            {"parts": range(1, parts + 1)},
            media_type="application/xml",
        )
    return _sitemap_part(request, 1)


@router.get("/sitemap-{part}.xml", name="sitemap_part")
def sitemap_part(request: Request, part: Annotated[int, PathParam(le=MAX_SITEMAP_PART)]):
    return _sitemap_part(request, part)


def _sitemap_part(request: Request, part: int):
    if part < 1:
        raise HTTPException(status_code=404)
    courses = visible_course_index(
        request.app.state.engine, offset=(part - 1) * SITEMAP_SIZE, limit=SITEMAP_SIZE
    )
    if not courses and part > 1:
        raise HTTPException(status_code=404)
    return templates.TemplateResponse(
        request, "sitemap.xml", {"courses": courses}, media_type="application/xml"
    )


@router.get("/robots.txt", response_class=PlainTextResponse)
def robots(request: Request):
    return f"User-agent: *\nAllow: /\nSitemap: {absolute_url(request, 'sitemap')}\n"
