"""The read side's derived tables, kept in step with the catalogue by its writer.

The portal asks two kinds of question a plain scan answers too slowly on a large catalogue:
"which courses are in this state now?" (a state depends on the time of the question) and
"how many courses have each filter value?" (facet counts). These tables answer them, and
this module is the only code that writes them:

- ``course.visible``: the course has a listing that is not hidden.
- ``course_state_span``: for each visible course and state, the stretches of time during
  which the course is in that state, computed from its visible sessions. Each state of a
  session holds during one half-open interval of "now" (``upcoming`` until it starts,
  ``starting_soon`` in the 30 days before, ``ongoing`` from start to end, …), so a
  course's state at any instant is a lookup: ``since <= now < until``. ``archived`` is
  the complement of the union of its live states.
- ``state_count_change`` (how the number of courses in each state changes at each span
  boundary) and ``state_count`` (the numbers at one marked instant, moved to the end of
  each crawl): the whole catalogue's count of a state now is the marked count plus the
  changes since, a handful of rows instead of a pass over every course.
- ``course_facet`` (a visible course's filter values: platforms of visible listings,
  level, topics with their ancestors, organisations, free, certificate) and
  ``facet_count`` (how many visible courses have each value, kept by adding the
  difference of each refresh, so the whole catalogue's counts are a read of a few rows).

``refresh(conn, course_ids)`` is called by ``CatalogueWriter.refresh_courses`` whenever a
course's listings, sessions or visibility change, inside the same transaction;
``move_state_counts`` after each crawl; ``rebuild(conn)`` recomputes everything
(migration 0004, ``moisson db reindex``) and ``check`` compares the kept counts with a
fresh count. On PostgreSQL the kept counts are rows every writer updates: concurrent
writers queue on them for the last moments of their transactions.

Queries are written so that the plan does not depend on the planner's statistics (the
catalogue never runs ``ANALYZE``; see ``storage.search``).
The state rule is ``session_intervals`` (``session_states`` reads it at one instant).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, insert, select, true, update
from sqlalchemy.engine import Connection

from storage.bulk import chunks, dialect_insert
from storage.models import (
    Course,
    CourseFacet,
    CourseStateSpan,
    FacetCount,
    FacetValue,
    Listing,
    Platform,
    Session,
    StateCount,
    StateCountChange,
    Topic,
    course_organisation,
    course_topic,
)

FAR_PAST = datetime(1000, 1, 1, tzinfo=UTC)
FAR_FUTURE = datetime(9999, 12, 31, tzinfo=UTC)
SOON = timedelta(days=30)
SELF_PACED = ("self_paced", "always_open")
LIVE_STATES = ("self_paced", "ongoing", "upcoming")
STATE_NAMES = ("enrolment_open", "starting_soon", "self_paced", "ongoing", "upcoming", "archived")
"""In order of priority: a course's main state is the first it is in."""
CERTIFICATES = ("attestation", "certificate", "diploma")
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
    states = [
        state
        for state, (since, until) in sorted(
            session_intervals(session).items(), key=lambda kv: STATE_NAMES.index(kv[0])
        )
        if since <= now < until
    ]
    if not set(LIVE_STATES) & set(states):
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


# -- refreshing -----------------------------------------------------------------------------


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


def _facet_values(conn: Connection, course_ids: Sequence[int]) -> set[tuple[int, str, str]]:
    """(course, facet, value) rows of these (visible) courses."""
    rows: set[tuple[int, str, str]] = set()
    if not course_ids:
        return rows
    for course_id, level, free, certificate in conn.execute(
        select(Course.id, Course.level, Course.free, Course.certificate).where(
            Course.id.in_(course_ids)
        )
    ):
        if level is not None:
            rows.add((course_id, "level", level))
        if free is not None:
            rows.add((course_id, "free", "true" if free else "false"))
        if certificate is not None:
            rows.add((course_id, "certificate", "true" if certificate in CERTIFICATES else "false"))
    for course_id, name in conn.execute(
        select(Listing.course_id, Platform.name)
        .join(Platform, Platform.id == Listing.platform_id)
        .where(Listing.course_id.in_(course_ids), Listing.hidden.is_(False))
    ):
        rows.add((course_id, "platform", name))
    for course_id, organisation_id in conn.execute(
        select(course_organisation.c.course_id, course_organisation.c.organisation_id).where(
            course_organisation.c.course_id.in_(course_ids)
        )
    ):
        rows.add((course_id, "organisation", str(organisation_id)))
    links = conn.execute(
        select(course_topic.c.course_id, course_topic.c.topic_id).where(
            course_topic.c.course_id.in_(course_ids)
        )
    ).all()
    if links:
        ancestry = _topic_ancestry(conn)
        for course_id, topic_id in links:
            for slug in ancestry.get(topic_id, []):
                rows.add((course_id, "topic", slug))
    return rows


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


