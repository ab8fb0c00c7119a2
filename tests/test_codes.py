"""Official codes a platform states are kept on the record, as stated (docs/JOBS.md)."""

from __future__ import annotations

from lxml import etree

from crawlers.spiders import lheo, mon_compte_formation
from tests.conftest import RECORDINGS


def test_cpf_offers_keep_rome_rncp_nsf_codes_and_drop_the_unstated_ones():
    offer = {
        "code_rome_1": "M1805",
        "code_rome_2": "M1805",
        "code_rome_3": "",
        "code_rncp": -1.0,
        "code_nsf_1": 326.0,
        "code_formacode_1": "31054",
    }
    assert mon_compte_formation._codes(offer) == {
        "rome": ["M1805"],
        "nsf": ["326"],
        "formacode": ["31054"],
    }
    assert mon_compte_formation._codes({"code_rncp": -1}) is None


def test_lheo_formations_keep_their_rome_formacode_nsf_rncp_codes():
    tree = etree.parse(str(RECORDINGS / "lheo" / "onisep-exemple.xml"))
    formation = tree.xpath("//*[local-name()='formation']")[0]
    codes = lheo._codes(formation)
    assert codes["rome"] == ["D1402", "D1403", "D1408"]
    assert codes["formacode"] == ["34582", "34076"] and codes["nsf"] == ["312"]
    assert codes["rncp"] == ["474"]
