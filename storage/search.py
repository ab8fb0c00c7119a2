"""Searching the catalogue: filters, French full text, computed states and facet counts.

A course's state is never stored as a word: it follows from its sessions and the time of
the question, so the caller passes ``now``. The rule is written once, as intervals of time
(``storage.readindex.session_intervals``): the page of results reads it at ``now``
(``session_states``), filters and counts read the spans stored from it. Hidden listings,
their sessions, and courses whose every listing is hidden are invisible here.

Query plans. SQLite is given no planner statistics (no ``ANALYZE``), and a few of its
guesses without them are ruinous on 100,000 courses (read every visible course and probe
the full-text index with each; probe a course's spans through the index of a whole
state). So each query names what drives it: the full-text matches, else the spans of the
chosen state, else a facet value's rows, else the visible courses; every other filter is
a probe per course by its key, and ``_unindexed`` keeps the tempting wrong index out of
reach. Sorting by start reads sessions in start order a batch at a time (three plain
queries per batch) instead of trusting a join to do so. The tests check that answers are
the same with statistics as without.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

import snowballstemmer
from sqlalchemy import (
    Float,
    Integer,
    and_,
    func,
    literal,
    literal_column,
    select,
    text,
    true,
    tuple_,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import aliased

from storage import ratings, readindex
from storage.cache import MinuteCache
from storage.codes import coded_jobs, course_codes
from storage.models import (
    Course,
    CourseFacet,
    CourseRunSpan,
    CourseStateSpan,
    EpochMicroseconds,
    FacetValue,
    Listing,
    Organisation,
    Platform,
    Session,
    Topic,
    course_organisation,
    course_topic,
)
from storage.predict import predict
from storage.readindex import session_states

STATES = readindex.STATE_NAMES  # in order of priority: a course's main state is the first
LEVELS = readindex.LEVELS
FACETS = readindex.FACETS
FACET_OF = readindex.FACET_OF
SELF_PACED = readindex.SELF_PACED
SOON = readindex.SOON  # "starting soon": within 30 days
MAX_QUERY_TERMS = 12
# Sorting by start: up to this many courses, sort each one's soonest session; beyond,
# read sessions in start order until the page is full.
SMALL_SET = 2000
RATING_COUNT = func.coalesce(Course.rating_count, literal_column("0"))
RATING_ORDER = (  # ix_course_best_rated holds this order (its numbers must be literals)
    RATING_COUNT < literal_column(str(ratings.MIN_RATINGS)),  # noqa: SIM300 (the index)
    Course.rating.is_(None),  # then best rated, the most rated first; unrated last
    Course.rating.desc(),
    RATING_COUNT.desc(),
    Course.id,
)
SORTS = {
    "relevance": "the words' relevance (with q only; without, start)",
    "start": "soonest: the next upcoming session's start, soonest first; courses without an "
    "upcoming session last",
    "new": "newest in the catalogue first",
    "rating": "best rated with enough ratings: the rating on /5 combined across platforms "
    f"(weighted by their counts), best first, among courses with at least "
    f"{ratings.MIN_RATINGS} ratings; then the others in the same order, unrated last",
    "most_run": "most run: the number of sessions the course has run by now (its track "
    "record), most first; courses not run yet last",
}
"""Every order a search can ask (``sort=``), with what it means; ties by course id."""
SCAN_BATCH_MAX = 5000  # sessions per read (each becomes a bound parameter)
# What a complete record tells a learner; the completeness score is the share present.
COMPLETENESS_FIELDS = (
    "description",
    "organisations",
    "level",
    "duration",
    "effort",
    "price",
    "certificate",
    "topics",
    "dated_session",
    "language",
)
STOPWORDS_FILE = Path(__file__).with_name("data") / "french_stopwords.txt"
# PostgreSQL: the stored document (migration 0007, GIN index) and the spans' ranges (GiST)
PG_DOCUMENT_COLUMN = "course.search_document"
PG_SPAN_RANGE = "during"


@dataclass(frozen=True, init=False)
class CourseFilters:
    """What a visitor asks for; empty means "any".

    ``choices`` holds the ticked values of each facet of ``readindex.FACETS`` (as stored,
    text), in the facets' order: a course matches a facet when it has one of its chosen
    values (OR), and every facet with choices (AND). The facets are passed by name:
    ``CourseFilters(platform=["edx", "fun_mooc"], state="upcoming", free=True)``.
    """

    q: str | None
    starts_after: datetime | None
    starts_before: datetime | None
    max_weeks: float | None
    max_hours_per_week: float | None
    choices: tuple[tuple[str, tuple[str, ...]], ...]

    def __init__(
        self,
        q: str | None = None,
        starts_after: datetime | None = None,
        starts_before: datetime | None = None,
        max_weeks: float | None = None,
        max_hours_per_week: float | None = None,
        **chosen,
    ):
        unknown = sorted(set(chosen) - set(FACET_OF))
        if unknown:
            raise TypeError(f"no facet named {', '.join(unknown)}")
        choices = []
        for facet in FACETS:
            values = chosen.get(facet.name)
            if values is None:
                continue
            if isinstance(values, str | int | bool):
                values = (values,)
            texts = tuple(sorted({facet.as_text(value) for value in values}))
            if texts:
                choices.append((facet.name, texts))
        fields = {
            "q": q,
            "starts_after": starts_after,
            "starts_before": starts_before,
            "max_weeks": max_weeks,
            "max_hours_per_week": max_hours_per_week,
            "choices": tuple(choices),
        }
        for name, value in fields.items():
            object.__setattr__(self, name, value)

    def chosen(self, facet: str) -> tuple[str, ...]:
        """The values chosen in one facet (none: any)."""
        return dict(self.choices).get(facet, ())

    def replace(self, **changes) -> CourseFilters:
        """These filters with some changed: a facet by name (``None``: any), or a field."""
        fields = {
            "q": self.q,
            "starts_after": self.starts_after,
            "starts_before": self.starts_before,
            "max_weeks": self.max_weeks,
            "max_hours_per_week": self.max_hours_per_week,
            **dict(self.choices),
        }
        fields.update(changes)
        return CourseFilters(**fields)

    def without(self, name: str) -> CourseFilters:
        return self.replace(**{name: None})


@dataclass
class SearchResult:
    total: int
    page: int
    per_page: int
    sort: str
    courses: list[dict]
    facets: dict[str, list[dict]] | None = None


# -- the French query ---------------------------------------------------------------------


def fold(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@cache
def _stopwords() -> frozenset[str]:
    lines = STOPWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(fold(line.strip()) for line in lines if line.strip() and line[0] != "#")


@cache
def _stemmer():
    return snowballstemmer.stemmer("french")


def query_terms(q: str | None) -> list[str]:
    """The words of a visitor's query, stop words and any search syntax removed."""
    if not q:
        return []
    words = [w for w in re.findall(r"[^\W_]+", q) if fold(w) not in _stopwords()]
    return words[:MAX_QUERY_TERMS]


