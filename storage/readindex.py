"""The read index: the state rule, the facet table, and the derived rows built from them.

The portal asks two kinds of question a plain scan of sessions answers too slowly on a
large catalogue: "which courses are in these states now?" (a state depends on the time of
the question) and "which courses have these filter values, and how many per value?". This
module answers them with tables it alone writes, from definitions it alone holds:

- the state rule, ``session_intervals``: when (a half-open interval of "now") one session
  is in each state. ``course_state_span`` stores, for each visible course and state, the
  merged stretches of time during which the course is in that state; ``archived`` is the
  complement of its live states. A course's state now is a lookup: ``since <= now < until``.
- the facet table, ``FACETS``: one ``Facet`` entry per filter of the portal (name, how a
  course's values are computed, French label, whether several values may be chosen, how
  its values are ordered). ``course_facet`` stores each visible course's values, numbered
  through ``facet_value``. The filters, the counts, the API parameters and schema and the
  search form are all derived from ``FACETS``; adding a facet is one entry and a
  ``moisson db reindex``.
- the track record, ``run_spans``: ``course_run_span`` stores how many times each visible
  course has run (``storage.predict.runs``, as the course page's « Repères » counts them),
  as steps in time, so that ``sort=most_run`` reads courses in that order at any "now".

Nothing is counted ahead: ``storage.search`` counts by grouping the spans and facet rows of
the selected courses, and ``storage.cache`` keeps the answers for the minute.

``refresh(conn, course_ids)`` is called by ``CatalogueWriter.refresh_courses`` whenever a
course's listings, sessions or visibility change, inside the same transaction;
``after_crawl(conn)`` at the end of each run (fresh planner statistics); ``rebuild(conn)``
recomputes everything (``moisson db reindex``) and ``check(conn)`` compares the stored rows
with a fresh computation (``moisson db check``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, insert, select, text, true, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Connection

from storage.bulk import chunks, dialect_insert
from storage.models import (
    Course,
    CourseFacet,
    CourseJob,
    CourseRunSpan,
    CourseStateSpan,
    FacetValue,
    Listing,
    Organisation,
    Platform,
    RomeJob,
    Session,
    Topic,
    course_organisation,
    course_topic,
)
from storage.predict import runs

FAR_PAST = datetime(1000, 1, 1, tzinfo=UTC)
FAR_FUTURE = datetime(9999, 12, 31, tzinfo=UTC)
SOON = timedelta(days=30)
SELF_PACED = ("self_paced", "always_open")
LIVE_STATES = ("self_paced", "ongoing", "upcoming")
STATE_NAMES = ("enrolment_open", "starting_soon", "self_paced", "ongoing", "upcoming", "archived")
STATE_RANK = {name: rank for rank, name in enumerate(STATE_NAMES)}
LIVE = frozenset(LIVE_STATES)
"""In order of priority: a course's main state is the first it is in."""
CERTIFICATES = ("attestation", "certificate", "diploma")
LEVELS = ("debutant", "intermediaire", "avance", "tous_niveaux")
CHUNK = 400

Interval = tuple[datetime, datetime]


# -- states as intervals of time ---------------------------------------------------------------


def session_intervals(session: dict) -> dict[str, Interval]:
    """When (as a half-open interval of "now") one session is in each of its live states
    and ``enrolment_open``: THE state rule, the only place it is written.

    A session is in state S at ``now`` exactly when ``since <= now < until`` for its
    interval of S (``session_states`` reads it at one instant, ``course_spans`` stores it
    for the read index). A session is ``archived`` when it is in none of ``LIVE_STATES``.
    """
    start, end = session["start"], session["end"]
    e_start, e_end = session["enrolment_start"], session["enrolment_end"]
    self_paced = session["pace"] in SELF_PACED
    ends = end or FAR_FUTURE
    out: dict[str, Interval] = {}
    if e_start is not None or e_end is not None or self_paced:
        out["enrolment_open"] = (e_start or FAR_PAST, min(e_end or FAR_FUTURE, ends))
    if start is not None:
        out["starting_soon"] = (start - SOON, start)
        out["upcoming"] = (FAR_PAST, start)
        if not self_paced:
            out["ongoing"] = (start, ends)
    if self_paced:
        out["self_paced"] = (FAR_PAST, ends)
    return {state: (a, b) for state, (a, b) in out.items() if a < b}