WHOLE = ("", "")
"""The scope of the whole catalogue; any other scope is one facet value (facet, value)."""


@dataclass
class _Changes:
    """What a refresh changes in the kept counts, per scope: the whole catalogue, and the
    courses having each facet value (what a visitor's single choice selects)."""

    # (scope facet, scope value, facet, value) -> courses
    facets: Counter = field(default_factory=Counter)
    # (scope facet, scope value, state, at) -> change of the number of courses in state
    events: Counter = field(default_factory=Counter)
    # (scope facet, scope value, state) -> courses in state at the marked instant
    at_mark: Counter = field(default_factory=Counter)

    def update(self, other: _Changes) -> None:
        # Counter.update adds and keeps negative counts (the - operator would drop them)
        self.facets.update(other.facets)
        self.events.update(other.events)
        self.at_mark.update(other.at_mark)

    def add_course(self, sign: int, values, spans, mark: datetime | None) -> None:
        """Count (``sign`` +1) or discount (-1) one course with its facet values and spans
        in every scope it belongs to."""
        for scope in (WHOLE, *values):
            for value in values:
                self.facets[(*scope, *value)] += sign
            for state, since, until in spans:
                self.events[(*scope, state, since)] += sign
                if until < FAR_FUTURE:
                    self.events[(*scope, state, until)] -= sign
                if mark is not None and since <= mark < until:
                    self.at_mark[(*scope, state)] += sign


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


def _stored_values(conn: Connection, course_ids: Sequence[int] | None = None) -> dict:
    """course -> its stored (facet, value) pairs (of these courses, or of all)."""
    stmt = select(CourseFacet.course_id, FacetValue.facet, FacetValue.value).join(
        FacetValue, FacetValue.id == CourseFacet.value_id
    )
    if course_ids is not None:
        stmt = stmt.where(CourseFacet.course_id.in_(course_ids))
    out: dict[int, set] = defaultdict(set)
    for course_id, facet, value in conn.execute(stmt):
        out[course_id].add((facet, value))
    return out


def _stored_spans(conn: Connection, course_ids: Sequence[int] | None = None) -> dict:
    """course -> its stored (state, since, until) spans (of these courses, or of all)."""
    stmt = select(
        CourseStateSpan.course_id,
        CourseStateSpan.state,
        CourseStateSpan.since,
        CourseStateSpan.until,
    )
    if course_ids is not None:
        stmt = stmt.where(CourseStateSpan.course_id.in_(course_ids))
    out: dict[int, list] = defaultdict(list)
    for course_id, state, since, until in conn.execute(stmt):
        out[course_id].append((state, since, until))
    return out


def _refresh_chunk(conn: Connection, chunk: Sequence[int], mark: datetime | None) -> _Changes:
    """Rewrite the derived rows of these courses; returns the change of the kept counts."""
    if conn.dialect.name == "postgresql":
        # two writers refreshing one course wait for each other instead of colliding
        conn.execute(
            select(Course.id).where(Course.id.in_(chunk)).order_by(Course.id).with_for_update()
        )
    old_values = _stored_values(conn, chunk)
    old_spans = _stored_spans(conn, chunk)
    conn.execute(delete(CourseFacet).where(CourseFacet.course_id.in_(chunk)))
    conn.execute(delete(CourseStateSpan).where(CourseStateSpan.course_id.in_(chunk)))
    visible = sorted(
        set(
            conn.execute(
                select(Listing.course_id).where(
                    Listing.course_id.in_(chunk), Listing.hidden.is_(False)
                )
            ).scalars()
        )
    )
    invisible = sorted(set(chunk) - set(visible))
    if visible:
        conn.execute(update(Course).where(Course.id.in_(visible)).values(visible=True))
    if invisible:
        conn.execute(update(Course).where(Course.id.in_(invisible)).values(visible=False))
    new_values: dict[int, set] = defaultdict(set)
    new_spans: dict[int, list] = {}
    if visible:
        sessions = _sessions(conn, visible)
        new_spans = {c: course_spans(sessions.get(c, [])) for c in visible}
        conn.execute(
            insert(CourseStateSpan),
            [
                {"course_id": c, "state": st, "since": a, "until": b}
                for c, spans in new_spans.items()
                for st, a, b in spans
            ],
        )
        facets = _facet_values(conn, visible)
        if facets:
            ids = value_ids(conn, {(f, v) for _c, f, v in facets})
            conn.execute(
                insert(CourseFacet),
                [{"course_id": c, "value_id": ids[(f, v)]} for c, f, v in sorted(facets)],
            )
        for course_id, facet, value in facets:
            new_values[course_id].add((facet, value))
    changes = _Changes()
    for course_id in chunk:
        old = (old_values.get(course_id, set()), sorted(old_spans.get(course_id, [])))
        new = (new_values.get(course_id, set()), sorted(new_spans.get(course_id, [])))
        if old != new:
            changes.add_course(-1, sorted(old[0]), old[1], mark)
            changes.add_course(+1, sorted(new[0]), new[1], mark)
    return changes