def term_prefix(word: str) -> str:
    """The prefix that finds a word's singular, plural and close forms.

    The stem alone can overshoot (Snowball turns « intelligence » into « intelligent »),
    so the prefix is what the word and its stem share; a stem too short to be selective
    falls back to the word without its plural mark.
    """
    folded = fold(word)
    stem = fold(_stemmer().stemWord(word.casefold()))
    shared = 0
    for a, b in zip(folded, stem, strict=False):
        if a != b:
            break
        shared += 1
    prefix = folded[:shared]
    if len(prefix) < 4:
        prefix = folded[:-1] if len(folded) > 3 and folded[-1] in "sx" else folded
    return prefix


def fts5_query(terms: Iterable[str]) -> str:
    """An FTS5 MATCH expression of quoted prefixes: every term must match, nothing else."""
    return " ".join(f'"{term_prefix(t)}"*' for t in terms)


# -- states ---------------------------------------------------------------------------------


def course_states(sessions: list[dict], now: datetime) -> list[str]:
    """A course is in every state one of its sessions is in; archived only if none is live."""
    found = {state for s in sessions for state in s["states"] if state != "archived"}
    if not (set(readindex.LIVE_STATES) & found):
        found.add("archived")
    return [state for state in STATES if state in found]


def next_session(sessions: list[dict]) -> dict | None:
    """The session a learner would join: open for enrolment first, then the soonest."""
    live = [s for s in sessions if "archived" not in s["states"]]
    if not live:
        return None

    def key(s):
        rank = next(i for i, st in enumerate(STATES) if st in s["states"])
        return (rank, s["start"] is None, s["start"].timestamp() if s["start"] else 0.0)

    return min(live, key=key)


# -- the filtered set of courses --------------------------------------------------------------


def _in_state(state: str, now: datetime, course_id=Course.id):
    """The course (``course_id``, a column of the outer query) is in ``state`` at ``now``:
    one of its spans contains it (a probe of the span table's primary key)."""
    span = aliased(CourseStateSpan)
    return (
        select(span.course_id)
        .where(
            span.course_id == course_id, span.state == state, span.since <= now, span.until > now
        )
        .exists()
        .correlate_except(span)
    )


def _with_session(condition_of, course_id=Course.id):
    """The course has a visible listing with a session meeting ``condition_of(session)``."""
    listing, session = aliased(Listing), aliased(Session)
    return (
        select(session.id)
        .join(listing, listing.id == session.listing_id)
        .where(listing.course_id == course_id, listing.hidden.is_(False), condition_of(session))
        .exists()
        .correlate_except(listing, session)
    )