def session_states(session: dict, now: datetime) -> list[str]:
    """The states of one session at ``now``, in priority order: ``session_intervals`` read
    at one instant."""
    states = sorted(
        (
            state
            for state, (since, until) in session_intervals(session).items()
            if since <= now < until
        ),
        key=STATE_RANK.__getitem__,
    )
    if LIVE.isdisjoint(states):
        states.append("archived")
    return states


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """The union of half-open intervals, as sorted disjoint intervals."""
    merged: list[list[datetime]] = []
    for since, until in sorted(intervals):
        if merged and since <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], until)
        else:
            merged.append([since, until])
    return [(a, b) for a, b in merged]


def course_spans(sessions: Sequence[dict]) -> list[tuple[str, datetime, datetime]]:
    """A course's (state, since, until) spans from its visible sessions.

    A course is in every state one of its sessions is in, and archived whenever none of
    its sessions is live (always, for a course without sessions).
    """
    by_state: dict[str, list[Interval]] = defaultdict(list)
    for session in sessions:
        for state, interval in session_intervals(session).items():
            by_state[state].append(interval)
    spans = [
        (state, since, until)
        for state, intervals in by_state.items()
        for since, until in merge(intervals)
    ]
    live = merge(i for state in LIVE_STATES for i in by_state.get(state, []))
    edge = FAR_PAST
    for since, until in live:
        if edge < since:
            spans.append(("archived", edge, since))
        edge = max(edge, until)
    if edge < FAR_FUTURE:
        spans.append(("archived", edge, FAR_FUTURE))
    return spans


def run_spans(sessions: Sequence[dict]) -> list[tuple[datetime, datetime, int]]:
    """A course's (since, until, runs) steps: from the start of each of its runs (as
    ``storage.predict.runs`` counts them, the track record's rule) to the next one's, the
    number of runs by then; none before the first run."""
    history = runs([s["start"] for s in sessions])
    ends = history[1:] + [FAR_FUTURE] * bool(history)
    return [
        (since, until, k) for k, (since, until) in enumerate(zip(history, ends, strict=True), 1)
    ]


# -- the facet table ---------------------------------------------------------------------------

CourseValues = Callable[[Connection, Sequence[int]], Iterable[tuple[int, str]]]
"""(course, value) rows of the given visible courses, each value as text."""
ValueLabels = Callable[[Connection, Sequence[str]], dict[str, str]]
"""value -> its French label, for the given values (values without one show as themselves)."""


def _platforms(conn: Connection, course_ids: Sequence[int]) -> Iterable[tuple[int, str]]:
    return conn.execute(
        select(Listing.course_id, Platform.name)
        .join(Platform, Platform.id == Listing.platform_id)
        .where(Listing.course_id.in_(course_ids), Listing.hidden.is_(False))
    ).all()


def _course_column(column, as_text: Callable) -> CourseValues:
    def values(conn: Connection, course_ids: Sequence[int]) -> Iterable[tuple[int, str]]:
        rows = conn.execute(
            select(Course.id, column).where(Course.id.in_(course_ids), column.is_not(None))
        )
        return [(course_id, as_text(value)) for course_id, value in rows]

    return values


def _organisations(conn: Connection, course_ids: Sequence[int]) -> Iterable[tuple[int, str]]:
    rows = conn.execute(
        select(course_organisation.c.course_id, course_organisation.c.organisation_id).where(
            course_organisation.c.course_id.in_(course_ids)
        )
    )
    return [(course_id, str(organisation_id)) for course_id, organisation_id in rows]


def _topic_ancestry(conn: Connection) -> dict[int, list[str]]:
    """Topic id → its slug and those of its ancestors (a course in a subtopic is in the topic)."""
    rows = {row.id: row for row in conn.execute(select(Topic.id, Topic.slug, Topic.parent_id))}
    out = {}
    for topic_id in rows:
        slugs, node, seen = [], topic_id, set()
        while node is not None and node in rows and node not in seen:
            seen.add(node)
            slugs.append(rows[node].slug)
            node = rows[node].parent_id
        out[topic_id] = slugs
    return out


