"""The read index (storage/readindex.py): the state rule case by case, state spans agree
with it at every instant, and the stored spans and facet values stay equal to a fresh
computation through writes, hides, returns, re-links and deletions, on SQLite and
PostgreSQL."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, func, select, text, update

from pipelines.records import CourseRecord, SessionRecord
from storage import readindex
from storage.catalogue import CatalogueWriter, RunSummary
from storage.models import (
    Course,
    CourseFacet,
    CourseStateSpan,
    FacetValue,
    Listing,
)
from storage.readindex import session_states
from storage.search import STATES, CourseFilters, course_states, search_courses
from tests.conftest import moisson

NOW = datetime(2026, 11, 15, 11, tzinfo=UTC)
LEVELS = ["debutant", "intermediaire", "avance", None]
TOPICS = ["programmation", "data-ia", "mathematiques", "droit", "energie"]


def random_session(rng: random.Random, key: int) -> dict:
    def moment():
        return rng.choice([None, NOW + timedelta(days=rng.randint(-90, 90))])

    start, end = moment(), moment()
    if start and end and end < start:
        start, end = end, start
    return {
        "key": str(key),
        "start": start,
        "end": end,
        "enrolment_start": moment(),
        "enrolment_end": moment(),
        "pace": rng.choice(["scheduled", "self_paced", "always_open", None]),
    }


def instants(sessions: list[dict]) -> set[datetime]:
    """Every edge where a state may change, and a second either side of it."""
    edges = {NOW}
    for s in sessions:
        for value in (s["start"], s["end"], s["enrolment_start"], s["enrolment_end"]):
            if value is not None:
                edges.add(value)
        if s["start"] is not None:
            edges.add(s["start"] - readindex.SOON)
    return {e + timedelta(seconds=d) for e in edges for d in (-1, 0, 1)}


def _session(start=None, end=None, e_start=None, e_end=None, pace="scheduled") -> dict:
    day = timedelta(days=1)

    def at(days):
        return None if days is None else NOW + days * day

    return {
        "start": at(start),
        "end": at(end),
        "enrolment_start": at(e_start),
        "enrolment_end": at(e_end),
        "pace": pace,
    }


@pytest.mark.parametrize(
    "session, states",
    [
        # dated, starts in 10 days, enrolment open since yesterday
        (_session(10, 40, -1, 12), ["enrolment_open", "starting_soon", "upcoming"]),
        # starts in exactly 30 days: starting soon (start <= now + 30 days); in 31: not
        (_session(30, 60), ["starting_soon", "upcoming"]),
        (_session(31, 60), ["upcoming"]),
        # started, not ended; enrolment closed
        (_session(-5, 20, -30, -6), ["ongoing"]),
        # ends now exactly: over (the end is excluded)
        (_session(-5, 0), ["archived"]),
        (_session(-5, 0, pace="self_paced"), ["archived"]),
        # self-paced, no dates: always open and self paced
        (_session(pace="self_paced"), ["enrolment_open", "self_paced"]),
        (_session(pace="always_open"), ["enrolment_open", "self_paced"]),
        # a self-paced session with a start is upcoming until it starts, never "ongoing"
        (
            _session(3, pace="self_paced"),
            ["enrolment_open", "starting_soon", "self_paced", "upcoming"],
        ),
        (_session(-3, pace="self_paced"), ["enrolment_open", "self_paced"]),
        # no date at all, not self paced: nothing is known to be live
        (_session(), ["archived"]),
        # enrolment that opens tomorrow is not open yet; that closed at the end: closed
        (_session(10, 40, 1, 12), ["starting_soon", "upcoming"]),
        (_session(-10, 5, -20, 8), ["enrolment_open", "ongoing"]),
    ],
)
def test_the_state_rule(session, states):
    """The one state rule (``readindex.session_intervals``), read at one instant."""
    assert session_states(session, NOW) == states
    intervals = readindex.session_intervals(session)
    assert [s for s in STATES if s in intervals and intervals[s][0] <= NOW < intervals[s][1]] == [
        s for s in states if s != "archived"
    ]


def test_spans_say_what_the_state_rules_say_at_every_edge():
    rng = random.Random(28)
    for _ in range(400):
        sessions = [random_session(rng, key) for key in range(rng.randint(0, 4))]
        spans = readindex.course_spans(sessions)
        for state in STATES:  # merged: one state's spans never overlap nor touch
            mine = sorted((a, b) for st, a, b in spans if st == state)
            assert all(b1 < a2 for (_a1, b1), (a2, _b2) in zip(mine, mine[1:], strict=False))
        for now in instants(sessions):
            expected = course_states(
                [{**s, "states": session_states(s, now)} for s in sessions], now
            )
            found = [st for st in STATES if any(st == x and a <= now < b for x, a, b in spans)]
            assert found == expected, (sessions, now)


def _record(number: int, rng: random.Random, platform: str = "fun_mooc") -> CourseRecord:
    return CourseRecord(
        platform=platform,
        external_id=f"c{number}",
        url=f"https://example.org/{platform}/{number}",
        title=f"Cours numéro {number} sur le sujet {number * 7 % 13}",
        organisations=[rng.choice(["Inria", "CNAM", "Université de Lyon"])],
        level=rng.choice(LEVELS),
        topics=rng.sample(TOPICS, rng.randint(0, 2)),
        free=rng.choice([True, False, None]),
        certificate=rng.choice(["none", "attestation", "certificate", None]),
        sessions=[SessionRecord(**random_session(rng, key)) for key in range(rng.randint(0, 3))],
    )


class Crawls:
    def __init__(self, engine):
        self.engine = engine
        self.writer = CatalogueWriter(engine)
        self.when = NOW

    def run(self, platform: str, records: list[CourseRecord], healthy: bool = True):
        """One crawl of a platform: store, mark the unseen missing, finish."""
        self.when += timedelta(hours=6)
        writer = self.writer
        platform_id = writer.platform_id(platform, platform.title())
        run = writer.start_run(platform, platform_id, self.when, replay=True)
        counts = writer.store(run, platform_id, [(r, {}) for r in records], self.when)
        if healthy:
            writer.mark_missing(run, [platform_id], self.when)
        summary = RunSummary("finished", self.when, items_scraped=len(records), healthy=healthy)
        writer.finish_run(run, summary, counts)


def course_facets(conn) -> set:
    return set(
        conn.execute(
            select(CourseFacet.course_id, FacetValue.facet, FacetValue.value).join(
                FacetValue, FacetValue.id == CourseFacet.value_id
            )
        ).all()
    )


def assert_index_true(engine, at_instants=()):
    with engine.connect() as conn:
        assert readindex.check(conn, [NOW, *at_instants]) == []
        spans = set(conn.execute(select(CourseStateSpan.__table__)).all())
        facets = course_facets(conn)
    assert facets  # the check compared something
    # a rebuild from scratch finds exactly what the refreshes kept
    with engine.begin() as conn:
        readindex.rebuild(conn, at=NOW)
    with engine.connect() as conn:
        assert set(conn.execute(select(CourseStateSpan.__table__)).all()) == spans
        assert course_facets(conn) == facets


def test_the_index_follows_every_kind_of_write(engine):
    rng = random.Random(6)
    crawls = Crawls(engine)
    fun = [_record(n, rng) for n in range(60)]
    oc = [_record(n, rng, "openclassrooms") for n in range(40)]
    crawls.run("fun_mooc", fun)
    crawls.run("openclassrooms", oc)
    later = [NOW + timedelta(days=d) for d in (-100, -31, 1, 29, 30, 45, 120)]
    assert_index_true(engine, later)

    # changed sessions and fields, a dozen listings gone for good (hidden on the third
    # healthy miss), and an unhealthy run that must not count as a miss
    changed = [_record(n, random.Random(n + 1000)) for n in range(12, 60)]
    for _ in range(3):
        crawls.run("fun_mooc", changed)
    crawls.run("fun_mooc", [], healthy=False)
    with engine.connect() as conn:
        hidden = conn.execute(select(func.count()).where(Listing.hidden.is_(True))).scalar()
        invisible = conn.execute(
            select(func.count()).select_from(Course).where(Course.visible.is_(False))
        ).scalar()
    assert hidden == 12 and invisible > 0
    assert_index_true(engine, later)

    # the gone listings come back unchanged: their courses are visible again
    crawls.run("fun_mooc", fun[:12] + changed)
    with engine.connect() as conn:
        assert not conn.execute(select(func.count()).where(Listing.hidden.is_(True))).scalar()
    assert_index_true(engine, later)

    # a listing moved to another course (as a maintainer's merge does) empties a course
    with engine.begin() as conn:
        target, moved = conn.execute(
            select(Listing.course_id).order_by(Listing.id).limit(2)
        ).scalars()
        conn.execute(update(Listing).where(Listing.course_id == moved).values(course_id=target))
        crawls.writer.refresh_courses(conn, {target, moved}, crawls.when)
        assert conn.execute(select(Course.id).where(Course.id == moved)).scalar() is None
    assert_index_true(engine, later)


def test_search_states_and_counts_at_many_instants(engine):
    """Each state filter returns the courses whose computed states hold it, and every
    state count (whole catalogue or filtered) equals that total."""
    rng = random.Random(15)
    crawls = Crawls(engine)
    crawls.run("fun_mooc", [_record(n, rng) for n in range(150)])
    for days in (-60, -1, 0, 12, 31, 75):
        now = NOW + timedelta(days=days, hours=rng.randint(0, 23))
        everything = search_courses(engine, CourseFilters(), now, per_page=100, facets=True)
        courses = list(everything.courses)
        courses += search_courses(engine, CourseFilters(), now, page=2, per_page=100).courses
        assert len(courses) == everything.total == 150
        facet = {f["value"]: f["count"] for f in everything.facets["state"]}
        level = search_courses(engine, CourseFilters(level="debutant"), now, per_page=1)
        level_facet = {f["value"]: f["count"] for f in level.facets["state"]}
        for state in STATES:
            expected = {c["id"] for c in courses if state in c["states"]}
            found = search_courses(
                engine, CourseFilters(state=state), now, per_page=100, facets=False
            )
            assert found.total == len(expected) == facet[state], (state, now)
            ids = {c["id"] for c in found.courses}
            if found.total > 100:
                ids |= {
                    c["id"]
                    for c in search_courses(
                        engine, CourseFilters(state=state), now, page=2, per_page=100
                    ).courses
                }
            assert ids == expected, (state, now)
            narrowed = search_courses(
                engine, CourseFilters(state=state, level="debutant"), now, facets=False
            )
            assert narrowed.total == level_facet[state], (state, now)


def test_sort_by_start_is_the_same_for_small_and_large_selections(engine, monkeypatch):
    """The two ways of sorting by start (each course's soonest session for a small
    selection, sessions read in start order for a large one) give the same pages."""
    import storage.search

    rng = random.Random(3)
    crawls = Crawls(engine)
    crawls.run("fun_mooc", [_record(n, rng) for n in range(120)])

    def pages(**filters):
        out = []
        for page in range(1, 6):
            result = search_courses(
                engine, CourseFilters(**filters), NOW, sort="start", page=page, per_page=7
            )
            out.append([c["id"] for c in result.courses])
        return out

    for filters in ({}, {"state": "upcoming"}, {"state": "archived"}, {"level": "avance"}):
        grouped = pages(**filters)
        monkeypatch.setattr(storage.search, "SMALL_SET", 0)
        scanned = pages(**filters)
        monkeypatch.setattr(storage.search, "SMALL_SET", 2000)
        assert scanned == grouped, filters
        flat = [i for page in grouped for i in page]
        assert len(flat) == len(set(flat))


def test_a_topic_counts_and_selects_its_subtopics(engine):
    rng = random.Random(9)
    record = _record(1, rng).model_copy(update={"topics": ["programmation"]})
    Crawls(engine).run("fun_mooc", [record])
    result = search_courses(engine, CourseFilters(), NOW)
    topics = {f["value"]: f["count"] for f in result.facets["topic"]}
    assert topics == {"programmation": 1, "informatique": 1}
    assert search_courses(engine, CourseFilters(topic="informatique"), NOW).total == 1
    assert search_courses(engine, CourseFilters(topic="droit"), NOW).total == 0
    # a value no course has ever had (never numbered): nothing, whichever road is taken
    for filters in (
        CourseFilters(platform="inconnue"),
        CourseFilters(platform="inconnue", state="archived"),
        CourseFilters(platform="inconnue", q="cours"),
    ):
        empty = search_courses(engine, filters, NOW)
        assert empty.total == 0 and empty.courses == []
        assert all(f["count"] == 0 for f in empty.facets["state"])


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_answers_do_not_depend_on_the_planners_statistics(engine):
    """The queries are written so the plan does not hang on statistics; with them
    (an operator ran ANALYZE) the answers are the same."""
    rng = random.Random(4)
    Crawls(engine).run("fun_mooc", [_record(n, rng) for n in range(80)])
    asks = [
        CourseFilters(),
        CourseFilters(q="cours sujet"),
        CourseFilters(q="sujet", state="upcoming", level="debutant"),
        CourseFilters(state="enrolment_open"),
        CourseFilters(topic="informatique", free=True),
    ]

    def answers():
        return [
            (r.total, [c["id"] for c in r.courses], r.facets)
            for r in (search_courses(engine, ask, NOW, per_page=50) for ask in asks)
        ]

    before = answers()
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    assert answers() == before


def test_db_check_finds_a_wrong_row_and_reindex_mends_it(db_url):
    from tests.conftest import replay_crawl

    crawled = replay_crawl(db_url)
    assert crawled.returncode == 0, crawled.stderr
    check = moisson("db", "check", "--db", db_url)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "agrees" in check.stdout

    from storage.db import make_engine

    engine = make_engine(db_url)
    with engine.begin() as conn:  # as a hand-made SQL change would leave it
        platform = select(FacetValue.id).where(FacetValue.facet == "platform")
        conn.execute(delete(CourseFacet).where(CourseFacet.value_id.in_(platform)))
        course = conn.execute(select(func.min(Course.id))).scalar_one()
        conn.execute(delete(CourseStateSpan).where(CourseStateSpan.course_id == course))
        conn.execute(update(Course).values(visible=False))
    engine.dispose()
    check = moisson("db", "check", "--db", db_url)
    assert check.returncode == 1
    assert "computed facet value platform=fun_mooc not stored" in check.stdout
    assert f"course {course}: computed state span" in check.stdout
    assert "visible flag disagrees" in check.stdout
    assert "moisson db reindex" in check.stdout

    reindex = moisson("db", "reindex", "--db", db_url)
    assert reindex.returncode == 0, reindex.stderr
    assert "rebuilt from 26 courses" in reindex.stdout
    assert moisson("db", "check", "--db", db_url).returncode == 0
