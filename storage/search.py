"""Searching the catalogue: filters, French full text, computed states and facet counts.

A course's state is never stored: it follows from its sessions and the time of the question,
so the caller passes ``now``. Each state is defined once per session, in SQL for filtering
(``session_condition``) and in Python for the page of results (``session_states``); the tests
check both agree on every course. Hidden listings, their sessions, and courses whose every
listing is hidden are invisible here.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

import snowballstemmer
from sqlalchemy import (
    Float,
    Integer,
    and_,
    case,
    false,
    func,
    literal_column,
    or_,
    select,
    text,
    true,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import aliased

from storage.cache import MinuteCache
from storage.models import (
    Course,
    Listing,
    Organisation,
    Platform,
    Session,
    Topic,
    course_organisation,
    course_topic,
)

STATES = ("enrolment_open", "starting_soon", "self_paced", "ongoing", "upcoming", "archived")
"""In order of priority: a course's main state is the first it is in."""
SESSION_STATES = STATES
SORTS = ("relevance", "start", "new", "rating")
LEVELS = ("debutant", "intermediaire", "avance", "tous_niveaux")
SELF_PACED = ("self_paced", "always_open")
SOON = timedelta(days=30)
MAX_QUERY_TERMS = 12
FACET_LIMIT = 30
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
# The document PostgreSQL searches, exactly as migration 0003 indexes it.
PG_DOCUMENT = (
    "setweight(to_tsvector('moisson_fr', coalesce(course.title, '')), 'A') || "
    "setweight(to_tsvector('moisson_fr', coalesce(course.description, '')), 'B')"
)


@dataclass(frozen=True)
class CourseFilters:
    """What a visitor asks for; ``None`` means "any"."""

    q: str | None = None
    state: str | None = None
    starts_after: datetime | None = None
    starts_before: datetime | None = None
    level: str | None = None
    topic: str | None = None
    platform: str | None = None
    organisation: int | None = None
    free: bool | None = None
    certificate: bool | None = None
    max_weeks: float | None = None
    max_hours_per_week: float | None = None

    def without(self, name: str) -> CourseFilters:
        return dataclasses.replace(self, **{name: None})


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


def session_condition(state: str, now: datetime, session=Session):
    """The SQL condition on ``session`` (or an alias of it) for one state at ``now``."""
    Session = session  # noqa: N806 - the conditions below read as SQL on the table
    not_ended = or_(Session.end.is_(None), Session.end > now)
    self_paced = Session.pace.in_(SELF_PACED)
    scheduled = func.coalesce(Session.pace, "scheduled").not_in(SELF_PACED)
    if state == "self_paced":
        return and_(self_paced, not_ended)
    if state == "ongoing":
        return and_(scheduled, Session.start <= now, not_ended)
    if state == "upcoming":
        return Session.start > now
    if state == "starting_soon":
        return and_(Session.start > now, Session.start <= now + SOON)
    if state == "enrolment_open":
        return and_(
            not_ended,
            or_(Session.enrolment_start.is_(None), Session.enrolment_start <= now),
            or_(Session.enrolment_end.is_(None), Session.enrolment_end > now),
            or_(
                Session.enrolment_start.is_not(None),
                Session.enrolment_end.is_not(None),
                self_paced,
            ),
        )
    if state == "live":  # what keeps a course out of the archive
        return or_(
            and_(self_paced, not_ended),
            and_(scheduled, Session.start <= now, not_ended),
            Session.start > now,
        )
    raise ValueError(f"unknown state {state!r}")


def session_states(session: dict, now: datetime) -> list[str]:
    """The states of one session at ``now``, in priority order (mirrors ``session_condition``)."""
    start, end = session["start"], session["end"]
    e_start, e_end = session["enrolment_start"], session["enrolment_end"]
    not_ended = end is None or end > now
    self_paced = session["pace"] in SELF_PACED
    states = []
    if (
        not_ended
        and (e_start is None or e_start <= now)
        and (e_end is None or e_end > now)
        and (e_start is not None or e_end is not None or self_paced)
    ):
        states.append("enrolment_open")
    if start is not None and now < start <= now + SOON:
        states.append("starting_soon")
    if self_paced and not_ended:
        states.append("self_paced")
    if not self_paced and start is not None and start <= now and not_ended:
        states.append("ongoing")
    if start is not None and start > now:
        states.append("upcoming")
    if not ({"self_paced", "ongoing", "upcoming"} & set(states)):
        states.append("archived")
    return states