VISIBLE = Course.visible == true()


def _holds(span, now: datetime, dialect: str):
    """The span (``CourseStateSpan`` or an alias of it) contains ``now``: on PostgreSQL
    its stored range (GiST, ``during @> now``), elsewhere its two bounds."""
    if dialect == "postgresql":
        during = literal_column(f"{sa_inspect(span).selectable.name}.{PG_SPAN_RANGE}")
        return during.op("@>")(literal(now, EpochMicroseconds()))
    return and_(span.since <= now, span.until > now)


class _Search:
    """One search against one connection.

    The selected courses are the intersection of id sets, one per facet with choices (the
    spans holding "now" of the chosen states, or the ``course_facet`` rows of the chosen
    values) and one of the full-text matches, tested with ``IN``; the other filters (start
    days, workload) are conditions on the course. The read index holds visible courses
    only, so any facet choice implies visibility. Counts group the spans and facet rows of
    the selection.
    """

    def __init__(self, conn: Connection, filters: CourseFilters, now: datetime):
        self.conn = conn
        self.dialect = conn.dialect.name
        self.filters = filters
        self.now = now
        self.terms = query_terms(filters.q)
        self.fts = self.fts_ranked = None
        if self.terms:
            self.fts = self._fts_subquery(ranked=False)
            self.fts_ranked = self._fts_subquery(ranked=True)

    def _fts_subquery(self, ranked: bool):
        """The courses matching the words, with their rank if ``ranked`` (ranking costs
        about five times the match alone: only a page sorted by relevance needs it)."""
        if self.dialect == "sqlite":
            rank = "bm25(course_fts, 10.0, 1.0)" if ranked else "0.0"
            return (
                text(
                    f"SELECT rowid AS course_id, {rank} AS rank "
                    "FROM course_fts WHERE course_fts MATCH :fts_query"
                )
                .bindparams(fts_query=fts5_query(self.terms))
                .columns(course_id=Integer, rank=Float)
                .subquery("fts_ranked" if ranked else "fts")
            )
        if self.dialect == "postgresql":
            document = literal_column(PG_DOCUMENT_COLUMN)
            query = func.plainto_tsquery(
                literal_column("'moisson_fr'::regconfig"), " ".join(self.terms)
            )
            rank = -func.ts_rank_cd(document, query) if ranked else literal_column("0.0")
            return (
                select(Course.id.label("course_id"), rank.label("rank"))
                .where(document.op("@@")(query))
                .subquery("fts_ranked" if ranked else "fts")
            )
        raise NotImplementedError(f"no full-text search for {self.dialect}")

    def _choice_sets(self, filters: CourseFilters) -> list:
        """One select of course ids per facet with choices (OR of its values inside: a
        course may come once per chosen value it has), those of one value first."""
        out = []
        for name, values in filters.choices:
            if name == "state":
                span = aliased(CourseStateSpan, name="chosen_span")  # named: see ``_holds``
                ids = select(span.course_id).where(
                    span.state.in_(values), _holds(span, self.now, self.dialect)
                )
            else:
                row = aliased(CourseFacet)
                numbers = select(FacetValue.id).where(
                    FacetValue.facet == name, FacetValue.value.in_(values)
                )
                ids = select(row.course_id).where(row.value_id.in_(numbers))
            out.append((len(values) > 1, ids))
        # single values first: one of them may drive the selection (no duplicate ids)
        return [ids for _several, ids in sorted(out, key=lambda pair: pair[0])]

    def _row_conditions(self, filters: CourseFilters) -> list:
        """The filters that are not facets: start days (sessions), workload (the course)."""
        f, conds = filters, []
        if f.starts_after or f.starts_before:

            def window(session):
                bounds = [session.start.is_not(None)]
                if f.starts_after:
                    bounds.append(session.start >= f.starts_after)
                if f.starts_before:
                    bounds.append(session.start <= f.starts_before)
                return and_(*bounds)

            conds.append(_with_session(window))
        if f.max_weeks is not None:
            weeks = func.coalesce(Course.duration_weeks_max, Course.duration_weeks_min)
            conds.append(weeks <= f.max_weeks)
        if f.max_hours_per_week is not None:
            effort = func.coalesce(
                Course.effort_hours_per_week_max, Course.effort_hours_per_week_min
            )
            conds.append(effort <= f.max_hours_per_week)
        return conds

    def courses(self, filters: CourseFilters, *columns, ranked: bool = False):
        """The selected visible courses as a select of ``columns`` over ``course`` (joined
        to the ranked full-text matches if ``ranked``)."""
        sets = self._choice_sets(filters)
        if self.fts is not None and not ranked:
            sets.insert(0, select(self.fts.c.course_id))
        stmt = select(*columns)
        if ranked:
            stmt = stmt.select_from(self.fts_ranked).join(
                Course, Course.id == self.fts_ranked.c.course_id
            )
        return stmt.where(
            VISIBLE, *(Course.id.in_(ids) for ids in sets), *self._row_conditions(filters)
        )

    def selection(self, filters: CourseFilters):
        """The ids of the selected courses, or None when nothing selects (every visible
        course). Read from the read index alone when only facets and words select."""
        sets = self._choice_sets(filters)
        # a facet with several values may give a course twice: not to drive alone
        several = bool(filters.choices) and all(len(v) > 1 for _n, v in filters.choices)
        if self._row_conditions(filters) or not sets or several:
            if not sets and self.fts is None and not self._row_conditions(filters):
                return None
            return self.courses(filters, Course.id)  # ``course.id IN``: each course once
        if self.fts is not None:
            sets.append(select(self.fts.c.course_id))
        first, *others = sets
        course_id = first.selected_columns[0]
        return first.where(*(course_id.in_(ids) for ids in others))

    def count(self, filters: CourseFilters | None = None) -> int:
        selection = self.selection(filters or self.filters)
        if selection is None:
            stmt = select(func.count()).select_from(Course).where(VISIBLE)
        else:
            stmt = select(func.count()).select_from(selection.subquery())
        return self.conn.execute(stmt).scalar_one()

    # -- the page ------------------------------------------------------------------------

    def page(self, sort: str, page: int, per_page: int, cache=None) -> tuple[int, list[int]]:
        offset = (page - 1) * per_page
        words_only = self.filters == CourseFilters(q=self.filters.q)
        if sort == "relevance" and not words_only:
            # words and filters: one pass that ranks and counts the matches (a window)
            # costs less than checking every match twice
            stmt = self.courses(
                self.filters, Course.id, func.count().over().label("total"), ranked=True
            ).order_by(self.fts_ranked.c.rank, Course.id)
            rows = self.conn.execute(stmt.limit(per_page).offset(offset)).all()
            if rows:
                return rows[0].total, [row.id for row in rows]
            return (self.count() if offset else 0), []
        # else counted apart (unranked matches, the read index), and only the page sorted
        if cache is None:
            total = self.count()
        else:
            total = cache.get(("count", self.filters), self.now, self.count)
        if offset >= total:
            return total, []
        if sort == "start":
            if total <= SMALL_SET:
                return total, self._page_by_start_grouped(offset, per_page)
            return total, self._page_by_start_scan(offset, per_page)
        if sort == "relevance":  # ``search_courses`` asks it only with words
            stmt = self.courses(self.filters, Course.id, ranked=True).order_by(
                self.fts_ranked.c.rank, Course.id
            )
        elif sort == "rating":  # ix_course_best_rated holds this order
            stmt = self.courses(self.filters, Course.id).order_by(*RATING_ORDER)
        elif sort == "most_run":
            return total, self._page_by_runs(offset, per_page)
        else:  # new
            stmt = self.courses(self.filters, Course.id).order_by(
                Course.created_at.desc(), Course.id.desc()
            )
        return total, list(self.conn.execute(stmt.limit(per_page).offset(offset)).scalars())

    def _page_by_start_grouped(self, offset: int, limit: int) -> list[int]:
        """Courses by their soonest upcoming session, then those with none (by id), for a
        small selection: each selected course's soonest start, sorted."""
        soonest = (
            select(Listing.course_id, func.min(Session.start).label("soonest"))
            .join(Session, Session.listing_id == Listing.id)
            .where(
                Listing.hidden.is_(False),
                Session.start > self.now,
            )
            .group_by(Listing.course_id)
        )
        selection = self.selection(self.filters)
        if selection is not None:
            soonest = soonest.where(Listing.course_id.in_(selection))
        soonest = soonest.subquery("soonest")
        stmt = (
            self.courses(self.filters, Course.id)
            .outerjoin(soonest, soonest.c.course_id == Course.id)
            .order_by(soonest.c.soonest.is_(None), soonest.c.soonest, Course.id)
            .offset(offset)
            .limit(limit)
        )
        return list(self.conn.execute(stmt).scalars())

    def _page_by_runs(self, offset: int, limit: int) -> list[int]:
        """Courses by the number of runs by now, most first (the steps holding now, read
        in ``ix_course_run_span_runs`` order), ties by id; then those not run yet, by id."""
        holds = (CourseRunSpan.since <= self.now) & (CourseRunSpan.until > self.now)
        want = offset + limit
        selection = self.selection(self.filters)
        ran = select(CourseRunSpan.course_id).where(holds)
        if selection is not None:
            ran = ran.where(CourseRunSpan.course_id.in_(selection))
        ran = ran.order_by(CourseRunSpan.runs.desc(), CourseRunSpan.course_id)
        head = list(self.conn.execute(ran.limit(want)).scalars())
        if len(head) >= want:
            return head[offset:want]
        not_run = (
            ~select(CourseRunSpan.course_id)
            .where(holds, CourseRunSpan.course_id == Course.id)
            .exists()
        )
        rest = (
            self.courses(self.filters, Course.id)
            .where(not_run)
            .order_by(Course.id)
            .offset(max(0, offset - len(head)))
            .limit(limit - len(head[offset:]))
        )
        return head[offset:] + list(self.conn.execute(rest).scalars())

    def _page_by_start_scan(self, offset: int, limit: int) -> list[int]:
        """The same order for a large selection: upcoming sessions are read in start order
        (``ix_session_start``, a batch at a time, resuming after the last one read), and
        the filters are checked for the courses of each batch, until the page is full.
        Then come the courses without an upcoming session, by id.

        Three plain queries per batch rather than one join: a join lets the query planner
        read every listing first and sort all their sessions (seen on SQLite with
        statistics), while these cost a few dozen index reads whatever the catalogue."""
        want = offset + limit
        upcoming: list[int] = []
        if self.filters.chosen("state") != ("archived",):  # archived: no upcoming session
            upcoming = self._upcoming_in_start_order(want)
        head = upcoming[offset:want]
        if len(upcoming) >= want:
            return head
        # every course with an upcoming session is in ``upcoming``: the rest come after
        selection = self.selection(self.filters)
        if selection is None:
            selection = select(Course.id).where(VISIBLE)
        selected = selection.subquery("selected")
        course_id = selected.c[0]
        rest = select(course_id)
        if self.filters.chosen("state") != ("archived",):  # else none has an upcoming session
            rest = rest.where(~_in_state("upcoming", self.now, course_id))
        rest = rest.order_by(course_id).offset(max(0, offset - len(upcoming)))
        return head + list(self.conn.execute(rest.limit(limit - len(head))).scalars())

    def _upcoming_in_start_order(self, want: int) -> list[int]:
        """The first ``want`` selected courses by their soonest upcoming session, ties by
        course id (as ``_page_by_start_grouped`` orders them)."""
        found: list[tuple[datetime, int]] = []  # (soonest start, course)
        decided: set[int] = set()  # courses placed or refused: filters are per course

        def take(rows) -> None:
            course_of = dict(
                self.conn.execute(
                    select(Listing.id, Listing.course_id).where(
                        Listing.id.in_({row.listing_id for row in rows}),
                        Listing.hidden.is_(False),
                        Listing.course_id.is_not(None),
                    )
                ).all()
            )
            first: dict[int, datetime] = {}
            for row in rows:
                course = course_of.get(row.listing_id)
                if course is not None and course not in decided and course not in first:
                    first[course] = row.start
            if not first:
                return
            check = self.courses(self.filters, Course.id).where(Course.id.in_(first))
            selected = set(self.conn.execute(check).scalars())
            found.extend((start, course) for course, start in first.items() if course in selected)
            decided.update(first)

        upcoming = select(Session.id, Session.start, Session.listing_id).order_by(
            Session.start, Session.id
        )
        after = None
        batch = max(2 * want, 64)
        while len(found) < want:
            sessions = upcoming.where(Session.start > self.now)
            if after is not None:
                sessions = sessions.where(tuple_(Session.start, Session.id) > tuple_(*after))
            rows = self.conn.execute(sessions.limit(batch)).all()
            if not rows:
                break
            after = (rows[-1].start, rows[-1].id)
            take(rows)
            if len(rows) < batch:
                after = None  # read to the end
                break
            batch = min(batch * 4, SCAN_BATCH_MAX)
        found.sort()
        if after is not None and len(found) >= want and found[want - 1][0] == after[0]:
            # courses tied with the last one kept may follow in sessions not read yet
            take(
                self.conn.execute(
                    upcoming.where(
                        Session.start == after[0],
                        tuple_(Session.start, Session.id) > tuple_(*after),
                    )
                ).all()
            )
            found.sort()
        return [course for _start, course in found[:want]]

    # -- facets ------------------------------------------------------------------------------

    def facets(self) -> dict[str, list[dict]]:
        """For each facet, its values with the number of courses each would give if also
        ticked: the facet is counted over the courses every OTHER facet's choices (and the
        words and other filters) select. Facets without choices share one grouped read."""
        f = self.filters
        by_selection: dict[CourseFilters, list] = defaultdict(list)
        for facet in FACETS:
            by_selection[f.without(facet.name) if f.chosen(facet.name) else f].append(facet)
        counts: dict[str, dict[str, int]] = {}
        for filters, facets in by_selection.items():
            selection = self.selection(filters)
            names = [facet.name for facet in facets if facet.values is not None]
            if len(names) < len(facets):
                counts["state"] = self._state_counts(selection)
            if names:
                counts.update(self._value_counts(selection, names))
        return {facet.name: self._listed(facet, counts[facet.name]) for facet in FACETS}

    def _state_counts(self, selection) -> dict[str, int]:
        """Selected courses in each state now (a course has at most one span of a state
        holding an instant)."""
        stmt = (
            select(CourseStateSpan.state, func.count())
            .where(_holds(CourseStateSpan, self.now, self.dialect))
            .group_by(CourseStateSpan.state)
        )
        if selection is not None:
            stmt = stmt.where(CourseStateSpan.course_id.in_(selection))
        return dict(self.conn.execute(stmt).all())

    def _value_counts(self, selection, names: list[str]) -> dict[str, dict[str, int]]:
        """Selected courses per value of each facet in ``names``: ``course_facet`` grouped
        by value number (small integers group faster than text)."""
        stmt = select(CourseFacet.value_id, func.count()).group_by(CourseFacet.value_id)
        if selection is not None:
            stmt = stmt.where(CourseFacet.course_id.in_(selection))
        if len(names) < sum(facet.values is not None for facet in FACETS):
            numbers = select(FacetValue.id).where(FacetValue.facet.in_(names))
            stmt = stmt.where(CourseFacet.value_id.in_(numbers))
        values = {number: fv for fv, number in readindex.value_ids(self.conn).items()}
        out: dict[str, dict[str, int]] = {name: {} for name in names}
        for number, count in self.conn.execute(stmt):
            facet, value = values[number]
            if facet in out:
                out[facet][value] = count
        return out

    def _listed(self, facet, counts: dict[str, int]) -> list[dict]:
        """A facet's values as the API lists them: closed sets in their order, others the
        most frequent first (ties by label), at most ``facet.limit``; a chosen value is
        always listed, so that it can be unticked."""
        chosen = self.filters.chosen(facet.name)
        if facet.choices is not None:
            values = [v for v in facet.choices if facet.show_empty or counts.get(v) or v in chosen]
            labels = facet.labels(self.conn, values) if facet.labels else {}
        else:
            ranked = sorted(counts.values(), reverse=True)
            floor = ranked[min(facet.limit, len(ranked)) - 1] if facet.limit and ranked else 0
            values = [v for v, n in counts.items() if n >= floor]
            values += [v for v in chosen if v not in counts]
            labels = facet.labels(self.conn, values) if facet.labels else {}
            values.sort(key=lambda v: (-counts.get(v, 0), labels.get(v, v), v))
            if facet.limit:
                values = values[: facet.limit] + [v for v in values[facet.limit :] if v in chosen]
        return [
            {
                "value": facet.as_api(v),
                "label": labels.get(v, v) if facet.labels else None,
                "count": counts.get(v, 0),
            }
            for v in values
        ]


