"""The French portal's pages, feeds, calendars and sitemap, on SQLite and PostgreSQL."""

from __future__ import annotations

import html as html_text
import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest
from icalendar import Calendar

from tests.portal_catalogue import VISIBLE, catalogue, client, fun  # noqa: F401 (fixtures)

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
MAX_PAGE_BYTES = 200_000


class Structure(HTMLParser):
    """What accessibility checks need: headings, form controls, labels, JSON-LD."""

    def __init__(self):
        super().__init__()
        self.headings, self.controls, self.labels, self.scripts = [], [], set(), []
        self.html_lang = None
        self._in_json_ld = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.html_lang = attrs.get("lang")
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(tag)
        if tag in ("input", "select", "textarea") and attrs.get("type") != "hidden":
            self.controls.append(attrs.get("id"))
        if tag == "label" and attrs.get("for"):
            self.labels.add(attrs["for"])
        if tag == "script":
            self._in_json_ld = attrs.get("type") == "application/ld+json"
            self.scripts.append("")

    def handle_data(self, data):
        if self._in_json_ld:
            self.scripts[-1] += data

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_json_ld = False


def structure(html: str) -> Structure:
    parser = Structure()
    parser.feed(html)
    return parser


def test_search_page_shows_facets_badges_and_platforms(client):  # noqa: F811
    response = client.get("/")
    assert response.status_code == 200
    assert len(response.content) < MAX_PAGE_BYTES
    html = response.text
    assert f"{VISIBLE} cours" in html
    page = structure(html)
    assert page.html_lang == "fr"
    assert page.headings.count("h1") == 1
    assert all(control in page.labels for control in page.controls), page.controls
    assert "Inscriptions ouvertes (" in html  # a facet with its count
    assert "FUN-MOOC (26)" in html
    for badge in (
        "Inscriptions ouvertes jusqu&#39;au",
        "Commence dans 5 jours",
        "À votre rythme",
        "Archivé – prochaine session inconnue",
    ):
        assert badge in html
    assert "sur FUN-MOOC" in html and "sur OpenClassrooms" in html
    assert 'type="application/atom+xml"' in html


def test_search_page_filters_and_keeps_the_choice(client):  # noqa: F811
    html = client.get("/", params={"q": "statistiques", "platform": "openclassrooms"}).text
    assert "2 cours pour « statistiques »" in html
    assert 'name="platform" value="openclassrooms" checked>' in html
    assert 'value="statistiques"' in html


def test_search_page_with_every_field_empty_is_the_full_search(client):  # noqa: F811
    empty = (
        "/?q=&state=&platform=&level=&topic=&organisation=&free=&certificate="
        "&starts_after=&starts_before=&max_weeks=&max_hours_per_week=&sort=start"
    )
    response = client.get(empty)
    assert response.status_code == 200
    assert f"{VISIBLE} cours" in response.text


def test_search_pages_link_to_each_other(client):  # noqa: F811
    html = client.get("/", params={"per_page": 5, "state": "archived"}).text
    assert 'rel="next" href="?state=archived&amp;page=2&amp;per_page=5"' in html


def test_invalid_search_is_a_french_422_page(client):  # noqa: F811
    response = client.get("/", params={"state": "bientot"})
    assert response.status_code == 422
    assert "Recherche invalide" in response.text
    assert "<code>query.state.0</code>" in response.text


def test_course_page(client, catalogue):  # noqa: F811
    course_id = catalogue.ids["oc-stat-r"]
    response = client.get(f"/cours/{course_id}")
    assert response.status_code == 200
    assert len(response.content) < MAX_PAGE_BYTES
    html = response.text
    page = structure(html)
    assert page.headings.count("h1") == 1
    assert "https://openclassrooms.com/fr/courses/oc-stat-r" in html
    assert "https://www.fun-mooc.fr/fr/cours/" in html
    assert "Université Paris-Saclay" in html
    (json_ld,) = [json.loads(s) for s in page.scripts if s]
    detail = client.get(f"/api/v1/courses/{course_id}").json()
    assert json_ld["@type"] == "Course"
    assert json_ld["name"] == "Introduction à la statistique avec R"
    assert len(json_ld["hasCourseInstance"]) == len(detail["sessions"]) >= 2
    assert {i["@type"] for i in json_ld["hasCourseInstance"]} == {"CourseInstance"}
    assert {"@type": "Organization", "name": "Université Paris-Saclay"} in json_ld["provider"]