def _topics(conn: Connection, course_ids: Sequence[int]) -> Iterable[tuple[int, str]]:
    links = conn.execute(
        select(course_topic.c.course_id, course_topic.c.topic_id).where(
            course_topic.c.course_id.in_(course_ids)
        )
    ).all()
    ancestry = _topic_ancestry(conn) if links else {}
    return [
        (course_id, slug) for course_id, topic_id in links for slug in ancestry.get(topic_id, [])
    ]


def _jobs(column) -> CourseValues:
    """The courses' job links (``course_job``) as a ``rome_job`` column: the code, the
    domain; a link to a code the referential in use lacks gives nothing (as on the pages)."""

    def values(conn: Connection, course_ids: Sequence[int]) -> Iterable[tuple[int, str]]:
        rows = conn.execute(
            select(CourseJob.course_id, column)
            .join(RomeJob, RomeJob.code == CourseJob.job_code)
            .where(CourseJob.course_id.in_(course_ids))
            .distinct()
        )
        return [(course_id, value) for course_id, value in rows]

    return values


def _labels_of(column, key, as_key: Callable = str) -> ValueLabels:
    def labels(conn: Connection, values: Sequence[str]) -> dict[str, str]:
        keys = [as_key(v) for v in values]
        rows = conn.execute(select(key, column).where(key.in_(keys)))
        return {str(k): label for k, label in rows if label}

    return labels


def _boolean(value) -> str:
    return "true" if value else "false"


@dataclass(frozen=True)
class Facet:
    """One filter of the portal, and everything derived from it.

    ``values`` computes a course's values (``None``: the state facet, read from the spans
    at the time of the question). ``kind`` is the type of one value in the API (``str``,
    ``int`` or ``bool``; stored as text), ``choices`` a closed set of values (the API
    refuses others, and they are listed in this order), ``multiple`` whether a visitor
    may tick several values (OR within the facet; facets combine with AND).
    """

    name: str  # the API parameter, the form field, ``facet_value.facet``
    label: str  # French, on the search form
    values: CourseValues | None
    description: str  # the API parameter's, in the OpenAPI document
    kind: type = str
    multiple: bool = True
    choices: tuple[str, ...] | None = None
    labels: ValueLabels | None = None
    limit: int | None = None  # at most this many values listed (the most frequent)
    show_empty: bool = False  # list every choice, even with no course
    pattern: str | None = None  # what one value looks like (the API refuses others)
    reads: tuple[str, ...] = ()  # the tables, besides the course's own, its values read

    def as_text(self, value) -> str:
        """One API value as stored in ``facet_value.value`` (text is taken as stored)."""
        if isinstance(value, str):
            return value
        return _boolean(value) if self.kind is bool else str(value)

    def as_api(self, value: str):
        """One stored value as the API shows it."""
        if self.kind is bool:
            return value == "true"
        return int(value) if self.kind is int else value


STATE = Facet(
    "state",
    "État",
    None,
    "courses with a session in one of these states now",
    choices=STATE_NAMES,
    show_empty=True,
)
FACETS: tuple[Facet, ...] = (
    STATE,
    Facet(
        "platform",
        "Plateforme",
        _platforms,
        "courses listed on one of these platforms (names)",
        labels=_labels_of(Platform.label, Platform.name),
    ),
    Facet(
        "level",
        "Niveau",
        _course_column(Course.level, str),
        "courses of one of these levels",
        choices=LEVELS,
    ),
    Facet(
        "topic",
        "Thème",
        _topics,
        "courses in one of these topics (slugs; a topic includes its subtopics)",
        labels=_labels_of(Topic.label, Topic.slug),
        limit=30,
    ),
    Facet(
        "organisation",
        "Organisme",
        _organisations,
        "courses given by one of these organisations (ids)",
        kind=int,
        labels=_labels_of(Organisation.name, Organisation.id, int),
        limit=30,
    ),
    Facet(
        "free",
        "Gratuit",
        _course_column(Course.free, _boolean),
        "true: free courses; false: paying ones",
        kind=bool,
        multiple=False,
        choices=("true", "false"),
    ),
    Facet(
        "certificate",
        "Certificat ou attestation",
        _course_column(Course.certificate, lambda kind: _boolean(kind in CERTIFICATES)),
        "true: some certificate or attestation exists",
        kind=bool,
        multiple=False,
        choices=("true", "false"),
    ),
    Facet(
        "job",
        "Métier",
        _jobs(RomeJob.code),
        "courses that prepare for one of these ROME 4.0 job profiles (codes, e.g. M1805)",
        labels=_labels_of(RomeJob.label, RomeJob.code),
        limit=30,
        pattern=r"^([A-Z][0-9]{4})?$",  # empty: any (as every parameter)
        reads=(CourseJob.__tablename__, RomeJob.__tablename__),
    ),
    Facet(
        "domain",
        "Domaine professionnel",
        _jobs(RomeJob.domain),
        "courses that prepare for a job of one of these ROME 4.0 professional domains "
        "(codes, e.g. M18)",
        labels=_labels_of(RomeJob.domain_label, RomeJob.domain),
        limit=30,
        pattern=r"^([A-Z][0-9]{2})?$",
        reads=(CourseJob.__tablename__, RomeJob.__tablename__),
    ),
)
"""Every filter of the portal, in the order of the search form. A new facet is one entry
here (its ``values`` reading the catalogue), then ``moisson db reindex``; a facet whose
values read other tables than the course's listings, sessions, organisations and topics
names them in ``reads``, and whatever writes those tables calls ``refresh_facets``."""
FACET_OF = {facet.name: facet for facet in FACETS}


