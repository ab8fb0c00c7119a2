"""The spiders on real public documents (tests/data/realdata, provenance in its SOURCES.md).

Every expected value was read by hand from the document (its JSON-LD, its header, its CSV
row), not copied from the spider's output. The LHEO exports have their own file
(tests/test_realdata_lheo.py).
"""

from __future__ import annotations

import ast
import csv
import json

import pytest

from tests.conftest import ROOT
from tests.realdata import IN_RECORDINGS, real_document
from tests.recorded import fresh_crawler, parse_body


def page(spider: str, name: str, url: str, content_type: str):
    return parse_body(spider, real_document(name).read_bytes(), url, content_type)


# -- Udemy landing pages (JSON-LD Course + BreadcrumbList, body data-clp-course-id) -------

UDEMY = {
    "udemy_course_page_b2b-copywriting_2022-05.html": {
        "url": "https://www.udemy.com/course/b2b-copywriting/",
        "external_id": "4016590",
        "title": "Copywriting: B2B Copywriting, Content Writing, Copy Writing",
        "description": "Copywriting to Get 100s of New B2B Customers with Copywriter Skills, "
        "Content Writing, Content Strategy, Content Creation",
        "language": "en",
        "organisations": ["Dekker Fraser, MBA"],
        "categories": ["Marketing", "Content Marketing", "Copywriting"],
        "rating": "4.5",
        "rating_count": 341,
        "enrolments": "32,474 students",
        "price": None,  # isAccessibleForFree false, no offer: the price is not stated
        "effort": None,
        "image": "https://img-c.udemycdn.com/course/750x422/4016590_5e0e_8.jpg",
    },
    "udemy_course_page_free_learn_power_bi_2022-05.html": {
        "url": "https://www.udemy.com/course/learn_power_bi_for_free/",
        "external_id": "576504",
        "title": "Learn Power BI Basics for Free",
        "description": "In this tutorial you will be learning all basic knowledge required for "
        "Power BI and understanding Power BI component",
        "language": "en",
        "organisations": ["Vishal Pawar"],
        "categories": ["Business", "Business Analytics & Intelligence", "Microsoft Power BI"],
        "rating": "4.1",
        "rating_count": 4596,
        "enrolments": "114,845 students",
        "price": 0,  # isAccessibleForFree true
        "effort": None,
        "image": "https://img-c.udemycdn.com/course/750x422/576504_e385_2.jpg",
    },
    "udemy_course_page_the-melody-of-english_2023-05.html": {
        "url": "https://www.udemy.com/course/the-melody-of-english/",
        "external_id": "4412876",
        "title": "The Melody of English",
        "description": "Intonation &  Primary Phrase Stress for the American Accent",
        "language": "en",
        "organisations": ["Sheila Lebedenko"],
        "categories": ["Teaching & Academics", "Language Learning", "American Accent"],
        "rating": "4.7",
        "rating_count": 117,
        "enrolments": "11,559 students",
        "price": None,
        # one CourseInstance, courseWorkload PT2H44M: the course's and its session's
        "effort": "PT2H44M",
        "image": "https://img-c.udemycdn.com/course/750x422/4412876_864d_4.jpg",
    },
}


@pytest.mark.parametrize("name", sorted(UDEMY))
def test_udemy_landing_page(name):
    expected = UDEMY[name]
    items, requests, stats = page("udemy", name, expected["url"], "text/html")
    assert len(items) == 1 and "moisson/pages/failed" not in stats
    (item,) = items
    for field, value in expected.items():
        assert item.get(field) == value, field
    assert item["platform"] == "udemy" and item["kind"] == "course"


def test_udemy_instance_workload_is_its_sessions_too():
    name = "udemy_course_page_the-melody-of-english_2023-05.html"
    (item,), _, _ = page("udemy", name, UDEMY[name]["url"], "text/html")
    (session,) = item["sessions"]
    assert session["effort"] == "PT2H44M" and session["start"] is None


# -- OpenClassrooms course page, 2019 layout -----------------------------------------------


def test_openclassrooms_course_page():
    url = "https://openclassrooms.com/fr/courses/4425126-testez-votre-projet-avec-python"
    name = "oc_course_4425126_testez-votre-projet-avec-python_ch0-1_2019.html"
    (item,), _, stats = page("openclassrooms", name, url, "text/html")
    assert "moisson/pages/failed" not in stats
    assert item["url"] == url  # the page's canonical link
    assert item["title"] == "Testez votre projet avec Python"
    assert item["description"] == (
        "Comment tester un projet en Python ? Et à quoi cela sert-il de tester un projet ? "
        "Découvrez-le tout de suite !"
    )
    assert item["organisations"] == ["OpenClassrooms"]
    # the header: « 4 heures » (schedule icon), « Moyenne » (level icon)
    assert item["duration"] == "4 heures"
    assert item["level"] == "Moyenne"
    assert item["image"] == (
        "https://course.oc-static.com/courses/4425126/4425126_teaser_picture_1522246514.jpg"
    )


