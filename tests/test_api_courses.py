"""The JSON API on a catalogue built by the real pipelines, on SQLite and PostgreSQL.

Every expectation about FUN-MOOC courses comes from the recordings' METADATA.json cases,
read at the recordings' "now" (2026-11-15 12:00 Paris).
"""

from __future__ import annotations

import pytest

from tests.portal_catalogue import VISIBLE, catalogue, client, fun  # noqa: F401 (fixtures)


def all_courses(client, **params):  # noqa: F811
    response = client.get("/api/v1/courses", params={"per_page": 100, **params})
    assert response.status_code == 200, response.text
    return response.json()


def ids(page):
    return {c["id"] for c in page["courses"]}


def test_lists_every_visible_course_with_state_and_next_session(client, catalogue):  # noqa: F811
    page = all_courses(client)
    assert page["total"] == VISIBLE == len(page["courses"])
    titles = {c["title"] for c in page["courses"]}
    assert "Cours disparu de la plateforme" not in titles  # its only listing is hidden
    assert "Machine learning in Python with scikit-learn" not in titles  # English, dropped
    for course in page["courses"]:
        assert course["state"] == course["states"][0]
        assert course["url"].endswith(f"/cours/{course['id']}")
        if course["state"] != "archived":
            assert course["next_session"] is not None
        assert 0 <= course["completeness"]["score"] <= 1
    assert page["now"].startswith("2026-11-15T11:00:00")


@pytest.mark.parametrize(
    "external_id, state, not_in",
    [
        ("1047", "self_paced", "archived"),  # self_paced_forever_open
        ("1142", "archived", "enrolment_open"),  # no_runs_to_be_scheduled
        ("1278", "archived", "ongoing"),  # archived_closed
        ("1179", "upcoming", "enrolment_open"),  # future_not_yet_open
        ("1072", "archived", "upcoming"),  # its future run is in English, dropped
        ("1283", "ongoing", "enrolment_open"),  # ongoing_closed
        ("1121", "enrolment_open", "archived"),  # ongoing_open
        ("oc-stats", "starting_soon", "archived"),
    ],
)
def test_states_follow_the_sessions(client, catalogue, external_id, state, not_in):  # noqa: F811
    course_id = fun(catalogue, external_id)
    course = client.get(f"/api/v1/courses/{course_id}").json()
    assert state in course["states"]
    assert not_in not in course["states"]


@pytest.mark.parametrize(
    "state", ["enrolment_open", "starting_soon", "self_paced", "ongoing", "upcoming", "archived"]
)
def test_state_filter_matches_the_computed_states(client, state):  # noqa: F811
    everything = all_courses(client, facets=False)["courses"]
    expected = {c["id"] for c in everything if state in c["states"]}
    assert expected, f"the test catalogue has no {state} course"
    page = all_courses(client, state=state)
    assert ids(page) == expected
    assert page["total"] == len(expected)
    counts = {f["value"]: f["count"] for f in page["facets"]["state"]}
    assert counts[state] == len(expected)


def test_hidden_listings_and_their_sessions_do_not_show(client, catalogue):  # noqa: F811
    course = client.get(f"/api/v1/courses/{catalogue.ids['oc-ia-hidden']}").json()
    assert [lst["platform"] for lst in course["listings"]] == ["fun_mooc"]
    assert {s["platform"] for s in course["sessions"]} == {"fun_mooc"}
    assert client.get(f"/api/v1/courses/{catalogue.ids['oc-hidden']}").status_code == 404


def test_a_course_on_two_platforms_shows_both(client, catalogue):  # noqa: F811
    course = client.get(f"/api/v1/courses/{catalogue.ids['oc-stat-r']}").json()
    assert {lst["platform"] for lst in course["listings"]} == {"fun_mooc", "openclassrooms"}
    assert {s["platform"] for s in course["sessions"]} == {"fun_mooc", "openclassrooms"}
    urls = {lst["url"] for lst in course["listings"]}
    assert "https://openclassrooms.com/fr/courses/oc-stat-r" in urls
    assert all(s["url"] in urls for s in course["sessions"])
    for listing in course["listings"]:
        assert listing["first_seen"] and listing["last_seen"]
    ratings = {lst["platform"]: lst["rating"] for lst in course["listings"]}
    assert ratings["openclassrooms"] == {"value": 4.2, "scale": 5, "count": 15, "value_5": 4.2}
    assert {o["name"] for o in course["organisations"]} == {
        "Université Paris-Saclay",
        "Université Paris 1 Panthéon-Sorbonne",
    }


