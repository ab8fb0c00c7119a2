"""Levels: every platform scale maps, generic wordings, inference from the description."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipelines.normalise.level import LEVELS, infer_level, parse_level
from pipelines.normalise.text import fold, load_data


def test_every_scale_entry_maps_into_the_vocabulary():
    for platform, scale in load_data("levels.json")["scales"].items():
        for label, level in scale.items():
            assert level in (*LEVELS, None)
            assert parse_level(label, platform).level == level, (platform, label)
            assert fold(label) == label  # keys are stored folded


@pytest.mark.parametrize(
    ("text", "platform", "level"),
    [
        ("Niveau : Moyenne", "openclassrooms", "intermediaire"),
        ("Facile", "openclassrooms", "debutant"),
        ("Introductory", "edx", "debutant"),
        ("Introductory, Intermediate", "edx", "debutant"),
        ("Introductory, Intermediate, Advanced", "edx", "tous_niveaux"),
        ("All Levels", "udemy", "tous_niveaux"),
        ("Expert Level", "udemy", "avance"),
        ("Beginner", "coursera", "debutant"),
        ("Niveau : Débutant", None, "debutant"),
        ("Intermédiaire", None, "intermediaire"),
        ("Difficulté : Difficile", None, "avance"),
    ],
)
def test_examples(text, platform, level):
    assert parse_level(text, platform).level == level


def test_codes_only_mean_something_on_their_scale():
    assert parse_level("1").level is None
    assert parse_level("1", "udemy").level is None


def test_lheo_codes_are_qualification_levels_not_difficulty():
    # LHEO's code-niveau-sortie 4 is a CAP (pipelines/normalise/qualification.py)
    assert parse_level("4", "lheo").level is None
    assert parse_level("niveau V (CAP, BEP, CFPA du premier degré)", "lheo").level is None


@pytest.mark.parametrize("text", [None, "", "blah", "niveau : ???", "x" * 10_000])
def test_bad_input_is_reported_not_raised(text):
    result = parse_level(text)
    assert result.level is None and result.unparsed


def test_inferred_level_needs_an_explicit_cue():
    assert infer_level("Introduction à l'IA", "sans prérequis").level == "debutant"
    assert infer_level("Gestion de projet", "Planifier et piloter un projet.").level is None


@given(st.text(max_size=80), st.sampled_from([None, "edx", "udemy", "lheo", "openclassrooms"]))
def test_never_raises_and_stays_in_the_vocabulary(text, platform):
    assert parse_level(text, platform).level in (*LEVELS, None)
    assert infer_level(text, text).level in (*LEVELS, None)