# -- Coursera courses.v1 envelope ---------------------------------------------------------


def test_coursera_envelope_without_elements():
    """A real envelope whose courses are only ``linked``: a page without elements is counted."""
    url = "https://api.coursera.org/api/courses.v1?start=0&limit=100"
    name = "coursera-dl_list-courses-input_courses.v1-linked_2016.json"
    items, requests, stats = page("coursera", name, url, "application/json")
    assert items == [] and requests == []  # elements [], paging null: no next page
    assert stats["moisson/pages/failed/empty_page"] == 1


# -- edX search index hits (CSV export of the Algolia index ``product``) -----------------


def edx_hits() -> list[dict]:
    """The CSV rows as Algolia hits: list cells are Python lists, numbers are numbers. The
    export dropped ``objectID``: the row's marketing URL stands for it."""
    hits = []
    path = real_document("edx_algolia_courses_2025-07_french_subset.csv")
    with path.open(encoding="utf-8") as rows:
        rows = list(csv.DictReader(rows))
    for row in rows:
        hit = {k: ast.literal_eval(v) if v.startswith("[") else v for k, v in row.items()}
        hit["recent_enrollment_count"] = int(row["recent_enrollment_count"])
        hit["weeks_to_complete"] = float(row["weeks_to_complete"])
        hit["objectID"] = row["marketing_url"]
        hits.append(hit)
    return hits


def test_edx_french_hits():
    hits = edx_hits()
    body = json.dumps({"hits": hits, "page": 0, "nbPages": 1}).encode()
    url = "https://igsyv1z1xi-dsn.algolia.net/1/indexes/product?page=0"
    items, requests, _ = parse_body("edx", body, url, "application/json")
    assert len(items) == 16 and requests == []
    first = items[0]
    assert first["title"] == "Français élémentaire 1"
    assert first["organisations"] == ["Université de Montréal"]
    assert first["categories"] == ["Language"]
    assert first["level"] == "Introductory"
    assert first["language"] == "French"
    assert first["kind"] == "course"
    assert first["enrolments"] == 4254
    assert first["duration"] == "5 semaines"
    assert first["url"] == (
        "https://www.edx.org/learn/language/universite-de-montreal-francais-elementaire-1"
    )
    assert first["introduction"] == (
        "<p>A French course for beginners! Learn the basics of French and develop your oral "
        "and written skills.</p>"
    )
    louvain = items[2]
    assert louvain["title"] == "Introduction aux enjeux du développement durable"
    assert louvain["categories"] == ["Social Sciences", "Environmental Studies"]
    assert louvain["level"] == "Intermediate" and louvain["duration"] == "13 semaines"
    assert louvain["enrolments"] == 827


def test_edx_french_hits_reach_the_record():
    from crawlers.offline import normalise

    hits = edx_hits()[:1]
    body = json.dumps({"hits": hits, "page": 0, "nbPages": 1}).encode()
    url = "https://igsyv1z1xi-dsn.algolia.net/1/indexes/product?page=0"
    crawler = fresh_crawler("edx")
    items, _, _ = parse_body("edx", body, url, "application/json", crawler=crawler)
    ((out, reason),) = normalise(crawler, items)
    assert reason is None
    record = out["record"]
    assert record.language == "fr" and record.level == "debutant"
    assert (record.duration_weeks_min, record.duration_weeks_max) == (5, 5)


# -- the documents are the real ones, unchanged ------------------------------------------

SHARED_DIRS = ("intercarif-lheo", "udemy", "openclassrooms", "coursera", "edx")


def _shared(name: str):
    for base in (ROOT.parent, ROOT.parent.parent):
        for folder in SHARED_DIRS:
            path = base / "shared" / "realdata" / folder / name
            if path.is_file():
                return path
    return None


@pytest.mark.parametrize(
    "name", [*IN_RECORDINGS, "dict-niveaux.xml", "edx_algolia_courses_2025-07_french_subset.csv"]
)
def test_real_documents_are_byte_for_byte_the_published_ones(name):
    shared = _shared(name)
    if shared is None:
        pytest.skip("../shared/realdata is not beside this checkout")
    assert real_document(name).read_bytes() == shared.read_bytes()
