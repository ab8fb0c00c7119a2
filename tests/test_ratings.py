"""Ratings, rating counts and enrolments: from the recordings to the API and the page.

The expected values are read from the recordings here, independently of the spiders and
pipelines: every JSON-LD ``aggregateRating``, every enrolment text and every rating or
enrolment key of a recorded JSON document.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
from parsel import Selector

from pipelines.rating import rating_fields, read_count, read_decimal
from pipelines.records import CourseRecord
from storage.catalogue import aggregate
from storage.ratings import combined, on_five
from tests.conftest import RECORDINGS, REFERENCE_TIME, moisson

NOW = datetime.fromisoformat(REFERENCE_TIME).astimezone(UTC)
JSON_KEYS = {  # what the recorded APIs call them
    "rating": ("avg_rating", "rating", "ratingValue"),
    "rating_count": ("num_reviews", "ratingCount", "reviewCount"),
    "enrolments": ("recent_enrollment_count", "num_subscribers", "totalHistoricalEnrollment"),
}


def _walk(value):
    if isinstance(value, dict):
        yield value
        for child in value.values():
            yield from _walk(child)
    elif isinstance(value, list):
        for child in value:
            yield from _walk(child)


def _digits(text) -> int:
    return int(re.sub(r"\D", "", str(text)))


def _stated_in_html(body: str) -> list[dict]:
    page = Selector(text=body)
    found = []
    for script in page.xpath('//script[@type="application/ld+json"]/text()').getall():
        for node in _walk(json.loads(script)):
            rating = node.get("aggregateRating")
            if isinstance(rating, dict):
                found.append(
                    {
                        "title": node.get("name"),
                        "language": node.get("inLanguage"),
                        "rating": float(rating["ratingValue"]),
                        "scale": float(rating.get("bestRating", 5)),
                        "rating_count": rating.get("ratingCount"),
                    }
                )
    enrolment = page.css('[data-purpose="enrollment"]::text').get()
    if enrolment and found:
        found[0]["enrolments"] = _digits(enrolment)
    return found


def _stated_in_json(document) -> list[dict]:
    found = []
    for node in _walk(document):
        stated = {}
        for field, keys in JSON_KEYS.items():
            value = next((node[k] for k in keys if node.get(k) not in (None, "")), None)
            if value is not None:
                stated[field] = float(value) if field == "rating" else _digits(value)
        if stated and (node.get("title") or node.get("name")):
            language = node.get("language")
            stated.update(title=node.get("title") or node.get("name"), language=language)
            found.append(stated)
    return found


def stated_in_recordings() -> list[dict]:
    """Every rating, rating count and enrolment count a replayed recording states."""
    found = []
    for index in sorted(RECORDINGS.glob("*/index.json")):
        for entry in json.loads(index.read_text())["responses"]:
            if not entry.get("body") or int(entry.get("status", 200)) >= 300:
                continue
            body = (index.parent / entry["body"]).read_text(encoding="utf-8", errors="replace")
            if entry["body"].endswith((".html", ".htm")):
                stated = _stated_in_html(body)
            elif entry["body"].endswith(".json"):
                stated = _stated_in_json(json.loads(body))
            else:
                continue
            found += [{**s, "spider": index.parent.name} for s in stated]
    return found


def _french(language) -> bool:
    text = json.dumps(language).lower()
    return "fr" in text or "french" in text


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from fastapi.testclient import TestClient

    from portal.app import create_app
    from storage.readonly import open_readonly

    url = f"sqlite:///{tmp_path_factory.mktemp('ratings') / 'demo.sqlite3'}"
    result = moisson("demo", "--db", url, "--reference-time", REFERENCE_TIME, "--quiet")
    assert result.returncode == 0, result.stderr
    engine = open_readonly(url)
    with TestClient(create_app(engine, clock=lambda: NOW)) as client:
        courses = client.get("/api/v1/courses", params={"per_page": 100}).json()["courses"]
        details = [client.get(f"/api/v1/courses/{c['id']}").json() for c in courses]
        yield client, details
    engine.dispose()


def _listing_titled(details, title):
    for course in details:
        for listing in course["listings"]:
            if " ".join(listing["title"].split()) == " ".join(title.split()):
                return course, listing
    return None, None


def test_the_recordings_state_ratings_and_enrolments():
    stated = stated_in_recordings()
    assert sum("rating" in s for s in stated) >= 4
    assert sum("enrolments" in s for s in stated) >= 16


def test_every_stated_rating_and_enrolment_is_on_its_course(demo):
    _client, details = demo
    checked = 0
    for stated in stated_in_recordings():
        course, listing = _listing_titled(details, stated["title"])
        if listing is None:  # dropped: only a course not taught in French may be
            assert not _french(stated["language"]), stated
            continue
        checked += 1
        if "rating" in stated:
            assert listing["rating"]["value"] == stated["rating"], stated
            assert listing["rating"]["scale"] == stated.get("scale", 5.0)
            assert listing["rating"]["value_5"] == round(stated["rating"] / stated["scale"] * 5, 2)
            assert course["rating"]["value_5"] is not None
            assert listing["platform"] in {s["platform"] for s in course["rating"]["sources"]}
        if stated.get("rating_count") is not None:
            assert listing["rating"]["count"] == stated["rating_count"], stated
            assert course["rating"]["count"] >= stated["rating_count"]
        if "enrolments" in stated:
            assert listing["enrolments"] == stated["enrolments"], stated
            assert course["enrolments"] >= stated["enrolments"]
    assert checked >= 20


def test_sort_by_rating_orders_the_rated_courses(demo):
    client, details = demo
    page = client.get("/api/v1/courses", params={"sort": "rating", "per_page": 100}).json()
    ratings = [(c["rating"]["value_5"], c["rating"]["count"] or 0) for c in page["courses"]]
    rated = [r for r in ratings if r[0] is not None]
    assert len(rated) == sum(c["rating"]["value_5"] is not None for c in details) >= 4
    assert ratings[: len(rated)] == rated  # the rated ones first
    assert rated == sorted(rated, reverse=True)


def test_the_page_shows_rating_count_and_platform(demo):
    client, details = demo
    rated = [c for c in details if c["rating"]["value_5"] is not None]
    assert rated
    for course in rated:
        html = client.get(f"/cours/{course['id']}").text
        page = Selector(text=html)
        shown = " ".join(page.css("dd.rating ::text").getall())
        value = f"{course['rating']['value_5']:g}".replace(".", ",")
        count = f"{course['rating']['count']:,}".replace(",", " ")
        assert f"{value}/5" in shown and f"{count} avis" in shown, shown
        for source in course["rating"]["sources"]:
            assert source["platform_label"] in shown
        ld = json.loads(page.xpath('//script[@type="application/ld+json"]/text()').get())
        assert ld["aggregateRating"]["ratingValue"] == course["rating"]["value_5"]
        assert ld["aggregateRating"]["ratingCount"] == course["rating"]["count"]
        assert ld["aggregateRating"]["bestRating"] == 5


# -- reading the stated values ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "count"),
    [
        (5123, 5123),
        ("34 211 participants", 34211),
        ("34\u202f211 inscrits", 34211),
        ("32,474 students", 32474),
        ("1.234.567 learners", 1234567),
        ("1,2 k inscrits", 1200),
        ("3M", 3000000),
        ("4254", 4254),
        (12.0, 12),
    ],
)
def test_counts_are_read_as_stated(text, count):
    assert read_count(text) == count


@pytest.mark.parametrize("text", ["beaucoup", "", "12.5", True, 12.5])
def test_what_is_no_count_is_not_read(text):
    assert read_count(text) is None


def test_ratings_keep_their_scale():
    assert read_decimal("4,5") == (4.5, None)
    assert read_decimal("8.6/10") == (8.6, 10.0)
    assert read_decimal("4 sur 5") == (4.0, 5.0)
    assert read_decimal("excellent") == (None, None)


class _Stats:
    def __init__(self):
        self.values = {}

    def inc_value(self, key, count=1):
        self.values[key] = self.values.get(key, 0) + count


class _Crawler:
    def __init__(self):
        self.stats = _Stats()


def test_a_value_that_cannot_be_used_is_counted_as_lost():
    crawler = _Crawler()
    out = rating_fields(
        {"rating": "excellent", "rating_count": "beaucoup", "enrolments": "34 211"}, crawler
    )
    assert out == {"enrolments": 34211}
    assert crawler.stats.values == {
        "moisson/fields/lost/rating/unparsed": 1,
        "moisson/fields/lost/rating_count/unparsed": 1,
    }
    crawler = _Crawler()
    assert rating_fields({"rating": 7, "rating_scale": 5}, crawler) == {}
    assert crawler.stats.values == {"moisson/fields/lost/rating/out_of_scale": 1}
    assert rating_fields({"rating": "8,6/10"}, crawler) == {"rating": 8.6, "rating_scale": 10.0}
    assert rating_fields({"rating": 4.2}, crawler) == {"rating": 4.2, "rating_scale": 5.0}


def test_a_record_refuses_a_scale_of_zero():
    with pytest.raises(ValueError):
        CourseRecord(platform="p", external_id="1", url="https://x", title="t", rating_scale=0)


def test_a_course_combines_its_listings_weighted_by_count_on_five():
    records = [
        {"rating": 9.0, "rating_scale": 10.0, "rating_count": 300, "enrolments": 1000},
        {"rating": 4.0, "rating_scale": 5.0, "rating_count": 100, "enrolments": None},
        {"rating": None, "enrolments": 500},
    ]
    assert on_five(9.0, 10.0) == 4.5
    assert combined(records) == {
        "rating": round((4.5 * 300 + 4.0 * 100) / 400, 2),
        "rating_count": 400,
        "enrolments": 1500,
    }
    assert combined([{"rating": None}]) == {
        "rating": None,
        "rating_count": None,
        "enrolments": None,
    }
    # a hidden listing does not speak while a visible one does
    visible = [records[1]]
    assert aggregate(records, visible)["rating"] == 4.0
    assert aggregate(records, visible)["rating_count"] == 100
