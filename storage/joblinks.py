"""Link courses to the ROME jobs they prepare for: codes first, text second, overrides last.

1. **Codes.** A listing that states ROME codes (``record.codes["rome"]``: CPF offers, LHEO
   feeds) links its course to those jobs, method ``code``. A code the loaded referential
   does not know is kept aside in ``course_job_unknown``, counted, and not linked.
2. **Text.** A course no code links is matched by its title, topics, categories,
   objectives and description (``storage.jobmatch``), method ``text``: at most five jobs
   above a threshold, each with the skills and knowledge items that tie it to the course.
3. **Overrides** (``storage/data/job_overrides.csv``): a maintainer forces (method
   ``override``) or forbids a link, by listing (``platform:external_id``); they win at
   every run.

``link`` runs in the writer for the courses it has just refreshed, and in
``moisson jobs relink`` for all of them. With no referential loaded it does nothing.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from sqlalchemy import delete, insert, select

from storage import readindex
from storage.bulk import chunks
from storage.jobmatch import JobMatcher
from storage.models import CourseJob, CourseJobUnknown, RomeVersion

logger = logging.getLogger(__name__)

OVERRIDES = Path(__file__).with_name("data") / "job_overrides.csv"
ACTIONS = ("force", "forbid")


@dataclass
class LinkCounts:
    courses: int = 0
    by_code: int = 0
    by_text: int = 0
    overridden: int = 0
    without_job: int = 0
    unknown_codes: int = 0
    links: int = 0
    unknown: list[str] = field(default_factory=list)

    def add(self, other: LinkCounts) -> None:
        for name in ("courses", "by_code", "by_text", "overridden", "without_job"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.unknown_codes += other.unknown_codes
        self.links += other.links


@cache
def overrides(path: Path = OVERRIDES) -> dict[str, dict[str, str]]:
    """``{listing key: {job code: "force" | "forbid"}}``; a bad row is a clear error."""
    found: dict[str, dict[str, str]] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            action, listing, job = row.get("action"), row.get("listing"), row.get("job")
            if action not in ACTIONS or not listing or ":" not in listing or not job:
                raise ValueError(f"{path}, line {line}: want action (force|forbid),listing,job")
            found.setdefault(listing, {})[job.strip().upper()] = action
    return found


_MATCHERS: dict[tuple, JobMatcher] = {}


def matcher_for(conn) -> JobMatcher | None:
    """The matcher of the referential in use, built once per process and release (a
    release is known by its number and the instant it was loaded)."""
    version = conn.execute(
        select(RomeVersion.number, RomeVersion.loaded_at).order_by(RomeVersion.id.desc()).limit(1)
    ).first()
    if version is None:
        return None
    key = tuple(version)
    if key not in _MATCHERS:
        _MATCHERS.clear()
        _MATCHERS[key] = JobMatcher.from_connection(conn)
    return _MATCHERS[key]


def course_text(records: Iterable[Mapping]) -> tuple[str, str]:
    """(heading, body) of a course from its listings' records: title, topics and
    categories weigh fully; objectives and description less."""
    heading, body = [], []
    for record in records:
        heading += [record.get("title") or "", *(record.get("categories") or [])]
        heading += [t.replace("-", " ") for t in record.get("topics") or []]
        body += [record.get("introduction") or "", record.get("description") or ""]
    unique = list(dict.fromkeys(h for h in heading if h))
    return " . ".join(unique), " . ".join(dict.fromkeys(b for b in body if b))


def link(
    conn,
    records: Mapping[int, list[Mapping]],
    matcher: JobMatcher | None = None,
    rules=None,
    refresh_index: bool = True,
):
    """Relink the courses of ``records`` ({course id: its listings' records}) to jobs;
    ``rules``: overrides as ``overrides()`` reads them (default: the data file's).

    The read index's facets over the links (« Métier », « Domaine professionnel ») are
    brought in step in the same transaction, unless the caller refreshes the whole index
    of these courses next (``refresh_index=False``: the writer)."""
    counts = LinkCounts()
    if not records:
        return counts
    matcher = matcher or matcher_for(conn)
    if matcher is None:
        return counts
    known = set(matcher.codes)
    links: dict[int, dict[str, dict]] = {}
    unknown: dict[int, set[str]] = {}
    to_match: list[int] = []
    for course_id, listed in records.items():
        mine: dict[str, dict] = {}
        for record in listed:
            for code in (record.get("codes") or {}).get("rome") or []:
                code = str(code).strip().upper()
                if code in known:
                    source = f"code ROME indiqué par {record.get('platform')}"
                    mine.setdefault(code, {"method": "code", "score": 1.0, "reasons": [source]})
                else:
                    unknown.setdefault(course_id, set()).add(code)
        links[course_id] = mine
        if mine:
            counts.by_code += 1
        else:
            to_match.append(course_id)
    texts = [course_text(records[c]) for c in to_match]
    for course_id, hits in zip(to_match, matcher.match(texts), strict=True):
        links[course_id] = {
            h.code: {"method": "text", "score": h.score, "reasons": h.skills} for h in hits
        }
        counts.by_text += bool(hits)
    rules = overrides() if rules is None else rules
    for course_id, listed in records.items():
        for record in listed:
            key = f"{record.get('platform')}:{record.get('external_id')}"
            for code, action in rules.get(key, {}).items():
                counts.overridden += 1
                if action == "forbid":
                    links[course_id].pop(code, None)
                elif code in known:
                    links[course_id][code] = {
                        "method": "override",
                        "score": 1.0,
                        "reasons": [f"lien imposé (storage/data/{OVERRIDES.name})"],
                    }
    _write(conn, links, unknown)
    if refresh_index:
        readindex.refresh_facets(conn, links, CourseJob.__tablename__)
    counts.courses = len(records)
    counts.without_job = sum(1 for found in links.values() if not found)
    counts.unknown_codes = sum(len(codes) for codes in unknown.values())
    counts.unknown = sorted({c for codes in unknown.values() for c in codes})
    counts.links = sum(len(found) for found in links.values())
    if counts.unknown_codes:
        logger.info("ROME codes not in the referential, kept aside: %s", counts.unknown)
    return counts


def _write(conn, links: dict[int, dict[str, dict]], unknown: dict[int, set[str]]) -> None:
    ids = sorted(links)
    for chunk in chunks(ids):
        conn.execute(delete(CourseJob).where(CourseJob.course_id.in_(chunk)))
        conn.execute(delete(CourseJobUnknown).where(CourseJobUnknown.course_id.in_(chunk)))
    rows = [
        {"course_id": course_id, "job_code": code, **link}
        for course_id, found in links.items()
        for code, link in found.items()
    ]
    for chunk in chunks(rows):
        conn.execute(insert(CourseJob), list(chunk))
    rows = [{"course_id": c, "code": code[:40]} for c, codes in unknown.items() for code in codes]
    for chunk in chunks(rows):
        conn.execute(insert(CourseJobUnknown), list(chunk))


def relink_all(engine, batch: int = 2000, progress=None) -> LinkCounts:
    """Relink every course (``moisson jobs relink``); ``progress(done, total)`` after each batch."""
    from storage.models import Course, Listing

    total, done = LinkCounts(), 0
    with engine.connect() as conn:
        ids = list(conn.scalars(select(Course.id).order_by(Course.id)))
        matcher = matcher_for(conn)
    if matcher is None:
        return total
    for chunk in chunks(ids, batch):
        with engine.begin() as conn:
            records: dict[int, list] = {c: [] for c in chunk}
            rows = conn.execute(
                select(Listing.course_id, Listing.record)
                .where(Listing.course_id.in_(chunk), Listing.record.is_not(None))
                .order_by(Listing.course_id, Listing.hidden, Listing.id)
            )
            for course_id, record in rows:
                records[course_id].append(record)
            total.add(link(conn, {c: r for c, r in records.items() if r}, matcher))
        done += len(chunk)
        if progress:
            progress(done, len(ids))
    return total
