"""``moisson normalise FIELD TEXT``: one JSON object, exit 0 understood / 3 not understood."""

from __future__ import annotations

import json

import pytest

from moisson.cli import main


def normalise(capsys, *args):
    status = main(["normalise", *args])
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    return status, json.loads(out)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ("dates", "du 3 mars au 12 avril 2025"),
            {
                "start": "2025-03-03",
                "end": "2025-04-12",
                "enrolment_start": None,
                "enrolment_end": None,
                "pace": "scheduled",
            },
        ),
        (
            ("dates", "À votre rythme"),
            {
                "start": None,
                "end": None,
                "enrolment_start": None,
                "enrolment_end": None,
                "pace": "self_paced",
            },
        ),
        (("duration", "5 à 7 semaines"), {"weeks": [5, 7], "hours": None}),
        (("duration", "12h30"), {"weeks": None, "hours": [12.5, 12.5]}),
        (("effort", "2 à 3 heures par semaine"), {"hours_per_week": [2, 3]}),
        (("level", "Niveau : Moyenne", "--platform", "openclassrooms"), {"level": "intermediaire"}),
        (
            ("price", "Gratuit, certificat à 49 €"),
            {"free": True, "amount": 0, "currency": "EUR", "certificate_price": 49},
        ),
        (("certificate", "Attestation de suivi"), {"certificate": "attestation"}),
        (
            ("topics", "Introduction à l'intelligence artificielle. L'apprentissage automatique."),
            {"topics": ["informatique", "data-ia"]},
        ),
        (
            ("language", "Introduction à l'intelligence artificielle : les grandes méthodes."),
            {"language": "fr"},
        ),
    ],
)
def test_understood_texts_exit_0(capsys, args, expected):
    assert normalise(capsys, *args, "--today", "2025-01-10") == (0, expected)


def test_dates_without_a_year_use_today(capsys):
    status, out = normalise(
        capsys, "dates", "Début du cours : 15 septembre", "--today", "2025-10-01"
    )
    assert (status, out["start"]) == (0, "2026-09-15")


@pytest.mark.parametrize(
    "args",
    [("dates", "bientôt"), ("duration", "quelques jours"), ("level", "???"), ("price", "")],
)
def test_not_understood_exits_3_with_nulls_and_a_reason(capsys, args):
    status, out = normalise(capsys, *args)
    assert status == 3
    assert out["unparsed"]
    assert all(value is None for key, value in out.items() if key != "unparsed")


def test_bad_today_is_a_usage_error(capsys):
    assert main(["normalise", "dates", "3 mars", "--today", "demain"]) == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err


def test_unknown_field_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["normalise", "colour", "bleu"])
    assert exc.value.code == 2


def test_parse_normalise_shows_the_normalised_fields():
    from moisson.parse import parse_saved_response
    from tests.conftest import RECORDINGS, REFERENCE_TIME

    lines = parse_saved_response(
        "fun_mooc",
        RECORDINGS / "fun_mooc" / "courses-0.json",
        "https://www.fun-mooc.fr/api/v1.0/courses/?limit=10&offset=0",
        normalise_items=True,
        reference_time=REFERENCE_TIME,
    )
    first = json.loads(lines[0])
    assert first["title"] == "Introduction à l'intelligence artificielle"
    assert (first["duration_text"], first["duration_weeks_min"]) == ("7 semaines", 7.0)
    assert (first["effort_text"], first["effort_hours_per_week_max"]) == ("21 heures", 3.0)
    # One saved page has category ids only (names come from /categories/): rules on the text.
    assert first["categories"] == ["118", "121"]
    assert first["topics"] == ["informatique", "data-ia"]
    assert (first["level"], first["free"], first["certificate"]) == (
        "debutant",
        True,
        "certificate",
    )