# -- refreshing ---------------------------------------------------------------------------------


def _facet_values(
    conn: Connection, course_ids: Sequence[int], facets: Sequence[Facet] = FACETS
) -> set[tuple[int, str, str]]:
    """(course, facet, value) rows of these (visible) courses, as ``facets`` compute them."""
    if not course_ids:
        return set()
    return {
        (course_id, facet.name, value)
        for facet in facets
        if facet.values is not None
        for course_id, value in facet.values(conn, course_ids)
    }


def _sessions(conn: Connection, course_ids: Sequence[int]) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = defaultdict(list)
    for row in conn.execute(
        select(
            Listing.course_id,
            Session.start,
            Session.end,
            Session.enrolment_start,
            Session.enrolment_end,
            Session.pace,
        )
        .join(Listing, Listing.id == Session.listing_id)
        .where(Listing.course_id.in_(course_ids), Listing.hidden.is_(False))
    ):
        out[row.course_id].append(row._asdict())
    return out


def value_ids(conn: Connection, wanted: set[tuple[str, str]] | None = None) -> dict:
    """(facet, value) -> number, numbering the ``wanted`` values not numbered yet."""
    known = {
        (f, v): i
        for i, f, v in conn.execute(select(FacetValue.id, FacetValue.facet, FacetValue.value))
    }
    missing = sorted((wanted or set()) - set(known))
    if missing:
        stmt = dialect_insert(conn, FacetValue).on_conflict_do_nothing(
            index_elements=[FacetValue.facet, FacetValue.value]
        )
        conn.execute(stmt, [{"facet": f, "value": v} for f, v in missing])
        return value_ids(conn)
    return known


def _visible_of(conn: Connection, chunk: Sequence[int]) -> list[int]:
    return sorted(
        set(
            conn.execute(
                select(Listing.course_id).where(
                    Listing.course_id.in_(chunk), Listing.hidden.is_(False)
                )
            ).scalars()
        )
    )


def _fresh(conn: Connection, visible: Sequence[int]) -> tuple[set, set, set]:
    """What the index should hold for these visible courses: (course, state, since,
    until) spans, (course, facet, value) rows and (course, since, until, runs) steps."""
    if not visible:
        return set(), set(), set()
    sessions = _sessions(conn, visible)
    spans = {
        (course_id, *span)
        for course_id in visible
        for span in course_spans(sessions.get(course_id, []))
    }
    steps = {
        (course_id, *step)
        for course_id in visible
        for step in run_spans(sessions.get(course_id, []))
    }
    return spans, _facet_values(conn, visible), steps


def _refresh_chunk(conn: Connection, chunk: Sequence[int], with_runs: bool = True) -> None:
    conn.execute(delete(CourseFacet).where(CourseFacet.course_id.in_(chunk)))
    conn.execute(delete(CourseStateSpan).where(CourseStateSpan.course_id.in_(chunk)))
    if with_runs:
        conn.execute(delete(CourseRunSpan).where(CourseRunSpan.course_id.in_(chunk)))
    visible = _visible_of(conn, chunk)
    invisible = sorted(set(chunk) - set(visible))
    if visible:
        conn.execute(update(Course).where(Course.id.in_(visible)).values(visible=True))
    if invisible:
        conn.execute(update(Course).where(Course.id.in_(invisible)).values(visible=False))
    spans, facets, steps = _fresh(conn, visible)
    if steps and with_runs:
        conn.execute(
            insert(CourseRunSpan),
            [{"course_id": c, "since": a, "until": b, "runs": k} for c, a, b, k in steps],
        )
    if spans:
        conn.execute(
            insert(CourseStateSpan),
            [{"course_id": c, "state": st, "since": a, "until": b} for c, st, a, b in spans],
        )
    _insert_facets(conn, facets)