# -- reading courses --------------------------------------------------------------------------


def _sessions_by_course(conn: Connection, course_ids: list[int], now: datetime) -> dict:
    rows = conn.execute(
        select(
            Session.__table__,
            Listing.course_id,
            Listing.url,
            Platform.name.label("platform"),
            Platform.label.label("platform_label"),
        )
        .join(Listing, Listing.id == Session.listing_id)
        .join(Platform, Platform.id == Listing.platform_id)
        .where(Listing.course_id.in_(course_ids), Listing.hidden.is_(False))
        .order_by(Session.start.is_(None), Session.start, Session.id)
    ).all()
    out = defaultdict(list)
    for s in rows:
        session = {
            "id": s.id,
            "platform": s.platform,
            "platform_label": s.platform_label or s.platform,
            "url": s.url,
            "start": s.start,
            "end": s.end,
            "enrolment_start": s.enrolment_start,
            "enrolment_end": s.enrolment_end,
            "pace": s.pace,
            "language": s.language,
            "price": s.price,
            "currency": s.currency,
            "offer": s.offer,
            "certificate": s.certificate,
            "certificate_price": s.certificate_price,
            "duration": {
                "text": s.duration_text,
                "weeks_min": s.duration_weeks_min,
                "weeks_max": s.duration_weeks_max,
                "hours_min": s.duration_hours_min,
                "hours_max": s.duration_hours_max,
            },
            "effort": {
                "text": s.effort_text,
                "hours_per_week_min": s.effort_hours_per_week_min,
                "hours_per_week_max": s.effort_hours_per_week_max,
            },
        }
        session["states"] = session_states(session, now)
        session["state"] = session["states"][0]
        out[s.course_id].append(session)
    return out


