"""Qualification level: the diploma a training requires (entry) or leads to (exit).

Not a difficulty: a CAP-level training is not a beginners' course. Platforms that state
it (LHEO's ``code-niveau-entree`` / ``code-niveau-sortie``, as codes or their labels) are
read on their own scale first, then on generic wordings (« niveau 3 », « CAP », « bac+2 »);
the ids are the European framework's levels 1-8 and ``sans_niveau``. The scales, words
and labels are data (``pipelines/data/qualification_levels.json``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from pipelines.normalise.text import fold, load_data, strip_tags


@dataclass(frozen=True)
class Qualification:
    level: str | None = None
    unparsed: str | None = None  # why a stated value gave no level
    unstated: bool = False  # the platform's own "not communicated"


@lru_cache(maxsize=1)
def _data() -> dict:
    data = load_data("qualification_levels.json")
    words = sorted(data["words"], key=len, reverse=True)
    data["pattern"] = re.compile(
        r"(?<![\w+-])(" + "|".join(re.escape(w) for w in words) + r")(?![\w+-])"
    )
    return data


def qualification_label(level: str | None) -> str | None:
    """How the portal shows a qualification id: « CAP / niveau 3 »."""
    return _data()["labels"].get(level) if level else None


def platform_code(level: str | None, platform: str) -> str | None:
    """A qualification id on a platform's own numeric scale (the first code read as it):
    ``platform_code("3", "lheo")`` → ``"4"`` (niveau V). None when the scale has none."""
    for code, read_as in _data()["scales"][platform].items():
        if code.isdigit() and level is not None and read_as == level:
            return code
    return None


def parse_qualification(text, platform: str | None = None) -> Qualification:
    """The qualification level ``text`` states (a code, a label or a phrase); never raises."""
    if text is None or not str(text).strip():
        return Qualification(unparsed="empty")
    data = _data()
    folded = fold(strip_tags(str(text)))
    scale = data["scales"].get(platform or "", {})
    if folded in scale:
        level = scale[folded]
        return Qualification(level=level, unstated=level is None)
    found = {data["words"][m.group(1)] for m in data["pattern"].finditer(folded)}
    if len(found) == 1:
        return Qualification(level=found.pop())
    if found:
        return Qualification(unparsed=f"several levels: {sorted(found)}")
    return Qualification(unparsed="no qualification level found")