def _insert_facets(conn: Connection, facets: set[tuple[int, str, str]]) -> None:
    if facets:
        ids = value_ids(conn, {(f, v) for _c, f, v in facets})
        conn.execute(
            insert(CourseFacet),
            [{"course_id": c, "value_id": ids[(f, v)]} for c, f, v in sorted(facets)],
        )


def facets_reading(table: str) -> tuple[Facet, ...]:
    """The facets whose values read ``table`` (``Facet.reads``)."""
    return tuple(facet for facet in FACETS if table in facet.reads)


def refresh_facets(conn: Connection, course_ids: Iterable[int], table: str) -> None:
    """Bring these courses' rows of the facets that read ``table`` in step with it: for
    the writer of that table (``joblinks.link`` for ``course_job``), in its transaction.
    Only those facets' rows are recomputed; a course that is not visible has none."""
    facets = facets_reading(table)
    ids = sorted(set(course_ids) - {None})
    if not facets or not ids:
        return
    numbers = select(FacetValue.id).where(FacetValue.facet.in_([f.name for f in facets]))
    for chunk in chunks(ids, CHUNK):
        conn.execute(
            delete(CourseFacet).where(
                CourseFacet.course_id.in_(chunk), CourseFacet.value_id.in_(numbers)
            )
        )
        visible = conn.execute(
            select(Course.id).where(Course.id.in_(chunk), Course.visible.is_(True))
        ).scalars()
        _insert_facets(conn, _facet_values(conn, sorted(visible), facets))


def refresh(conn: Connection, course_ids: Iterable[int]) -> None:
    """Bring the derived rows of these courses in step with their listings and sessions.

    Call it in the transaction that changed them; a course without visible listings loses
    its rows.
    """
    ids = sorted(set(course_ids) - {None})
    for chunk in chunks(ids, CHUNK):
        _refresh_chunk(conn, chunk)


# the tables the read queries plan over (their statistics steer the plans)
ANALYZED = tuple(
    sorted(
        model.__tablename__
        for model in (
            Course,
            CourseStateSpan,
            CourseRunSpan,
            CourseFacet,
            FacetValue,
            Listing,
            Session,
        )
    )
)


def analyze(conn: Connection) -> None:
    """Fresh planner statistics, so that each query kind keeps its intended plan as the
    catalogue grows (``tests/test_query_plans.py``). SQLite samples a bounded number of
    rows per index (``analysis_limit``), so this stays quick on a large catalogue."""
    if conn.dialect.name == "sqlite":
        conn.execute(text("PRAGMA analysis_limit = 1000"))
        conn.execute(text("ANALYZE"))
        return
    # PostgreSQL: the catalogue's own tables, always in this order. A bare ANALYZE covers
    # every table of the database, system catalogues included, and two of them at once
    # (two crawls ending together, or two catalogues in one database) deadlock.
    present = set(sa_inspect(conn).get_table_names())  # migration 0004 runs this before 0012
    for table in (t for t in ANALYZED if t in present):
        conn.execute(text(f"ANALYZE {conn.dialect.identifier_preparer.quote(table)}"))


def after_crawl(conn: Connection) -> None:
    """What the read side needs at the end of each crawl run."""
    analyze(conn)


def rebuild(conn: Connection, at: datetime | None = None) -> int:
    """Recompute every derived row from the catalogue; returns the courses visited
    (``at`` is accepted for callers of the former signature and unused: nothing derived
    depends on the time of the rebuild)."""
    del at
    # migration 0004 rebuilds the index before 0012 made the run steps' table
    with_runs = sa_inspect(conn).has_table(CourseRunSpan.__tablename__)
    conn.execute(delete(CourseFacet))
    conn.execute(delete(CourseStateSpan))
    if with_runs:
        conn.execute(delete(CourseRunSpan))
    ids = list(conn.execute(select(Course.id).order_by(Course.id)).scalars())
    for chunk in chunks(ids, CHUNK):
        _refresh_chunk(conn, chunk, with_runs)
    analyze(conn)
    return len(ids)


