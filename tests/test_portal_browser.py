"""The portal in headless Chromium: search, filter, open a course, read the state badges.

It drives Debian's ``chromium`` through Playwright's ``executable_path`` (never
``playwright install``) against a real ``moisson serve`` on a loopback port, with every
request to another host aborted. Elsewhere than CI the tests skip when Chromium or
Playwright is missing; CI sets ``MOISSON_REQUIRE_BROWSER=1`` so that they fail instead.
The search page's screenshot lands in ``$MOISSON_ARTIFACTS`` (default ``var/artifacts``).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import REFERENCE_TIME, ROOT
from tests.portal_catalogue import VISIBLE, build

CHROMIUM = os.environ.get("MOISSON_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ARTIFACTS = Path(os.environ.get("MOISSON_ARTIFACTS", ROOT / "var" / "artifacts"))
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def _unavailable(reason: str):
    if os.environ.get("MOISSON_REQUIRE_BROWSER") == "1":
        pytest.fail(f"MOISSON_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (pip install -e '.[dev]')")
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        _unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def portal(tmp_path_factory):
    """``moisson serve`` on the test catalogue, frozen at the recordings' "now"."""
    folder = tmp_path_factory.mktemp("browser")
    catalogue = build(f"sqlite:///{folder / 'catalogue.sqlite3'}")
    log = folder / "serve.log"
    catalogue.engine.dispose()
    port = _free_port()
    # « Prévenez-moi » forms shown (docs/ALERTS.md); no SMTP: confirmations wait in the outbox
    env = {
        **os.environ,
        "MOISSON_ALERTS_DATABASE_URL": catalogue.url,
        "MOISSON_ALERTS_SECRET": "b" * 48,
    }
    env.pop("MOISSON_SMTP_HOST", None)
    with log.open("w") as output:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "moisson.cli",
                "serve",
                "--db",
                catalogue.url,
                "--port",
                str(port),
                "--now",
                REFERENCE_TIME,
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{base}/api/v1/stats", timeout=2):
                break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                server.wait()
                pytest.fail(f"moisson serve did not start: {log.read_text()}")
            time.sleep(0.2)
    yield base, catalogue
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture
def page(browser, portal):
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    blocked = []

    def only_loopback(route):
        host = urlsplit(route.request.url).hostname
        if host in LOOPBACK:
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", only_loopback)
    tab = context.new_page()
    yield tab
    context.close()
    assert blocked == [], f"the portal asked for other hosts: {blocked}"


def test_search_page_and_screenshot(page, portal):
    base, _ = portal
    response = page.goto(base + "/")
    assert response.status == 200
    assert page.locator("h1").inner_text() == "Quel cours pouvez-vous commencer bientôt ?"
    assert page.locator("#results-title").inner_text() == f"{VISIBLE} cours"
    badges = page.locator(".badge").all_inner_texts()
    assert any(b.startswith("Inscriptions ouvertes jusqu'au ") for b in badges)
    assert "Commence dans 5 jours" in badges
    assert "À votre rythme" in badges
    assert "Archivé – prochaine session inconnue" in badges
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "search-page.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000


def test_search_then_filter_then_open_a_course(page, portal):
    base, _ = portal
    page.goto(base + "/")
    page.get_by_label("Mots-clés").fill("statistiques")
    page.keyboard.press("Enter")
    page.wait_for_url("**/?q=statistiques*")
    titles = page.locator("li.course h3").all_inner_texts()
    assert "Introduction à la statistique avec R" in titles
    assert "Statistiques descriptives pour l'analyse de données" in titles

    page.locator('input[name="state"][value="starting_soon"]').check()
    page.get_by_role("button", name="Appliquer les filtres").click()
    page.wait_for_url("**state=starting_soon*")
    assert page.locator("#results-title").inner_text() == "1 cours pour « statistiques »"
    course = page.locator("li.course").first
    assert "Commence dans 5 jours" in course.locator(".badge").all_inner_texts()
    assert "sur OpenClassrooms" in course.inner_text()

    course.get_by_role("link").click()
    page.wait_for_url("**/cours/*")
    assert page.locator("h1").inner_text() == "Statistiques descriptives pour l'analyse de données"
    badges = page.locator("article > ul.badges .badge").all_inner_texts()
    assert badges[0].startswith("Inscriptions ouvertes jusqu'au 22 novembre")
    assert "Commence dans 5 jours" in badges
    enrol = page.get_by_role("link", name="OpenClassrooms")
    assert enrol.get_attribute("href") == "https://openclassrooms.com/fr/courses/oc-stats"
    assert page.locator('script[type="application/ld+json"]').count() == 1