def _related(conn: Connection, course_ids: list[int]) -> tuple[dict, dict, dict]:
    organisations, topics, platforms = defaultdict(list), defaultdict(list), defaultdict(list)
    for row in conn.execute(
        select(
            course_organisation.c.course_id,
            Organisation.id,
            Organisation.name,
            Organisation.legal_name,
            Organisation.siret,
        )
        .join(Organisation, Organisation.id == course_organisation.c.organisation_id)
        .where(course_organisation.c.course_id.in_(course_ids))
        .order_by(Organisation.name)
    ):
        organisations[row.course_id].append(
            {"id": row.id, "name": row.name, "legal_name": row.legal_name, "siret": row.siret}
        )
    for row in conn.execute(
        select(course_topic.c.course_id, Topic.slug, Topic.label)
        .join(Topic, Topic.id == course_topic.c.topic_id)
        .where(course_topic.c.course_id.in_(course_ids))
        .order_by(Topic.label)
    ):
        topics[row.course_id].append({"slug": row.slug, "label": row.label})
    for row in conn.execute(
        select(Listing.course_id, Platform.name, Platform.label)
        .join(Platform, Platform.id == Listing.platform_id)
        .where(Listing.course_id.in_(course_ids), Listing.hidden.is_(False))
        .distinct()
        .order_by(Platform.name)
    ):
        platforms[row.course_id].append({"name": row.name, "label": row.label or row.name})
    return organisations, topics, platforms


