"""The JSON API fuzzed from its own OpenAPI document (Schemathesis), on SQLite and PostgreSQL.

Every operation gets generated valid and invalid requests; each answer must be no 5xx, a
status the document declares, and a body matching its declared schema. Bounded: a few
dozen examples per operation, no deadline per example (the machine is shared), so the
whole run stays within a minute per database; the same examples every run unless
``MOISSON_FUZZ_RANDOM=1``.
"""

from __future__ import annotations

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