def test_course_detail_carries_quality_signals(client, catalogue):  # noqa: F811
    course = client.get(f"/api/v1/courses/{catalogue.ids['oc-python']}").json()
    assert course["rating"]["value"] == 4.6 and course["rating"]["count"] == 1280
    assert course["rating"]["scale"] == 5 and course["rating"]["value_5"] == 4.6
    assert [(s["platform"], s["value_5"]) for s in course["rating"]["sources"]] == [
        ("openclassrooms", 4.6)
    ]
    assert course["enrolments"] == 250000
    assert course["certificate"] == {"kind": "certificate", "price": 0.0}
    assert course["topics"] == [
        {"slug": "programmation", "label": "Programmation et développement"}
    ]
    assert course["level"] == "debutant"
    assert course["completeness"] == {"score": 0.9, "missing": ["dated_session"]}


def test_unknown_course_is_404(client):  # noqa: F811
    response = client.get("/api/v1/courses/987654")
    assert response.status_code == 404
    assert response.json() == {"detail": "no course 987654"}
    assert client.get("/api/v1/courses/abc").status_code == 422


@pytest.mark.parametrize(
    "q, title",
    [
        ("statistiques", "Introduction à la statistique avec R"),  # plural finds singular
        ("statistique", "Statistiques descriptives pour l'analyse de données"),  # and back
        ("ethique", "Éthique de la recherche"),  # accents ignored
        ("ÉTHIQUE", "Éthique de la recherche"),
        ("intelligence artificielle", "Introduction à l'intelligence artificielle"),
        ("réseau", "Introduction aux réseaux de télécommunications"),
        ("energies renouvelables", "Énergies renouvelables"),
        ("programmation", "Apprenez à programmer en Python"),  # found in the description
    ],
)
def test_french_full_text(client, q, title):  # noqa: F811
    page = all_courses(client, q=q)
    titles = [c["title"] for c in page["courses"]]
    assert title in titles
    assert page["sort"] == "relevance"


def test_text_search_ranks_titles_first(client):  # noqa: F811
    page = all_courses(client, q="statistique")
    assert {c["title"] for c in page["courses"][:2]} == {
        "Introduction à la statistique avec R",
        "Statistiques descriptives pour l'analyse de données",
    }


@pytest.mark.parametrize(
    "q",
    [
        "'",
        '"',
        "l'",
        '"statistique" OR \'x',
        "NEAR(statistique python)",
        "title:python",
        "statist*",
        "^python",
        "python AND NOT java",
        "(",
        "%",
        "_%_",
        "'; DROP TABLE course; --",
        "\\",
        "😀 émoji",
        "a" * 200,
        " ".join(["mot"] * 40),
    ],
)
def test_hostile_queries_answer_normally(client, q):  # noqa: F811
    response = client.get("/api/v1/courses", params={"q": q, "facets": "false"})
    assert response.status_code == 200, response.text
    assert all_courses(client)["total"] == VISIBLE  # nothing was harmed


def test_syntax_in_a_query_is_words_not_operators(client):  # noqa: F811
    plain = ids(all_courses(client, q="statistique python"))
    assert ids(all_courses(client, q='"statistique" OR python*')) == plain


def test_a_very_long_query_is_refused_clearly(client):  # noqa: F811
    response = client.get("/api/v1/courses", params={"q": "x" * 10_000})
    assert response.status_code == 422
    body = response.json()
    assert body["message"].startswith("invalid parameter — q: String should have at most 200")
    assert len(response.content) < 2_000  # the query is not echoed back whole


