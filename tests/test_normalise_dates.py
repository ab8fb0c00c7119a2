"""The dates normaliser: the issue's examples, its conventions, bad input, invariants."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.normalise.dates import DATE_KEYS, PACES, parse_dates

TODAY = date(2025, 1, 10)


def dates(text, today=TODAY):
    return {k: v for k, v in parse_dates(text, today).as_json().items() if v is not None}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("du 3 mars au 12 avril 2025", {"start": "2025-03-03", "end": "2025-04-12"}),
        ("Début du cours : 15 septembre 2025", {"start": "2025-09-15"}),
        ("Inscriptions jusqu'au 1er octobre 2025", {"enrolment_end": "2025-10-01"}),
        ("Début : 15 sept.", {"start": "2025-09-15"}),
        ("du 3 au 12 avril 2025", {"start": "2025-04-03", "end": "2025-04-12"}),
        ("3-5 mars 2025", {"start": "2025-03-03", "end": "2025-03-05"}),
        ("15/09/2025 - 20/10/2025", {"start": "2025-09-15", "end": "2025-10-20"}),
        ("2026-11-02T08:00:00+00:00", {"start": "2026-11-02T08:00:00+00:00"}),
        ("le 3 mars 2025 à 14h30", {"start": "2025-03-03T14:30:00+01:00"}),
        ("March 3, 2025", {"start": "2025-03-03"}),
        (
            "Inscriptions du 1er au 30 septembre 2025, début du cours le 6 octobre 2025",
            {
                "enrolment_start": "2025-09-01",
                "enrolment_end": "2025-09-30",
                "start": "2025-10-06",
            },
        ),
    ],
)
def test_examples(text, expected):
    got = dates(text)
    got.pop("pace", None)
    assert got == expected


def test_paces():
    assert dates("À votre rythme") == {"pace": "self_paced"}
    assert dates("Cours ouvert en permanence") == {"pace": "always_open"}
    assert dates("du 3 mars au 12 avril 2025")["pace"] == "scheduled"
    assert "pace" not in dates("Inscriptions jusqu'au 1er octobre 2025")


def test_month_without_day_is_first_day_as_start_and_last_day_as_end():
    assert dates("de février à avril 2025") == {
        "start": "2025-02-01",
        "end": "2025-04-30",
        "pace": "scheduled",
    }
    assert dates("Fin : février 2028")["end"] == "2028-02-29"


def test_range_start_takes_the_year_of_its_end_or_the_year_before():
    assert dates("du 15 décembre au 12 janvier 2025")["start"] == "2024-12-15"
    assert dates("du 3 mars au 12 avril 2026")["start"] == "2026-03-03"


def test_date_without_year_is_the_next_occurrence_unless_past():
    assert dates("Début : 15 sept.", today=date(2025, 9, 20))["start"] == "2026-09-15"
    assert dates("Début : 15 sept.", today=date(2025, 9, 15))["start"] == "2025-09-15"
    assert dates("Le cours a eu lieu le 15 septembre", date(2025, 9, 20))["start"] == "2025-09-15"


def test_range_without_year_under_way_keeps_this_year():
    got = dates("du 3 novembre au 20 décembre", today=date(2026, 11, 15))
    assert (got["start"], got["end"]) == ("2026-11-03", "2026-12-20")


def test_relative_dates_go_through_dateparser():
    assert dates("dans 3 jours")["start"] == "2025-01-13"


def test_page_dates_are_not_session_dates():
    assert parse_dates("Mis à jour le 07/10/2017", TODAY).unparsed == "not a session date"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (None, "empty"),
        ("", "empty"),
        ("   ", "empty"),
        ("bientôt", "no date found"),
        ("6 semaines", "no date found"),
        ("31/02/2025", "invalid date"),
        ("00000000", "no date found"),
        ("du 12 avril 2025 au 3 mars 2025", "end before start"),
        ("x" * 100_000, "no date found"),
        (12345, "no date found"),
    ],
)
def test_bad_input_is_reported_not_raised(text, reason):
    result = parse_dates(text, TODAY)
    assert result.unparsed == reason
    assert all(getattr(result, key) is None for key in DATE_KEYS)
    assert result.pace is None


def _day(value):
    return value.date() if isinstance(value, datetime) else value


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text(max_size=80),
        st.from_regex(
            r"(du |Début : |Inscriptions jusqu'au )?[0-3]?\d (janvier|mars|sept\.|décembre)"
            r"( 20[0-9]{2})?( au [0-3]?\d (avril|mai|juin)( 20[0-9]{2})?)?",
            fullmatch=True,
        ),
    ),
    st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)),
)
def test_never_raises_and_respects_invariants(text, today):
    result = parse_dates(text, today)
    assert result.pace in (None, *PACES)
    if result.unparsed:
        assert all(getattr(result, key) is None for key in DATE_KEYS)
    for begin, finish in (("start", "end"), ("enrolment_start", "enrolment_end")):
        a, b = getattr(result, begin), getattr(result, finish)
        if a is not None and b is not None:
            assert _day(a) <= _day(b)
    assert isinstance(result.as_json(), dict)