def completeness(course: dict) -> dict:
    present = {
        "description": bool(course["description"]),
        "organisations": bool(course["organisations"]),
        "level": course["level"] is not None,
        "duration": course["duration"]["weeks_min"] is not None
        or course["duration"]["hours_min"] is not None,
        "effort": course["effort"]["hours_per_week_min"] is not None,
        "price": course["free"] is not None or course["price"]["amount"] is not None,
        "certificate": course["certificate"]["kind"] is not None,
        "topics": bool(course["topics"]),
        "dated_session": any(s["start"] is not None for s in course["sessions"]),
        "language": course["language"] is not None,
    }
    score = sum(present.values()) / len(COMPLETENESS_FIELDS)
    return {
        "score": round(score, 2),
        "missing": [name for name in COMPLETENESS_FIELDS if not present[name]],
    }


def course_facts(c) -> dict:
    """What a course row itself says, as the API and the exports show it."""
    return {
        "id": c.id,
        "title": c.title,
        "description": c.description,
        "language": c.language,
        "level": c.level,
        "qualification": {"entry": c.qualification_entry, "exit": c.qualification_exit},
        "duration": {
            "weeks_min": c.duration_weeks_min,
            "weeks_max": c.duration_weeks_max,
            "hours_min": c.duration_hours_min,
            "hours_max": c.duration_hours_max,
        },
        "effort": {
            "hours_per_week_min": c.effort_hours_per_week_min,
            "hours_per_week_max": c.effort_hours_per_week_max,
        },
        "free": c.free,
        "price": {"amount": c.price_amount, "currency": c.currency},
        "created_at": c.created_at,
        "updated_at": c.updated_at,
    }


