"""The OpenClassrooms spider on its recordings (one real 2019 course page, built others)."""

from __future__ import annotations

import pytest
from freezegun import freeze_time

from tests.conftest import REFERENCE_TIME
from tests.recorded import harvest, parse_body, recorded

COURSE = "https://openclassrooms.com/fr/courses/4425126-testez-votre-projet-avec-python"
CHAPTER = COURSE + "/4435224-utilisez-des-mocks"


@pytest.fixture(scope="module")
def found():
    return harvest("openclassrooms")


def test_sitemap_leads_to_courses_and_paths_only(found):
    urls = [r.url for r in found.requests]
    assert CHAPTER not in urls  # a chapter is not a course
    assert not any("/search" in u for u in urls)
    assert urls == [
        COURSE,
        "https://openclassrooms.com/fr/courses/7168871-apprenez-les-bases-du-langage-python",
        "https://openclassrooms.com/fr/courses/7425346-initiez-vous-a-la-gestion-de-projet",
        "https://openclassrooms.com/fr/courses/6900846-analysez-des-donnees-avec-r",
        "https://openclassrooms.com/fr/paths/518-developpeur-dapplication-python",
    ]
    assert all(r.errback is not None for r in found.requests)  # a 404 is counted


def test_real_course_page_exact_values(found):
    course = found.by_id("courses/4425126")
    assert course["title"] == "Testez votre projet avec Python"
    assert course["url"] == COURSE
    assert course["description"].startswith("Comment tester un projet en Python ?")
    assert course["introduction"] is None  # og:description says the same as the JSON-LD
    assert course["duration"] == "4 heures"
    assert course["level"] == "Moyenne"
    assert course["language"] == "fr"
    assert course["organisations"] == ["OpenClassrooms"]
    assert course["image"] == (
        "https://course.oc-static.com/courses/4425126/4425126_teaser_picture_1522246514.jpg"
    )
    assert course["kind"] == "course"
    assert course["raw"]["@type"] == "Course"


def test_path_and_partner(found):
    path = found.by_id("paths/518")
    assert path["kind"] == "path"
    assert path["duration"] == "12 mois" and path["level"] == "Difficile"
    assert found.by_id("courses/6900846")["organisations"] == ["CentraleSupélec"]


@pytest.mark.parametrize("index", range(5))
def test_every_item_properties(found, index):
    item = found.items[index]
    assert item["platform"] == "openclassrooms"
    assert item["title"] and item["url"].startswith("https://openclassrooms.com/fr/")
    assert item["external_id"].split("/")[0] in {"courses", "paths"}
    assert item["duration"] and item["level"] and item["organisations"]
    assert item["source_url"] == item["url"]


@freeze_time(REFERENCE_TIME)
def test_pipelines_keep_every_french_course(found):
    kept, dropped = found.normalised()
    assert dropped == []
    assert len(kept) == 5
    assert kept["courses/4425126"].language == "fr"
    assert kept["courses/4425126"].duration_text == "4 heures"


def test_chapter_page_has_schema_org_but_no_course():
    items, _, stats = parse_body(
        "openclassrooms", recorded("openclassrooms", "chapter-4425126-2-5.html"), COURSE
    )
    assert items == []
    assert stats["moisson/pages/failed/wrong_type"] == 1
