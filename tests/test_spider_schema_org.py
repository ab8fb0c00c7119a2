"""The schema_org spider: four sites (JSON-LD, microdata, RDFa), one platform each."""

from __future__ import annotations

import pytest
from freezegun import freeze_time

from tests.conftest import RECORDINGS, REFERENCE_TIME
from tests.recorded import fresh_crawler, harvest, parse_body

P1 = "https://www.pantheonsorbonne.fr/formation-en-ligne/"
BX = "https://www.u-bordeaux.fr/formation/mooc/"
CNAM = "https://formation.cnam.fr/rechercher-par-discipline/"
M2I = "https://www.m2iformation.fr/"


@pytest.fixture(scope="module")
def found():
    return harvest("schema_org")


def test_sites_come_from_the_data_file():
    spider = fresh_crawler("schema_org").spider
    assert [s["platform"] for s in spider.sites] == [
        "pantheon_sorbonne",
        "u_bordeaux",
        "cnam",
        "m2i",
    ]
    assert spider.platform_info("u_bordeaux")["base_url"] == "https://www.u-bordeaux.fr"


def test_course_rules_per_site(found):
    urls = [r.url for r in found.requests]
    assert len(urls) == 12
    assert P1 + "droit-des-entreprises" in urls
    assert not any("/actualites/" in u or u.rstrip("/").endswith("/mooc") for u in urls)
    assert not any(u.endswith(("/rechercher-par-discipline/", "/formations/")) for u in urls)
    assert not any("/blog/" in u for u in urls)


def test_cnam_course_unit(found):
    java = found.by_id(CNAM + "programmation-java-notions-de-base-1084302.kjsp")
    assert java["platform"] == "cnam"
    assert java["title"] == "Programmation Java : notions de base"
    assert java["code"] == "NFA031"
    assert java["organisations"] == ["Conservatoire national des arts et métiers"]
    assert java["certificate"] == "6 crédits ECTS"
    assert java["price"] == 300 and java["currency"] == "EUR"
    assert [(s["start"], s["end"], s["effort"]) for s in java["sessions"]] == [
        ("2026-10-05", "2027-02-13", "PT5H")
    ]


def test_m2i_virtual_class(found):
    python = found.by_id(M2I + "formation-python-programmation-objet/PYT-PO/")
    assert python["platform"] == "m2i"
    assert python["title"] == "Python : programmation objet"
    assert python["organisations"] == ["M2i Formation"]
    assert python["price"] == 1990 and python["duration"] == "P5D"
    assert [(s["start"], s["end"]) for s in python["sessions"]] == [
        ("2026-12-07", "2026-12-11"),
        ("2027-02-08", "2027-02-12"),
    ]


def test_jsonld_course_with_instance(found):
    law = found.by_id(P1 + "droit-des-entreprises")
    assert law["platform"] == "pantheon_sorbonne"
    assert law["title"] == "Droit des entreprises"
    assert law["organisations"] == ["Université Paris 1"]
    assert law["code"] == "P1-DE-01"
    assert law["price"] == 0 and law["currency"] == "EUR"
    assert law["certificate"] == "Attestation de suivi"
    assert law["effort"] == "PT3H"
    assert law["sessions"] == [
        {
            "key": "2027-02-01|online|0",
            "start": "2027-02-01",
            "end": "2027-04-12",
            "languages": ["fr"],
            "price": None,
            "currency": None,
            "effort": "PT3H",
        }
    ]


def test_microdata_course(found):
    epi = found.by_id(BX + "epidemiologie-les-fondamentaux")
    assert epi["platform"] == "u_bordeaux"
    assert epi["title"] == "Épidémiologie – les fondamentaux"
    assert epi["organisations"] == ["université de Bordeaux"]
    assert epi["duration"] == "P5W"
    assert [(s["start"], s["end"]) for s in epi["sessions"]] == [("2027-04-05", "2027-05-10")]


def test_rdfa_course(found):
    wine = found.by_id(BX + "vigne-et-vin")
    assert wine["title"] == "Vigne et vin : de la parcelle au verre"
    assert wine["organisations"] == ["Université de Bordeaux"]
    assert [(s["start"], s["languages"]) for s in wine["sessions"]] == [("2027-03-01", ["fr"])]


