"""Language detection: offline, confident or silent."""

from __future__ import annotations

import socket

from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.normalise.language import CANDIDATES, detect_language


def test_detects_french_and_english():
    assert (
        detect_language(
            "Gestion de projet", "Apprendre à cadrer, planifier et piloter un projet."
        ).language
        == "fr"
    )
    assert (
        detect_language(
            "Machine learning in Python", "Learn to build predictive models with scikit-learn."
        ).language
        == "en"
    )


def test_short_or_ambiguous_text_is_not_guessed():
    assert detect_language("IA", None).unparsed == "text too short"
    assert detect_language(None, None).unparsed == "text too short"


def test_needs_no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the detector tried to reach the network")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    from pipelines.normalise import language

    language._identifier.cache_clear()
    language._detect_cached.cache_clear()
    assert detect_language("Les fondamentaux de la sécurité informatique", "").language == "fr"


@settings(deadline=None)
@given(st.text(max_size=120), st.one_of(st.none(), st.text(max_size=200)))
def test_never_raises_and_answers_iso_codes(title, description):
    result = detect_language(title, description)
    assert result.language in (*CANDIDATES, None)
    assert (result.language is None) == bool(result.unparsed)
