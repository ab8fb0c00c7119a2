"""MOOC Bâtiment Durable, a second richie site: the richie base configured in a few lines."""

from __future__ import annotations

import pytest
from freezegun import freeze_time

from tests.conftest import REFERENCE_TIME
from tests.recorded import harvest

BASE = "https://www.mooc-batiment-durable.fr"


@pytest.fixture(scope="module")
def found():
    return harvest("mooc_batiment_durable")


def test_lookups_then_courses(found):
    assert [r.url for r in found.requests] == [
        f"{BASE}/api/v1.0/categories/?limit=100&offset=0",
        f"{BASE}/api/v1.0/courses/?limit=10&offset=0",
    ]
    assert len(found.items) == 3


def test_exact_values(found):
    first = found.items[0]
    assert first["external_id"] == "210"
    assert first["title"] == "Rénovation énergétique des logements"
    assert first["url"] == f"{BASE}/fr/cours/renovation-energetique-des-logements/"
    assert first["organisations"] == ["ADEME", "Plan Bâtiment Durable"]
    assert first["categories"] == ["Rénovation énergétique"]
    assert first["duration"] == "5 semaines" and first["effort"] == "3 heures par semaine"
    assert first["sessions"][0]["start"] == "2027-01-11T08:00:00+00:00"


@pytest.mark.parametrize("index", range(3))
def test_every_item_properties(found, index):
    item = found.items[index]
    assert item["platform"] == "mooc_batiment_durable"
    assert item["url"].startswith(f"{BASE}/fr/cours/") and item["organisations"]
    assert item["sessions"] and all(s["languages"] == ["fr"] for s in item["sessions"])


@freeze_time(REFERENCE_TIME)
def test_pipelines(found):
    kept, dropped = found.normalised()
    assert len(kept) == 3 and dropped == []
    assert [s.pace for s in kept["214"].sessions] == ["self_paced"]  # richie's year 9999
