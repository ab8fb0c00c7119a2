"""The search parameters shared by the API, the search page and the feeds.

The facet parameters (``state``, ``platform``, ``level``, …) are derived from the facet
table ``storage.readindex.FACETS``: one query parameter each, repeated to choose several
values where the facet allows it. An empty parameter means "any" (a search form sends
every field), so ``DropEmptyParams`` removes them before validation; anything else
invalid is a 422 that names the parameter. What the catalogue cannot be asked is refused
here, once, with the bound in the OpenAPI document: text with control characters
(PostgreSQL refuses a NUL byte), days outside ``SUPPORTED_DATE_RANGE``, ids beyond a
64-bit integer.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Annotated, Literal
from urllib.parse import parse_qsl, urlencode

from fastapi import Depends, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints
from pydantic_core import PydanticCustomError

from portal.formatting import PARIS
from portal.schemas import Sort
from storage.dates import SUPPORTED_DATE_RANGE
from storage.readindex import FACETS, Facet
from storage.search import SORTS, CourseFilters

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
    """Only ``YYYY-MM-DD``: pydantic alone would also read ``0.0`` as a Unix time. (The
    pages also take the French ``JJ/MM/AAAA``, turned into this by ``DropEmptyParams``.)"""
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        raise PydanticCustomError(
            "date_format", "Date should be YYYY-MM-DD (ISO 8601, the only format the API takes)"
        )
    return value


DATE_PARAMS = ("starts_after", "starts_before")
FRENCH_DAY = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})")
FRENCH_DAY_PATTERN = r"[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}|[0-9]{4}-[0-9]{2}-[0-9]{2}"  # the form's


def iso_from_french(text: str) -> str | None:
    """``15/09/2027`` → ``2027-09-15``; None when it is not a day of the calendar in that
    order (then the value is refused as it was typed)."""
    found = FRENCH_DAY.fullmatch(text.strip(BLANKS))
    if not found:
        return None
    day, month, year = (int(part) for part in found.groups())
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def french_day(moment: datetime | None) -> str:
    """A searched day as the form shows it: ``15/09/2027`` (Paris)."""
    return moment.astimezone(PARIS).strftime("%d/%m/%Y") if moment else ""


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
    """ASGI middleware: ``?state=&q=python`` is read as ``?q=python``; and outside the API
    a day typed the French way (``starts_after=15/09/2027``) is read as ``2027-09-15``. The
    API takes ISO days only, and says so when refusing another."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope.get("query_string"):
            pairs = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
            # blanks only: str.strip() would also take \x1c-\x1f, which are refused
            kept = [(k, v) for k, v in pairs if v.strip(BLANKS) != ""]
            if not scope.get("path", "").startswith("/api/"):
                kept = [(k, (iso_from_french(v) or v) if k in DATE_PARAMS else v) for k, v in kept]
            if kept != pairs:
                scope = dict(scope, query_string=urlencode(kept).encode("latin-1"))
        await self.app(scope, receive, send)


@dataclass
class SearchParams:
    filters: CourseFilters
    sort: Sort | None
    page: int
    per_page: int

    def query(self, **changes) -> str:
        """This search as a query string, with some parameters changed (None removes); a
        facet's choices are repeated parameters (``platform=edx&platform=fun_mooc``)."""
        f = self.filters
        values = {
            "q": f.q,
            **{facet.name: list(f.chosen(facet.name)) or None for facet in FACETS},
            "starts_after": self._day(f.starts_after),
            "starts_before": self._day(f.starts_before),
            "max_weeks": f.max_weeks,
            "max_hours_per_week": f.max_hours_per_week,
            "sort": self.sort,
            "page": self.page if self.page != 1 else None,
            "per_page": self.per_page if self.per_page != 20 else None,
        }
        values.update(changes)
        return urlencode({k: v for k, v in values.items() if v is not None}, doseq=True)

    @staticmethod
    def _day(moment: datetime | None) -> str | None:
        return moment.astimezone(PARIS).date().isoformat() if moment else None