def test_two_platforms_ticked_give_the_courses_of_both(page, portal):
    """Checkboxes, no script needed: the form sends ``platform`` twice, the results hold
    courses of both platforms, and both boxes stay ticked."""
    base, _ = portal
    page.goto(base + "/")
    page.locator('input[name="platform"][value="openclassrooms"]').check()
    page.get_by_role("button", name="Appliquer les filtres").click()
    page.wait_for_url("**platform=openclassrooms*")
    only = page.locator("li.course").count()
    assert page.locator("#results-title").inner_text() == f"{only} cours"
    assert 0 < only < VISIBLE
    page.locator('input[name="platform"][value="fun_mooc"]').check()
    page.get_by_role("button", name="Appliquer les filtres").click()
    page.wait_for_url("**platform=fun_mooc*")
    assert "platform=openclassrooms" in page.url
    results = page.locator("li.course .platforms").all_inner_texts()
    assert any("FUN-MOOC" in text for text in results)
    assert any("OpenClassrooms" in text for text in results)
    assert page.locator("#results-title").inner_text() == f"{VISIBLE} cours"
    for name in ("fun_mooc", "openclassrooms"):
        assert page.locator(f'input[name="platform"][value="{name}"]').is_checked()


def test_keyboard_reaches_the_search_first(page, portal):
    base, _ = portal
    page.goto(base + "/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Aller au contenu"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "contenu"


def test_small_screens_do_not_scroll_sideways(browser, portal):
    base, catalogue = portal
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="fr-FR")
    tab = context.new_page()
    for path in ("/", f"/cours/{catalogue.ids['oc-stat-r']}"):
        tab.goto(base + path)
        overflow = tab.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, path
    context.close()


def test_api_docs_render_without_other_hosts(page, portal):
    base, _ = portal
    response = page.goto(base + "/api/docs")
    assert response.status == 200
    courses = page.locator('.opblock-summary-path[data-path="/api/v1/courses"]')
    courses.wait_for(timeout=15_000)  # Swagger UI drew the OpenAPI 3.1 document
    assert page.locator(".opblock").count() >= 6
    assert page.locator(".errors-wrapper").count() == 0


# -- accessibility: axe-core's rules in the page (tests/vendor/axe-core/METADATA) -------------

AXE = ROOT / "tests" / "vendor" / "axe-core" / "axe.min.js"
BLOCKING = {"serious", "critical"}


def axe_violations(tab) -> list[dict]:
    """The serious and critical violations axe-core finds in the page as it stands."""
    tab.add_script_tag(path=str(AXE))
    found = tab.evaluate("async () => (await axe.run(document)).violations")
    return [
        {"rule": v["id"], "impact": v["impact"], "nodes": [n["html"] for n in v["nodes"]][:3]}
        for v in found
        if v["impact"] in BLOCKING
    ]


def test_axe_finds_what_it_should(page, portal):
    """The check can fail: a page with an unlabelled field and grey-on-grey text."""
    base, _ = portal
    page.goto(base + "/")
    page.evaluate(
        """() => {
        const input = document.createElement('input');
        document.querySelector('main').append(input);
        const p = document.createElement('p');
        p.textContent = 'illisible'; p.style.color = '#ccc'; p.style.background = '#fff';
        document.querySelector('main').append(p);
    }"""
    )
    rules = {v["rule"] for v in axe_violations(page)}
    assert {"label", "color-contrast"} <= rules


