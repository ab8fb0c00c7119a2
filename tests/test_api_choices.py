"""Multi-choice filters in the API, on SQLite and PostgreSQL: OR within a facet, AND across
facets, and counts that say what ticking one more value would give (each facet counted
with the other facets' choices applied). Expectations are computed here from the courses'
own documents (platforms, level, states, topics), not from other queries of the API."""

from __future__ import annotations

import pytest

from tests.portal_catalogue import VISIBLE, catalogue, client  # noqa: F401 (fixtures)


def search(client, **params):  # noqa: F811
    response = client.get("/api/v1/courses", params={"per_page": 100, **params})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture(scope="module")
def courses(client):  # noqa: F811
    page = search(client)
    assert page["total"] == VISIBLE == len(page["courses"])
    return page["courses"]


def values(course: dict, facet: str) -> set:
    """A course's values of a facet, read from its document."""
    if facet == "platform":
        return {p["name"] for p in course["platforms"]}
    if facet == "state":
        return set(course["states"])
    if facet == "level":
        return {course["level"]} - {None}
    raise AssertionError(facet)


def expected(courses: list[dict], **choices) -> set[int]:
    """The courses having, for every facet chosen, one of its chosen values."""
    return {
        c["id"]
        for c in courses
        if all(values(c, facet) & set(chosen) for facet, chosen in choices.items())
    }


def ids(page: dict) -> set[int]:
    assert page["total"] == len(page["courses"])
    return {c["id"] for c in page["courses"]}


def test_two_values_of_one_facet_give_either(client, courses):  # noqa: F811
    both = search(client, platform=["fun_mooc", "openclassrooms"])
    assert ids(both) == expected(courses, platform=["fun_mooc", "openclassrooms"])
    fun = search(client, platform="fun_mooc")  # one value, as before
    oc = search(client, platform=["openclassrooms"])
    assert ids(fun) and ids(oc) and ids(fun) != ids(oc)
    assert ids(both) == ids(fun) | ids(oc)

    states = ["upcoming", "self_paced"]
    either = search(client, state=states)
    assert ids(either) == expected(courses, state=states)
    assert ids(either) > ids(search(client, state="upcoming"))


def test_choices_in_two_facets_give_both(client, courses):  # noqa: F811
    asked = {"platform": ["fun_mooc"], "state": ["enrolment_open", "upcoming"]}
    page = search(client, **asked)
    assert ids(page) == expected(courses, **asked)
    assert 0 < len(ids(page)) < len(expected(courses, platform=["fun_mooc"]))
    level = search(client, level=["debutant", "avance"], platform="openclassrooms")
    assert ids(level) == expected(
        courses, level=["debutant", "avance"], platform=["openclassrooms"]
    )


@pytest.mark.parametrize(
    "asked",
    [
        {},
        {"platform": ["openclassrooms"]},
        {"platform": ["fun_mooc", "openclassrooms"], "level": ["debutant"]},
        {"state": ["archived"], "level": ["debutant", "intermediaire"]},
        {"state": ["enrolment_open", "self_paced"], "platform": ["fun_mooc"]},
    ],
)
def test_each_facet_counts_with_the_other_facets_choices(client, courses, asked):  # noqa: F811
    """A value's count is the number of courses the search would give with that value
    ticked too (OR within its facet), the other facets' choices kept."""
    page = search(client, **asked)
    for facet in ("platform", "state", "level"):
        others = {name: chosen for name, chosen in asked.items() if name != facet}
        listed = {v["value"]: v["count"] for v in page["facets"][facet]}
        for value, count in listed.items():
            assert count == len(expected(courses, **others, **{facet: [value]})), (facet, value)
        for value in asked.get(facet, []):
            assert value in listed  # a chosen value is listed, to be unticked
        for value in {v for c in courses for v in values(c, facet)} - set(listed):
            assert not expected(courses, **others, **{facet: [value]}), (facet, value)


def test_a_bad_value_among_several_is_a_422(client):  # noqa: F811
    response = client.get("/api/v1/courses", params=[("level", "debutant"), ("level", "expert")])
    assert response.status_code == 422
    assert response.json()["message"].startswith("invalid parameter — level: ")
    response = client.get("/api/v1/courses", params=[("organisation", "1"), ("organisation", "x")])
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "organisation", 1]


def test_the_openapi_document_lists_repeatable_facet_parameters(client):  # noqa: F811
    from storage.readindex import FACETS

    spec = client.get("/api/v1/openapi.json").json()
    parameters = {p["name"]: p for p in spec["paths"]["/api/v1/courses"]["get"]["parameters"]}
    for facet in FACETS:
        schema = parameters[facet.name]["schema"]
        kinds = [s.get("type") for s in schema.get("anyOf", [schema])]
        assert ("array" in kinds) == facet.multiple, facet.name
    assert set(spec["components"]["schemas"]["Facets"]["properties"]) == {f.name for f in FACETS}


@pytest.mark.parametrize(
    "query", ["free=true&free=false", "q=droit&q=python", "page=1&page=2", "sort=start&sort=new"]
)
def test_a_one_value_parameter_given_twice_is_a_422(client, query):  # noqa: F811
    """Found by the negative fuzz: the last value used to win silently."""
    answer = client.get(f"/api/v1/courses?{query}")
    assert answer.status_code == 422, answer.text
    name = query.split("=")[0]
    assert answer.json()["detail"][0]["loc"] == ["query", name]
    assert client.get(f"/?{query}").status_code == 422  # the page refuses it too


def _one_value(schema: dict) -> str:
    """A value the parameter's schema takes, as a query string holds it."""
    for option in schema.get("anyOf", [schema]):
        if "enum" in option:
            return str(option["enum"][0])
        kind = option.get("type")
        if kind == "integer":
            return str(max(1, option.get("minimum", 1)))
        if kind == "number":
            return str(max(1, option.get("minimum", 1)))
        if kind == "boolean":
            return "true"
        if kind == "string" and option.get("format") == "date":
            return "2026-11-15"
        if kind == "string" and "pattern" not in option:
            return "droit"
    return ""


def test_every_one_value_parameter_of_the_api_given_twice_is_a_422(client, catalogue):  # noqa: F811
    """Every GET operation of the OpenAPI document, every query parameter that takes one
    value: given twice (each time a value it takes), the answer is a 422 naming it."""
    spec = client.get("/api/v1/openapi.json").json()
    course = next(iter(catalogue.ids.values()))
    filled = {"course_id": str(course), "code": "M1419", "format": "csv"}
    checked = []
    for path, operations in spec["paths"].items():
        if "get" not in operations:
            continue
        url = path
        for name, value in filled.items():
            url = url.replace("{" + name + "}", value)
        for parameter in operations["get"].get("parameters", []):
            schema = parameter["schema"]
            kinds = [s.get("type") for s in schema.get("anyOf", [schema])]
            if parameter["in"] != "query" or "array" in kinds:
                continue
            value = _one_value(schema)
            if not value:
                continue  # a pattern-only text (a code): no value drawn here
            answer = client.get(url, params=[(parameter["name"], value)] * 2)
            assert answer.status_code == 422, (url, parameter["name"], answer.status_code)
            assert answer.json()["detail"][0]["loc"] == ["query", parameter["name"]]
            checked.append((url, parameter["name"]))
    assert len(checked) >= 20, checked
