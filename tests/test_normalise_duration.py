"""Duration and effort: examples, derivation from a total, bad input, invariants."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.normalise.duration import parse_duration, parse_effort


@pytest.mark.parametrize(
    ("text", "weeks", "hours"),
    [
        ("5 à 7 semaines", [5, 7], None),
        ("12h30", None, [12.5, 12.5]),
        ("6 semaines", [6, 6], None),
        ("deux semaines", [2, 2], None),
        ("6 semaines (24 heures)", [6, 6], [24, 24]),
        ("1h 30min", None, [1.5, 1.5]),
        ("90 minutes", None, [1.5, 1.5]),
        ("3 mois", [13, 13], None),
        ("from four to eight weeks", [4, 8], None),
        ("8 semaines, 2 h par semaine", [8, 8], None),
    ],
)
def test_duration_examples(text, weeks, hours):
    assert parse_duration(text).as_json() == {"weeks": weeks, "hours": hours}


@pytest.mark.parametrize(
    ("text", "weeks", "hours"),
    [("P6W", [6, 6], None), ("PT20H", None, [20, 20]), ("PT1H30M", None, [1.5, 1.5])],
)
def test_iso_8601_durations_of_schema_org(text, weeks, hours):
    assert parse_duration(text).as_json() == {"weeks": weeks, "hours": hours}


def test_iso_workload_is_a_total_effort():
    assert parse_effort("PT3H").total_hours == (3.0, 3.0)
    assert parse_effort("PT6H", (3.0, 3.0)).hours_per_week == (2.0, 2.0)
    assert parse_duration("PT0H").unparsed and parse_duration("P").unparsed


def test_a_bare_number_takes_the_platform_unit():
    assert parse_duration("4.0", "edx").weeks == (4.0, 4.0)
    assert parse_duration("697", "lheo").hours == (697.0, 697.0)
    assert parse_duration("4.0").unparsed == "number without a unit"


@pytest.mark.parametrize(
    ("text", "per_week"),
    [
        ("2 à 3 heures par semaine", [2, 3]),
        ("3 h/sem", [3, 3]),
        ("2-3 hours per week", [2, 3]),
        ("1h30 par semaine", [1.5, 1.5]),
        ("3 heures hebdomadaires", [3, 3]),
        ("6 heures de cours par semaine", [6, 6]),
        ("30 min par jour", [3.5, 3.5]),
    ],
)
def test_effort_examples(text, per_week):
    assert parse_effort(text).as_json() == {"hours_per_week": per_week}


def test_total_effort_is_divided_by_the_weeks():
    effort = parse_effort("21 heures", (7.0, 7.0))
    assert effort.hours_per_week == (3.0, 3.0)
    assert effort.total_hours == (21.0, 21.0)
    assert parse_effort("20 heures", (4.0, 5.0)).hours_per_week == (4.0, 5.0)
    alone = parse_effort("21 heures")
    assert alone.hours_per_week is None and alone.total_hours == (21.0, 21.0)
    assert not alone.unparsed


@pytest.mark.parametrize("text", [None, "", "  ", "bientôt", "quelques heures", "x" * 50_000, 7])
def test_bad_input_is_reported_not_raised(text):
    assert parse_duration(text).unparsed
    assert parse_duration(text).weeks is None
    assert parse_effort(text).unparsed
    assert parse_effort(text).hours_per_week is None


def _ordered(pair):
    return pair is None or (0 <= pair[0] <= pair[1])


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text(max_size=60),
        st.from_regex(
            r"[0-9]{1,3}([,.][0-9])? ?(à|-|ou) ?[0-9]{1,3} ?(semaines|h|heures|min|jours|mois)"
            r"( par semaine| par jour|/sem)?",
            fullmatch=True,
        ),
        st.from_regex(r"P([0-9]{1,2}[YMWD]){0,3}(T([0-9]{1,2}[HMS]){0,3})?", fullmatch=True),
    ),
    st.one_of(st.none(), st.tuples(st.floats(0, 60), st.floats(0, 60)).map(sorted).map(tuple)),
)
def test_never_raises_and_ranges_are_ordered(text, weeks):
    duration = parse_duration(text)
    effort = parse_effort(text, weeks)
    assert _ordered(duration.weeks) and _ordered(duration.hours)
    assert _ordered(effort.hours_per_week) and _ordered(effort.total_hours)
    assert bool(duration.unparsed) == (duration.weeks is None and duration.hours is None)
