"""Plans are part of the contract: each kind of search the portal asks uses the index
meant for it, on SQLite (``EXPLAIN QUERY PLAN``) and PostgreSQL (``EXPLAIN``), on a
generated catalogue large enough for the planner to weigh its choices, after ``ANALYZE``
(which every crawl runs at its end, ``readindex.after_crawl``).

On SQLite the catalogue has 2,500 listings. PostgreSQL's planner rightly reads tables
that small whole, so there each statement is explained with sequential scans disabled, then
with plain index scans (a whole primary key read with a filter) disabled too: the test then
asks whether the intended index can answer each query (a scan is still chosen when no
index can). A catalogue large enough for PostgreSQL's own choice (≥ 50,000 courses) takes
minutes to build through the writer; ``benchmarks/api_latency.py`` measures at that size.

The statements checked are those the search really runs: they are captured as the
portal's own search function executes them, then explained one by one. A change that
takes a query off its index (ranking an expression instead of the stored document,
plain bounds instead of the spans' range, …) fails here, not in front of a visitor.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import event

from storage import readindex
from storage.search import CourseFilters, course_detail, search_courses

NOW = datetime(2026, 11, 15, 11, 0, tzinfo=UTC)  # the generator's "now"
LISTINGS = 2500


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def catalogue(request, tmp_path_factory):
    from benchmarks.api_latency import build_catalogue
    from storage.db import make_engine

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('plans') / 'catalogue.sqlite3'}"
        cleanup = None
    else:
        from tests.portal_catalogue import _postgres_schema_url

        admin, schema, url = _postgres_schema_url()
        cleanup = (admin, schema)
    build_catalogue(url, LISTINGS)
    engine = make_engine(url)
    with engine.begin() as conn:
        _link_jobs(conn)
        readindex.analyze(conn)
    yield engine
    engine.dispose()
    if cleanup:
        from sqlalchemy import text

        admin, schema = cleanup
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


JOBS = ("M1805", "M1810", "M1203", "K2111", "D1401", "H1206", "A1203", "J1506")


def _link_jobs(conn) -> None:
    """A job link for every other course, over a few jobs, as ``joblinks.link`` writes
    them, and the read index's job facets brought in step as it does."""
    from sqlalchemy import insert, select

    from storage.models import Course, CourseJob, RomeJob

    conn.execute(
        insert(RomeJob),
        [
            {"code": c, "ogr": i, "label": c, "domain": c[:3], "grand_domain": c[0]}
            for i, c in enumerate(JOBS)
        ],
    )
    ids = list(conn.scalars(select(Course.id).order_by(Course.id)))[::2]
    conn.execute(
        insert(CourseJob),
        [
            {"course_id": c, "job_code": JOBS[i % len(JOBS)], "method": "text", "score": 0.5}
            for i, c in enumerate(ids)
        ],
    )
    readindex.refresh_facets(conn, ids, CourseJob.__tablename__)


def plans(engine, ask) -> str:
    """The plans of every statement ``ask(engine)`` runs, as one text."""
    statements = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        ask(engine)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    out = []
    # PostgreSQL: plain scans off, then plain index scans off too (see the module's text)
    settings = (
        [[]]
        if engine.dialect.name == "sqlite"
        else [["enable_seqscan"], ["enable_seqscan", "enable_indexscan"]]
    )
    explain = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    for off in settings:
        with engine.connect() as conn:
            for name in off:
                conn.exec_driver_sql(f"SET {name} = off")
            for statement, parameters in statements:
                rows = conn.exec_driver_sql(explain + statement, parameters).all()
                out.append("\n".join(" ".join(str(v) for v in row) for row in rows))
    return "\n---\n".join(out)


def search(**filters):
    facets = filters.pop("facets", False)
    sort = filters.pop("sort", None)
    return lambda engine: search_courses(
        engine, CourseFilters(**filters), NOW, sort=sort, facets=facets
    )


# (query kind, the search, the index meant for it on SQLite, on PostgreSQL)
KINDS = [
    ("text", search(q="statistique"), "course_fts VIRTUAL TABLE", "ix_course_search_document"),
    (
        "text + filters",
        search(q="python", state="enrolment_open", level="debutant"),
        "course_fts VIRTUAL TABLE",
        "ix_course_search_document",
    ),
    # more courses than SMALL_SET: sessions are read in start order
    ("sorted by start", search(sort="start"), "ix_session_start", "ix_session_start"),
    (
        "state counted",
        search(state="enrolment_open", facets=True),
        "ix_course_state_span_state",
        "ix_course_state_span_during",
    ),
    (
        "one choice",
        search(platform="edx", sort="new"),
        "ix_course_facet_value_id",
        "ix_course_facet_value_id",
    ),
    (
        "two values of one facet",
        search(level=["debutant", "avance"], sort="new"),
        "ix_course_facet_value_id",
        "ix_course_facet_value_id",
    ),
    (
        "a job and a domain",
        search(job=["M1805", "M1203"], domain="M18", sort="new"),
        "ix_course_facet_value_id",
        "ix_course_facet_value_id",
    ),
    ("sorted by novelty", search(sort="new"), "ix_course_created_at", "ix_course_created_at"),
    # best rated with enough ratings: the index holds the order, the page is its first rows
    ("best rated", search(sort="rating"), "ix_course_best_rated", "ix_course_best_rated"),
    # most run: the steps holding now, read in the order of their number of runs
    ("most run", search(sort="most_run"), "ix_course_run_span_runs", "ix_course_run_span_runs"),
    # PostgreSQL reads every facet row for the landing counts: no course row is joined
    ("landing facets", search(facets=True), "ix_course_facet_value_id", "on course_facet"),
    (
        "detail",
        lambda engine: course_detail(engine, 7, NOW),
        "USING INTEGER PRIMARY KEY",
        "pk_course",
    ),
]


@pytest.mark.parametrize(
    "kind, ask, sqlite_index, postgres_index", KINDS, ids=[k[0] for k in KINDS]
)
def test_each_query_kind_uses_its_index(catalogue, kind, ask, sqlite_index, postgres_index):
    index = sqlite_index if catalogue.dialect.name == "sqlite" else postgres_index
    plan = plans(catalogue, ask)
    assert index in plan, f"{kind}: {index} not used\n{plan}"


@pytest.mark.parametrize(
    "sort, index", [("rating", "ix_course_best_rated"), ("most_run", "ix_course_run_span_runs")]
)
def test_unfiltered_sorts_read_their_index_in_order(catalogue, sort, index):
    """The page of ``sort=rating`` / ``most_run`` without filters is the first rows of its
    index: read in order, no sort of every course (no temporary B-tree in that statement)."""
    statements = plans(catalogue, search(sort=sort)).split("\n---\n")
    (ordered,) = [plan for plan in statements if index in plan]
    if catalogue.dialect.name == "sqlite":
        assert f"INDEX {index}" in ordered and "SCAN" in ordered, ordered
        assert "TEMP B-TREE FOR ORDER BY" not in ordered, ordered
    else:  # PostgreSQL: the index scanned in its order under the LIMIT, no Sort node above it
        assert (
            f"Index Scan using {index}" in ordered or f"Index Only Scan using {index}" in ordered
        ), ordered
        above = ordered.split(index)[0]
        assert "Sort" not in above, ordered