def _weeks(course):
    d = course["duration"]
    return d["weeks_max"] if d["weeks_max"] is not None else d["weeks_min"]


def _effort(course):
    e = course["effort"]
    return (
        e["hours_per_week_max"]
        if e["hours_per_week_max"] is not None
        else (e["hours_per_week_min"])
    )


def _under(topic, topics):
    """The topic and every topic below it, from /api/v1/topics."""
    parents = {t["slug"]: t["parent"] for t in topics}
    found = {topic}
    while True:
        more = {slug for slug, parent in parents.items() if parent in found} - found
        if not more:
            return found
        found |= more


HAS_CERTIFICATE = ("attestation", "certificate", "diploma")
FILTERS = [
    ({"level": "debutant"}, lambda c: c["level"] == "debutant"),
    ({"level": "intermediaire"}, lambda c: c["level"] == "intermediaire"),
    ({"free": "true"}, lambda c: c["free"] is True),
    ({"free": "false"}, lambda c: c["free"] is False),
    ({"certificate": "true"}, lambda c: c["certificate"]["kind"] in HAS_CERTIFICATE),
    ({"certificate": "false"}, lambda c: c["certificate"]["kind"] == "none"),
    ({"max_weeks": 5}, lambda c: _weeks(c) is not None and _weeks(c) <= 5),
    ({"max_weeks": 8}, lambda c: _weeks(c) is not None and _weeks(c) <= 8),
    ({"max_hours_per_week": 3}, lambda c: _effort(c) is not None and _effort(c) <= 3),
    (
        {"platform": "openclassrooms"},
        lambda c: "openclassrooms" in {p["name"] for p in c["platforms"]},
    ),
    ({"platform": "fun_mooc"}, lambda c: "fun_mooc" in {p["name"] for p in c["platforms"]}),
]


@pytest.mark.parametrize("params, keeps", FILTERS, ids=[str(p) for p, _ in FILTERS])
def test_each_filter_keeps_exactly_the_courses_it_describes(client, params, keeps):  # noqa: F811
    everything = all_courses(client, facets=False)["courses"]
    expected = {c["id"] for c in everything if keeps(c)}
    assert ids(all_courses(client, **params)) == expected


def test_filters_on_the_added_courses(client, catalogue):  # noqa: F811
    python, stats = catalogue.ids["oc-python"], catalogue.ids["oc-stats"]
    assert python in ids(all_courses(client, level="debutant"))
    assert stats in ids(all_courses(client, level="intermediaire"))
    assert python in ids(all_courses(client, free="true"))
    assert stats in ids(all_courses(client, free="false"))
    assert python in ids(all_courses(client, max_weeks=5))
    assert stats not in ids(all_courses(client, max_weeks=5))
    assert stats in ids(all_courses(client, max_weeks=8))
    assert python in ids(all_courses(client, max_hours_per_week=3))
    assert stats not in ids(all_courses(client, max_hours_per_week=3))
    oc = ids(all_courses(client, platform="openclassrooms"))
    assert oc == {python, stats, catalogue.ids["oc-hostile"], catalogue.ids["oc-stat-r"]}
    assert all_courses(client, platform="fun_mooc")["total"] == 26


def test_topic_filter_takes_the_topics_below(client, catalogue):  # noqa: F811
    topics = client.get("/api/v1/topics").json()
    everything = all_courses(client, facets=False)["courses"]
    for topic in ("informatique", "programmation", "sciences", "mathematiques"):
        below = _under(topic, topics)
        expected = {c["id"] for c in everything if below & {t["slug"] for t in c["topics"]}}
        assert ids(all_courses(client, topic=topic)) == expected, topic
    assert catalogue.ids["oc-python"] in ids(all_courses(client, topic="informatique"))
    assert catalogue.ids["oc-stats"] in ids(all_courses(client, topic="sciences"))
    assert ids(all_courses(client, topic="inconnu")) == set()


