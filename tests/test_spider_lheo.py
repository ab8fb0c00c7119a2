"""The LHEO spider: two real feeds (face-to-face only) and a built distance-learning feed."""

from __future__ import annotations

import pytest
from freezegun import freeze_time

from tests.conftest import REFERENCE_TIME
from tests.recorded import harvest, index_entries, parse_body, recorded

FEEDS = {e["body"]: e["url"] for e in index_entries("lheo") if e.get("body")}


@pytest.fixture(scope="module")
def found():
    return harvest("lheo")


def test_only_distance_actions_become_items(found):
    assert [i["external_id"] for i in found.items] == [
        "carif-oref-distance:F-2026-0412/A-2026-0412-D",
        "carif-oref-distance:F-2026-0533/A-2026-0533-D",
        "carif-oref-distance:F-2026-0618/A-2026-0618-D",
    ]
    # the real ONISEP and Intercarif actions are face to face; so are one built mixed
    # action and one built face-to-face action
    assert found.crawler.stats.get_value("moisson/actions/not_distance") == 4


def test_exact_values(found):
    first = found.items[0]
    assert first["title"] == "Comptabilité générale - initiation"
    assert first["url"] == "https://www.greta-exemple.fr/comptabilite-initiation-distance"
    assert first["organisations"] == ["GRETA Métropole Exemple"]
    assert first["duration"] == "70 heures"
    assert first.get("level") is None  # LHEO states no difficulty
    assert first["qualification"] == {
        "entry": "sans niveau spécifique",
        "exit": "sans niveau spécifique",
    }
    assert first["organisation_identities"] == [
        {"name": "GRETA Métropole Exemple", "legal_name": None, "siret": "19750000000019"}
    ]
    assert first["certificate"] == "Attestation de fin de formation."
    assert first["price"] == "840.00" and first["currency"] == "EUR"
    assert first["introduction"].startswith("<p>Tenir la comptabilité")
    no_window = {"enrolment_start": None, "enrolment_end": None, "languages": ["fr"]}
    assert first["sessions"] == [
        {"key": "S-0412-01", "start": "2026-11-16", "end": "2027-01-31", **no_window},
        {"key": "S-0412-02", "start": "2027-03-01", "end": "2027-05-15", **no_window},
    ]
    hr = found.items[1]
    assert hr["certificate"] == "RNCP 35030"
    assert hr["url"] == "https://www.afpa-exemple.fr/formations/f-2026-0533"  # formation's URL
    assert found.items[2]["sessions"] == []  # permanent entry, no dated session


@pytest.mark.parametrize("index", range(3))
def test_every_item_properties(found, index):
    item = found.items[index]
    assert item["platform"] == "lheo" and item["kind"] == "formation"
    assert item["title"] and item["organisations"] and item["url"].startswith("https://")
    assert "<modalites-enseignement>2</modalites-enseignement>" in item["raw"]["action"]


@freeze_time(REFERENCE_TIME)
def test_pipelines_turn_lheo_dates_into_sessions(found):
    kept, dropped = found.normalised()
    assert len(kept) == 3 and dropped == []
    session = kept["carif-oref-distance:F-2026-0412/A-2026-0412-D"].sessions[0]
    assert session.start.isoformat() == "2026-11-15T23:00:00+00:00"  # midnight in Paris


def test_real_onisep_feed_is_read(found):
    items, _, stats = parse_body(
        "lheo",
        recorded("lheo", "onisep-exemple.xml"),
        FEEDS["onisep-exemple.xml"],
        "application/xml",
    )
    assert items == [] and stats["moisson/actions/not_distance"] == 1


def test_feed_that_is_not_valid_xml_is_counted():
    body = b'<?xml version="1.0"?><lheo xmlns="http://www.lheo.org/2.2"><offres><formation>'
    items, _, stats = parse_body("lheo", body, FEEDS["carif-oref-distance.xml"], "application/xml")
    assert items == []
    assert stats["moisson/pages/failed/invalid_xml"] == 1
