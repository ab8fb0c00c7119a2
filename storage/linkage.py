"""Which course does a listing belong to? Candidates across the whole catalogue, then a verdict.

Candidate search: an exact dictionary on the title key, plus MinHash LSH (datasketch) on
the title's content words, so a listing is compared with a handful of plausible courses
instead of all of them. The verdict is ``storage.matching.compare`` (rapidfuzz scores,
organisations through the alias table, numbers and levels that must agree). Maintainers'
forced merges and splits (``storage/data/link_overrides.csv``) win over the verdict and are
re-applied at every run, so they survive every later crawl.
"""

from __future__ import annotations

import csv
import logging
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from datasketch import MinHash, MinHashLSH
from sqlalchemy import select

from storage.matching import Candidate, Match, compare, organisation_key, stem, title_key
from storage.models import Course, Listing, Organisation, Platform, course_organisation

logger = logging.getLogger(__name__)

NUM_PERM = 64
LSH_THRESHOLD = 0.6
OVERRIDES = Path(__file__).with_name("data") / "link_overrides.csv"


def candidate_of(
    title: str, organisations, level: str | None, platform: str | None = None
) -> Candidate:
    names = tuple(organisations or ())
    return Candidate(
        title=title_key(title, names),
        organisations=frozenset(organisation_key(n) for n in names if n),
        level=level,
        platform=platform,
    )


_TEMPLATE = MinHash(num_perm=NUM_PERM)  # drawing the permutations is the costly part
_PERMUTATIONS, _SCHEME = _TEMPLATE.permutations, _TEMPLATE.scheme


ORGANISATION_WEIGHT = 3  # tokens per organisation: same title, other institution ≈ 0.33


def signature_tokens(candidate: Candidate) -> frozenset[str]:
    """What LSH hashes: the title's stemmed words and, weighted, its organisations.

    Weighting the organisations keeps "the same title by another institution" (frequent:
    "Introduction à Python" has dozens) out of each other's candidates, so the number of
    comparisons per listing stays flat as the catalogue grows.
    """
    tokens = {stem(t) for t in candidate.title.tokens}
    for organisation in candidate.organisations:
        tokens.update(f"@{organisation}#{i}" for i in range(ORGANISATION_WEIGHT))
    return frozenset(tokens)


@lru_cache(maxsize=4096)
def _minhash(tokens: frozenset[str]) -> MinHash:
    m = MinHash(num_perm=NUM_PERM, permutations=_PERMUTATIONS, scheme=_SCHEME)
    m.update_batch([t.encode("utf-8") for t in sorted(tokens)])
    return m


def _signature(candidate: Candidate, signatures: dict | None) -> MinHash:
    """The candidate's MinHash: from ``signatures`` (``CourseIndex.signatures``) if there."""
    tokens = signature_tokens(candidate)
    found = signatures.get(tokens) if signatures else None
    return found if found is not None else _minhash(tokens)


@dataclass(frozen=True)
class LinkDecision:
    course_id: int | None  # None: a new course
    method: str  # new | exact | fuzzy | override
    score: float | None


@dataclass
class Overrides:
    merges: dict[str, str]  # listing key -> the listing whose course it must join
    splits: set[frozenset[str]]

    @classmethod
    def load(cls, path: Path = OVERRIDES) -> Overrides:
        merges, splits = {}, set()
        if path.exists():
            with path.open(encoding="utf-8") as handle:
                for line, row in enumerate(csv.DictReader(handle), start=2):
                    action = (row.get("action") or "").strip()
                    a, b = (row.get("listing") or "").strip(), (row.get("other") or "").strip()
                    if action not in ("merge", "split") or ":" not in a or ":" not in b:
                        raise ValueError(
                            f"{path}:{line}: expected merge|split,platform:id,platform:id"
                        )
                    if action == "merge":
                        merges[a] = b
                    else:
                        splits.add(frozenset((a, b)))
        return cls(merges, splits)


