"""A course's level on Moisson's scale: debutant, intermediaire, avance, tous_niveaux.

Platforms use their own scales (OpenClassrooms Facile/Moyenne/Difficile, edX
Introductory/Intermediate/Advanced, Udemy's levels; LHEO's ``dict-niveaux`` codes are
qualification levels, read by ``pipelines/normalise/qualification.py``):
the platform's scale is read first, then generic French and English wordings. Several
levels in one text (edX lists ``Introductory, Intermediate``) mean the course can be
started at the lowest one; all three mean every level. The wordings are data
(``pipelines/data/levels.json``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from pipelines.normalise.text import fold, load_data, strip_tags

LEVELS = ("debutant", "intermediaire", "avance", "tous_niveaux")
_ORDER = {"debutant": 0, "intermediaire": 1, "avance": 2}


@dataclass(frozen=True)
class Level:
    level: str | None = None
    unparsed: str | None = None

    def as_json(self) -> dict:
        out = {"level": self.level}
        if self.unparsed:
            out["unparsed"] = self.unparsed
        return out


@lru_cache(maxsize=1)
def _patterns() -> dict:
    data = load_data("levels.json")
    words = sorted(data["words"], key=len, reverse=True)
    prefixes = "|".join(re.escape(p) for p in data["prefixes"])
    cues = {
        level: re.compile("|".join(re.escape(c) for c in phrases))
        for level, phrases in data["cues"].items()
    }
    return {
        "words": re.compile(r"(?<![\w-])(" + "|".join(re.escape(w) for w in words) + r")(?![\w-])"),
        "prefix": re.compile(rf"^(?:{prefixes})\s*(?:de difficulte)?\s*[:\-]?\s*"),
        "noise": re.compile(r"[\[\]'\"«»“”‹›]"),  # quoted labels: niveau « Approfondi »
        "cues": cues,
    }


def _combine(levels: set[str]) -> str:
    if "tous_niveaux" in levels or {"debutant", "avance"} <= levels:
        return "tous_niveaux"
    return min(levels, key=_ORDER.__getitem__)


def parse_level(text, platform: str | None = None) -> Level:
    """The level stated by ``text`` (a label, a code, or a sentence); never raises."""
    if text is None or not str(text).strip():
        return Level(unparsed="empty")
    return _level_cached(fold(str(text))[:300], platform)


@lru_cache(maxsize=4096)
def _level_cached(folded: str, platform: str | None) -> Level:
    data = load_data("levels.json")
    patterns = _patterns()
    whole = patterns["noise"].sub("", folded).strip(" .:")
    label = patterns["prefix"].sub("", whole)
    scales = data["scales"]
    own = [scales[platform]] if platform in scales else []
    for scale, candidate in [(s, c) for s in own for c in (whole, label)] + [
        (s, c) for s in scales.values() for c in (whole, label) if not c.isdigit()
    ]:  # the platform's scale first; codes mean something only on their own scale
        if candidate in scale:
            value = scale[candidate]
            return Level(level=value) if value else Level(unparsed="level not stated")
    found = {data["words"][m.group(1)] for m in patterns["words"].finditer(label)}
    if not found:
        return Level(unparsed="no level found")
    return Level(level=_combine(found))


def infer_level(title: str | None, description: str | None) -> Level:
    """The audience a course describes (« sans prérequis », « Introduction à »), if any."""
    text = fold(strip_tags(f"{title or ''} . {description or ''}"))
    found = {level for level, cue in _patterns()["cues"].items() if cue.search(text)}
    if not found:
        return Level(unparsed="no audience stated")
    if found - {"debutant"}:  # a stated prerequisite outweighs "Introduction à"
        found.discard("debutant")
    return Level(level=_combine(found))
