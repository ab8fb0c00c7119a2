"""Ratings, rating counts and enrolment counts as the platform states them, read as numbers.

Platforms state them as numbers (``4.6``, ``5123``) or texts (``"4,6"``, ``"34 211
participants"``, ``"1,2 k inscrits"``). A rating keeps the scale it is given on
(``rating_scale``: schema.org's ``bestRating``, 5 when not stated, as schema.org
defines); the catalogue shows it on /5. A stated value that cannot be read is counted
under ``moisson/fields/lost/<field>/<reason>`` (``pipelines.common.lost``) and left out.
"""

from __future__ import annotations

import re
from typing import Any

from pipelines.common import lost
from storage.ratings import DEFAULT_SCALE

_DECIMAL = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*(?:(?:/|sur|out of)\s*(\d+(?:[.,]\d+)?))?")
# a count: digits grouped by thousands (space, no-break spaces, comma, dot, apostrophe),
# or plain digits, optionally followed by k (thousands) or M (millions)
_COUNT = re.compile(
    r"(\d{1,3}(?:[ \u00a0\u202f,.'’]\d{3})+|\d+(?:[.,]\d+)?)\s*([kKmM](?![a-zà-ÿ]))?",
)
_SEPARATORS = re.compile(r"[ \u00a0\u202f,.'’]")


def _stated(value: Any) -> bool:
    return value is not None and value != "" and not isinstance(value, bool)


def read_decimal(value: Any) -> tuple[float | None, float | None]:
    """``(value, scale stated with it)``: ``"4,5/5"`` → ``(4.5, 5.0)``; unreadable → None."""
    if isinstance(value, bool):
        return None, None
    if isinstance(value, int | float):
        return float(value), None
    match = _DECIMAL.match(str(value))
    if not match:
        return None, None
    number = float(match.group(1).replace(",", "."))
    scale = float(match.group(2).replace(",", ".")) if match.group(2) else None
    return number, scale


def read_count(value: Any) -> int | None:
    """A count: ``5123``, ``"34 211 participants"``, ``"32,474 students"``, ``"1,2 k"``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    match = _COUNT.search(str(value))
    if not match:
        return None
    digits, unit = match.groups()
    if unit:
        number = float(digits.replace(",", ".").replace(" ", ""))
        return int(round(number * (1_000 if unit in "kK" else 1_000_000)))
    if re.fullmatch(r"\d+[.,]\d{1,2}", digits):  # "12.5" is no count
        return None
    return int(_SEPARATORS.sub("", digits))


def rating_fields(item, crawler) -> dict[str, Any]:
    """The CourseRecord's rating, rating_scale, rating_count and enrolments of ``item``."""
    out: dict[str, Any] = {}
    if _stated(item.get("rating")):
        value, scale_in_text = read_decimal(item["rating"])
        scale = scale_in_text
        if _stated(item.get("rating_scale")):
            scale, _ = read_decimal(item["rating_scale"])
        elif scale is None:
            scale = DEFAULT_SCALE
        if value is None:
            lost(crawler, "rating", "unparsed")
        elif not scale or scale <= 0:
            lost(crawler, "rating", "unknown_scale")
        elif not 0 <= value <= scale:
            lost(crawler, "rating", "out_of_scale")
        else:
            out["rating"], out["rating_scale"] = value, scale
    for name in ("rating_count", "enrolments"):
        if _stated(item.get(name)):
            count = read_count(item[name])
            if count is None or count < 0:
                lost(crawler, name, "unparsed")
            else:
                out[name] = count
    return out
