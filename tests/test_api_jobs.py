"""Jobs in the JSON API (ROME 4.0, docs/JOBS.md), on SQLite and PostgreSQL.

The test catalogue (tests/portal_catalogue.py) holds the shipped ROME release, loaded before
its courses were stored, so the writer linked them as production does: « Statistiques
descriptives » by the ROME code its record states (M1419, Data analyst, and Z9999, which the
release lacks), the others by their text.
"""

from __future__ import annotations

import re

import pytest

from tests.portal_catalogue import catalogue, client, shipped_release  # noqa: F401 (fixtures)

CLOSENESS = re.compile(r"^couvre (\d+) des (\d+) compétences clés$")


def get(client, path, **params):  # noqa: F811
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def course_detail(client, catalogue, external_id):  # noqa: F811
    return get(client, f"/api/v1/courses/{catalogue.ids[external_id]}")


def every_course(client):  # noqa: F811
    return get(client, "/api/v1/courses", per_page=100, facets=False)["courses"]


@pytest.mark.parametrize(
    "q, label",
    [("je veux devenir comptable", "comptable"), ("data analyst", "Data analyst")],
)
def test_job_search_finds_profiles_by_title_and_synonym(client, q, label):  # noqa: F811
    found = get(client, "/api/v1/jobs", q=q)
    assert found["q"] == q
    assert found["attribution"] == shipped_release().attribution
    assert any(label.lower() in j["label"].lower() for j in found["jobs"][:3]), found
    scores = [j["score"] for j in found["jobs"]]
    assert scores == sorted(scores, reverse=True)
    for hit in found["jobs"]:
        assert hit["url"].endswith(f"/metiers/{hit['code']}")
        assert hit["courses"] == get(client, f"/api/v1/jobs/{hit['code']}")["total"]


def test_job_search_counts_the_courses_of_each_job(client, catalogue):  # noqa: F811
    (first, *_) = get(client, "/api/v1/jobs", q="data analyst")["jobs"]
    assert first["code"] == "M1419"
    assert first["courses"] >= 1  # the course whose record states M1419


def test_job_search_for_a_text_naming_no_job_or_none_is_empty(client):  # noqa: F811
    assert get(client, "/api/v1/jobs", q="zzzz qqqq")["jobs"] == []
    assert get(client, "/api/v1/jobs", q="")["jobs"] == []  # empty means absent
    assert get(client, "/api/v1/jobs")["jobs"] == []


@pytest.mark.parametrize("params", [{"q": "x" * 201}, {"q": "comptable", "limit": 0}])
def test_job_search_refuses_bad_parameters_by_name(client, params):  # noqa: F811
    response = client.get("/api/v1/jobs", params=params)
    assert response.status_code == 422
    body = response.json()
    assert body["message"].startswith("invalid parameter")
    assert {e["loc"][-1] for e in body["detail"]} <= {"q", "limit"}


def test_a_job_with_its_core_skills_and_courses_open_ones_first(client, catalogue):  # noqa: F811
    job = get(client, "/api/v1/jobs/M1419", per_page=100)
    assert (job["code"], job["label"]) == ("M1419", "Data analyst")
    assert job["definition"] and job["core_skills"]
    assert job["attribution"] == shipped_release().attribution
    assert job["domain"]["code"] == "M14"
    ids = [c["id"] for c in job["courses"]]
    assert catalogue.ids["oc-stats"] in ids and job["total"] == len(ids)
    actionable = [c["actionable"] for c in job["courses"]]
    assert actionable == sorted(actionable, reverse=True)  # open and upcoming ones first
    core = {s["label"] for s in job["core_skills"]}
    for course in job["courses"]:
        covered, of = map(int, CLOSENESS.match(course["closeness"]).groups())
        assert of == len(core) and covered == len(course["core_covered"])
        assert set(course["core_covered"]) <= core & set(course["reasons"])
        assert course["url"].endswith(f"/cours/{course['id']}")
    stats = next(c for c in job["courses"] if c["id"] == catalogue.ids["oc-stats"])
    assert (stats["method"], stats["score"], stats["actionable"]) == ("code", 1.0, True)


def test_a_job_code_is_read_in_either_case(client):  # noqa: F811
    assert get(client, "/api/v1/jobs/m1419")["code"] == "M1419"


def test_a_code_the_release_lacks_is_404_and_a_malformed_one_422(client):  # noqa: F811
    missing = client.get("/api/v1/jobs/Z9999")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "no job Z9999 in the loaded ROME"}
    for bad in ("M14", "1419M", "M1419x", "M 1419"):
        response = client.get(f"/api/v1/jobs/{bad}")
        assert response.status_code == 422, bad
        assert response.json()["detail"][0]["loc"] == ["path", "code"]
    paged = client.get("/api/v1/jobs/M1419", params={"per_page": 101})
    assert paged.status_code == 422 and "per_page" in paged.json()["message"]


def test_a_course_names_its_jobs_and_qualifications(client, catalogue):  # noqa: F811
    course = course_detail(client, catalogue, "oc-stats")
    codes = {j["code"]: j for j in course["jobs"]}
    assert "Z9999" not in codes  # stated but not in the release: kept aside, not linked
    assert codes["M1419"]["method"] == "code" and codes["M1419"]["score"] == 1.0
    assert codes["M1419"]["url"].endswith("/metiers/M1419")
    assert codes["M1419"]["label"] == "Data analyst"
    assert course["qualifications"] == [
        {"registry": "RNCP", "code": "35030", "label": "RNCP35030"},
        {"registry": "RS", "code": "5234", "label": "RS5234"},
    ]


