"""The sort options: best rated with enough ratings, most run, soonest; each a ``sort=``
value of the API (documented in its OpenAPI) and an option of the search form, ties by id,
courses without the value last. The expected orders are computed here from the courses'
ratings and sessions, the most run one by the course page's own track record."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from starlette.testclient import TestClient

from pipelines.records import SessionRecord
from portal.app import create_app
from storage import readindex
from storage.db import make_engine
from storage.predict import track_record
from storage.ratings import MIN_RATINGS
from storage.readonly import open_readonly
from storage.search import SORTS, CourseFilters, course_detail, search_courses
from tests.portal_catalogue import _record, store_records

NOW = datetime(2026, 11, 15, 11, 0, tzinfo=UTC)


def _day(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _sessions(*starts: str) -> list[SessionRecord]:
    return [
        SessionRecord(key=s, start=_day(s), end=_day(s) + timedelta(weeks=6), pace="scheduled")
        for s in starts
    ]


# title: (rating, rating count, session starts)
COURSES = {
    "Astronomie des exoplanètes": (4.9, 5, ["2024-09-10", "2025-09-09", "2026-09-08"]),
    "Comptabilité des associations": (4.5, 300, ["2025-03-01", "2027-03-01"]),
    "Jardinage en permaculture": (4.7, MIN_RATINGS, ["2027-01-10"]),
    "Histoire de la musique baroque": (4.7, MIN_RATINGS, ["2026-02-01", "2026-02-10"]),
    "Initiation au tricot": (None, None, []),
}


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('sorts') / 'catalogue.sqlite3'}"
    records = [
        _record(
            f"sort-{i}",
            title,
            description=f"{title}.",
            rating=rating,
            rating_count=count,
            sessions=_sessions(*starts),
        )
        for i, (title, (rating, count, starts)) in enumerate(COURSES.items())
    ]
    store_records(url, records, NOW)[0].engine.dispose()
    engine = open_readonly(url)
    yield url, engine
    engine.dispose()


def _titles(engine, sort, now=NOW, per_page=50, **filters) -> list[str]:
    out, page = [], 1
    while True:
        result = search_courses(
            engine, CourseFilters(**filters), now, sort=sort, page=page, per_page=per_page
        )
        out += [c["title"] for c in result.courses]
        if page * per_page >= result.total:
            return out
        page += 1


def test_best_rated_needs_enough_ratings_ties_by_id_unrated_last(catalogue):
    _url, engine = catalogue
    assert _titles(engine, "rating") == [
        "Jardinage en permaculture",  # 4.7 with exactly MIN_RATINGS ratings
        "Histoire de la musique baroque",  # the same rating and count: by id
        "Comptabilité des associations",  # 4.5 from 300
        "Astronomie des exoplanètes",  # 4.9, but from 5 ratings only
        "Initiation au tricot",  # unrated
    ]
    # paging through the same order, two at a time
    assert _titles(engine, "rating", per_page=2) == _titles(engine, "rating")


def _runs_by_page(engine, now) -> dict[str, int]:
    """The number of runs as the course page's « Repères » counts them."""
    out = {}
    for course in search_courses(engine, CourseFilters(), now, per_page=50).courses:
        detail = course_detail(engine, course["id"], now)
        record = track_record(detail["sessions"], now)
        out[course["title"]] = (record or {}).get("runs", 0), course["id"]
    return out


@pytest.mark.parametrize("later", [timedelta(0), timedelta(days=400)])
def test_most_run_counts_runs_as_the_track_record_does_at_any_time(catalogue, later):
    _url, engine = catalogue
    now = NOW + later
    runs = _runs_by_page(engine, now)
    expected = sorted(runs, key=lambda t: (runs[t][0] == 0, -runs[t][0], runs[t][1]))
    assert _titles(engine, "most_run", now=now) == expected
    assert _titles(engine, "most_run", now=now, per_page=2) == expected
    if not later:  # two sessions nine days apart are one run; not run yet: last, by id
        assert [runs[t][0] for t in expected] == [3, 1, 1, 0, 0]
        assert expected[-2:] == ["Jardinage en permaculture", "Initiation au tricot"]
    else:  # a year on, the sessions of 2027 have started
        assert runs["Jardinage en permaculture"][0] == 1
        assert runs["Comptabilité des associations"][0] == 2
    # with a filter: only the selected courses, in the same order
    chosen = _titles(engine, "most_run", now=now, q="musique comptabilité tricot")
    assert chosen == [t for t in expected if t in chosen] and len(chosen) <= 3


def test_soonest_next_start_first_courses_without_one_last(catalogue):
    _url, engine = catalogue
    assert _titles(engine, "start") == [
        "Jardinage en permaculture",  # 2027-01-10
        "Comptabilité des associations",  # 2027-03-01
        "Astronomie des exoplanètes",  # no upcoming session: by id
        "Histoire de la musique baroque",
        "Initiation au tricot",
    ]


def test_the_run_steps_are_in_the_read_index_and_checked(catalogue):
    url, _engine = catalogue
    engine = make_engine(url)
    with engine.begin() as conn:
        assert readindex.check(conn) == []
        conn.execute(readindex.CourseRunSpan.__table__.delete().where(True))
        problems = readindex.check(conn)
        assert any("computed run count" in p for p in problems), problems
        readindex.rebuild(conn)
        assert readindex.check(conn) == []
    engine.dispose()


def test_the_index_holds_the_minimum_of_ratings(catalogue):
    """``ix_course_best_rated`` is built with the constant: both change together."""
    url, _engine = catalogue
    engine = make_engine(url)
    with engine.connect() as conn:
        sql = conn.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE name = 'ix_course_best_rated'"
        ).scalar_one()
    engine.dispose()
    assert f"coalesce(rating_count, 0) < {MIN_RATINGS})" in sql


def test_api_and_form_offer_every_sort(catalogue):
    _url, engine = catalogue
    client = TestClient(create_app(engine, clock=lambda: NOW))
    schema = client.get("/api/v1/openapi.json").json()
    params = schema["paths"]["/api/v1/courses"]["get"]["parameters"]
    sort = next(p for p in params if p["name"] == "sort")
    (enum,) = [choice["enum"] for choice in sort["schema"]["anyOf"] if "enum" in choice]
    assert set(enum) == set(SORTS) >= {"rating", "most_run", "start"}
    assert "most_run" in sort["description"] and str(MIN_RATINGS) in sort["description"]
    answer = client.get("/api/v1/courses", params={"sort": "most_run"}).json()
    assert answer["sort"] == "most_run"
    assert answer["courses"][0]["title"] == "Astronomie des exoplanètes"
    assert client.get("/api/v1/courses", params={"sort": "popular"}).status_code == 422
    page = client.get("/", params={"sort": "most_run"}).text
    for name in SORTS:
        assert f'<option value="{name}"' in page
    assert f"au moins {MIN_RATINGS} avis" in page
    assert '<option value="most_run" selected>' in page
