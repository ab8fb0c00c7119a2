"""``moisson normalise FIELD TEXT``: one normaliser on one text, as one JSON object.

Exit 0 when the text was understood, 3 when it was not (the values are then null and
``unparsed`` says why). ``--today`` anchors texts without a year and relative dates.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

FIELDS = ("dates", "duration", "effort", "level", "topics", "price", "certificate", "language")
EXIT_UNDERSTOOD, EXIT_NOT_UNDERSTOOD = 0, 3


def today_in_paris() -> date:
    return datetime.now(ZoneInfo("Europe/Paris")).date()


def normalise_text(
    field: str,
    text: str,
    today: date | None = None,
    platform: str | None = None,
    description: str | None = None,
) -> dict:
    """The JSON object ``moisson normalise`` prints for ``field`` and ``text`` (topics and
    language also read the course's ``description`` when given)."""
    from pipelines.normalise.dates import parse_dates
    from pipelines.normalise.duration import parse_duration, parse_effort
    from pipelines.normalise.language import detect_language
    from pipelines.normalise.level import parse_level
    from pipelines.normalise.price import parse_certificate, parse_price
    from pipelines.normalise.topics import topics_from_text

    if field == "dates":
        return parse_dates(text, today or today_in_paris()).as_json()
    if field == "duration":
        return parse_duration(text, platform).as_json()
    if field == "effort":
        return parse_effort(text, platform=platform).as_json()
    if field == "level":
        return parse_level(text, platform).as_json()
    if field == "topics":
        return topics_from_text(text, description).as_json()
    if field == "price":
        return parse_price(text, platform).as_json()
    if field == "certificate":
        return parse_certificate(text).as_json()
    if field == "language":
        return detect_language(text, description).as_json()
    raise ValueError(f"unknown field {field!r}; known: {', '.join(FIELDS)}")


def exit_status(result: dict) -> int:
    return EXIT_NOT_UNDERSTOOD if result.get("unparsed") else EXIT_UNDERSTOOD