@pytest.mark.parametrize("width", [1280, 390])
def test_axe_search_course_job_and_alert_pages(browser, portal, width):
    base, catalogue = portal
    context = browser.new_context(locale="fr-FR", viewport={"width": width, "height": 844})
    tab = context.new_page()
    course = f"/cours/{catalogue.ids['oc-stat-r']}"
    for path in ("/", "/?q=statistiques&state=starting_soon", "/?q=zzzzzz&state=upcoming", course):
        tab.goto(base + path)
        assert tab.locator("form.alert-form").count() == 1, path  # the alert form is there
        assert axe_violations(tab) == [], path
    # the job pages: a job (one the course leads to) and the job search
    tab.goto(base + course)
    job = tab.locator("section.jobs li[data-job]").first.get_attribute("data-job")
    for path in (f"/metiers/{job}", "/metiers?q=data+analyst", "/metiers"):
        tab.goto(base + path)
        assert tab.locator("h1").count() == 1, path
        assert axe_violations(tab) == [], path
    # the page an alert form leads to
    tab.goto(base + course)
    tab.get_by_label("Prévenez-moi des nouveautés de ce cours par courriel").fill("a@example.org")
    tab.get_by_role("button", name="Prévenez-moi").click()
    tab.wait_for_url("**/alerte")
    assert tab.locator("h1").inner_text() == "Vérifiez votre messagerie"
    assert axe_violations(tab) == []
    context.close()


# -- the keyboard alone -----------------------------------------------------------------------


def _tab_to(tab, test: str, limit: int = 120) -> None:
    """Press Tab until the focused element passes ``test`` (a JS expression on ``el``)."""
    for _ in range(limit):
        tab.keyboard.press("Tab")
        if tab.evaluate(f"(() => {{ const el = document.activeElement; return {test}; }})()"):
            return
    raise AssertionError(f"Tab never reached an element where {test}")


def test_search_open_a_course_and_subscribe_with_the_keyboard_alone(page, portal):
    base, catalogue = portal
    page.goto(base + "/")
    _tab_to(page, "el.id === 'q'")
    page.keyboard.type("statistiques")
    page.keyboard.press("Enter")
    page.wait_for_url("**/?q=statistiques*")
    _tab_to(page, "el.textContent === 'Statistiques descriptives pour l\\'analyse de données'")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/cours/{catalogue.ids['oc-stats']}")
    _tab_to(page, "el.id === 'alert-address'")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # the focus is visible
    page.keyboard.type("clavier@example.org")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Prévenez-moi"
    page.keyboard.press("Enter")
    page.wait_for_url("**/alerte")
    assert page.locator("h1").inner_text() == "Vérifiez votre messagerie"


# -- on a phone -------------------------------------------------------------------------------


def test_on_a_phone_results_come_first_and_filters_fold(browser, portal):
    context = browser.new_context(locale="fr-FR", viewport={"width": 390, "height": 844})
    tab = context.new_page()
    base, _ = portal
    tab.goto(base + "/")
    first = tab.locator("li.course").first.bounding_box()
    assert first["y"] + 40 <= 844  # the first result's title is on the first screen
    state = tab.locator("#facet-state")  # the state facet's checkboxes
    assert not state.is_visible()  # folded
    tab.locator("summary").click()
    assert state.is_visible()
    context.close()


def test_on_a_wide_screen_filters_stay_open(page, portal):
    base, _ = portal
    page.goto(base + "/")
    assert page.locator("#facet-state").is_visible()


# -- quality at a glance ----------------------------------------------------------------------


def test_reperes_block_shows_rating_track_record_certificate_price(page, portal):
    from storage.predict import runs
    from tests.portal_catalogue import NOW

    base, catalogue = portal
    course_id = catalogue.ids["oc-stat-r"]
    with urllib.request.urlopen(f"{base}/api/v1/courses/{course_id}") as answer:
        detail = __import__("json").load(answer)
    page.goto(f"{base}/cours/{course_id}")
    block = page.locator("section.reperes")
    assert block.locator("h2").inner_text() == "Repères"

    rated = [s for s in detail["listings"] if s["rating"]["value"] is not None]
    assert {s["platform_label"] for s in rated} >= {"OpenClassrooms"}
    weights = [s["rating"]["count"] or 1 for s in rated]
    mean = sum(s["rating"]["value_5"] * w for s, w in zip(rated, weights, strict=True))
    expected = f"{round(mean / sum(weights), 2):g}".replace(".", ",") + "/5"
    rating = block.locator("dd.rating").inner_text()
    assert rating.startswith(expected)
    assert all(s["platform_label"] in rating for s in rated)

    starts = [
        (s["platform_label"], datetime.fromisoformat(s["start"].replace("Z", "+00:00")))
        for s in detail["sessions"]
        if s["start"]
    ]
    started = [(label, start) for label, start in starts if start <= NOW]
    history = runs([start for _, start in started])
    record = block.locator("dd.track-record").inner_text()
    assert history, "the test course has run before"
    assert record.startswith(f"{len(history)} session")
    assert str(history[0].year) in record
    assert all(label in record for label, _ in started)

    completeness = round(detail["completeness"]["score"] * 100)
    assert block.locator("dd.completeness").inner_text().startswith(f"{completeness} %")
    assert block.locator("dd.price").count() == block.locator("dd.certificate").count() == 1


