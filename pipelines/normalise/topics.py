"""One to three topics of Moisson's French taxonomy for each course.

The taxonomy is ``records/data/topics.json`` (records.topics). A course's own categories
come first, through each platform's mapping
(``pipelines/data/topic_categories.json``); a course without mapped categories is read
by keyword rules on its title and description (``topic_rules.json``). A topic's parent is
listed before it (``["informatique", "data-ia"]``) so a filter on the parent finds the
course; at most three slugs are kept, the most specific first when they compete.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from pipelines.normalise.text import fold, load_data, strip_tags
from records.topics import MAX_TOPICS, taxonomy


@dataclass(frozen=True)
class Topics:
    topics: list[str] = field(default_factory=list)
    unparsed: str | None = None
    unmapped: tuple[str, ...] = ()  # categories the mapping does not know

    def as_json(self) -> dict:
        out: dict = {"topics": list(self.topics) if self.topics else None}
        if self.unparsed:
            out["unparsed"] = self.unparsed
        return out


def vocabulary() -> frozenset[str]:
    return frozenset(taxonomy())


@lru_cache(maxsize=1)
def _rules() -> tuple[int, list[tuple[str, re.Pattern]]]:
    data = load_data("topic_rules.json")
    compiled = []
    for slug, keywords in data["rules"].items():
        parts = [re.escape(k.strip()) + (r"(?![a-z])" if k.endswith(" ") else "") for k in keywords]
        compiled.append((slug, re.compile(r"(?<![a-z])(?:" + "|".join(parts) + ")")))
    return data["min_score"], compiled


def _with_parents(slugs: list[str]) -> list[str]:
    """Parents before children, no duplicates, at most MAX_TOPICS (specific ones win)."""
    tree = taxonomy()
    chosen: list[str] = []
    for slug in slugs:
        parent = tree[slug]["parent"]
        wanted = [s for s in (parent, slug) if s and s not in chosen]
        if len(chosen) + len(wanted) > MAX_TOPICS:
            wanted = [s for s in wanted if s == slug]
        if len(chosen) + len(wanted) > MAX_TOPICS:
            break
        chosen.extend(wanted)
    ordered = [s for s in tree if s in chosen]  # taxonomy order: parents first
    return ordered


def topics_from_categories(categories, platform: str | None = None) -> Topics:
    """Topics of a platform's own categories; the platform's mapping is tried first."""
    mappings = load_data("topic_categories.json")
    order = ([platform] if platform in mappings else []) + [p for p in mappings if p != platform]
    slugs: list[str] = []
    unmapped = []
    for category in categories or []:
        if not isinstance(category, str) or not category.strip():
            continue
        key = fold(category)
        for name in order:
            if key in mappings[name]:
                slugs.extend(s for s in mappings[name][key] if s not in slugs)
                break
        else:
            unmapped.append(category)
    if not slugs:
        return Topics(unparsed="no mapped category", unmapped=tuple(unmapped))
    return Topics(topics=_with_parents(slugs), unmapped=tuple(unmapped))


def topics_from_text(title: str | None, description: str | None = None) -> Topics:
    """Topics read from a course's title and description by the keyword rules."""
    return _text_cached(fold(strip_tags(title or "")), fold(strip_tags(description or ""))[:5000])


@lru_cache(maxsize=4096)
def _text_cached(title: str, description: str) -> Topics:
    min_score, rules = _rules()
    scores = []
    for index, (slug, pattern) in enumerate(rules):
        score = 3 * len(pattern.findall(title)) + len(pattern.findall(description))
        if score >= min_score:
            scores.append((-score, index, slug))
    if not scores:
        return Topics(unparsed="no topic recognised")
    return Topics(topics=_with_parents([slug for _s, _i, slug in sorted(scores)]))


def course_topics(
    categories=None, title: str | None = None, description: str | None = None, platform=None
) -> Topics:
    """Categories when they map, else the title and description."""
    mapped = topics_from_categories(categories, platform)
    if mapped.topics:
        return mapped
    found = topics_from_text(title, description)
    return Topics(topics=found.topics, unparsed=found.unparsed, unmapped=mapped.unmapped)