def _add(
    conn: Connection, model, keys: Sequence[str], column: str, changes: Counter, **fixed
) -> None:
    """Add ``changes`` to ``model.column``, inserting missing rows with the ``fixed``
    values (sorted: concurrent writers lock the same rows in the same order)."""
    rows = [
        {
            **dict(zip(keys, key if isinstance(key, tuple) else (key,), strict=True)),
            **fixed,
            column: n,
        }
        for key, n in sorted(changes.items())
        if n
    ]
    if not rows:
        return
    stmt = dialect_insert(conn, model)
    stmt = stmt.on_conflict_do_update(
        index_elements=[getattr(model, k) for k in keys],
        set_={column: getattr(model, column) + stmt.excluded[column]},
    )
    conn.execute(stmt, rows)


def _mark(conn: Connection, lock: bool = False) -> datetime | None:
    stmt = select(StateCount.at).limit(1)
    if lock and conn.dialect.name == "postgresql":
        # the instant may move (``move_state_counts``) while this refresh counts at it
        stmt = (
            select(StateCount.at)
            .order_by(StateCount.scope_facet, StateCount.scope_value, StateCount.state)
            .with_for_update()
        )
    return conn.execute(stmt).scalar()


def _apply(conn: Connection, changes: _Changes, mark: datetime | None) -> None:
    scope = ("scope_facet", "scope_value")
    _add(conn, FacetCount, (*scope, "facet", "value"), "count", changes.facets)
    _add(conn, StateCountChange, (*scope, "state", "at"), "delta", changes.events)
    if mark is not None:
        _add(conn, StateCount, (*scope, "state"), "count", changes.at_mark, at=mark)


def refresh(conn: Connection, course_ids: Iterable[int]) -> None:
    """Bring the derived rows of these courses in step with their listings and sessions.

    Call it in the transaction that changed them, before deleting a course (the counts
    must lose what the course had); a course without visible listings loses its rows.
    """
    ids = sorted(set(course_ids) - {None})
    if not ids:
        return
    mark = _mark(conn, lock=True)
    changes = _Changes()
    for chunk in chunks(ids, CHUNK):
        changes.update(_refresh_chunk(conn, chunk, mark))
    _apply(conn, changes, mark)


def _scope_filter(model, scope: tuple[str, str] | None):
    if scope is None:
        return []
    return [model.scope_facet == scope[0], model.scope_value == scope[1]]


def scoped_state_counts(
    conn: Connection,
    now: datetime,
    scope: tuple[str, str] | None = WHOLE,
    state: str | None = None,
) -> dict[tuple[str, str, str], int]:
    """Visible courses in each state at ``now``, per scope ((facet, value), or ``WHOLE``;
    ``None``: every scope), of every state or of ``state``: the counts kept at the
    marked instant plus the changes between it and ``now`` (a few rows when the mark is
    recent)."""
    only = [] if state is None else [StateCount.state == state]
    only_changes = [] if state is None else [StateCountChange.state == state]
    key = (StateCountChange.scope_facet, StateCountChange.scope_value, StateCountChange.state)
    marked = conn.execute(
        select(
            StateCount.scope_facet,
            StateCount.scope_value,
            StateCount.state,
            StateCount.at,
            StateCount.count,
        ).where(*_scope_filter(StateCount, scope), *only)
    ).all()
    if marked:
        mark = marked[0].at
        counts = {(r.scope_facet, r.scope_value, r.state): r.count for r in marked}
    else:  # never marked: count from the changes alone, from the beginning of time
        mark, counts = None, {}
    if mark is None:
        between, sign = StateCountChange.at <= now, 1
    elif now >= mark:
        between, sign = (StateCountChange.at > mark) & (StateCountChange.at <= now), 1
    else:
        between, sign = (StateCountChange.at > now) & (StateCountChange.at <= mark), -1
    for scope_facet, scope_value, state, n in conn.execute(
        select(*key, func.sum(StateCountChange.delta))
        .where(between, *_scope_filter(StateCountChange, scope), *only_changes)
        .group_by(*key)
    ):
        k = (scope_facet, scope_value, state)
        counts[k] = counts.get(k, 0) + sign * int(n or 0)
    return counts