def _stored(conn: Connection) -> tuple[set, set, set]:
    spans = set(
        conn.execute(
            select(
                CourseStateSpan.course_id,
                CourseStateSpan.state,
                CourseStateSpan.since,
                CourseStateSpan.until,
            )
        ).all()
    )
    facets = set(
        conn.execute(
            select(CourseFacet.course_id, FacetValue.facet, FacetValue.value).join(
                FacetValue, FacetValue.id == CourseFacet.value_id
            )
        ).all()
    )
    steps = set(
        conn.execute(
            select(
                CourseRunSpan.course_id,
                CourseRunSpan.since,
                CourseRunSpan.until,
                CourseRunSpan.runs,
            )
        ).all()
    )
    return spans, facets, steps


def check(conn: Connection, instants: Iterable[datetime] = ()) -> list[str]:
    """Where the stored index differs from a fresh computation (should be nowhere): the
    visible flag against the listings, every course's spans and facet values against those
    computed from its sessions and ``FACETS``. (``instants`` is accepted for callers of the
    former signature: the spans are compared whole, which covers every instant.)"""
    del instants
    problems = []
    has_visible_listing = (
        select(Listing.id).where(Listing.course_id == Course.id, Listing.hidden.is_(False)).exists()
    )
    wrong = conn.execute(
        select(func.count())
        .select_from(Course)
        .where(Course.visible.is_(true()) != has_visible_listing)
    ).scalar_one()
    if wrong:
        problems.append(f"{wrong} courses whose visible flag disagrees with their listings")
    visible = list(
        conn.execute(
            select(Listing.course_id).where(Listing.hidden.is_(False)).distinct()
        ).scalars()
    )
    fresh_spans, fresh_facets, fresh_steps = set(), set(), set()
    for chunk in chunks(sorted(c for c in visible if c is not None), CHUNK):
        spans, facets, steps = _fresh(conn, chunk)
        fresh_spans |= spans
        fresh_facets |= facets
        fresh_steps |= steps
    stored_spans, stored_facets, stored_steps = _stored(conn)
    for name, stored, fresh in (
        ("state span", stored_spans, fresh_spans),
        ("facet value", stored_facets, fresh_facets),
        ("run count", stored_steps, fresh_steps),
    ):
        for row in sorted(stored - fresh, key=repr)[:20]:
            problems.append(f"course {row[0]}: stored {name} {_row_text(row)} not computed")
        for row in sorted(fresh - stored, key=repr)[:20]:
            problems.append(f"course {row[0]}: computed {name} {_row_text(row)} not stored")
        extra, missing = len(stored - fresh), len(fresh - stored)
        if extra + missing > 40:
            problems.append(f"{name}s: {extra} stored not computed, {missing} computed not stored")
    return problems


def _row_text(row: tuple) -> str:
    if len(row) == 4 and isinstance(row[3], int):  # a run count step
        return f"{row[3]} runs [{row[1].isoformat()}, {row[2].isoformat()})"
    if len(row) == 4:  # a span
        return f"{row[1]} [{row[2].isoformat()}, {row[3].isoformat()})"
    return f"{row[1]}={row[2]}"


def facet_counts(conn: Connection, names: Iterable[str]) -> dict[str, dict[str, int]]:
    """Visible courses per value of each facet in ``names``, in the whole catalogue."""
    names = list(names)
    out: dict[str, dict[str, int]] = {name: {} for name in names}
    for facet, value, count in conn.execute(
        select(FacetValue.facet, FacetValue.value, func.count())
        .join(CourseFacet, CourseFacet.value_id == FacetValue.id)
        .where(FacetValue.facet.in_(names))
        .group_by(FacetValue.facet, FacetValue.value)
    ):
        out[facet][value] = count
    return out


def value_labels(engine, name: str, values: Sequence[str]) -> dict[str, str]:
    """The French labels of some values of one facet (those it has labels for)."""
    facet = FACET_OF[name]
    if facet.labels is None or not values:
        return {}
    with engine.connect() as conn:
        return facet.labels(conn, [facet.as_text(v) for v in values])
