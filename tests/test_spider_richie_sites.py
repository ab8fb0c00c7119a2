"""Richie sites configured as data: four sites, one platform each, no code of their own."""

from __future__ import annotations

import pytest
from freezegun import freeze_time

from crawlers.spiders.richie_sites import RichieSitesSpider
from tests.conftest import REFERENCE_TIME
from tests.recorded import fresh_crawler, harvest, parse_body, recorded

SITES = {
    "fun_campus": "https://www.fun-campus.fr",
    "fun_corporate": "https://www.fun-corporate.fr",
    "cnfpt_mooc": "https://mooc.cnfpt.fr",
    "edulib": "https://catalogue.edulib.org",
}


@pytest.fixture(scope="module")
def found():
    return harvest("richie_sites")


def test_sites_come_from_the_data_file():
    spider = fresh_crawler("richie_sites").spider
    assert [s["platform"] for s in spider.sites] == list(SITES)
    assert spider.platform_info("edulib") == {
        "label": "EDUlib",
        "base_url": "https://catalogue.edulib.org",
    }
    assert sorted(spider.allowed_domains) == sorted(u.split("//")[1] for u in SITES.values())


def test_one_site_alone_and_an_unknown_one():
    spider = RichieSitesSpider(site="cnfpt_mooc")  # -a site=cnfpt_mooc
    assert [s["platform"] for s in spider.sites] == ["cnfpt_mooc"]
    assert spider.allowed_domains == ["mooc.cnfpt.fr"]
    with pytest.raises(ValueError, match="no site named 'nope'"):
        RichieSitesSpider(site="nope")


def test_each_site_asks_its_own_lookups_then_its_courses(found):
    urls = [r.url for r in found.requests]
    for base in SITES.values():
        assert [u for u in urls if u.startswith(base)] == [
            f"{base}/api/v1.0/categories/?limit=100&offset=0",
            f"{base}/api/v1.0/courses/?limit=10&offset=0",
        ]


def test_each_item_is_on_its_own_sites_platform(found):
    by_platform = {}
    for item in found.items:
        by_platform.setdefault(item["platform"], []).append(item)
        assert item["url"].startswith(SITES[item["platform"]] + "/fr/cours/")
        assert item["image"].startswith(SITES[item["platform"]] + "/media/")
    assert {p: len(items) for p, items in by_platform.items()} == {
        "fun_campus": 3,
        "fun_corporate": 3,
        "cnfpt_mooc": 3,
        "edulib": 4,
    }


def test_exact_values(found):
    campus = found.by_id("3109")
    assert campus["platform"] == "fun_campus"
    assert campus["title"] == "Français langue étrangère : préparer le niveau B1"
    assert campus["url"] == "https://www.fun-campus.fr/fr/cours/francais-langue-etrangere-b1/"
    assert campus["organisations"] == ["Université Grenoble Alpes"]
    assert campus["categories"] == ["Langues"]
    assert campus["sessions"][0]["certificate_offer"] == "paid"
    assert campus["sessions"][0]["certificate_price"] == 49.0

    corporate = found.by_id("4207")
    assert corporate["organisations"] == ["Institut Mines-Télécom"]
    assert [s["start"] for s in corporate["sessions"]] == [
        "2026-10-05T08:00:00+00:00",
        "2027-03-08T08:00:00+00:00",
    ]
    assert (
        corporate["sessions"][1]["price"] == 350.0 and corporate["sessions"][1]["offer"] == "paid"
    )

    cnfpt = found.by_id("512")
    assert cnfpt["platform"] == "cnfpt_mooc" and cnfpt["title"] == "Les finances locales"
    assert cnfpt["organisations"] == ["CNFPT"] and cnfpt["categories"] == ["Finances et gestion"]
    assert cnfpt["effort"] == "2 heures 30 par semaine"

    edulib = found.by_id("701")
    assert edulib["platform"] == "edulib" and edulib["organisations"] == ["HEC Montréal"]
    assert edulib["sessions"][0]["enrolment_end"] == "2027-02-10T04:59:00+00:00"


def test_a_response_from_no_configured_site_yields_nothing_and_is_counted():
    body = recorded("richie_sites", "edulib-courses-0.json")
    items, _requests, stats = parse_body(
        "richie_sites", body, "https://elsewhere.example/api/v1.0/courses/?limit=10&offset=0"
    )
    assert items == []
    assert stats["moisson/pages/failed/unparseable"] == 1


@freeze_time(REFERENCE_TIME)
def test_pipelines(found):
    kept, dropped = found.normalised()
    assert len(kept) == 12
    assert dropped == [
        "not_french: https://catalogue.edulib.org/fr/cours/fundamentals-of-project-management/"
        ": sessions only in ['en']"
    ]
    assert [s.pace for s in kept["706"].sessions] == ["self_paced"]
    assert kept["4201"].organisations == ["CNAM"]


def test_the_harness_names_the_platform_of_an_id_two_sites_share(found):
    from tests.recorded import Harvest

    twins = Harvest(found.crawler, items=[
        {**found.by_id("701"), "platform": "edulib"},
        {**found.by_id("701"), "platform": "fun_campus"},
    ])  # fmt: skip
    with pytest.raises(LookupError, match="several platforms"):
        twins.by_id("701")
    assert twins.by_id("701", platform="fun_campus")["platform"] == "fun_campus"
    with pytest.raises(LookupError, match="kept twice"):
        twins.normalised()
