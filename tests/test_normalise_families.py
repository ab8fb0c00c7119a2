"""Families of wordings the normalisers once missed: several members of each, not one string.

Each family was seen on real pages (tests/data/normalisation holds the sourced strings);
the members below vary the wording so that a fix for one string cannot pass by itself.
"""

from __future__ import annotations

from datetime import date

import pytest

from pipelines.normalise.dates import parse_dates
from pipelines.normalise.duration import parse_duration, parse_effort
from pipelines.normalise.level import parse_level
from pipelines.normalise.price import parse_price

TODAY = date(2025, 1, 10)


def _dates(text):
    return {k: v for k, v in parse_dates(text, TODAY).as_json().items() if v and k != "pace"}


@pytest.mark.parametrize(
    ("text", "weeks", "hours"),
    [
        ("entre 20 et 25 heures", None, [20, 25]),
        ("entre quatre et douze semaines", [4, 12], None),
        ("Durée : entre 6 et 8 semaines", [6, 8], None),
        ("between 4 and 6 weeks", [4, 6], None),
        ("de 20 à 25 heures", None, [20, 25]),
        ("entre 20h et 25h", None, [20, 25]),
        ("de 20h à 25h", None, [20, 25]),
        ("entre 4 semaines et 6 semaines", [4, 6], None),
    ],
)
def test_a_range_keeps_both_bounds(text, weeks, hours):
    got = parse_duration(text).as_json()
    assert (got["weeks"], got["hours"]) == (weeks, hours)


def test_a_range_of_months_keeps_both_bounds():
    assert parse_duration("Entre deux et trois mois").as_json()["weeks"] == [8.67, 13]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("entre 2 et 3 heures par semaine", [2, 3]),
        ("Entre trois et cinq heures par semaine", [3, 5]),
        ("between 1 and 2 hours per week", [1, 2]),
        ("entre 2h et 3h par semaine", [2, 3]),
    ],
)
def test_an_effort_range_keeps_both_bounds(text, expected):
    assert parse_effort(text).as_json()["hours_per_week"] == expected


@pytest.mark.parametrize(
    ("text", "weeks", "hours"),
    [
        ("dix-sept semaines", [17, 17], None),
        ("vingt-quatre heures", None, [24, 24]),
        ("vingt et une heures de formation", None, [21, 21]),
        ("soixante-dix heures", None, [70, 70]),
        ("quatre-vingts heures", None, [80, 80]),
        ("trente-cinq heures réparties sur dix-huit semaines", [18, 18], [35, 35]),
        ("six semaines", [6, 6], None),
        ("une semaine", [1, 1], None),
    ],
)
def test_compound_number_words_are_one_number(text, weeks, hours):
    got = parse_duration(text).as_json()
    assert (got["weeks"], got["hours"]) == (weeks, hours)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Février : 4 au 19 février 2023", {"start": "2023-02-04", "end": "2023-02-19"}),
        ("Octobre : du 3 au 14 octobre 2025", {"start": "2025-10-03", "end": "2025-10-14"}),
        ("Mars 2025 : 10 au 21 mars 2025", {"start": "2025-03-10", "end": "2025-03-21"}),
        ("Septembre : rentrée le 8 septembre 2025", {"start": "2025-09-08"}),
        ("FÉVRIER 2026 : du 2 au 6 février", {"start": "2026-02-02", "end": "2026-02-06"}),
        (
            "Février\nDu lundi 16 février au vendredi 20 février",
            {"start": "2025-02-16", "end": "2025-02-20"},
        ),
    ],
)
def test_a_month_heading_is_not_a_date(text, expected):
    assert _dates(text) == expected


def test_units_on_both_bounds_of_two_kinds_stay_two_amounts():
    assert parse_duration("6 semaines / 24 h").as_json() == {"weeks": [6, 6], "hours": [24, 24]}


def test_a_month_alone_is_still_a_date():
    assert _dates("Début : septembre 2025") == {"start": "2025-09-01"}
    assert _dates("septembre 2025 - décembre 2025") == {"start": "2025-09-01", "end": "2025-12-31"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("28-11-2027", {"start": "2027-11-28"}),
        ("Du 01-09-2025 au 15-12-2025", {"start": "2025-09-01", "end": "2025-12-15"}),
        ("28.11.2027", {"start": "2027-11-28"}),
        ("Date limite d'inscription : 15-01-2026", {"enrolment_end": "2026-01-15"}),
        ("3-5 mars 2025", {"start": "2025-03-03", "end": "2025-03-05"}),
        ("2027-11-28", {"start": "2027-11-28"}),
        ("2027.11.28", {"start": "2027-11-28"}),
    ],
)
def test_day_month_year_with_any_separator(text, expected):
    assert _dates(text) == expected


def test_an_impossible_dashed_date_is_not_read():
    assert parse_dates("31-02-2027", TODAY).unparsed


@pytest.mark.parametrize(
    "text",
    [
        "pas de frais d'inscription",
        "Il n'y a pas de frais d'inscription.",
        "Aucun frais pédagogique",
        "sans aucun coût pour l'apprenant",
        "No fees",
        "Cette formation ne coûte rien",
        "Frais d'inscription : néant",
        "Coût pédagogique : aucun",
        "Frais d'inscription offerts",
        "Formation non payante",
        "No cost",
    ],
)
def test_a_cost_said_not_to_exist_is_free(text):
    price = parse_price(text)
    assert price.free is True, text


@pytest.mark.parametrize(
    ("text", "free", "amount"),
    [
        ("Frais d'inscription : 150 €", False, 150),
        ("Frais de formation", False, None),
        ("Frais : voir le site", None, None),
    ],
)
def test_a_stated_cost_is_not_free(text, free, amount):
    price = parse_price(text)
    assert (price.free, price.amount) == (free, amount)


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("niveau « Approfondi »", "avance"),
        ("Niveau : « Débutant »", "debutant"),
        ("Niveau “Intermédiaire”", "intermediaire"),
        ("niveau approfondi", "avance"),
        ("Approfondie", "avance"),
        ("« Tous niveaux »", "tous_niveaux"),
    ],
)
def test_quoted_and_approfondi_levels(text, level):
    assert parse_level(text).level == level
