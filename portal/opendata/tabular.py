"""CSV, one course per row, described by a Frictionless Data Package (``datapackage.json``).

``FIELDS`` is the one definition of the columns: the CSV's header and cells and the Table
Schema's fields (type, description) all come from it. Text from the platforms is written
as plain text, and a cell a spreadsheet would read as a formula (starting with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return) is neutralised with a leading ``'``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from portal import formatting
from portal.formatting import NOT_PRINTABLE
from portal.opendata import Export, source_pages, terms

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FORMULA_FIRST = frozenset(FORMULA_STARTS)  # each start is one character
LIST_SEPARATOR = " | "
CSV_NAME = "courses.csv"


@dataclass(frozen=True)
class Field:
    name: str
    type: str  # a Table Schema type
    description: str
    value: Callable[[dict, Export], Any]


def _utc(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def _joined(values: Iterable[str]) -> str:
    return LIST_SEPARATOR.join(values)


def _next(course: dict, key: str):
    session = course["next_session"]
    return session[key] if session else None


FIELDS = (
    Field("id", "integer", "the course's id in Moisson", lambda c, e: c["id"]),
    Field("url", "string", "the course's page on the portal", lambda c, e: e.course_url(c["id"])),
    Field("title", "string", "the title", lambda c, e: c["title"]),
    Field(
        "description",
        "string",
        "the description as plain text, as its platform states it",
        lambda c, e: formatting.plain_text(c["description"]),
    ),
    Field("language", "string", "ISO 639-1 code of the language", lambda c, e: c["language"]),
    Field(
        "level",
        "string",
        "difficulty: debutant, intermediaire, avance, tous_niveaux",
        lambda c, e: c["level"],
    ),
    Field(
        "qualification_exit",
        "string",
        "qualification level reached: sans_niveau or a European framework level 1 to 8",
        lambda c, e: c["qualification"]["exit"],
    ),
    Field(
        "duration_weeks_min",
        "number",
        "shortest stated duration, weeks",
        lambda c, e: c["duration"]["weeks_min"],
    ),
    Field(
        "duration_weeks_max",
        "number",
        "longest stated duration, weeks",
        lambda c, e: c["duration"]["weeks_max"],
    ),
    Field(
        "duration_hours_min",
        "number",
        "shortest stated duration, hours",
        lambda c, e: c["duration"]["hours_min"],
    ),
    Field(
        "duration_hours_max",
        "number",
        "longest stated duration, hours",
        lambda c, e: c["duration"]["hours_max"],
    ),
    Field(
        "effort_hours_per_week_min",
        "number",
        "least stated weekly effort, hours",
        lambda c, e: c["effort"]["hours_per_week_min"],
    ),
    Field(
        "effort_hours_per_week_max",
        "number",
        "most stated weekly effort, hours",
        lambda c, e: c["effort"]["hours_per_week_max"],
    ),
    Field("free", "boolean", "the course can be taken for free", lambda c, e: c["free"]),
    Field("price", "number", "price of the course", lambda c, e: c["price"]["amount"]),
    Field(
        "currency", "string", "ISO 4217 currency of the price", lambda c, e: c["price"]["currency"]
    ),
    Field(
        "certificate",
        "string",
        "none, attestation, certificate or diploma",
        lambda c, e: c["certificate"]["kind"],
    ),
    Field(
        "rating",
        "number",
        "rating out of 5, its platforms' combined",
        lambda c, e: c["rating"]["value_5"],
    ),
    Field("rating_count", "integer", "number of ratings", lambda c, e: c["rating"]["count"]),
    Field(
        "organisations",
        "string",
        f"organisations, separated by '{LIST_SEPARATOR.strip()}'",
        lambda c, e: _joined(o["name"] for o in c["organisations"]),
    ),
    Field(
        "topics",
        "string",
        f"topics, separated by '{LIST_SEPARATOR.strip()}'",
        lambda c, e: _joined(t["label"] for t in c["topics"]),
    ),
    Field(
        "platforms",
        "string",
        "source platforms (Moisson's names), same separator",
        lambda c, e: _joined(p["platform"] for p in source_pages(c)),
    ),
    Field(
        "source_urls",
        "string",
        "the course's page on each source platform, same order",
        lambda c, e: _joined(p["url"] for p in source_pages(c)),
    ),
    Field(
        "next_session_start",
        "datetime",
        "start of the session a learner would join (UTC)",
        lambda c, e: _utc(_next(c, "start")),
    ),
    Field(
        "next_session_url",
        "string",
        "where to enrol in that session",
        lambda c, e: _next(c, "url"),
    ),
    *(
        Field(
            register,
            "string",
            f"{name} codes{note}, same separator",
            lambda c, e, register=register: _joined(c["codes"][register]),
        )
        for register, name, note in (
            ("rome", "ROME 4.0 job", " (from codes the platforms state)"),
            ("rncp", "RNCP qualification", " (without the RNCP prefix)"),
            ("rs", "Répertoire spécifique qualification", " (without the RS prefix)"),
            ("formacode", "Formacode training domain", ""),
            ("nsf", "NSF training domain", ""),
        )
    ),
    Field("sessions", "integer", "number of visible sessions", lambda c, e: len(c["sessions"])),
    Field("updated_at", "datetime", "last change (UTC)", lambda c, e: _utc(c["updated_at"])),
)


def cell(value) -> str:
    """One CSV cell: empty for None, ``true``/``false``, text made printable and inert.

    Dispatched on the exact type first (it runs for every cell of every row)."""
    if value is None:
        return ""
    kind = type(value)
    if kind is str:
        text = NOT_PRINTABLE.sub("", value)
        return "'" + text if text[:1] in FORMULA_FIRST else text
    if kind is bool:
        return "true" if value else "false"
    if kind is int or kind is float:
        return repr(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    text = formatting.printable(str(value))
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def write_csv(courses: Iterable[dict], export: Export) -> Iterator[str]:
    """The header, then one row per course (RFC 4180 quoting, CRLF line ends)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(f.name for f in FIELDS)
    values = tuple(f.value for f in FIELDS)
    for course in courses:
        writer.writerow([cell(value(course, export)) for value in values])
        if buffer.tell() > 65536:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def datapackage(export: Export, path: str = CSV_NAME) -> dict:
    """The Data Package describing the CSV at ``path``: schema, licence, sources."""
    t = terms()
    return {
        "name": "moisson-catalogue",
        "title": "Moisson : catalogue des cours en ligne en français",
        "description": t["attribution"],
        "created": _utc(export.generated_at),
        "homepage": export.base_url,
        "licenses": [
            {"name": t["licence"]["id"], "title": t["licence"]["name"], "path": t["licence"]["url"]}
        ],
        "sources": [
            {
                "title": "the platforms named in each row's platforms and source_urls",
                "path": export.base_url,
            }
        ],
        "resources": [
            {
                "name": "courses",
                "path": path,
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "schema": {
                    "fields": [
                        {"name": f.name, "type": f.type, "description": f.description}
                        for f in FIELDS
                    ],
                    "primaryKey": ["id"],
                },
            }
        ],
    }