def test_organisation_filter(client):  # noqa: F811
    inria = next(
        o
        for o in client.get("/api/v1/organisations").json()["organisations"]
        if o["name"] == "Inria"
    )
    by_org = all_courses(client, organisation=inria["id"])
    assert by_org["total"] == inria["courses"] >= 5
    assert all("Inria" in [o["name"] for o in c["organisations"]] for c in by_org["courses"])


def test_start_window(client, catalogue):  # noqa: F811
    page = all_courses(client, starts_after="2026-11-20", starts_before="2026-11-20")
    assert ids(page) == {catalogue.ids["oc-stats"]}  # starts 2026-11-20 12:00 Paris
    later = all_courses(client, starts_after="2027-01-01")
    for course in later["courses"]:
        detail = client.get(f"/api/v1/courses/{course['id']}").json()
        assert any(s["start"] and s["start"] >= "2026-12-31T23" for s in detail["sessions"])


def test_combined_text_and_filters(client, catalogue):  # noqa: F811
    page = all_courses(client, q="statistique", platform="openclassrooms", state="upcoming")
    assert ids(page) == {catalogue.ids["oc-stats"], catalogue.ids["oc-stat-r"]}


def test_sorts(client, catalogue):  # noqa: F811
    by_rating = all_courses(client, sort="rating")["courses"]
    # 4.2 from 15 ratings (fewer than MIN_RATINGS) comes after 3.9 from 87
    assert [c["rating"]["value"] for c in by_rating[:4]] == [4.6, 3.9, 4.2, None]
    by_start = all_courses(client, sort="start", state="upcoming")["courses"]
    starts = [
        min(
            s["start"]
            for s in client.get(f"/api/v1/courses/{c['id']}").json()["sessions"]
            if s["start"] and "upcoming" in s["states"]
        )
        for c in by_start
    ]
    assert starts == sorted(starts)
    soon = ids(all_courses(client, state="starting_soon"))
    assert {c["id"] for c in by_start[: len(soon)]} == soon
    by_new = all_courses(client, sort="new")["courses"]
    created = [c["created_at"] for c in by_new]
    assert created == sorted(created, reverse=True)
    assert all_courses(client)["sort"] == "start"  # without q, relevance means nothing


def test_pages(client):  # noqa: F811
    first = client.get("/api/v1/courses", params={"per_page": 10}).json()
    second = client.get("/api/v1/courses", params={"per_page": 10, "page": 2}).json()
    third = client.get("/api/v1/courses", params={"per_page": 10, "page": 3}).json()
    assert len(first["courses"]) == len(second["courses"]) == 10
    assert len(third["courses"]) == VISIBLE - 20
    assert not ids(first) & ids(second)
    beyond = client.get("/api/v1/courses", params={"per_page": 10, "page": 50}).json()
    assert beyond["courses"] == [] and beyond["total"] == VISIBLE


def test_facets_count_what_each_choice_would_give(client, catalogue):  # noqa: F811
    page = all_courses(client, platform="openclassrooms")
    facets = page["facets"]
    platforms = {f["value"]: f["count"] for f in facets["platform"]}
    assert platforms["openclassrooms"] == 4
    assert platforms["fun_mooc"] == 26  # the platform filter is left out of its own facet
    oc = page["courses"]
    for name, value_of in (
        ("level", lambda c: [c["level"]] if c["level"] else []),
        ("free", lambda c: [] if c["free"] is None else [c["free"]]),
    ):
        expected = {}
        for course in oc:
            for value in value_of(course):
                expected[value] = expected.get(value, 0) + 1
        assert {f["value"]: f["count"] for f in facets[name]} == expected, name
    for state in facets["state"]:
        assert (
            state["count"]
            == all_courses(client, platform="openclassrooms", state=state["value"])["total"]
        )
    # a topic counts the courses of its subtopics too, as its filter selects them
    topics = {f["value"] for f in facets["topic"]}
    assert {t["slug"] for c in oc for t in c["topics"]} <= topics
    assert "informatique" in topics and "informatique" not in {
        t["slug"] for c in oc for t in c["topics"]
    }
    for facet in ("level", "topic", "free", "certificate", "organisation"):
        for value in facets[facet]:
            narrowed = all_courses(client, platform="openclassrooms", **{facet: value["value"]})
            assert narrowed["total"] == value["count"], (facet, value)