def _facet_value_type(facet: Facet):
    """The type of one value of a facet's API parameter."""
    if facet.kind is bool:
        return bool
    if facet.kind is int:
        return Annotated[int, Field(ge=1, le=MAX_ID)]
    if facet.choices is not None:
        return Literal[facet.choices]
    if facet.pattern:  # the pattern says what one value is (empty: any, dropped before)
        return Annotated[str, StringConstraints(max_length=100, pattern=facet.pattern)]
    return Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=PRINTABLE)]


def facet_parameters() -> list[inspect.Parameter]:
    """One query parameter per facet of ``readindex.FACETS``: repeated (a list) where
    several values may be chosen, else one value."""
    out = []
    for facet in FACETS:
        one = _facet_value_type(facet)
        annotation = list[one] | None if facet.multiple else one | None
        description = facet.description + (" (repeat to choose several)" if facet.multiple else "")
        out.append(
            inspect.Parameter(
                facet.name,
                inspect.Parameter.KEYWORD_ONLY,
                default=None,
                annotation=Annotated[annotation, Query(description=description)],
            )
        )
    return out


def _search_params(
    q: Annotated[
        str | None,
        text_query(MAX_QUERY_LENGTH, "words to find in French, accents and plurals ignored"),
    ] = None,
    starts_after: Annotated[
        Day | None, day_query("a session starts on or after this day (Paris)")
    ] = None,
    starts_before: Annotated[
        Day | None, day_query("the same session starts on or before this day")
    ] = None,
    max_weeks: Annotated[float | None, Query(gt=0, le=520)] = None,
    max_hours_per_week: Annotated[float | None, Query(gt=0, le=168)] = None,
    sort: Annotated[
        Sort | None,
        Query(
            description="default: relevance with q, start without. "
            + "; ".join(f"{name}: {meaning}" for name, meaning in SORTS.items())
        ),
    ] = None,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE)] = 20,
    **chosen,
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
        starts_after=_paris_midnight(starts_after) if starts_after else None,
        starts_before=(
            _paris_midnight(starts_before + timedelta(days=1)) - timedelta(microseconds=1)
            if starts_before
            else None
        ),
        max_weeks=max_weeks,
        max_hours_per_week=max_hours_per_week,
        **chosen,
    )
    return SearchParams(filters=filters, sort=sort, page=page, per_page=per_page)


def refuse_repeats(request: Request | None, names) -> None:
    """A parameter among ``names`` that takes one value, given several times, is refused
    (422 naming it), not answered with its last value."""
    if request is None:  # a search read from a stored query string (search_from_query)
        return
    for name in names:
        given = request.query_params.getlist(name)
        if len(given) > 1:
            raise RequestValidationError(
                [
                    {
                        "type": "value_error",
                        "loc": ("query", name),
                        "msg": "this parameter takes one value",
                        "input": given,
                    }
                ]
            )


def single_valued(*names: str):
    """A dependency refusing ``names`` given more than once (``refuse_repeats``)."""

    def dependency(request: Request) -> None:
        refuse_repeats(request, names)

    return Depends(dependency)


def _refuse_repeats(request: Request | None) -> None:
    single = [p for p in search_params.__signature__.parameters if p != "request"]
    refuse_repeats(request, [name for name in single if name not in MULTIPLE])


MULTIPLE = frozenset(facet.name for facet in FACETS if facet.multiple)


def search_params(request: Request = None, **values) -> SearchParams:
    """The search parameters of a request (a FastAPI dependency): those of
    ``_search_params`` and one per facet (``facet_parameters``)."""
    _refuse_repeats(request)
    return _search_params(**values)


search_params.__signature__ = inspect.Signature(
    [
        inspect.Parameter("request", inspect.Parameter.KEYWORD_ONLY, annotation=Request),
        *(
            p.replace(kind=inspect.Parameter.KEYWORD_ONLY)
            for p in inspect.signature(_search_params, eval_str=True).parameters.values()
            if p.kind is not inspect.Parameter.VAR_KEYWORD
        ),
        *facet_parameters(),
    ],
    return_annotation=SearchParams,
)


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
