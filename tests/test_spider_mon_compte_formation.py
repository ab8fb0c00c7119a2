"""The CPF spider on its built Opendatasoft records page and CSV export."""

from __future__ import annotations

import json

import pytest
from freezegun import freeze_time

from tests.conftest import REFERENCE_TIME
from tests.recorded import harvest, index_entries, parse_body, recorded

FIRST = index_entries("mon_compte_formation")[1]["url"]
DATASET = FIRST.split("/records")[0]
EXPORT = f"{DATASET}/exports/csv?delimiter=%3B&where=nb_session_a_distance+%3E+0"


@pytest.fixture(scope="module")
def found():
    return harvest("mon_compte_formation")


def test_first_page_asks_for_distance_offers(found):
    assert "where=nb_session_a_distance+%3E+0" in FIRST
    assert found.requests == []  # total_count reached


def test_offer_without_distance_session_is_not_a_course(found):
    assert len(found.items) == 9
    assert "52066789400027_CACES-R489" not in {i["external_id"] for i in found.items}
    assert found.crawler.stats.get_value("moisson/offers/not_distance") == 1


def test_exact_values(found):
    java = found.by_id("19753471200017_JAVA-FOAD")
    assert java["title"] == "Programmer en Java"
    assert java["organisations"] == ["CNAM"]
    assert java["duration"] == "60 heures"
    assert java["price"] == 450 and java["currency"] == "EUR"
    assert java["certificate"] == "Certificat de compétence Cnam"
    assert java["url"] == (
        "https://www.moncompteformation.gouv.fr/espace-prive/html/#/formation/fiche/"
        "19753471200017_JAVA-FOAD"
    )
    assert java["kind"] == "formation"
    french = found.by_id("18860001500131_FLE-A1")
    assert french["duration"] == "80 à 120 heures"
    assert french["level"] == "Niveau A1 (CECRL)"
    assert french["qualification"] == {"exit": "Niveau A1 (CECRL)"}


@pytest.mark.parametrize("index", range(9))
def test_every_item_properties(found, index):
    item = found.items[index]
    assert item["platform"] == "mon_compte_formation"
    assert item["title"] and len(item["organisations"]) == 1
    assert item["raw"]["nb_session_a_distance"] > 0
    assert item["url"].endswith(item["external_id"])


@freeze_time(REFERENCE_TIME)
def test_pipelines_keep_all_in_french(found):
    kept, dropped = found.normalised()
    assert len(kept) == 9 and dropped == []
    assert {r.language for r in kept.values()} == {"fr"}  # the catalogue is French


def test_csv_export_gives_the_same_offers(found):
    items, _, stats = parse_body(
        "mon_compte_formation",
        recorded("mon_compte_formation", "export-distance.csv"),
        EXPORT,
        "text/csv",
    )
    assert [i["external_id"] for i in items] == [i["external_id"] for i in found.items]
    assert items[0]["title"] == "Programmer en Java" and items[0]["duration"] == "60 heures"
    assert stats["moisson/offers/not_distance"] == 1


def test_csv_export_with_a_missing_column_is_refused_whole():
    text = recorded("mon_compte_formation", "export-distance.csv").decode()
    header, *rows = text.splitlines()
    columns = header.split(";")
    at = columns.index("nom_of")
    damaged = "\n".join(
        ";".join(c for n, c in enumerate(line.split(";")) if n != at) for line in [header, *rows]
    )
    items, _, stats = parse_body("mon_compte_formation", damaged.encode(), EXPORT, "text/csv")
    assert items == []
    assert stats["moisson/pages/failed/missing_column"] == 1


def test_paging_stops_at_an_unreadable_page():
    url = FIRST.replace("offset=0", "offset=100")
    items, follow, stats = parse_body(
        "mon_compte_formation", b'{"total_count": 300, "res', url, "application/json"
    )
    assert items == [] and stats["moisson/pages/failed/unparseable"] == 1
    assert follow == [] and stats["moisson/paging/stopped/failed_page"] == 1


def _offer(**fields):
    offer = {
        "numero_formation": "12345678900012_TEST",
        "intitule_formation": "Bureautique à distance",
        "nom_of": "Organisme Test",
        "nb_session_a_distance": 1,
    }
    offer.update(fields)
    return offer


@pytest.mark.parametrize(
    ("fields", "duration", "certificate"),
    [
        # the dataset's "not stated": 0 hours, code -1
        ({"nombre_heures_total_min": 0, "nombre_heures_total_max": 0}, None, None),
        ({"code_rncp": -1, "code_inventaire": -1}, None, None),
        ({"code_rncp": "-1", "nombre_heures_total_min": "0"}, None, None),
        # a stated maximum with an unstated minimum is the maximum alone
        ({"nombre_heures_total_min": 0, "nombre_heures_total_max": 35}, "35 heures", None),
        ({"code_rncp": 35030, "code_inventaire": -1}, None, "RNCP 35030"),
        ({"code_rncp": -1, "code_inventaire": 5432}, None, "RS 5432"),
    ],
)
def test_zero_hours_and_minus_one_codes_mean_not_stated(fields, duration, certificate):
    body = json.dumps({"total_count": 1, "results": [_offer(**fields)]}).encode()
    items, _, _ = parse_body("mon_compte_formation", body, FIRST, "application/json")
    assert len(items) == 1
    assert items[0].get("duration") == duration
    assert items[0].get("certificate") == certificate


def test_qualification_level_is_not_a_difficulty():
    body = json.dumps(
        {
            "total_count": 2,
            "results": [
                _offer(libelle_niveau_sortie_formation="Sans niveau spécifique"),
                _offer(numero_formation="X_2", libelle_niveau_sortie_formation="Niveau A2 (CECRL)"),
            ],
        }
    ).encode()
    items, _, _ = parse_body("mon_compte_formation", body, FIRST, "application/json")
    assert items[0]["qualification"] == {"exit": "Sans niveau spécifique"}
    assert items[0].get("level") is None
    assert items[1]["level"] == "Niveau A2 (CECRL)"
