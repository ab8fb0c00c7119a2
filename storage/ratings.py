"""A course's rating, rating count and enrolments, combined from its listings.

Each listing keeps its rating on the scale its platform gives (``rating``,
``rating_scale``, ``rating_count`` in its record); the course's rating is on /5: the
listings' ratings brought to /5 and averaged, each weighted by its count of ratings (a
listing that gives no count weighs one). The course's rating count and enrolments are the
sums of what its listings state. Only visible listings count, unless none is visible.
"""

from __future__ import annotations

MIN_RATINGS = 20
"""A course is "best rated" (``sort=rating``) among those with at least this many ratings:
a 5/5 from two learners says less than 4.6/5 from three hundred. The index that holds the
order (``ix_course_best_rated``, migration 0012) is built with this number: change both."""
DEFAULT_SCALE = 5.0  # schema.org AggregateRating: "If bestRating is omitted, 5 is assumed"


def on_five(value: float | None, scale: float | None) -> float | None:
    """A rating brought to /5, rounded to the hundredth."""
    if value is None:
        return None
    return round(value / (scale or DEFAULT_SCALE) * 5, 2)


def _sum(values: list) -> int | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def combined(records: list[dict]) -> dict:
    """``rating`` (/5), ``rating_count`` and ``enrolments`` of a course's listing records."""
    rated = [r for r in records if r.get("rating") is not None]
    weights = [r.get("rating_count") or 1 for r in rated]
    rating = None
    if rated:
        total = sum(
            on_five(r["rating"], r.get("rating_scale")) * w
            for r, w in zip(rated, weights, strict=True)
        )
        rating = round(total / sum(weights), 2)
    return {
        "rating": rating,
        "rating_count": _sum([r.get("rating_count") for r in rated]),
        "enrolments": _sum([r.get("enrolments") for r in records]),
    }