def test_courses_found_by_their_text_say_why(client, catalogue):  # noqa: F811
    course = course_detail(client, catalogue, "oc-stat-r")  # FUN-MOOC and OpenClassrooms
    assert course["qualifications"] == []
    assert 1 <= len(course["jobs"]) <= 5, course["jobs"]
    for link in course["jobs"]:
        assert link["method"] == "text" and link["reasons"]
        job = get(client, f"/api/v1/jobs/{link['code']}", per_page=100)
        skills = {s["label"] for s in job["core_skills"] + job["other_skills"]}
        assert set(link["reasons"]) <= skills
        assert course["id"] in {c["id"] for c in job["courses"]}  # both ways
    scores = [j["score"] for j in course["jobs"]]
    assert scores == sorted(scores, reverse=True)


def test_most_visible_courses_are_linked_to_jobs(client):  # noqa: F811
    courses = every_course(client)
    linked = [c for c in courses if get(client, f"/api/v1/courses/{c['id']}")["jobs"]]
    assert len(linked) >= len(courses) / 2, f"{len(linked)} of {len(courses)}"


def test_the_jobs_are_documented_in_openapi(client):  # noqa: F811
    document = get(client, "/api/v1/openapi.json")
    paths = document["paths"]
    assert {"/api/v1/jobs", "/api/v1/jobs/{code}"} <= set(paths)
    detail = paths["/api/v1/jobs/{code}"]["get"]
    assert {"200", "404", "422"} <= set(detail["responses"])
    schemas = document["components"]["schemas"]
    assert {"jobs", "qualifications"} <= set(schemas["CourseDetail"]["properties"])
    assert {"courses", "core_skills", "attribution"} <= set(schemas["JobDetail"]["properties"])


# -- the « Métier » and « Domaine professionnel » facets ------------------------------------


def _links(client):  # noqa: F811
    """{course id: its job links} of every visible course, as the course detail states them."""
    return {
        c["id"]: get(client, f"/api/v1/courses/{c['id']}")["jobs"] for c in every_course(client)
    }


def test_the_job_facet_counts_and_filters_as_the_links_say(client):  # noqa: F811
    links = _links(client)
    facets = get(client, "/api/v1/courses", per_page=1)["facets"]
    counted = {v["value"]: v["count"] for v in facets["job"]}
    expected: dict[str, int] = {}
    for found in links.values():
        for link in found:
            expected[link["code"]] = expected.get(link["code"], 0) + 1
    assert counted and counted == {c: n for c, n in expected.items() if c in counted}
    assert len(counted) == min(30, len(expected))  # the most frequent, at most 30
    labels = {v["value"]: v["label"] for v in facets["job"]}
    assert labels["M1419"] == "Data analyst"
    # one job: exactly the courses linked to it
    chosen = get(client, "/api/v1/courses", job="M1419", per_page=100)
    with_job = {c for c, found in links.items() if "M1419" in {j["code"] for j in found}}
    assert {c["id"] for c in chosen["courses"]} == with_job and chosen["total"] == counted["M1419"]
    # two jobs: either (OR), and the job facet itself still counts as if unticked
    other = next(code for code in counted if code != "M1419")
    both = get(client, "/api/v1/courses", job=["M1419", other], per_page=100)
    either = {c for c, found in links.items() if {"M1419", other} & {j["code"] for j in found}}
    assert {c["id"] for c in both["courses"]} == either
    assert {v["value"]: v["count"] for v in both["facets"]["job"]} == counted


def test_the_domain_facet_is_the_domain_of_the_linked_jobs(client):  # noqa: F811
    links = _links(client)
    domains = {
        c: {get(client, f"/api/v1/jobs/{j['code']}", per_page=1)["domain"]["code"] for j in found}
        for c, found in links.items()
    }
    facets = get(client, "/api/v1/courses", per_page=1)["facets"]
    counted = {v["value"]: v["count"] for v in facets["domain"]}
    for domain, count in counted.items():
        assert count == sum(domain in found for found in domains.values()), domain
    assert {v["value"]: v["label"] for v in facets["domain"]}["M14"] == (
        get(client, "/api/v1/jobs/M1419", per_page=1)["domain"]["label"]
    )
    chosen = get(client, "/api/v1/courses", domain="M14", per_page=100)
    assert {c["id"] for c in chosen["courses"]} == {c for c, d in domains.items() if "M14" in d}
    # facets combine with AND: a domain and a job give the courses that have both
    jobs = {c: {j["code"] for j in found} for c, found in links.items()}
    elsewhere = next(v["value"] for v in facets["job"] if not v["value"].startswith("M14"))
    both = get(client, "/api/v1/courses", domain="M14", job=elsewhere, per_page=100)
    assert {c["id"] for c in both["courses"]} == {
        c for c in links if "M14" in domains[c] and elsewhere in jobs[c]
    }


@pytest.mark.parametrize(
    "params", [{"job": "m1419"}, {"job": "comptable"}, {"domain": "M1"}, {"domain": "M144"}]
)
def test_job_and_domain_parameters_refuse_what_is_not_a_code(client, params):  # noqa: F811
    response = client.get("/api/v1/courses", params=params)
    assert response.status_code == 422
    assert next(iter(params)) in response.json()["detail"][0]["loc"]


def test_the_job_facets_are_documented_in_openapi(client):  # noqa: F811
    document = get(client, "/api/v1/openapi.json")
    parameters = {p["name"]: p for p in document["paths"]["/api/v1/courses"]["get"]["parameters"]}
    for name, pattern in (("job", r"^([A-Z][0-9]{4})?$"), ("domain", r"^([A-Z][0-9]{2})?$")):
        assert "repeat to choose several" in parameters[name]["description"]
        assert pattern in str(parameters[name]["schema"]), parameters[name]