@pytest.mark.parametrize(
    "params, name",
    [
        ({"state": "bientot"}, "state"),
        ({"level": "expert"}, "level"),
        ({"sort": "prix"}, "sort"),
        ({"free": "peut-être"}, "free"),
        ({"certificate": "2"}, "certificate"),
        ({"starts_after": "demain"}, "starts_after"),
        ({"starts_before": "2026-13-01"}, "starts_before"),
        ({"starts_after": "2027-01-02", "starts_before": "2027-01-01"}, "starts_before"),
        ({"max_weeks": "-1"}, "max_weeks"),
        ({"max_weeks": "beaucoup"}, "max_weeks"),
        ({"max_hours_per_week": "0"}, "max_hours_per_week"),
        ({"organisation": "Inria"}, "organisation"),
        ({"page": "0"}, "page"),
        ({"per_page": "101"}, "per_page"),
        ({"per_page": "1000000"}, "per_page"),
    ],
)
def test_invalid_parameters_are_422_naming_the_parameter(client, params, name):  # noqa: F811
    response = client.get("/api/v1/courses", params=params)
    assert response.status_code == 422
    body = response.json()
    assert body["message"].startswith(f"invalid parameter — {name}: ")
    # a repeated parameter's loc adds the position of the bad value
    assert body["detail"][0]["loc"][:2] == ["query", name]


def test_empty_parameters_mean_any(client):  # noqa: F811
    response = client.get("/api/v1/courses?q=&state=&level=&free=&per_page=100")
    assert response.status_code == 200
    assert response.json()["total"] == VISIBLE


def test_topics_platforms_organisations_stats(client, catalogue):  # noqa: F811
    topics = {t["slug"]: t for t in client.get("/api/v1/topics").json()}
    assert topics["programmation"]["parent"] == "informatique"
    assert topics["programmation"]["label"] == "Programmation et développement"
    tagged = all_courses(client, topic="programmation")["total"]  # no topic sits under it
    assert topics["programmation"]["courses"] == tagged >= 1
    platforms = {p["name"]: p for p in client.get("/api/v1/platforms").json()}
    assert platforms["fun_mooc"]["courses"] == 26
    assert platforms["fun_mooc"]["label"] == "FUN-MOOC"
    assert platforms["fun_mooc"]["last_crawl"] is not None
    assert platforms["openclassrooms"]["listings"] == 4  # two are hidden

    orgs = client.get("/api/v1/organisations", params={"name": "universite paris"}).json()
    assert "Université Paris 1 Panthéon-Sorbonne" in [o["name"] for o in orgs["organisations"]]
    for hostile in ("%", "_", "'", "\\"):
        response = client.get("/api/v1/organisations", params={"name": hostile})
        assert response.status_code == 200
        assert response.json()["total"] == 0
    assert client.get("/api/v1/organisations", params={"per_page": 0}).status_code == 422

    stats = client.get("/api/v1/stats").json()
    assert stats["courses"] == VISIBLE
    # visible listings, as /platforms counts them (the two hidden ones are not shown)
    assert stats["by_platform"] == {"fun_mooc": 26, "openclassrooms": 4}
    assert stats["listings"] == 30
    assert stats["by_state"]["archived"] == all_courses(client, state="archived")["total"]


def test_openapi_is_published(client):  # noqa: F811
    document = client.get("/api/v1/openapi.json").json()
    assert document["openapi"].startswith("3.")
    for path in (
        "/api/v1/courses",
        "/api/v1/courses/{course_id}",
        "/api/v1/topics",
        "/api/v1/platforms",
        "/api/v1/organisations",
        "/api/v1/stats",
    ):
        assert path in document["paths"]
    parameters = {p["name"] for p in document["paths"]["/api/v1/courses"]["get"]["parameters"]}
    assert {"q", "state", "starts_after", "max_hours_per_week", "sort", "per_page"} <= parameters
    assert "/" not in document["paths"]  # the pages are not part of the API