def _course_dicts(conn: Connection, course_ids: list[int], now: datetime) -> list[dict]:
    if not course_ids:
        return []
    rows = {
        c.id: c for c in conn.execute(select(Course.__table__).where(Course.id.in_(course_ids)))
    }
    sessions = _sessions_by_course(conn, course_ids, now)
    organisations, topics, platforms = _related(conn, course_ids)
    out = []
    for course_id in course_ids:
        c = rows[course_id]
        course_sessions = sessions.get(course_id, [])
        states = course_states(course_sessions, now)
        course = {
            **course_facts(c),
            "certificate": {"kind": c.certificate, "price": c.certificate_price},
            "rating": _rating(c.rating, ratings.DEFAULT_SCALE, c.rating_count),
            "enrolments": c.enrolments,
            "organisations": organisations.get(course_id, []),
            "topics": topics.get(course_id, []),
            "platforms": platforms.get(course_id, []),
            "state": states[0],
            "states": states,
            "next_session": next_session(course_sessions),
            "sessions": course_sessions,
        }
        course["completeness"] = completeness(course)
        out.append(course)
    return out


def search_courses(
    engine: Engine,
    filters: CourseFilters,
    now: datetime,
    sort: str | None = None,
    page: int = 1,
    per_page: int = 20,
    facets: bool = True,
    cache: MinuteCache | None = None,
) -> SearchResult:
    """One page of courses matching ``filters`` at ``now``, with facet counts if asked.

    Without a text query "relevance" has nothing to rank by and sorts by start instead.
    With a ``cache``, the total and the facets are remembered for the minute.
    """
    has_terms = bool(query_terms(filters.q))
    sort = sort or ("relevance" if has_terms else "start")
    if sort == "relevance" and not has_terms:
        sort = "start"  # nothing to rank by
    with engine.connect() as conn:
        search = _Search(conn, filters, now)
        total, ids = search.page(sort, page, per_page, cache)
        courses = _course_dicts(conn, ids, now)
        for course in courses:
            course.pop("description")
        result = SearchResult(total, page, per_page, sort, courses)
        if facets:
            if cache is None:
                result.facets = search.facets()
            else:
                result.facets = cache.get(("facets", filters), now, search.facets)
    return result


