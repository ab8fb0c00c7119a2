"""Where each real public document the tests read lives."""

# Provenance: tests/data/realdata/SOURCES.md. Documents the recordings already hold byte for
# byte are read there, not copied twice.

from __future__ import annotations

from pathlib import Path

from tests.conftest import RECORDINGS, ROOT

HERE = ROOT / "tests" / "data" / "realdata"
IN_RECORDINGS = {
    "lheo-exemple-bts-onisep.xml": "lheo/onisep-exemple.xml",
    "anotea-intercarif-data-test.xml": "lheo/intercarif-exemple.xml",
    "udemy_course_page_b2b-copywriting_2022-05.html": "udemy/course-b2b-copywriting.html",
    "udemy_course_page_free_learn_power_bi_2022-05.html": (
        "udemy/course-learn_power_bi_for_free.html"
    ),
    "udemy_course_page_the-melody-of-english_2023-05.html": (
        "udemy/course-the-melody-of-english.html"
    ),
    "oc_course_4425126_testez-votre-projet-avec-python_ch0-1_2019.html": (
        "openclassrooms/course-4425126.html"
    ),
    "coursera-dl_list-courses-input_courses.v1-linked_2016.json": (
        "coursera/envelope-2016-empty-elements.json"
    ),
}


def real_document(name: str) -> Path:
    """The path of a real document, by its name in ../shared/realdata."""
    if name in IN_RECORDINGS:
        return RECORDINGS / IN_RECORDINGS[name]
    return HERE / name
