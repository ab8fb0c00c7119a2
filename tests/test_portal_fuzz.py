"""The JSON API fuzzed from its own OpenAPI document (Schemathesis), on SQLite and PostgreSQL.

Every operation gets generated valid and invalid requests; each answer must be no 5xx, a
status the document declares, and a body matching its declared schema. Bounded: a few
dozen examples per operation, no deadline per example (the machine is shared), so the
whole run stays within a minute per database; the same examples every run unless
``MOISSON_FUZZ_RANDOM=1``.
"""

from __future__ import annotations

import contextlib
import json
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance
from schemathesis.generation import GenerationMode

from portal.params import DATE_ORDER
from tests.portal_catalogue import NOW, catalogue  # noqa: F401 (fixture)

EXAMPLES = 50
# CI replays the same examples every run (a red build names a real regression, not a new
# draw); MOISSON_FUZZ_RANDOM=1 explores new ones, for a fuzzing session by hand.
DERANDOMIZE = os.environ.get("MOISSON_FUZZ_RANDOM") != "1"


@pytest.fixture(scope="module")
def api_schema(catalogue):  # noqa: F811
    from portal.app import create_app

    app = create_app(catalogue.engine, clock=lambda: NOW)
    return schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)


def _refused_valid_data(response) -> bool:
    """A schema-valid request refused for anything but the rule across parameters."""
    if response.status_code != 422:
        return False
    return any(e["msg"] != DATE_ORDER for e in response.json()["detail"])


def _url_readings(text: str) -> list:
    """What a server may make of one query value: the text, or the number or boolean it
    spells."""
    out: list = [text]
    for read in (int, float):
        with contextlib.suppress(ValueError):
            out.append(read(text))
    if text in ("true", "false"):
        out.append(text == "true")
    return out


def _valid_once_in_the_url(operation, case) -> bool:
    """A negative draw whose query, once in a URL, is a valid one: in a query string every
    value is text, so ``topic=False`` is ``topic=false`` (a valid topic), and one value is
    a one-item list (``platform=x``), and an empty value is no value (``DropEmptyParams``,
    which the document states). Such a request is rightly taken; it is no invalid
    one (a known false positive of Schemathesis' negative data,
    schemathesis/schemathesis#2312, #3962)."""
    from jsonschema import Draft202012Validator

    schemas = {
        p.name: p.definition.get("schema", {})
        for p in operation.iter_parameters()
        if p.location == "query"
    }
    query = case.query or {}
    if not query or any(name not in schemas for name in query):
        return False
    for name, value in query.items():
        values = value if isinstance(value, list) else [value]
        texts = [v if isinstance(v, str) else json.dumps(v) for v in values]
        texts = [t for t in texts if t.strip(" \t\r\n")]  # empty is absent (DropEmptyParams)
        if not texts:
            continue
        validator = Draft202012Validator(schemas[name])
        readings = [_url_readings(t) for t in texts]  # a few each: no product of them
        ways = [texts, [r[-1] for r in readings]]
        if len(texts) == 1:
            ways += readings[0]
        if not any(validator.is_valid(way) for way in ways):
            return False
    return True


def _fuzz(operation, mode: GenerationMode) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=DERANDOMIZE,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case):
        if mode is GenerationMode.NEGATIVE and _valid_once_in_the_url(operation, case):
            return  # no invalid request: nothing to check (drawing another would cost more)
        # positive_data_acceptance would count the date-order rule as a refusal: checked here
        response = case.call_and_validate(excluded_checks=[positive_data_acceptance])
        if mode is GenerationMode.POSITIVE:
            assert not _refused_valid_data(response), response.text

    run()


@pytest.mark.parametrize("mode", list(GenerationMode), ids=lambda m: m.value)
def test_the_api_answers_as_its_openapi_document_says(api_schema, mode):
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) == 10  # the six of the catalogue, two of jobs, two open-data exports
    for operation in operations:
        if mode is GenerationMode.NEGATIVE and not list(operation.iter_parameters()):
            continue  # nothing to make invalid
        _fuzz(operation, mode)