def matching_courses(engine: Engine, filters: CourseFilters, now: datetime) -> list[tuple]:
    """(id, title) of every course matching ``filters`` at ``now``, in id order, unpaged:
    what a kept search selects, to tell which of its courses are new to a subscriber."""
    with engine.connect() as conn:
        search = _Search(conn, filters, now)
        stmt = search.courses(filters, Course.id, Course.title).order_by(Course.id)
        return [tuple(row) for row in conn.execute(stmt)]


def course_detail(engine: Engine, course_id: int, now: datetime) -> dict | None:
    """Everything about one visible course: sessions and listings of every platform."""
    with engine.connect() as conn:
        visible = conn.execute(select(Course.id).where(Course.id == course_id, VISIBLE)).scalar()
        if visible is None:
            return None
        return course_details(conn, [course_id], now)[0]


def course_details(conn: Connection, course_ids: list[int], now: datetime) -> list[dict]:
    """``course_detail`` for several courses at once (their ids, in that order)."""
    courses = _course_dicts(conn, course_ids, now)
    listings, stated = defaultdict(list), defaultdict(list)
    rome = coded_jobs(conn, course_ids)
    for row in conn.execute(
        select(  # not ``raw``: the platform's whole record, read for nothing here
            Listing.course_id,
            Listing.external_id,
            Listing.url,
            Listing.title,
            Listing.first_seen,
            Listing.last_seen,
            Listing.record,
            Platform.name.label("platform"),
            Platform.label,
        )
        .join(Platform, Platform.id == Listing.platform_id)
        .where(Listing.course_id.in_(course_ids), Listing.hidden.is_(False))
        .order_by(Listing.first_seen, Listing.id)  # the order the course's values come in
    ):
        listings[row.course_id].append(_listing_dict(row))
        stated[row.course_id].append((row.record or {}).get("codes"))
    for course in courses:
        found = listings[course["id"]]
        course["codes"] = course_codes(stated[course["id"]], rome.get(course["id"], []))
        course["stated"] = {
            name: next((lst["stated"][name] for lst in found if lst["stated"][name]), None)
            for name in STATED
        }
        course["rating"]["sources"] = [
            {"platform": lst["platform"], "platform_label": lst["platform_label"], **lst["rating"]}
            for lst in found
            if lst["rating"]["value"] is not None
        ]
        course["listings"] = sorted(found, key=lambda lst: lst["platform"])
        # computed, never stored (storage/predict.py)
        course["predicted_next_session"] = predict([s["start"] for s in course["sessions"]], now)
    return courses


# the platform's own words kept beside the normalised values: API name → record field
STATED = {
    "level": "level_text",
    "duration": "duration_text",
    "effort": "effort_text",
    "price": "price_text",
    "certificate": "certificate_text",
}


def _rating(value, scale, count) -> dict:
    """A rating as stated (value on scale, count) and brought to /5."""
    return {
        "value": value,
        "scale": scale if value is not None else None,
        "count": count,
        "value_5": ratings.on_five(value, scale),
    }


def _listing_dict(row) -> dict:
    record = row.record or {}
    return {
        "platform": row.platform,
        "platform_label": row.label or row.platform,
        "external_id": row.external_id,
        "url": row.url,
        "title": row.title,
        "first_seen": row.first_seen,
        "last_seen": row.last_seen,
        "rating": _rating(
            record.get("rating"),
            record.get("rating_scale") or ratings.DEFAULT_SCALE,
            record.get("rating_count"),
        ),
        "enrolments": record.get("enrolments"),
        "stated": {name: record.get(field) for name, field in STATED.items()},
    }


def visible_course_index(engine: Engine, offset: int = 0, limit: int = 50_000) -> list[dict]:
    """Ids and last changes of visible courses, for the sitemap."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(Course.id, Course.updated_at)
            .where(VISIBLE)
            .order_by(Course.id)
            .offset(offset)
            .limit(limit)
        ).all()
    return [{"id": r.id, "updated_at": r.updated_at} for r in rows]


def count_visible_courses(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(Course).where(VISIBLE)).scalar_one()


def count_courses(
    engine: Engine, filters: CourseFilters, now: datetime, cache: MinuteCache | None = None
) -> int:
    def count():
        with engine.connect() as conn:
            return _Search(conn, filters, now).count()

    return count() if cache is None else cache.get(("count", filters), now, count)