def state_counts(conn: Connection, now: datetime, scope: tuple[str, str] = WHOLE) -> dict[str, int]:
    """Visible courses in each state at ``now``, in the whole catalogue or in one scope."""
    return {state: n for (_f, _v, state), n in scoped_state_counts(conn, now, scope).items()}


def kept_facet_counts(
    conn: Connection, names: Iterable[str], scope: tuple[str, str] = WHOLE
) -> dict[str, dict[str, int]]:
    """Visible courses per value of each facet in ``names``, within ``scope``."""
    names = list(names)
    out: dict[str, dict[str, int]] = {name: {} for name in names}
    for facet, value, count in conn.execute(
        select(FacetCount.facet, FacetCount.value, FacetCount.count).where(
            *_scope_filter(FacetCount, scope), FacetCount.facet.in_(names), FacetCount.count > 0
        )
    ):
        out[facet][value] = count
    return out


def move_state_counts(conn: Connection, at: datetime) -> None:
    """Mark ``at`` (the end of a crawl): keep the counts at it, so that the portal's
    question "how many now?" adds only the changes since."""
    _mark(conn, lock=True)
    counts = scoped_state_counts(conn, at, scope=None)
    scopes = {WHOLE} | {(f, v) for f, v, _state in counts}
    conn.execute(delete(StateCount))
    conn.execute(
        insert(StateCount),
        [
            {
                "scope_facet": f,
                "scope_value": v,
                "state": state,
                "at": at,
                "count": counts.get((f, v, state), 0),
            }
            for f, v in sorted(scopes)
            for state in STATE_NAMES
        ],
    )


def rebuild(conn: Connection, at: datetime | None = None) -> int:
    """Recompute every derived row from the catalogue; returns the courses visited.
    The state counts are marked at ``at`` (default: now)."""
    for model in (CourseFacet, CourseStateSpan, FacetCount, StateCountChange, StateCount):
        conn.execute(delete(model))
    ids = list(conn.execute(select(Course.id).order_by(Course.id)).scalars())
    changes = _Changes()
    for chunk in chunks(ids, CHUNK):
        changes.update(_refresh_chunk(conn, chunk, None))
    _apply(conn, changes, None)
    move_state_counts(conn, at or datetime.now(UTC))
    return len(ids)


def check(conn: Connection, instants: Iterable[datetime] = ()) -> list[str]:
    """Where the kept counts differ from a fresh count (should be nowhere): facet counts
    in every scope against ``course_facet``, state counts in every scope at each of
    ``instants`` against the spans, the visible flag against the listings."""
    values = _stored_values(conn)
    spans = _stored_spans(conn)
    fresh: Counter = Counter()
    for mine in values.values():
        for scope in (WHOLE, *mine):
            fresh.update((*scope, *value) for value in mine)
    kept = Counter(
        {
            (sf, sv, f, v): n
            for sf, sv, f, v, n in conn.execute(
                select(
                    FacetCount.scope_facet,
                    FacetCount.scope_value,
                    FacetCount.facet,
                    FacetCount.value,
                    FacetCount.count,
                )
            )
            if n
        }
    )
    problems = [
        f"{_scope_name(key[:2])} {key[2]}={key[3]}: kept {kept[key]}, counted {fresh[key]}"
        for key in sorted(set(kept) | set(fresh))
        if kept[key] != fresh[key]
    ]
    for at in instants:
        counted: Counter = Counter()
        for course_id, mine in spans.items():
            states = {state for state, since, until in mine if since <= at < until}
            for scope in (WHOLE, *values.get(course_id, [])):
                counted.update((*scope, state) for state in states)
        kept_states = Counter({k: n for k, n in scoped_state_counts(conn, at, None).items() if n})
        problems.extend(
            f"{_scope_name(key[:2])} {key[2]} at {at.isoformat()}: "
            f"kept {kept_states[key]}, counted {counted[key]}"
            for key in sorted(set(kept_states) | set(counted))
            if kept_states[key] != counted[key]
        )
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
    return problems


def _scope_name(scope: tuple[str, str]) -> str:
    return "catalogue" if scope == WHOLE else f"[{scope[0]}={scope[1]}]"
