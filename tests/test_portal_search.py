"""Full-text search plumbing: the French query, the FTS index kept in sync, both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, text, update

from pipelines.records import CourseRecord, SessionRecord
from storage.catalogue import CatalogueWriter
from storage.models import Course
from storage.search import (
    STATES,
    CourseFilters,
    course_detail,
    fts5_query,
    query_terms,
    search_courses,
    term_prefix,
)

NOW = datetime(2026, 11, 15, 11, tzinfo=UTC)


@pytest.mark.parametrize(
    "word, prefix",
    [
        ("statistiques", "statist"),
        ("statistique", "statist"),
        ("intelligence", "intelligen"),  # the stem (« intelligent ») would miss the word
        ("réseaux", "reseau"),
        ("données", "donnee"),  # the stem « don » is too short to be selective
        ("Éthique", "ethiqu"),
        ("R", "r"),
    ],
)
def test_term_prefix(word, prefix):
    assert term_prefix(word) == prefix


def test_query_terms_drop_stop_words_and_syntax():
    assert query_terms("l'intelligence artificielle et la santé") == [
        "intelligence",
        "artificielle",
        "santé",
    ]
    assert query_terms('"python" OR NEAR(java*) title:^x') == [
        "python",
        "OR",
        "NEAR",
        "java",
        "title",
        "x",
    ]
    assert query_terms("%_' \" -- ;") == []
    assert len(query_terms(" ".join(f"mot{i}" for i in range(50)))) == 12
    assert fts5_query(["réseaux", "Éthique"]) == '"reseau"* "ethiqu"*'


def _record(external_id, title, description=None, sessions=()):
    return CourseRecord(
        platform="fun_mooc",
        external_id=external_id,
        url=f"https://www.fun-mooc.fr/fr/cours/{external_id}/",
        title=title,
        description=description,
        sessions=list(sessions),
    )


def _store(engine, records, when=NOW):
    writer = CatalogueWriter(engine)
    platform = writer.platform_id("fun_mooc", "FUN-MOOC")
    run = writer.start_run("fun_mooc", platform, when, replay=True)
    writer.store(run, platform, [(r, {}) for r in records], when)


def titles(engine, q):
    return [c["title"] for c in search_courses(engine, CourseFilters(q=q), NOW).courses]


def test_the_index_follows_inserts_updates_and_deletes(engine):
    _store(engine, [_record("a", "Biologie marine"), _record("b", "Chimie verte")])
    assert titles(engine, "biologie") == ["Biologie marine"]
    # a changed listing rewrites its course: the old words go, the new ones come
    _store(engine, [_record("a", "Océanographie", description="Les courants marins")])
    assert titles(engine, "biologie") == []
    assert titles(engine, "oceanographie") == ["Océanographie"]
    assert titles(engine, "courant") == ["Océanographie"]
    with engine.begin() as conn:
        conn.execute(update(Course).where(Course.title == "Chimie verte").values(title="Physique"))
    assert titles(engine, "chimie") == [] and titles(engine, "physique") == ["Physique"]
    with engine.begin() as conn:
        conn.execute(text("UPDATE listing SET course_id = NULL"))
        conn.execute(delete(Course).where(Course.title == "Physique"))
    assert titles(engine, "physique") == []


def test_sqlite_triggers_exist_at_head(sqlite_url):
    from storage.db import ensure_schema, make_engine

    engine = make_engine(sqlite_url)
    ensure_schema(engine)
    with engine.connect() as conn:
        triggers = set(
            conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars()
        )
    assert {"course_fts_after_insert", "course_fts_after_update", "course_fts_after_delete"} <= (
        triggers
    )
    engine.dispose()


def test_states_in_sql_match_states_in_python_on_generated_courses(engine):
    """Hundreds of random session shapes: each state filter returns exactly the courses
    whose computed states contain it."""
    import random

    rng = random.Random(6)
    records = []
    for number in range(300):
        sessions = []
        for key in range(rng.randint(0, 3)):

            def moment():
                return rng.choice([None, NOW + timedelta(days=rng.randint(-90, 90))])

            start, end = moment(), moment()
            if start and end and end < start:
                start, end = end, start
            sessions.append(
                SessionRecord(
                    key=str(key),
                    start=start,
                    end=end,
                    enrolment_start=moment(),
                    enrolment_end=moment(),
                    pace=rng.choice(["scheduled", "self_paced", "always_open", None]),
                )
            )
        records.append(_record(f"g{number}", f"Cours {number}", sessions=sessions))
    _store(engine, records)
    everything = search_courses(engine, CourseFilters(), NOW, per_page=1000, facets=False)
    assert everything.total == 300
    for state in STATES:
        expected = {c["id"] for c in everything.courses if state in c["states"]}
        found = search_courses(engine, CourseFilters(state=state), NOW, per_page=1000, facets=False)
        assert {c["id"] for c in found.courses} == expected, state
    detail = course_detail(engine, everything.courses[0]["id"], NOW)
    assert detail["states"] == everything.courses[0]["states"]


def test_minute_cache():
    from storage.cache import MinuteCache

    calls = []

    def compute():
        calls.append(1)
        return len(calls)

    cache = MinuteCache(size=2)
    assert cache.get("a", NOW, compute) == 1
    assert cache.get("a", NOW + timedelta(seconds=59), compute) == 1  # the same minute
    assert cache.get("a", NOW + timedelta(minutes=1), compute) == 2  # a new minute
    cache.get("b", NOW, compute)
    cache.get("c", NOW, compute)  # evicts the oldest
    assert cache.get("a", NOW, compute) == 5
    assert (cache.hits, cache.misses) == (1, 5)
    off = MinuteCache(size=0)
    assert off.get("a", NOW, compute) == 6 and off.get("a", NOW, compute) == 7
