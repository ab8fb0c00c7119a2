"""How long a course lasts and how much work it asks, from the platform's words.

``parse_duration``: « 6 semaines », « 5 à 7 semaines », « entre 20 et 25 heures »,
« dix-sept semaines », « 12h30 », « 6 semaines (24 h) »
→ ranges in weeks and in hours. ``parse_effort``: « 2 à 3 heures par semaine », « 3 h/sem »,
« 30 min par jour » → hours per week; a total (« 21 heures », FUN-MOOC's effort field)
is divided by the course's length in weeks when it is known. Units are data
(``pipelines/data/durations.json``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from pipelines.normalise.text import (
    fold,
    load_data,
    number_pattern,
    plain_number,
    spelled_numbers_as_digits,
    to_number,
)

Range = tuple[float, float]


@dataclass(frozen=True)
class Duration:
    weeks: Range | None = None
    hours: Range | None = None
    unparsed: str | None = None

    def as_json(self) -> dict:
        out = {"weeks": _json_range(self.weeks), "hours": _json_range(self.hours)}
        if self.unparsed:
            out["unparsed"] = self.unparsed
        return out


@dataclass(frozen=True)
class Effort:
    hours_per_week: Range | None = None
    total_hours: Range | None = None  # a total stated instead of a weekly effort
    unparsed: str | None = None

    def as_json(self) -> dict:
        out = {"hours_per_week": _json_range(self.hours_per_week)}
        if self.total_hours is not None:
            out["total_hours"] = _json_range(self.total_hours)
        if self.unparsed:
            out["unparsed"] = self.unparsed
        return out


def _json_range(value: Range | None):
    return None if value is None else [plain_number(value[0]), plain_number(value[1])]


def _alternation(words) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


@lru_cache(maxsize=1)
def _patterns() -> dict[str, re.Pattern]:
    data = load_data("durations.json")
    units = _alternation(list(data["week_units"]) + list(data["hour_units"]))
    periods = _alternation(data["per_period"])
    number = number_pattern()
    # « 5 à 7 », « 5-7 », « entre 20 et 25 », « between 4 and 6 », « de 3 à 4 »
    # the low bound may carry the unit too: « entre 20h et 25h », « de 4 semaines à 6 semaines »
    low_unit = rf"(?:\s*(?P<low_unit>{units})(?![a-z])\.?)?"
    between = rf"(?:entre|between)\s+(?P<low_between>{number}){low_unit}\s*(?:et|and|a|-)\s*"
    amount = (
        rf"(?:{between}(?P<high_between>{number})"
        rf"|(?P<low>{number})(?:{low_unit.replace('low_unit', 'low_unit2')}"
        rf"\s*(?:a|-|ou|to|/)\s*(?P<high>{number}))?)"
    )
    bare_amount = (
        rf"(?:(?:entre|between)\s+(?P<low_between>{number})\s*(?:et|and|a|-)\s*"
        rf"(?P<high_between>{number})|(?P<low>{number})(?:\s*(?:a|-|ou|to|/)\s*(?P<high>{number}))?)"
    )
    return {
        # 12h30, 1h 30min, 1 h 30: hours and minutes in one amount
        "clock": re.compile(
            r"(?<![\d.,])(?P<hours>\d{1,3})\s*h(?:eures?)?\s*(?P<minutes>[0-5]\d)"
            r"\s*(?:min(?:utes?)?|mn)?(?![\d])"
        ),
        "amount": re.compile(rf"(?<![\w.,]){amount}\s*(?P<unit>{units})(?![a-z])\.?"),
        "per": re.compile(
            rf"^(?:\s+d(?:e |')\s*[a-z]+)?"  # "6 heures de cours par semaine"
            rf"\s*(?:(?:par|per|a la|/|an?|each|every|chaque)\s*(?P<period>{periods})"
            rf"|(?P<adjective>{periods}))(?![a-z])"
        ),
        "bare": re.compile(rf"^\s*{bare_amount}\s*$"),
        "weekly": re.compile(rf"(?<![a-z])(?:{_alternation(data['weekly_words'])})(?![a-z])"),
        # ISO 8601, as schema.org's timeRequired and courseWorkload carry it: P6W, PT20H
        "iso": re.compile(
            r"^p(?:(?P<y>\d+(?:[.,]\d+)?)y)?(?:(?P<mo>\d+(?:[.,]\d+)?)m)?(?:(?P<w>\d+(?:[.,]\d+)?)w)?"
            r"(?:(?P<d>\d+(?:[.,]\d+)?)d)?(?:t(?:(?P<h>\d+(?:[.,]\d+)?)h)?"
            r"(?:(?P<mi>\d+(?:[.,]\d+)?)m)?(?:(?P<s>\d+(?:[.,]\d+)?)s)?)?$"
        ),
    }


def _iso_duration(folded: str) -> tuple[float | None, float | None] | None:
    """Weeks and hours of an ISO 8601 duration (``P6W``, ``PT1H30M``), or None."""
    m = _patterns()["iso"].match(folded)
    if not m or folded in ("p", "pt") or not any(m.groupdict().values()):
        return None
    part = {k: float(v.replace(",", ".")) if v else 0.0 for k, v in m.groupdict().items()}
    weeks = part["y"] * 52 + part["mo"] * 52 / 12 + part["w"] + part["d"] / 7
    hours = part["h"] + part["mi"] / 60 + part["s"] / 3600
    return (weeks or None, hours or None)


def _amounts(folded: str):
    """Each stated amount: (low, high, kind "weeks"/"hours", per-week factor or None)."""
    patterns = _patterns()
    found = []
    taken: list[tuple[int, int]] = []
    for m in patterns["clock"].finditer(folded):
        value = int(m.group("hours")) + int(m.group("minutes")) / 60
        found.append((m.start(), value, value, "hours", _per(folded[m.end() :])))
        taken.append((m.start(), m.end()))
    for m in patterns["amount"].finditer(folded):
        if any(a <= m.start() < b for a, b in taken):
            continue
        low, high = _bounds(m)
        if low is None or high is None:
            continue
        factor, kind = _unit(m.group("unit"))
        per = _per(folded[m.end() :])
        low_unit = m.groupdict().get("low_unit") or m.groupdict().get("low_unit2")
        if low_unit and _unit(low_unit)[1] != kind:  # « 6 semaines / 24 h »: two amounts
            low_factor, low_kind = _unit(low_unit)
            found.append((m.start(), low * low_factor, low * low_factor, low_kind, None))
            low = high
        elif low_unit:
            low = low * _unit(low_unit)[0] / factor
        found.append((m.start() + 0.5, low * factor, high * factor, kind, per))
    found.sort()
    return [entry[1:] for entry in found]


def _unit(unit: str) -> tuple[float, str]:
    """A unit's factor to weeks or hours, and which of the two."""
    data = load_data("durations.json")
    if unit in data["week_units"]:
        return data["week_units"][unit], "weeks"
    return data["hour_units"][unit], "hours"


