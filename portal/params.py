"""The search parameters shared by the API, the search page and the feeds.

An empty parameter means "any" (a search form sends every field), so ``DropEmptyParams``
removes them before validation; anything else invalid is a 422 that names the parameter.
What the catalogue cannot be asked is refused here, once, with the bound in the OpenAPI
document: text with control characters (PostgreSQL refuses a NUL byte), days outside
``SUPPORTED_DATE_RANGE``, ids beyond a 64-bit integer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Annotated
from urllib.parse import parse_qsl, urlencode

from fastapi import Path, Query
from fastapi.exceptions import RequestValidationError
from pydantic import AfterValidator, BeforeValidator
from pydantic_core import PydanticCustomError

from portal.formatting import PARIS
from portal.schemas import Level, Sort, State
from storage.dates import SUPPORTED_DATE_RANGE
from storage.search import CourseFilters

MAX_PER_PAGE = 100
MAX_PAGE = 1000
MAX_QUERY_LENGTH = 200
MAX_ID = 2**63 - 1  # ids are 64-bit integers on every backend
# text a visitor may send: no C0 control character but tab, line feed and carriage return
PRINTABLE = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f]*$"
FIRST_DAY, LAST_DAY = SUPPORTED_DATE_RANGE
# the one rule across parameters, which an OpenAPI document cannot state
DATE_ORDER = "starts_before is earlier than starts_after"


def _iso_day(value):
    """Only ``YYYY-MM-DD``: pydantic alone would also read ``0.0`` as a Unix time."""
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        raise PydanticCustomError("date_format", "Date should be YYYY-MM-DD")
    return value


def _supported_day(day: date) -> date:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise PydanticCustomError(
            "date_out_of_range",
            "Date should be between {first} and {last}",
            {"first": FIRST_DAY.isoformat(), "last": LAST_DAY.isoformat()},
        )
    return day


def text_query(max_length: int, description: str):
    """A text query parameter: bounded, printable."""
    return Query(max_length=max_length, pattern=PRINTABLE, description=description)


Day = Annotated[date, BeforeValidator(_iso_day), AfterValidator(_supported_day)]
DAY_RANGE = f"from {FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()}"
# the same range for the OpenAPI document, whose date format has no bounds (a test checks
# it agrees with SUPPORTED_DATE_RANGE)
DAY_PATTERN = r"^(19[0-9]{2}|2[0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"


def day_query(description: str):
    return Query(
        description=f"{description}, {DAY_RANGE}", json_schema_extra={"pattern": DAY_PATTERN}
    )


CourseId = Annotated[int, Path(ge=1, le=MAX_ID, description="a course id")]


BLANKS = " \t\r\n"


class DropEmptyParams:
    """ASGI middleware: ``?state=&q=python`` is read as ``?q=python``."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope.get("query_string"):
            pairs = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
            # blanks only: str.strip() would also take \x1c-\x1f, which are refused
            kept = [(k, v) for k, v in pairs if v.strip(BLANKS) != ""]
            if len(kept) != len(pairs):
                scope = dict(scope, query_string=urlencode(kept).encode("latin-1"))
        await self.app(scope, receive, send)


@dataclass
class SearchParams:
    filters: CourseFilters
    sort: Sort | None
    page: int
    per_page: int

    def query(self, **changes) -> str:
        """This search as a query string, with some parameters changed (None removes)."""
        f = self.filters
        values = {
            "q": f.q,
            "state": f.state,
            "starts_after": self._day(f.starts_after),
            "starts_before": self._day(f.starts_before),
            "level": f.level,
            "topic": f.topic,
            "platform": f.platform,
            "organisation": f.organisation,
            "free": _bool(f.free),
            "certificate": _bool(f.certificate),
            "max_weeks": f.max_weeks,
            "max_hours_per_week": f.max_hours_per_week,
            "sort": self.sort,
            "page": self.page if self.page != 1 else None,
            "per_page": self.per_page if self.per_page != 20 else None,
        }
        values.update(changes)
        return urlencode({k: v for k, v in values.items() if v is not None})

    @staticmethod
    def _day(moment: datetime | None) -> str | None:
        return moment.astimezone(PARIS).date().isoformat() if moment else None


def _bool(value: bool | None) -> str | None:
    return None if value is None else str(value).lower()


def search_params(
    q: Annotated[
        str | None,
        text_query(MAX_QUERY_LENGTH, "words to find in French, accents and plurals ignored"),
    ] = None,
    state: Annotated[
        State | None, Query(description="courses with a session in this state")
    ] = None,
    starts_after: Annotated[
        Day | None, day_query("a session starts on or after this day (Paris)")
    ] = None,
    starts_before: Annotated[
        Day | None, day_query("the same session starts on or before this day")
    ] = None,
    level: Level | None = None,
    topic: Annotated[str | None, text_query(100, "a topic slug")] = None,
    platform: Annotated[str | None, text_query(80, "a platform name")] = None,
    organisation: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="an organisation id")
    ] = None,
    free: bool | None = None,
    certificate: Annotated[
        bool | None, Query(description="true: some certificate or attestation exists")
    ] = None,
    max_weeks: Annotated[float | None, Query(gt=0, le=520)] = None,
    max_hours_per_week: Annotated[float | None, Query(gt=0, le=168)] = None,
    sort: Annotated[
        Sort | None, Query(description="default: relevance with q, start without")
    ] = None,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE)] = 20,
) -> SearchParams:
    if starts_after and starts_before and starts_after > starts_before:
        raise RequestValidationError(
            [
                {
                    "type": "value_error",
                    "loc": ("query", "starts_before"),
                    "msg": DATE_ORDER,
                    "input": starts_before.isoformat(),
                }
            ]
        )
    filters = CourseFilters(
        q=q,
        state=state,
        starts_after=_paris_midnight(starts_after) if starts_after else None,
        starts_before=(
            _paris_midnight(starts_before + timedelta(days=1)) - timedelta(microseconds=1)
            if starts_before
            else None
        ),
        level=level,
        topic=topic,
        platform=platform,
        organisation=organisation,
        free=free,
        certificate=certificate,
        max_weeks=max_weeks,
        max_hours_per_week=max_hours_per_week,
    )
    return SearchParams(filters=filters, sort=sort, page=page, per_page=per_page)


def _paris_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=PARIS)


def search_from_query(query: str) -> SearchParams:
    """A search kept as its query string (an alert's), read by the same rules as a request's;
    ``RequestValidationError`` naming the parameter when they no longer accept it."""
    from fastapi.dependencies.utils import get_dependant, request_params_to_args
    from starlette.datastructures import QueryParams

    pairs = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if v.strip(BLANKS)]
    fields = get_dependant(path="", call=search_params).query_params
    values, errors = request_params_to_args(fields, QueryParams(pairs))
    if errors:
        raise RequestValidationError(errors)
    return search_params(**values)
