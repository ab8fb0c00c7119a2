"""The LHEO spider on the real public exports of tests/data/realdata (see its SOURCES.md).

Every expected value below was read by hand from the XML documents, not from the spider.
Both real actions are taught face to face, so the spider is run keeping every modality
(``LHEO_MODALITIES``); what it reads is what a distance action of the same export gives.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crawlers.offline import normalise
from tests.realdata import real_document
from tests.recorded import fresh_crawler, parse_body

FEED_URL = "https://www.carif-oref-exemple.fr/exports/lheo/offres-a-distance.xml"
EVERY_MODALITY = ["0", "1", "2"]


def read(name: str):
    crawler = fresh_crawler("lheo", LHEO_MODALITIES=EVERY_MODALITY)
    items, _, stats = parse_body(
        "lheo", real_document(name).read_bytes(), FEED_URL, "application/xml", crawler=crawler
    )
    assert len(items) == 1
    return items[0], stats, crawler


@pytest.fixture(scope="module")
def intercarif():
    return read("anotea-intercarif-data-test.xml")


@pytest.fixture(scope="module")
def onisep():
    return read("lheo-exemple-bts-onisep.xml")


def test_real_exports_are_face_to_face_and_not_kept_by_default():
    for name in ("anotea-intercarif-data-test.xml", "lheo-exemple-bts-onisep.xml"):
        items, _, stats = parse_body(
            "lheo", real_document(name).read_bytes(), FEED_URL, "application/xml"
        )
        assert items == [] and stats["moisson/actions/not_distance"] == 1


def test_intercarif_action_as_stated(intercarif):
    item, stats, _ = intercarif
    assert item["external_id"] == "carif-oref-distance:F_XX_XX/AC_XX_XXXXXX"
    assert item["title"] == "Développeur web"
    assert item["introduction"] == (
        "L'objectif est d'obtenir la qualification de développeur web, pour un accès à l'emploi."
    )
    assert item["description"] == "Réaliser le développement d'application web."
    assert item["url"] == "https://anotea.francetravail.fr"
    # nombre-heures-total 697 (585 in the centre + 112 in a company); duree-hebdo 35
    assert item["duration"] == "697 heures"
    assert item["effort"] == "35 heures par semaine"
    # code-niveau-entree 1, code-niveau-sortie 4: qualification levels, no difficulty
    assert item["qualification"] == {
        "entry": "sans niveau spécifique",
        "exit": "niveau V (CAP, BEP, CFPA du premier degré)",
    }
    assert item.get("level") is None
    assert item["certificate"] == "RNCP 320"
    # nom-organisme and raison-sociale name one organisation; its anonymised SIRET
    # (15 digits) is no SIRET and is counted
    assert item["organisations"] == ["Anotea Formation"]
    assert item["organisation_identities"] == [
        {"name": "Anotea Formation", "legal_name": "Centre de formation Anotéa", "siret": None}
    ]
    assert stats["moisson/fields/lost/siret/invalid"] == 1
    assert item.get("price") is None
    assert item["sessions"] == [
        {
            "key": "SE_XXXXXX",
            "start": "2017-10-30",
            "end": "2018-06-01",
            "enrolment_start": None,  # 00000000: not stated
            "enrolment_end": "2018-05-22",
            "languages": ["fr"],
        }
    ]


def test_intercarif_action_in_the_catalogue_record(intercarif):
    item, _, crawler = intercarif
    ((out, reason),) = normalise(crawler, [item.copy()])
    assert reason is None
    record = out["record"]
    assert (record.duration_hours_min, record.duration_hours_max) == (697, 697)
    assert (record.effort_hours_per_week_min, record.effort_hours_per_week_max) == (35, 35)
    assert record.level is None
    assert (record.qualification_entry, record.qualification_exit) == ("sans_niveau", "3")
    assert record.certificate == "diploma"
    assert record.organisations == ["Anotea Formation"]
    assert record.organisation_identities[0].legal_name == "Centre de formation Anotéa"
    (session,) = record.sessions
    assert session.start == datetime(2017, 10, 29, 23, tzinfo=UTC)  # 00:00 in Paris
    # a day-only end lasts until 23:59:59 in Paris (UTC+2 in summer)
    assert session.end == datetime(2018, 6, 1, 21, 59, 59, tzinfo=UTC)
    assert session.enrolment_end == datetime(2018, 5, 22, 21, 59, 59, tzinfo=UTC)
    assert session.enrolment_start is None


def test_onisep_action_as_stated(onisep):
    item, stats, _ = onisep
    assert item["external_id"] == "carif-oref-distance:9436_18706/9436_18706"
    assert item["title"] == "BTS négociation et relation client"
    assert item["introduction"].startswith(
        "<p>A la fois vendeur, manager et commercial, le technicien supérieur"
    )
    assert item["url"] == "https://lyceedekerneuzec.fr"
    assert item["duration"] == "2 ans"  # duree-indicative: no hours stated
    assert item.get("effort") is None
    assert item["qualification"] == {
        "entry": "information non communiquée",
        "exit": "niveau III (BTS, DUT)",
    }
    assert item["certificate"] == "RNCP 474"
    # raison-sociale is the placeholder « - »: nothing stated
    assert item["organisation_identities"] == [
        {"name": "Lycée Kerneuzec", "legal_name": None, "siret": "19290076900014"}
    ]
    assert "moisson/fields/lost/siret/invalid" not in stats
    assert item["sessions"] == [
        {
            "key": "9436_18706",
            "start": "2015-09-01",
            "end": "2017-08-31",
            "enrolment_start": None,
            "enrolment_end": None,
            "languages": ["fr"],
        }
    ]


def test_onisep_action_in_the_catalogue_record(onisep):
    item, _, crawler = onisep
    ((out, reason),) = normalise(crawler, [item.copy()])
    assert reason is None
    record = out["record"]
    assert (record.duration_weeks_min, record.duration_weeks_max) == (104, 104)
    assert record.level is None
    # « information non communiquée » states nothing and is not counted as unparsed
    assert (record.qualification_entry, record.qualification_exit) == (None, "5")
    assert crawler.stats.get_value("normalise/qualification/unparsed") is None
    assert record.certificate == "diploma"
    assert record.organisation_identities[0].siret == "19290076900014"
    assert record.sessions[0].end == datetime(2017, 8, 31, 21, 59, 59, tzinfo=UTC)


BUILT_ACTION = """<?xml version="1.0" encoding="UTF-8"?>
<lheo xmlns="http://www.lheo.org/2.2"><offres>
<formation numero="F1"><intitule-formation>Anglais</intitule-formation>
<objectif-formation>-</objectif-formation>
<resultats-attendus>Attestation</resultats-attendus>
<contenu-formation>Grammaire<br />Vocabulaire</contenu-formation>
<certifiante>0</certifiante>
<action numero="A1"><modalites-enseignement>2</modalites-enseignement>
<nombre-heures-centre>20</nombre-heures-centre><nombre-heures-entreprise>10</nombre-heures-entreprise>
<url-action><urlweb>www.exemple.fr/anglais</urlweb></url-action></action>
<organisme-formation-responsable><nom-organisme>-</nom-organisme>
<raison-sociale>SARL Langues</raison-sociale></organisme-formation-responsable>
</formation></offres></lheo>"""


def test_placeholders_breaks_attestation_and_hours_by_place():
    body = BUILT_ACTION.replace("<br />", "&lt;br /&gt;").encode()
    (item,), _, _ = parse_body("lheo", body, FEED_URL, "application/xml")
    assert item.get("introduction") is None  # « - » states nothing
    assert item["description"] == "Grammaire\nVocabulaire"
    assert item["certificate"] == "Attestation"  # resultats-attendus, non-certifying
    assert item["duration"] == "30 heures"  # centre + company
    assert item["organisations"] == ["SARL Langues"]
    ((out, _),) = normalise(fresh_crawler("lheo"), [item])
    assert out["record"].certificate == "attestation"