def course_states(sessions: list[dict], now: datetime) -> list[str]:
    """A course is in every state one of its sessions is in; archived only if none is live."""
    found = {state for s in sessions for state in s["states"] if state != "archived"}
    if not ({"self_paced", "ongoing", "upcoming"} & found):
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


def _visible():
    """The course has a listing that is not hidden (correlated: cheap per course)."""
    listing = aliased(Listing)
    return (
        select(listing.id)
        .where(listing.course_id == Course.id, listing.hidden.is_(False))
        .exists()
        .correlate(Course)
    )


def _with_session(condition_of):
    """The course has a visible listing with a session meeting ``condition_of(session)``."""
    listing, session = aliased(Listing), aliased(Session)
    return (
        select(session.id)
        .join(listing, listing.id == session.listing_id)
        .where(listing.course_id == Course.id, listing.hidden.is_(False), condition_of(session))
        .exists()
        .correlate(Course)
    )


def _topic_ids(conn: Connection, slug: str) -> list[int]:
    """A topic and everything under it."""
    rows = conn.execute(select(Topic.id, Topic.slug, Topic.parent_id)).all()
    children = defaultdict(list)
    root = None
    for row in rows:
        children[row.parent_id].append(row.id)
        if row.slug == slug:
            root = row.id
    if root is None:
        return []
    found, todo = [], [root]
    while todo:
        node = todo.pop()
        if node not in found:
            found.append(node)
            todo.extend(children[node])
    return found


