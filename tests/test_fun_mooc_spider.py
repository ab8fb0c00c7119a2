"""The FUN-MOOC spider on its recordings (built from richie's documented format).

Callbacks run offline on the recorded bytes; time is frozen at the recordings' "now".
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlparse

import pytest
from freezegun import freeze_time

from crawlers.offline import normalise, offline_crawler, response_from_bytes, run_callback
from tests.conftest import RECORDINGS, REFERENCE_TIME

FOLDER = RECORDINGS / "fun_mooc"
API = "https://www.fun-mooc.fr/api/v1.0"
PAGES = {0: "courses-0.json", 10: "courses-10.json", 20: "courses-20.json"}


def recorded(name: str) -> bytes:
    return (FOLDER / name).read_bytes()


def fresh_crawler():
    return offline_crawler("fun_mooc", MOISSON_REFERENCE_TIME=REFERENCE_TIME)


@pytest.fixture(scope="module")
def harvested():
    """Items of every course page, after reading the organisation and category lists."""
    crawler = fresh_crawler()
    for kind in ("organizations", "categories"):
        url = f"{API}/{kind}/?limit=100&offset=0"
        run_callback(crawler, response_from_bytes(recorded(f"{kind}-0.json"), url))
    items, requests = [], []
    for offset, name in PAGES.items():
        url = f"{API}/courses/?limit=10&offset={offset}"
        page_items, page_requests = run_callback(crawler, response_from_bytes(recorded(name), url))
        items += page_items
        requests += page_requests
    return crawler, items, requests


def by_id(items, external_id):
    return next(i for i in items if i["external_id"] == external_id)


def test_every_recorded_course_becomes_an_item(harvested):
    _crawler, items, _requests = harvested
    assert len(items) == 27
    assert len({i["external_id"] for i in items}) == 27


def test_paging_follows_total_count(harvested):
    _crawler, _items, requests = harvested
    offsets = [int(parse_qs(urlparse(r.url).query)["offset"][0]) for r in requests]
    assert offsets == [10, 20]  # and nothing after the last page (27 courses)


def test_lookups_chain_to_the_courses():
    crawler = fresh_crawler()
    _items, follow = run_callback(
        crawler, response_from_bytes(recorded("organizations-0.json"), f"{API}/organizations/")
    )
    assert [r.url for r in follow] == [f"{API}/categories/?limit=100&offset=0"]
    _items, follow = run_callback(
        crawler, response_from_bytes(recorded("categories-0.json"), f"{API}/categories/")
    )
    assert [r.url for r in follow] == [f"{API}/courses/?limit=10&offset=0"]


def test_first_item_exact_values(harvested):
    _crawler, items, _requests = harvested
    first = items[0]
    assert first["platform"] == "fun_mooc"
    assert first["external_id"] == "1121"
    assert first["title"] == "Introduction à l'intelligence artificielle"
    assert first["url"] == (
        "https://www.fun-mooc.fr/fr/cours/introduction-a-l-intelligence-artificielle/"
    )
    assert first["code"] == "00707"
    assert first["duration"] == "7 semaines"
    assert first["effort"] == "21 heures"
    assert first["organisations"] == ["Université Grenoble Alpes", "Inria"]
    assert first["categories"][0] == "Informatique et programmation"
    assert first["image"].startswith("https://www.fun-mooc.fr/media/")
    assert first["source_url"] == f"{API}/courses/?limit=10&offset=0"
    assert len(first["sessions"]) == 2
    assert first["sessions"][0] == {
        "key": "2026-11-02T08:00:00+00:00|fr",
        "start": "2026-11-02T08:00:00+00:00",
        "end": "2026-12-20T22:59:00+00:00",
        "enrolment_start": "2026-09-28T07:00:00+00:00",
        "enrolment_end": "2026-11-22T22:59:00+00:00",
        "languages": ["fr"],
        "price": 0.0,
        "price_currency": "EUR",
        "offer": "free",
        "discounted_price": None,
        "discount": None,
        "certificate_price": 49.0,
        "certificate_offer": "paid",
        "certificate_discounted_price": None,
        "certificate_discount": None,
    }
    # raw means raw: the platform's object is kept untouched
    page = json.loads(recorded("courses-0.json"))
    assert first["raw"] == page["objects"][0]


def test_chosen_items(harvested):
    _crawler, items, _requests = harvested
    no_runs = by_id(items, "1142")
    assert no_runs["title"] == "Droit des entreprises"
    assert no_runs["sessions"] == []
    assert no_runs["organisations"] == ["Université Paris 1 Panthéon-Sorbonne"]
    bare = by_id(items, "1262")  # optional fields missing
    assert bare["organisations"] == []
    assert bare["introduction"] is None and bare["duration"] == "" and bare["image"] is None
    assert by_id(items, "1136")["introduction"].startswith("<p>")
    python = by_id(items, "1024")
    assert python["title"].startswith("Python 3")
    assert len(python["sessions"]) == 3


@pytest.mark.parametrize("index", range(27))
def test_every_item_properties(harvested, index):
    _crawler, items, _requests = harvested
    item = items[index]
    assert item["title"]
    assert item["url"].startswith("https://www.fun-mooc.fr/fr/cours/")
    assert item["platform"] == "fun_mooc"
    assert all(isinstance(name, str) and name for name in item["organisations"])
    for session in item["sessions"]:
        assert session["key"]
        assert session["start"] is not None


@freeze_time(REFERENCE_TIME)
def test_pipelines_on_the_recordings(harvested):
    _crawler, items, _requests = harvested
    crawler = fresh_crawler()
    results = normalise(crawler, [item.copy() for item in items])
    dropped = [reason for _item, reason in results if reason]
    kept = {item["external_id"]: item["record"] for item, reason in results if not reason}
    assert len(kept) == 26
    assert dropped == [
        "not_french: https://www.fun-mooc.fr/fr/cours/machine-learning-in-python-with-scikit-learn/"
        ": sessions only in ['en']"
    ]
    # a self-paced run: richie's open-ended enrolment and end
    assert [s.pace for s in kept["1047"].sessions] == ["self_paced"]
    assert kept["1047"].sessions[0].end is None
    # no end date, but a real enrolment end
    assert kept["1053"].sessions[0].end is None and kept["1053"].sessions[0].pace == "scheduled"
    # a course with one French and one English run keeps the French one
    assert [s.language for s in kept["1072"].sessions] == ["fr"]
    # HTML in the introduction is kept (the portal sanitises it)
    assert "<strong>" in kept["1136"].introduction
    assert kept["1142"].sessions == [] and kept["1142"].language == "fr"
    assert crawler.stats.get_value("moisson/sessions/dropped/not_french") >= 2


def test_invalid_json_page_is_counted_and_paging_stops_there(harvested):
    crawler = fresh_crawler()
    run_callback(
        crawler,
        response_from_bytes(recorded("courses-0.json"), f"{API}/courses/?limit=10&offset=0"),
    )
    items, follow = run_callback(
        crawler,
        response_from_bytes(b'{"meta": {"count": 10', f"{API}/courses/?limit=10&offset=10"),
    )
    assert items == [] and follow == []
    assert crawler.stats.get_value("moisson/pages/failed/unparseable") == 1
    assert crawler.stats.get_value("moisson/paging/stopped/failed_page") == 1
    assert crawler.stats.get_value("moisson/paging/stopped_at").endswith("offset=10")


def page_with(position: int, damage) -> bytes:
    """The first recorded courses page with its object at ``position`` damaged."""
    page = json.loads(recorded("courses-0.json"))
    page["objects"][position] = damage(page["objects"][position])
    return json.dumps(page).encode()


def with_fields(**fields):
    return lambda obj: {**obj, **fields}


MALFORMED_SHAPES = {
    "runs a string": with_fields(course_runs="none"),
    "runs a record": with_fields(course_runs={"start": "2026-01-01"}),
    "a run null": with_fields(course_runs=[None]),
    "a run a list": with_fields(course_runs=[["fr"]]),
    "run languages a number": with_fields(course_runs=[{"start": "2026-01-01", "languages": 5}]),
    "organisations a number": with_fields(organizations=5),
    "categories a number": with_fields(categories=7),
    "url a list": with_fields(absolute_url=["/fr/cours/x/"]),
    "image source a number": with_fields(cover_image={"src": 5}),
    "object null": lambda obj: None,
    "object a list": lambda obj: [obj],
    "object a string": lambda obj: "course",
}


@pytest.mark.parametrize("damage", MALFORMED_SHAPES.values(), ids=MALFORMED_SHAPES.keys())
def test_a_malformed_object_is_skipped_counted_and_the_page_goes_on(damage):
    crawler = fresh_crawler()
    url = f"{API}/courses/?limit=10&offset=0"
    items, follow = run_callback(crawler, response_from_bytes(page_with(1, damage), url))
    recorded_ids = [str(o["id"]) for o in json.loads(recorded("courses-0.json"))["objects"]]
    assert [i["external_id"] for i in items] == recorded_ids[:1] + recorded_ids[2:]
    assert [r.url for r in follow] == [f"{API}/courses/?limit=10&offset=10"]
    assert crawler.stats.get_value("moisson/objects/malformed") == 1
    (named,) = crawler.stats.get_value("moisson/objects/malformed_ids")
    damaged = damage(json.loads(recorded("courses-0.json"))["objects"][1])
    expected = "1184 (" if isinstance(damaged, dict) else "object #1 of its page ("
    assert named.startswith(expected), named


@pytest.mark.parametrize("objects", [None, "none", {"id": 1}, 7])
def test_a_page_whose_objects_are_not_a_list_fails_and_paging_stops(objects):
    crawler = fresh_crawler()
    page = json.loads(recorded("courses-0.json"))
    page["objects"] = objects
    url = f"{API}/courses/?limit=10&offset=0"
    items, follow = run_callback(crawler, response_from_bytes(json.dumps(page).encode(), url))
    assert items == [] and follow == []
    assert crawler.stats.get_value("moisson/pages/failed/unparseable") == 1
    assert crawler.stats.get_value("moisson/paging/stopped/failed_page") == 1


def test_object_without_id_is_skipped_and_counted():
    crawler = fresh_crawler()
    body = json.dumps(
        {
            "meta": {"count": 2, "offset": 0, "total_count": 2},
            "objects": [{"title": "Sans identifiant"}, {"id": "7", "title": "Avec"}],
        }
    ).encode()
    items, _ = run_callback(crawler, response_from_bytes(body, f"{API}/courses/?limit=10&offset=0"))
    assert [i["external_id"] for i in items] == ["7"]
    assert crawler.stats.get_value("moisson/objects/without_id") == 1