def test_reperes_block_of_a_free_course_with_a_free_certificate(page, portal):
    base, catalogue = portal
    page.goto(f"{base}/cours/{catalogue.ids['oc-python']}")
    block = page.locator("section.reperes")
    assert block.locator("dd.rating").inner_text() == "4,6/5 (1 280 avis, OpenClassrooms)"
    assert block.locator("dd.enrolments").inner_text() == "250 000"
    assert block.locator("dd.certificate").inner_text() == "Certificat (gratuit)"
    assert block.locator("dd.price").inner_text() == "gratuit"
    assert block.locator("dd.track-record").inner_text().startswith("pas encore")


def test_course_page_leads_to_a_job_page_that_lists_the_course(page, portal):
    base, catalogue = portal
    course_id = catalogue.ids["oc-stat-r"]
    page.goto(f"{base}/cours/{course_id}")
    title = page.locator("h1").inner_text()
    section = page.locator("section.jobs")
    assert section.get_by_role("heading", level=2).inner_text() == "Métiers visés"
    first = section.locator("li[data-job]").first
    assert first.locator(".why").inner_text().startswith("parce que ce cours couvre : ")
    job = first.get_by_role("link")
    label, code = job.inner_text(), first.get_attribute("data-job")
    job.click()
    page.wait_for_url(f"**/metiers/{code}")
    assert page.locator("h1").inner_text() == f"{label} ({code})"
    assert page.get_by_role("heading", name="Compétences clés").count() == 1
    listed = page.locator(f'li.course[data-course="{course_id}"]')
    assert listed.get_by_role("link").inner_text() == title
    assert listed.locator(".closeness").inner_text().startswith("couvre ")
    assert "Source : France Travail, ROME 4.0 version " in page.locator(".attribution").inner_text()


def test_header_leads_to_the_job_search(page, portal):
    base, _ = portal
    page.goto(base + "/")
    page.locator("header.site").get_by_role("link", name="Métiers").click()
    page.wait_for_url("**/metiers")
    page.get_by_label("Métier").fill("data analyst")
    page.keyboard.press("Enter")
    page.wait_for_url("**/metiers?q=data+analyst")
    first = page.locator("li.job").first
    assert first.get_attribute("data-job") == "M1419"
    assert first.locator(".courses").inner_text().endswith(" cours")


def test_two_jobs_ticked_give_the_courses_of_either(page, portal):
    """The « Métier » facet: checkboxes named by the job's label, two ticked give the
    courses of either job, both stay ticked; the « Domaine professionnel » box is there."""
    base, _ = portal
    page.goto(base + "/")
    jobs = page.locator("#facet-job")
    assert jobs.locator("legend").inner_text() == "Métier"
    assert page.locator("#facet-domain legend").inner_text() == "Domaine professionnel"
    analyst = jobs.locator('input[value="M1419"]')
    label = jobs.locator(f'label[for="{analyst.get_attribute("id")}"]').inner_text()
    assert label.startswith("Data analyst (")
    alone = int(label.rsplit("(", 1)[1].rstrip(")"))
    analyst.check()
    page.get_by_role("button", name="Appliquer les filtres").click()
    page.wait_for_url("**job=M1419*")
    assert page.locator("#results-title").inner_text() == f"{alone} cours"
    other = jobs.locator('input[name="job"]:not([value="M1419"])').first
    code = other.get_attribute("value")
    other_label = jobs.locator(f'label[for="{other.get_attribute("id")}"]').inner_text()
    other_count = int(other_label.rsplit("(", 1)[1].rstrip(")"))
    other.check()
    page.get_by_role("button", name="Appliquer les filtres").click()
    page.wait_for_url(f"**job={code}*")
    both = page.locator("li.course").count()
    assert max(alone, other_count) <= both <= alone + other_count
    assert page.locator("#results-title").inner_text() == f"{both} cours"
    for value in ("M1419", code):
        assert jobs.locator(f'input[value="{value}"]').is_checked()