def _bounds(m: re.Match) -> tuple[float | None, float | None]:
    """The low and high numbers of an amount, « entre X et Y » or « X à Y » or « X »."""
    low = m.group("low_between") or m.group("low")
    high = m.group("high_between") or m.group("high") or low
    return to_number(low), to_number(high)


def _per(rest: str) -> float | None:
    m = _patterns()["per"].match(rest)
    if not m:
        return None
    period = m.group("period") or m.group("adjective")
    return load_data("durations.json")["per_period"][period]


def _ordered(low: float, high: float) -> Range:
    return (min(low, high), max(low, high))


def parse_duration(text, platform: str | None = None) -> Duration:
    """Weeks and hours ranges stated by ``text``; never raises."""
    if text is None or not str(text).strip():
        return Duration(unparsed="empty")
    return _duration_cached(spelled_numbers_as_digits(fold(str(text))[:300]), platform)


@lru_cache(maxsize=16384)
def _duration_cached(folded: str, platform: str | None) -> Duration:
    iso = _iso_duration(folded)
    if iso is not None:
        weeks, hours = iso
        if not weeks and not hours:
            return Duration(unparsed="zero duration")
        return Duration(
            weeks=(weeks, weeks) if weeks else None, hours=(hours, hours) if hours else None
        )
    bare = _patterns()["bare"].match(folded)
    if bare:
        unit = load_data("durations.json")["platform_units"].get(platform or "")
        low, high = _bounds(bare)
        if low is not None and high is not None and unit in ("weeks", "hours"):
            return Duration(**{unit: _ordered(low, high)})
        return Duration(unparsed="number without a unit")
    weeks = hours = None
    for low, high, kind, per in _amounts(folded):
        if per is not None:
            continue  # "2 h par semaine" is an effort, not a length
        if kind == "weeks" and weeks is None:
            weeks = _ordered(low, high)
        elif kind == "hours" and hours is None:
            hours = _ordered(low, high)
    if weeks is None and hours is None:
        return Duration(unparsed="no duration found")
    return Duration(weeks=weeks, hours=hours)


def parse_effort(text, weeks: Range | None = None, platform: str | None = None) -> Effort:
    """Hours per week stated by ``text``, or derived from a total over ``weeks``."""
    if text is None or not str(text).strip():
        return Effort(unparsed="empty")
    return _effort_cached(spelled_numbers_as_digits(fold(str(text))[:300]), weeks, platform)


@lru_cache(maxsize=16384)
def _effort_cached(folded: str, weeks: Range | None, platform: str | None) -> Effort:
    iso = _iso_duration(folded)
    if iso is not None:  # an ISO workload is a total: "PT3H"
        folded = f"{iso[1]} heures" if iso[1] else ""
    bare = _patterns()["bare"].match(folded)
    if bare:
        unit = load_data("durations.json")["platform_effort_units"].get(platform or "")
        low, high = _bounds(bare)
        if unit == "hours_per_week" and low is not None and high is not None:
            return Effort(hours_per_week=_ordered(low, high))
        return Effort(unparsed="number without a unit")
    total = None
    for low, high, kind, per in _amounts(folded):
        if kind != "hours":
            continue
        if per is not None:
            return Effort(hours_per_week=_ordered(low * per, high * per))
        if total is None:
            total = _ordered(low, high)
    if total is None:
        return Effort(unparsed="no effort found")
    if _patterns()["weekly"].search(folded):  # « investissement hebdomadaire de 2 à 4 h »
        return Effort(hours_per_week=total)
    if weeks and weeks[0] > 0 and weeks[1] > 0:
        per_week = _ordered(total[0] / weeks[1], total[1] / weeks[0])
        return Effort(hours_per_week=per_week, total_hours=total)
    return Effort(total_hours=total)
