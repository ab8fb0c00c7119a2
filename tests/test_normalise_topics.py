"""Topics: the taxonomy, category mappings, rules; 1 to 3 slugs of the vocabulary."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pipelines.normalise.text import load_data
from pipelines.normalise.topics import (
    MAX_TOPICS,
    course_topics,
    taxonomy,
    topics_from_categories,
    topics_from_text,
    vocabulary,
)


def test_taxonomy_is_a_tree_of_about_thirty_topics():
    tree = taxonomy()
    assert 25 <= len(tree) <= 35
    seen = set()
    for slug, entry in tree.items():
        assert entry["parent"] is None or entry["parent"] in seen  # parents come first
        assert entry["label"]
        seen.add(slug)


def test_every_mapping_and_rule_names_known_topics():
    for platform, mapping in load_data("topic_categories.json").items():
        for category, slugs in mapping.items():
            assert set(slugs) <= vocabulary(), (platform, category)
    assert set(load_data("topic_rules.json")["rules"]) <= vocabulary()


def test_categories_map_with_parents_first():
    found = topics_from_categories(["Intelligence artificielle"], "fun_mooc")
    assert found.topics == ["informatique", "data-ia"]
    coursera = topics_from_categories(["computer-science"], "coursera")
    assert coursera.topics == ["informatique"]
    edx = topics_from_categories(["Computer Science", "Unknown thing"], "edx")
    assert edx.topics == ["informatique"] and edx.unmapped == ("Unknown thing",)


def test_rules_read_title_and_description():
    found = topics_from_text(
        "Introduction à l'intelligence artificielle",
        "Ce cours explique l'apprentissage automatique.",
    )
    assert found.topics == ["informatique", "data-ia"]


def test_courses_without_mapped_categories_fall_back_to_rules():
    found = course_topics(["Catégorie inconnue"], "Droit des entreprises", None, "fun_mooc")
    assert found.topics == ["droit"] and found.unmapped == ("Catégorie inconnue",)


def test_nothing_recognised_is_reported():
    assert topics_from_text("", None).unparsed
    assert course_topics(None, "Zzz", "", None).topics == []


@given(st.lists(st.text(max_size=30), max_size=5), st.text(max_size=80), st.text(max_size=200))
def test_one_to_three_known_topics_or_none(categories, title, description):
    found = course_topics(categories, title, description, "fun_mooc")
    assert len(found.topics) <= MAX_TOPICS
    assert set(found.topics) <= vocabulary()
    assert bool(found.topics) != bool(found.unparsed)