class CourseIndex:
    """The catalogue's listings as matching candidates, grouped by course.

    The listings of one course that say the same (one ``Candidate``) form one group, and
    the candidate search finds groups: a course listed thousands of times (the sessions
    of one training) is compared once per listing decided, not once per listing it has.
    """

    def __init__(self, overrides: Overrides | None = None):
        self.overrides = overrides or Overrides({}, set())
        self.lsh = MinHashLSH(threshold=LSH_THRESHOLD, num_perm=NUM_PERM)
        # title key (and organisation) -> groups; "" stands for "no organisation stated"
        self.exact: dict[tuple[str, str], set[int]] = defaultdict(set)
        self.exact_any: dict[str, set[int]] = defaultdict(set)
        self.heads: dict[str, set[int]] = defaultdict(set)  # title before its subtitle -> groups
        self.entries: dict[str, tuple[int, Candidate]] = {}  # listing key -> (course, candidate)
        self.course_listings: dict[int, set[str]] = defaultdict(set)
        self.groups: dict[int, tuple[int, Candidate, set[str]]] = {}  # -> course, candidate, keys
        self.group_of: dict[tuple[int, Candidate], int] = {}
        self.in_lsh: set[int] = set()
        self._next_group = 0
        self._split_partners: dict[str, set[str]] = defaultdict(set)
        for pair in self.overrides.splits:
            a, b = sorted(pair)
            self._split_partners[a].add(b)
            self._split_partners[b].add(a)

    @classmethod
    def load(cls, conn, overrides: Overrides | None = None) -> CourseIndex:
        index = cls(overrides)
        organisations = defaultdict(set)
        for course_id, name in conn.execute(
            select(course_organisation.c.course_id, Organisation.name).join(
                Organisation, Organisation.id == course_organisation.c.organisation_id
            )
        ):
            organisations[course_id].add(name)
        rows = conn.execute(
            select(
                Platform.name, Listing.external_id, Listing.course_id, Listing.title, Course.level
            )
            .join(Platform, Platform.id == Listing.platform_id)
            .join(Course, Course.id == Listing.course_id)
        ).all()
        pending = []
        for platform, external_id, course_id, title, level in rows:
            key = f"{platform}:{external_id}"
            candidate = candidate_of(title, sorted(organisations[course_id]), level, platform)
            group = index._remember(key, course_id, candidate)
            if group is not None and candidate.title.tokens:
                pending.append((group, signature_tokens(candidate)))
        if pending:
            hashes = MinHash.bulk(
                [
                    [t.encode("utf-8") for t in sorted({stem(t) for t in tokens})]
                    for _g, tokens in pending
                ],
                num_perm=NUM_PERM,
                permutations=_PERMUTATIONS,
                scheme=_SCHEME,
            )
            with index.lsh.insertion_session() as session:
                for (group, _tokens), minhash in zip(pending, hashes, strict=True):
                    session.insert(group, minhash, check_duplication=False)
                    index.in_lsh.add(group)
        return index

    def _remember(self, key: str, course_id: int, candidate: Candidate) -> int | None:
        """Index a listing; returns its group if the group is new (not yet in LSH)."""
        self.entries[key] = (course_id, candidate)
        self.course_listings[course_id].add(key)
        group = self.group_of.get((course_id, candidate))
        if group is not None:
            self.groups[group][2].add(key)
            return None
        group = self._next_group
        self._next_group += 1
        self.group_of[(course_id, candidate)] = group
        self.groups[group] = (course_id, candidate, {key})
        for organisation in candidate.organisations or ("",):
            self.exact[(candidate.title.text, organisation)].add(group)
        self.exact_any[candidate.title.text].add(group)
        if candidate.title.head:
            self.heads[candidate.title.head].add(group)
        return group

    def _forget(self, key: str) -> None:
        course_id, candidate = self.entries.pop(key)
        self.course_listings[course_id].discard(key)
        group = self.group_of[(course_id, candidate)]
        members = self.groups[group][2]
        members.discard(key)
        if members:
            return
        del self.groups[group], self.group_of[(course_id, candidate)]
        for organisation in candidate.organisations or ("",):
            self.exact[(candidate.title.text, organisation)].discard(group)
        self.exact_any[candidate.title.text].discard(group)
        self.heads[candidate.title.head].discard(group)
        if group in self.in_lsh:
            self.lsh.remove(group)
            self.in_lsh.discard(group)

    @staticmethod
    def signatures(candidates) -> dict[frozenset[str], MinHash]:
        """The MinHashes of these candidates' signature tokens, computed in one pass
        (``MinHash.bulk`` shares one initialised sketch): give them to ``decide`` and
        ``add`` instead of one sketch built per listing."""
        tokens = list(dict.fromkeys(signature_tokens(c) for c in candidates if c.title.tokens))
        hashes = MinHash.bulk(
            [[t.encode("utf-8") for t in sorted(ts)] for ts in tokens],
            num_perm=NUM_PERM,
            permutations=_PERMUTATIONS,
            scheme=_SCHEME,
        )
        return dict(zip(tokens, hashes, strict=True))

    def add(
        self, key: str, course_id: int, candidate: Candidate, signatures: dict | None = None
    ) -> None:
        """Index a listing (again, if its course or title changed)."""
        if self.entries.get(key) == (course_id, candidate):
            return
        if key in self.entries:
            self._forget(key)
        group = self._remember(key, course_id, candidate)
        if group is not None and candidate.title.tokens:
            self.lsh.insert(group, _signature(candidate, signatures), check_duplication=False)
            self.in_lsh.add(group)

    def rename_courses(self, ids: dict[int, int]) -> None:
        """Provisional course ids (new courses of a batch) become their database ids."""
        for old, new in ids.items():
            keys = self.course_listings.pop(old, set())
            self.course_listings[new] |= keys
            for key in keys:
                candidate = self.entries[key][1]
                self.entries[key] = (new, candidate)
                group = self.group_of.pop((old, candidate), None)
                if group is not None:
                    self.group_of[(new, candidate)] = group
                    self.groups[group] = (new, candidate, self.groups[group][2])

    def _forbidden(self, key: str, course_id: int) -> bool:
        """A forced split keeps ``key`` out of this course: one look per split partner
        of ``key`` (usually none), not one per listing of the course."""
        return any(
            other in self.entries and self.entries[other][0] == course_id
            for other in self._split_partners.get(key, ())
        )

    def decide(
        self, key: str, candidate: Candidate, signatures: dict | None = None
    ) -> LinkDecision:
        target = self.overrides.merges.get(key)
        if target and target in self.entries:
            return LinkDecision(self.entries[target][0], "override", None)
        title = candidate.title
        groups = set(self.heads.get(title.text, ()))
        for text in (title.text, title.head) if title.head else (title.text,):
            if candidate.organisations:
                for organisation in (*candidate.organisations, ""):
                    groups |= self.exact.get((text, organisation), set())
            else:
                groups |= self.exact_any.get(text, set())
        if title.tokens:
            groups.update(self.lsh.query(_signature(candidate, signatures)))
        best: tuple[Match, int] | None = None
        for group in groups:
            course_id, other_candidate, keys = self.groups[group]
            if keys == {key}:  # the listing itself
                continue
            match = compare(candidate, other_candidate)
            if not match.same or self._forbidden(key, course_id):
                continue
            if best is None or match.score > best[0].score:
                best = (match, course_id)
        if best is None:
            return LinkDecision(None, "new", None)
        match, course_id = best
        return LinkDecision(course_id, "exact" if match.score >= 100 else "fuzzy", match.score)
