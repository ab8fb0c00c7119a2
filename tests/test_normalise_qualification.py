"""Qualification levels: LHEO's dict-niveaux and generic wordings, never a difficulty."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from pipelines.normalise.qualification import parse_qualification, qualification_label
from tests.conftest import ROOT

DICT = ROOT / "tests" / "data" / "realdata" / "dict-niveaux.xml"
# code of dict-niveaux -> id, by the 2019 correspondence (pipelines/data/qualification_levels.json)
EXPECTED = {
    "0": None,  # information non communiquée
    "1": "sans_niveau",
    "2": "1",  # niveau VI
    "3": "2",  # niveau V bis
    "4": "3",  # niveau V: CAP, BEP
    "5": "4",  # niveau IV: bac
    "6": "5",  # niveau III: BTS, DUT
    "7": "6",  # niveau II: licence
    "8": "7",  # niveau I: master and above
}


def dict_entries() -> dict[str, str]:
    root = etree.parse(str(DICT)).getroot()
    ns = {"g": "http://www.gelaba.org/gml/1.1"}
    return {
        entry.find("g:key", ns).get("val"): entry.find("g:value", ns).get("val")
        for entry in root.findall("g:entry", ns)
    }


def test_the_real_code_list_is_the_one_mapped():
    assert sorted(dict_entries()) == sorted(EXPECTED)


@pytest.mark.parametrize("code", sorted(EXPECTED))
def test_lheo_code_and_its_label_give_the_same_level(code):
    label = dict_entries()[code]
    assert parse_qualification(code, "lheo").level == EXPECTED[code]
    assert parse_qualification(label, "lheo").level == EXPECTED[code]


def test_not_communicated_is_unstated_not_unparsed():
    found = parse_qualification("information non communiquée", "lheo")
    assert found.level is None and found.unstated and found.unparsed is None


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("Sans niveau spécifique", "sans_niveau"),
        ("Niveau 3 (CAP, BEP)", "3"),
        ("Niveau 5 (BTS, DUT)", "5"),
        ("bac+2", "5"),
        ("Licence professionnelle", "6"),
        ("Master", "7"),
    ],
)
def test_generic_wordings(text, level):
    assert parse_qualification(text).level == level


@pytest.mark.parametrize("text", [None, "", "Niveau A1 (CECRL)", "débutant", "CAP ou bac+2"])
def test_no_single_qualification_is_reported_not_guessed(text):
    found = parse_qualification(text)
    assert found.level is None and found.unparsed


def test_labels_shown_on_the_page():
    assert qualification_label("3") == "CAP / niveau 3"
    assert qualification_label(None) is None


@given(st.text(max_size=80), st.sampled_from([None, "lheo", "mon_compte_formation"]))
def test_never_raises(text, platform):
    found = parse_qualification(text, platform)
    assert found.level is None or qualification_label(found.level)