@pytest.mark.parametrize("index", range(6))
def test_every_item_properties(found, index):
    item = found.items[index]
    assert item["platform"] in {"pantheon_sorbonne", "u_bordeaux"}
    assert item["external_id"] == item["url"] and item["url"].startswith(("https://www.pa", BX))
    assert item["title"] and item["organisations"] and item["language"]


@freeze_time(REFERENCE_TIME)
def test_pipelines_keep_all(found):
    kept, dropped = found.normalised()
    assert len(kept) == 12 and dropped == []
    assert kept[M2I + "formation-excel-perfectionnement/EXC-PE/"].duration_weeks_min is not None
    law = kept[P1 + "droit-des-entreprises"]
    assert law.sessions[0].start.isoformat() == "2027-01-31T23:00:00+00:00"


COURSE_URL = P1 + "droit-des-entreprises"


def page(head: str, body: str = "") -> bytes:
    return f"<html lang='fr'><head>{head}</head><body>{body}</body></html>".encode()


def test_page_without_structured_data():
    items, _, stats = parse_body("schema_org", page("<title>x</title>"), COURSE_URL, "text/html")
    assert items == [] and stats["moisson/pages/failed/no_structured_data"] == 1


def test_structured_data_with_a_wrong_type():
    ld = (
        '<script type="application/ld+json">'
        '{"@context":"https://schema.org","@type":"Event","name":"Portes ouvertes"}</script>'
    )
    items, _, stats = parse_body("schema_org", page(ld), COURSE_URL, "text/html")
    assert items == [] and stats["moisson/pages/failed/wrong_type"] == 1


def test_jsonld_block_that_is_not_json():
    ld = '<script type="application/ld+json">{"@type": "Course", "name": "Droit", }}</script>'
    items, _, stats = parse_body("schema_org", page(ld), COURSE_URL, "text/html")
    assert items == [] and stats["moisson/pages/failed/invalid_jsonld"] == 1


def test_a_bad_jsonld_block_does_not_hide_a_good_one():
    bad = '<script type="application/ld+json">{not json</script>'
    good = (
        '<script type="application/ld+json">{"@context":"https://schema.org",'
        '"@graph":[{"@type":"Course","name":"Droit"}]}</script>'
    )
    items, _, _stats = parse_body("schema_org", page(bad + good), COURSE_URL, "text/html")
    assert [i["title"] for i in items] == ["Droit"]


def test_effort_of_each_instance_is_kept():
    """Two instances with their own workload: each session keeps its effort."""
    from crawlers.bases.sitemap import schema_course_fields

    node = {
        "@type": "Course",
        "name": "Python",
        "hasCourseInstance": [
            {"@type": "CourseInstance", "startDate": "2027-01-11", "courseWorkload": "PT2H"},
            {"@type": "CourseInstance", "startDate": "2027-03-01", "courseWorkload": "PT4H"},
        ],
    }
    fields = schema_course_fields(node)
    assert [s["effort"] for s in fields["sessions"]] == ["PT2H", "PT4H"]
    assert fields["effort"] is None  # they differ: the course takes their span later
    alike = dict(
        node, hasCourseInstance=[dict(i, courseWorkload="PT3H") for i in node["hasCourseInstance"]]
    )
    assert schema_course_fields(alike)["effort"] == "PT3H"
    one = dict(node, hasCourseInstance=node["hasCourseInstance"][:1])
    assert schema_course_fields(one)["effort"] == "PT2H"


def test_moisson_parse_on_a_site_not_yet_configured_says_where_to_add_it():
    from moisson.parse import parse_report

    page = RECORDINGS / "schema_org" / "cnam-drs101.html"
    new_site = parse_report("schema_org", page, "https://www.exemple-universite.fr/cours/drs101")
    assert new_site.items == 0 and new_site.exit_status == 1
    assert new_site.not_course.startswith(
        "not a course page: www.exemple-universite.fr is no site of "
        "crawlers/data/schema_org_sites.json; add the site's entry there first"
    )
    # a configured site's page outside its rules is told by its rules
    elsewhere = parse_report("schema_org", page, "https://formation.cnam.fr/autre/drs101")
    assert "matches none of schema_org's course URL rules" in elsewhere.not_course