class _Search:
    """One search against one connection: the conditions of its filters, built once."""

    def __init__(self, conn: Connection, filters: CourseFilters, now: datetime):
        self.conn = conn
        self.dialect = conn.dialect.name
        self.filters = filters
        self.now = now
        self.terms = query_terms(filters.q)
        self.fts = None
        if self.terms:
            self.fts = self._fts_subquery()
        self._topic_cache: dict[str, list[int]] = {}

    def _fts_subquery(self):
        if self.dialect == "sqlite":
            return (
                text(
                    "SELECT rowid AS course_id, bm25(course_fts, 10.0, 1.0) AS rank "
                    "FROM course_fts WHERE course_fts MATCH :fts_query"
                )
                .bindparams(fts_query=fts5_query(self.terms))
                .columns(course_id=Integer, rank=Float)
                .subquery("fts")
            )
        if self.dialect == "postgresql":
            document = literal_column(f"({PG_DOCUMENT})")
            query = func.plainto_tsquery(
                literal_column("'moisson_fr'::regconfig"), " ".join(self.terms)
            )
            return (
                select(
                    Course.id.label("course_id"),
                    (-func.ts_rank_cd(document, query)).label("rank"),
                )
                .where(document.op("@@")(query))
                .subquery("fts")
            )
        raise NotImplementedError(f"no full-text search for {self.dialect}")

    def conditions(self, filters: CourseFilters) -> list:
        """One condition per filter, each correlated to ``course`` so that a narrow search
        (a text query) costs a few index probes per candidate, never a scan of sessions."""
        f, now = filters, self.now
        conds = []
        implies_visible = False
        if f.state == "archived":
            conds.append(~_with_session(lambda s: session_condition("live", now, s)))
        elif f.state:
            conds.append(_with_session(lambda s: session_condition(f.state, now, s)))
            implies_visible = True
        if f.starts_after or f.starts_before:

            def window(session):
                bounds = [session.start.is_not(None)]
                if f.starts_after:
                    bounds.append(session.start >= f.starts_after)
                if f.starts_before:
                    bounds.append(session.start <= f.starts_before)
                return and_(*bounds)

            conds.append(_with_session(window))
            implies_visible = True
        if f.platform:
            listing = aliased(Listing)
            conds.append(
                select(listing.id)
                .join(Platform, Platform.id == listing.platform_id)
                .where(
                    listing.course_id == Course.id,
                    listing.hidden.is_(False),
                    Platform.name == f.platform,
                )
                .exists()
                .correlate(Course)
            )
            implies_visible = True
        if not implies_visible:
            conds.insert(0, _visible())
        if f.level:
            conds.append(Course.level == f.level)
        if f.topic:
            if f.topic not in self._topic_cache:
                self._topic_cache[f.topic] = _topic_ids(self.conn, f.topic)
            conds.append(
                select(course_topic.c.topic_id)
                .where(
                    course_topic.c.course_id == Course.id,
                    course_topic.c.topic_id.in_(self._topic_cache[f.topic] or [-1]),
                )
                .exists()
            )
        if f.organisation is not None:
            conds.append(
                select(course_organisation.c.organisation_id)
                .where(
                    course_organisation.c.course_id == Course.id,
                    course_organisation.c.organisation_id == f.organisation,
                )
                .exists()
            )
        if f.free is not None:
            conds.append(Course.free.is_(true() if f.free else false()))
        if f.certificate is not None:
            has = Course.certificate.in_(("attestation", "certificate", "diploma"))
            conds.append(has if f.certificate else Course.certificate == "none")
        if f.max_weeks is not None:
            weeks = func.coalesce(Course.duration_weeks_max, Course.duration_weeks_min)
            conds.append(weeks <= f.max_weeks)
        if f.max_hours_per_week is not None:
            effort = func.coalesce(
                Course.effort_hours_per_week_max, Course.effort_hours_per_week_min
            )
            conds.append(effort <= f.max_hours_per_week)
        return conds

    def _from(self, stmt):
        if self.fts is not None:
            stmt = stmt.join(self.fts, self.fts.c.course_id == Course.id)
        return stmt

    def base(self, filters: CourseFilters, *columns):
        return self._from(select(*columns).select_from(Course)).where(*self.conditions(filters))

    def ids_subquery(self, filters: CourseFilters):
        return self.base(filters, Course.id)

    def count(self, filters: CourseFilters | None = None) -> int:
        return self.conn.execute(self.base(filters or self.filters, func.count())).scalar_one()

    # -- the page ------------------------------------------------------------------------

    def page(self, sort: str, page: int, per_page: int, cache=None) -> tuple[int, list[int]]:
        offset = (page - 1) * per_page
        if sort == "start":
            ids = self._page_by_start(offset, per_page)
            if page == 1 and len(ids) < per_page:
                return len(ids), ids  # the whole answer is on this page: no need to count
            if cache is None:
                return self.count(), ids
            return cache.get(("count", self.filters), self.now, self.count), ids
        # the total comes with the page, counted over the same rows (a window)
        stmt = self.base(self.filters, Course.id, func.count().over().label("total"))
        if sort == "relevance" and self.fts is not None:
            stmt = stmt.order_by(self.fts.c.rank, Course.id)
        elif sort == "rating":
            stmt = stmt.order_by(
                Course.rating.is_(None),
                Course.rating.desc(),
                func.coalesce(Course.rating_count, 0).desc(),
                Course.id,
            )
        else:  # new
            stmt = stmt.order_by(Course.created_at.desc(), Course.id.desc())
        rows = self.conn.execute(stmt.limit(per_page).offset(offset)).all()
        if rows:
            return rows[0].total, [row.id for row in rows]
        return (self.count() if offset else 0), []

    def _page_by_start(self, offset: int, limit: int) -> list[int]:
        """Courses by their soonest upcoming session, then those with none (by id).

        Sessions are read in start order (``ix_session_start``) and the filters checked
        per course, so the first pages cost a few dozen probes whatever the catalogue's
        size; the ordered read stops as soon as the page is full.
        """
        want = offset + limit
        ordered = (
            self._from(
                select(Course.id)
                .select_from(Session)
                .join(Listing, Listing.id == Session.listing_id)
                .join(Course, Course.id == Listing.course_id)
            )
            .where(Session.start > self.now, Listing.hidden.is_(False))
            .where(*self.conditions(self.filters))
            .order_by(Session.start, Course.id)
        )
        upcoming: list[int] = []
        batch = max(2 * want, 50)
        while True:
            rows = list(self.conn.execute(ordered.limit(batch)).scalars())
            upcoming = list(dict.fromkeys(rows))
            if len(upcoming) >= want or len(rows) < batch:
                break
            batch *= 4
        head = upcoming[offset:want]
        if len(upcoming) >= want:
            return head
        # every course with an upcoming session is in ``upcoming``: the rest come after
        rest = (
            self.base(self.filters, Course.id)
            .where(~_with_session(lambda session: session.start > self.now))
            .order_by(Course.id)
            .offset(max(0, offset - len(upcoming)))
            .limit(limit - len(head))
        )
        return head + list(self.conn.execute(rest).scalars())

    # -- facets ------------------------------------------------------------------------------

    def _restrict(self, filters: CourseFilters, course_id) -> list:
        """Conditions tying ``course_id`` to the courses ``filters`` select; none when
        nothing filters, so a landing page's facets do not list the whole catalogue."""
        if self.fts is None and filters == CourseFilters(q=filters.q):
            return []
        return [course_id.in_(self.ids_subquery(filters))]

    def _visible_restrict(self, filters: CourseFilters) -> list:
        restrict = self._restrict(filters, Course.id)
        return restrict or [_visible()]

    def facets(self) -> dict[str, list[dict]]:
        """Counts per value of each filter, every other filter applied."""
        f, conn = self.filters, self.conn
        out: dict[str, list[dict]] = {}

        # states: one pass over the sessions of the selected courses
        live = [s for s in STATES if s != "archived"]
        flags = [
            func.max(case((session_condition(state, self.now), 1), else_=0)).label(state)
            for state in [*live, "live"]
        ]
        per_course = (
            select(Listing.course_id, *flags)
            .join(Session, Session.listing_id == Listing.id)
            .where(Listing.hidden.is_(False), Listing.course_id.is_not(None))
            .where(*self._restrict(f.without("state"), Listing.course_id))
            .group_by(Listing.course_id)
            .subquery("per_course")
        )
        sums = conn.execute(
            select(*[func.coalesce(func.sum(per_course.c[s]), 0) for s in [*live, "live"]])
        ).one()
        counts = dict(zip([*live, "live"], sums, strict=True))
        counts["archived"] = self.count(f.without("state")) - counts.pop("live")
        out["state"] = [{"value": s, "count": int(counts[s])} for s in STATES]

        count = func.count(func.distinct(Listing.course_id))
        rows = conn.execute(
            select(Platform.name, Platform.label, count)
            .join(Listing, Listing.platform_id == Platform.id)
            .where(Listing.hidden.is_(False), Listing.course_id.is_not(None))
            .where(*self._restrict(f.without("platform"), Listing.course_id))
            .group_by(Platform.name, Platform.label)
            .order_by(count.desc(), Platform.name)
        ).all()
        out["platform"] = [{"value": n, "label": lbl or n, "count": c} for n, lbl, c in rows]

        by_level = dict(
            conn.execute(
                select(Course.level, func.count())
                .where(Course.level.is_not(None), *self._visible_restrict(f.without("level")))
                .group_by(Course.level)
            ).all()
        )
        out["level"] = [{"value": lv, "count": by_level[lv]} for lv in LEVELS if lv in by_level]

        count = func.count(course_topic.c.course_id)
        rows = conn.execute(
            select(Topic.slug, Topic.label, count)
            .join(course_topic, course_topic.c.topic_id == Topic.id)
            .join(Course, Course.id == course_topic.c.course_id)
            .where(*self._visible_restrict(f.without("topic")))
            .group_by(Topic.slug, Topic.label)
            .order_by(count.desc(), Topic.label)
            .limit(FACET_LIMIT)
        ).all()
        out["topic"] = [{"value": s, "label": lbl, "count": c} for s, lbl, c in rows]

        count = func.count(course_organisation.c.course_id)
        rows = conn.execute(
            select(Organisation.id, Organisation.name, count)
            .join(course_organisation, course_organisation.c.organisation_id == Organisation.id)
            .join(Course, Course.id == course_organisation.c.course_id)
            .where(*self._visible_restrict(f.without("organisation")))
            .group_by(Organisation.id, Organisation.name)
            .order_by(count.desc(), Organisation.name)
            .limit(FACET_LIMIT)
        ).all()
        out["organisation"] = [{"value": i, "label": n, "count": c} for i, n, c in rows]

        rows = dict(
            conn.execute(
                select(Course.free, func.count())
                .where(Course.free.is_not(None), *self._visible_restrict(f.without("free")))
                .group_by(Course.free)
            ).all()
        )
        out["free"] = [{"value": v, "count": rows[v]} for v in (True, False) if v in rows]

        has = Course.certificate.in_(("attestation", "certificate", "diploma"))
        rows = dict(
            conn.execute(
                select(case((has, true()), else_=false()).label("has"), func.count())
                .where(
                    Course.certificate.is_not(None),
                    *self._visible_restrict(f.without("certificate")),
                )
                .group_by(literal_column("has"))
            ).all()
        )
        out["certificate"] = [{"value": v, "count": rows[v]} for v in (True, False) if rows.get(v)]
        return out


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
        }
        session["states"] = session_states(session, now)
        session["state"] = session["states"][0]
        out[s.course_id].append(session)
    return out