def test_search_words_naming_a_job_lead_to_its_courses(page, portal):
    base, _ = portal
    page.goto(base + "/")
    page.get_by_label("Mots-clés").fill("data analyst")
    page.keyboard.press("Enter")
    page.wait_for_url("**q=data+analyst*")
    found = page.locator("section.jobs-found li.job").first
    assert found.get_attribute("data-job") == "M1419"
    assert found.get_by_role("link", name="Data analyst").count() == 1
    found.locator("a.filter").click()
    page.wait_for_url("**job=M1419*")
    assert "q=" not in page.url
    assert page.locator("#facet-job input[value='M1419']").is_checked()
    assert page.locator("li.course").count() >= 1


# -- French days, sorts, switching state -----------------------------------------------------


def test_date_inputs_take_and_show_french_days(page, portal):
    base, _ = portal
    page.goto(base + "/")
    after = page.get_by_label("Commence après le")
    assert after.get_attribute("placeholder") == "jj/mm/aaaa"
    assert after.get_attribute("lang") == "fr"
    after.fill("2027/09/15")  # not a format the form takes: the browser says so
    assert not after.evaluate("el => el.checkValidity()")
    after.fill("01/12/2026")
    assert after.evaluate("el => el.checkValidity()")
    page.get_by_label("Commence avant le").fill("31/03/2027")
    page.get_by_label("Commence avant le").press("Enter")
    page.wait_for_url("**starts_after=01%2F12%2F2026**")
    assert page.get_by_label("Commence après le").input_value() == "01/12/2026"
    assert page.get_by_label("Commence avant le").input_value() == "31/03/2027"
    shown = page.locator("li.course").count()
    with page.expect_response(lambda r: "/api/v1/courses" in r.url) as answer:
        page.evaluate(
            "fetch('/api/v1/courses?starts_after=2026-12-01&starts_before=2027-03-31&per_page=20')"
        )
    assert shown == min(20, answer.value.json()["total"]) > 0


def test_the_sort_select_orders_by_most_run(page, portal):
    base, _ = portal
    page.goto(base + "/")
    page.get_by_label("Trier par").select_option(label="Les plus souvent donnés")
    page.get_by_role("button", name="Rechercher").first.click()
    page.wait_for_url("**sort=most_run**")
    assert page.get_by_label("Trier par").input_value() == "most_run"
    ids = [
        int(i)
        for i in page.locator("li.course").evaluate_all("els => els.map(e => e.dataset.courseId)")
    ]
    api = page.evaluate("async () => (await fetch('/api/v1/courses?sort=most_run')).json()")
    assert ids == [c["id"] for c in api["courses"]]


def test_an_empty_state_links_to_the_states_that_have_courses(page, portal):
    from portal.formatting import labels
    from storage.readindex import STATE_NAMES

    base, _ = portal
    page.goto(base + "/")
    totals = {
        state: page.evaluate(
            "async s => (await (await fetch("
            "'/api/v1/courses?q=statistique&state=' + s)).json()).total",
            state,
        )
        for state in STATE_NAMES
    }
    empty = next(state for state, total in totals.items() if not total)
    page.goto(f"{base}/?q=statistique&state={empty}")
    line = page.locator("p.state-switch")
    words = labels()["state_courses"]
    assert line.inner_text().startswith(f"0 cours {words[empty]} pour « statistique » — ")
    other = next(s for s in STATE_NAMES if totals[s])
    link = line.get_by_role("link", name=f"{totals[other]} {words[other]}")
    link.focus()
    page.keyboard.press("Enter")  # the keyboard alone
    page.wait_for_url(f"**state={other}**")
    assert page.locator("#results-title").inner_text().startswith(f"{totals[other]} cours")