def test_course_page_shows_quality_signals(client, catalogue):  # noqa: F811
    html = client.get(f"/cours/{catalogue.ids['oc-python']}").text
    assert "4,6/5 (1 280 avis, OpenClassrooms)" in html
    assert "250 000" in html  # enrolments
    assert "Certificat" in html and "Débutant" in html
    assert "4 semaines" in html and "3 h par semaine" in html
    assert 'Fiche complète à</dt><dd class="completeness">90 %' in html


def test_unknown_course_page_is_a_french_404(client):  # noqa: F811
    response = client.get("/cours/987654")
    assert response.status_code == 404
    assert "Aucun cours n° 987654" in response.text
    assert client.get("/nulle-part").status_code == 404


def test_icalendar_of_a_course(client, catalogue):  # noqa: F811
    course_id = catalogue.ids["oc-stat-r"]
    response = client.get(f"/cours/{course_id}.ics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    events = list(calendar.walk("VEVENT"))
    detail = client.get(f"/api/v1/courses/{course_id}").json()
    dated = [s for s in detail["sessions"] if s["start"]]
    assert len(events) == len(dated) >= 2
    starts = sorted(e.decoded("dtstart").isoformat() for e in events)
    assert starts == sorted(s["start"].replace("Z", "+00:00") for s in dated)
    assert len({str(e["uid"]) for e in events}) == len(events)
    assert client.get("/cours/987654.ics").status_code == 404


def test_self_paced_course_calendar_has_no_event(client, catalogue):  # noqa: F811
    calendar = Calendar.from_ical(client.get(f"/cours/{catalogue.ids['oc-python']}.ics").content)
    assert list(calendar.walk("VEVENT")) == []


def _search_calendar(client, **params):  # noqa: F811
    response = client.get("/agenda.ics", params=params)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    return list(Calendar.from_ical(response.content).walk("VEVENT"))


def _course_of(event) -> int:
    """The course id of an event, from the course page its description points at."""
    return int(re.search(r"Fiche : \S+/cours/(\d+)", str(event["description"])).group(1))


def test_icalendar_of_a_search(client, catalogue):  # noqa: F811
    from tests.portal_catalogue import NOW

    page = client.get("/", params={"q": "statistiques"}).text
    assert 'href="http://testserver/agenda.ics?q=statistiques"' in page
    assert "S'abonner dans mon agenda" in page

    events = _search_calendar(client)
    assert events and all(e.decoded("dtstart") > NOW for e in events)  # upcoming only
    assert len({str(e["uid"]) for e in events}) == len(events)
    upcoming = {
        s["id"]
        for c in client.get("/api/v1/courses?state=upcoming&per_page=100").json()["courses"]
        for s in client.get(f"/api/v1/courses/{c['id']}").json()["sessions"]
        if s["start"] and s["start"].replace("Z", "+00:00") > NOW.isoformat()
    }
    assert {int(str(e["uid"]).split("@")[0].removeprefix("session-")) for e in events} == upcoming

    chosen = {"q": "statistiques", "platform": "openclassrooms"}
    matching = {c["id"] for c in client.get("/api/v1/courses", params=chosen).json()["courses"]}
    shown = {_course_of(e) for e in _search_calendar(client, **chosen)}
    assert catalogue.ids["oc-stats"] in shown and shown <= matching
    assert not _search_calendar(client, q="statistiques", state="archived")
    assert client.get("/agenda.ics", params={"state": "x"}).status_code == 422


def test_icalendar_of_a_search_is_bounded(client, monkeypatch):  # noqa: F811
    from portal import pages

    courses = {_course_of(e) for e in _search_calendar(client)}
    assert len(courses) > 2
    monkeypatch.setattr(pages, "CALENDAR_SIZE", 2)
    client.app.state.answers.clear()  # the calendar above is kept for the minute
    bounded = {_course_of(e) for e in _search_calendar(client)}
    assert len(bounded) == 2 and bounded < courses


def test_atom_feed_of_a_search(client, catalogue):  # noqa: F811
    response = client.get("/flux.atom")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/atom+xml")
    feed = ET.fromstring(response.content)
    entries = feed.findall(f"{ATOM}entry")
    starting_soon = {
        c["id"] for c in client.get("/api/v1/courses?state=starting_soon").json()["courses"]
    }
    ids = [int(e.find(f"{ATOM}id").text.rsplit("/", 1)[1]) for e in entries]
    assert starting_soon <= set(ids)  # every course starting soon is announced
    assert len(ids) == len(set(ids))
    summary = entries[0].find(f"{ATOM}summary").text
    assert "Commence" in summary

    filtered = ET.fromstring(client.get("/flux.atom", params={"platform": "fun_mooc"}).content)
    titles = [e.find(f"{ATOM}title").text for e in filtered.findall(f"{ATOM}entry")]
    assert "Statistiques descriptives pour l'analyse de données" not in titles
    assert client.get("/flux.atom", params={"state": "x"}).status_code == 422


def test_sitemap_lists_visible_course_pages(client, catalogue):  # noqa: F811
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    urls = [u.find(f"{SITEMAP}loc").text for u in ET.fromstring(response.content)]
    assert len(urls) == VISIBLE
    assert all(re.search(r"/cours/\d+$", u) for u in urls)
    assert not any(u.endswith(f"/cours/{catalogue.ids['oc-hidden']}") for u in urls)
    assert "Sitemap: " in client.get("/robots.txt").text


@pytest.mark.parametrize("path", ["/", "/cours/{id}"])
def test_pages_stay_small_with_a_full_page_of_results(client, catalogue, path):  # noqa: F811
    url = path.format(id=fun(catalogue, "1024"))
    response = client.get(url, params={"per_page": 100} if path == "/" else None)
    assert response.status_code == 200
    assert len(response.content) < MAX_PAGE_BYTES
    css = client.get("/static/moisson.css")
    assert css.status_code == 200 and len(css.content) < 20_000


def test_an_empty_result_says_which_choice_to_drop(client):  # noqa: F811
    chosen = {"q": "zzzzzz", "state": "upcoming", "platform": "fun_mooc"}
    assert client.get("/api/v1/courses", params=chosen).json()["total"] == 0
    html = client.get("/", params=chosen).text
    assert "Aucun cours ne correspond. En retirant un choix :" in html
    offers = re.findall(r'<li><a href="\?([^"]*)">sans « ([^»]*) »</a> : (\d+) cours</li>', html)
    expected = []
    for name in chosen:
        rest = {k: v for k, v in chosen.items() if k != name}
        total = client.get("/api/v1/courses", params=rest).json()["total"]
        if total:
            expected.append((total, name))
    assert expected  # dropping the keywords gives courses
    assert [int(count) for _, _, count in offers] == sorted((t for t, _ in expected), reverse=True)
    assert {text.split(" : ")[0] for _, text, _ in offers} >= {"Mots-clés"}
    for query, _, count in offers:  # each link is the search without that choice
        link = html_text.unescape(query)
        assert client.get(f"/api/v1/courses?{link}").json()["total"] == int(count)


def test_an_empty_state_says_what_the_other_states_give(client):  # noqa: F811
    """« 0 cours ouverts aux inscriptions pour « statistique » — 2 à venir »: each other
    state with courses for the same words is a link that switches to it."""
    from portal.formatting import labels
    from storage.readindex import STATE_NAMES

    words = labels()["state_courses"]
    totals = {
        state: client.get("/api/v1/courses", params={"q": "statistique", "state": state}).json()[
            "total"
        ]
        for state in STATE_NAMES
    }
    empty = [state for state, total in totals.items() if total == 0]
    assert empty and any(totals.values())  # the catalogue has the case
    html = client.get("/", params={"q": "statistique", "state": empty[0]}).text
    found = re.search(r'<p class="state-switch">(.*?)</p>', html)
    assert found, html
    line = html_text.unescape(re.sub(r"<[^>]+>", "", found.group(1)))
    others = [f"{totals[s]} {words[s]}" for s in STATE_NAMES if totals[s] and s != empty[0]]
    assert line == f"0 cours {words[empty[0]]} pour « statistique » — " + ", ".join(others)
    links = re.findall(r'<a href="\?([^"]*)">(\d+) ([^<]*)</a>', found.group(1))
    assert len(links) == len(others)
    for query, count, _words in links:
        answer = client.get(f"/api/v1/courses?{html_text.unescape(query)}").json()
        assert answer["total"] == int(count) and "q=statistique" in html_text.unescape(query)
    # a result that is not empty says nothing of the kind
    some = next(s for s, total in totals.items() if total)
    assert (
        'class="state-switch"'
        not in client.get("/", params={"q": "statistique", "state": some}).text
    )