def _related(conn: Connection, course_ids: list[int]) -> tuple[dict, dict, dict]:
    organisations, topics, platforms = defaultdict(list), defaultdict(list), defaultdict(list)
    for row in conn.execute(
        select(course_organisation.c.course_id, Organisation.id, Organisation.name)
        .join(Organisation, Organisation.id == course_organisation.c.organisation_id)
        .where(course_organisation.c.course_id.in_(course_ids))
        .order_by(Organisation.name)
    ):
        organisations[row.course_id].append({"id": row.id, "name": row.name})
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
            "id": c.id,
            "title": c.title,
            "description": c.description,
            "language": c.language,
            "level": c.level,
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
            "certificate": {"kind": c.certificate, "price": c.certificate_price},
            "rating": {"value": c.rating, "count": c.rating_count},
            "enrolments": c.enrolments,
            "created_at": c.created_at,
            "updated_at": c.updated_at,
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


def course_detail(engine: Engine, course_id: int, now: datetime) -> dict | None:
    """Everything about one visible course: sessions and listings of every platform."""
    with engine.connect() as conn:
        visible = conn.execute(select(Course.id).where(Course.id == course_id, _visible())).scalar()
        if visible is None:
            return None
        (course,) = _course_dicts(conn, [course_id], now)
        course["listings"] = [
            {
                "platform": row.platform,
                "platform_label": row.label or row.platform,
                "external_id": row.external_id,
                "url": row.url,
                "title": row.title,
                "first_seen": row.first_seen,
                "last_seen": row.last_seen,
                "rating": {
                    "value": (row.record or {}).get("rating"),
                    "count": (row.record or {}).get("rating_count"),
                },
                "enrolments": (row.record or {}).get("enrolments"),
            }
            for row in conn.execute(
                select(Listing.__table__, Platform.name.label("platform"), Platform.label)
                .join(Platform, Platform.id == Listing.platform_id)
                .where(Listing.course_id == course_id, Listing.hidden.is_(False))
                .order_by(Platform.name, Listing.id)
            )
        ]
    return course


def visible_course_index(engine: Engine, offset: int = 0, limit: int = 50_000) -> list[dict]:
    """Ids and last changes of visible courses, for the sitemap."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(Course.id, Course.updated_at)
            .where(_visible())
            .order_by(Course.id)
            .offset(offset)
            .limit(limit)
        ).all()
    return [{"id": r.id, "updated_at": r.updated_at} for r in rows]


def count_visible_courses(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(Course).where(_visible())).scalar_one()


def count_courses(
    engine: Engine, filters: CourseFilters, now: datetime, cache: MinuteCache | None = None
) -> int:
    def count():
        with engine.connect() as conn:
            return _Search(conn, filters, now).count()

    return count() if cache is None else cache.get(("count", filters), now, count)
