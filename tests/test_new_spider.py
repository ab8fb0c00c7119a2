"""``moisson new-spider`` and ``moisson record`` in a copy of the project.

The generated test fails until real assertions are written; once they are, and a page is
recorded, the spider passes the all-spiders rules and its own test.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from moisson.record import Fetched, save_response
from tests.conftest import ROOT

SITEMAP = "https://cours.acme-formation.fr/sitemap.xml"
COURSE = "https://cours.acme-formation.fr/cours/python-debutant"


def run(*args, cwd):
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, cwd=cwd, timeout=300
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("project")
    for name in ("crawlers", "moisson", "pipelines", "storage", "tests"):
        shutil.copytree(ROOT / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "scrapy.cfg"):
        shutil.copy(ROOT / name, root / name)
    return root


def test_new_spider_writes_spider_test_and_recordings(project):
    result = run(
        "-m", "moisson.cli", "new-spider", "acme", SITEMAP, "--root", str(project), cwd=project
    )
    assert result.returncode == 0, result.stderr
    assert (project / "crawlers/spiders/acme.py").exists()
    assert (project / "crawlers/recordings/acme/METADATA.json").exists()
    test = project / "tests/test_spider_acme.py"
    assert "pytest.fail" in test.read_text()

    again = run(
        "-m", "moisson.cli", "new-spider", "acme", SITEMAP, "--root", str(project), cwd=project
    )
    assert again.returncode == 2 and "already there" in again.stderr
    bad = run(
        "-m", "moisson.cli", "new-spider", "Acme-2", SITEMAP, "--root", str(project), cwd=project
    )
    assert bad.returncode == 2


def test_generated_test_fails_until_assertions_are_written(project):
    folder = project / "crawlers/recordings/acme"
    moment = datetime(2026, 11, 15, 11, tzinfo=UTC)
    sitemap = (
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<url><loc>{COURSE}</loc></url></urlset>"
    )
    page = (
        '<html lang="fr"><head><script type="application/ld+json">{"@context":'
        '"https://schema.org","@type":"Course","name":"Python pour débuter",'
        '"provider":{"@type":"Organization","name":"Acme Formation"}}</script></head></html>'
    )
    save_response(folder, Fetched(SITEMAP, 200, "application/xml", sitemap.encode()), moment)
    save_response(folder, Fetched(COURSE, 200, "text/html; charset=utf-8", page.encode()), moment)
    index = json.loads((folder / "index.json").read_text())
    assert [e["url"] for e in index["responses"]] == [SITEMAP, COURSE]
    assert index["responses"][1]["recorded_at"] == "2026-11-15T11:00:00+00:00"
    metadata = json.loads((folder / "METADATA.json").read_text())
    assert metadata["captured"] is True and len(metadata["provenance"]) == 2

    tests = [
        "tests/test_all_spiders.py",
        "tests/test_spider_acme.py",
        "-k",
        "acme",
        "-q",
        "-p",
        "no:cacheprovider",
    ]
    before = run("-m", "pytest", *tests, cwd=project)
    assert before.returncode == 1
    assert "write real assertions" in before.stdout

    test = project / "tests/test_spider_acme.py"
    test.write_text(
        test.read_text().replace(
            '    pytest.fail("moisson new-spider: write real assertions")',
            f'    course = found.by_id("{COURSE}")\n'
            '    assert course["title"] == "Python pour débuter"\n'
            '    assert course["organisations"] == ["Acme Formation"]',
        )
    )
    after = run("-m", "pytest", *tests, cwd=project)
    assert after.returncode == 0, after.stdout + after.stderr


@pytest.mark.parametrize("base", ["richie", "schema_org", "json_api", "html"])
@pytest.mark.parametrize(
    "url",
    [
        "https://cours.acme-formation.fr/sitemap.xml",
        # a URL too long for one line: its line is exempted, nothing else is
        "https://cours.acme-formation.fr/api/v2/catalogue/courses?lang=fr&page_size=100"
        "&fields=title,organisations,sessions,description,effort",
    ],
    ids=["short_url", "long_url"],
)
def test_generated_files_pass_the_projects_lint(project, base, url):
    name = f"lint_{base}_{len(url)}"
    made = run(
        "-m", "moisson.cli", "new-spider", name, url, "--base", base, "--root", str(project),
        cwd=project,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    files = [f"crawlers/spiders/{name}.py", f"tests/test_spider_{name}.py"]
    check = run("-m", "ruff", "check", *files, cwd=project)
    assert check.returncode == 0, check.stdout + check.stderr
    formatted = run("-m", "ruff", "format", "--check", "--diff", *files, cwd=project)
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr


@pytest.mark.parametrize("base", ["schema_org", "html"])
def test_generated_url_rule_does_not_match_every_page(tmp_path, base):
    import importlib.util
    import re

    from moisson.scaffold import new_spider

    site = "https://cours.acme-formation.fr"
    (tmp_path / "crawlers" / "spiders").mkdir(parents=True)
    (tmp_path / "tests").mkdir()
    spider_file = new_spider(tmp_path, "acme", f"{site}/sitemap.xml", base)[0]
    spec = importlib.util.spec_from_file_location("generated_acme", spider_file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if base == "html":
        rules = [module.COURSE_PAGE]
    else:
        rules = [re.compile(rule) for rule in module.AcmeSpider.course_url_rules]

    def course(url: str) -> bool:
        return any(rule.search(url) for rule in rules)

    for page in ("/", "/a-propos", "/sitemap.xml", "/cours/", "/blog/2026/rentree",
                 "/cours/python-debutant/chapitre-2", "/recherche?q=python"):  # fmt: skip
        assert not course(site + page), page
    for page in ("/cours/python-debutant", "/formations/gestion-de-projet/", "/mooc/climat"):
        assert course(site + page), page
    assert not course("https://ailleurs.example.org/cours/python-debutant")


def test_a_too_long_spider_name_is_refused():
    from moisson.scaffold import ScaffoldError, new_spider

    with pytest.raises(ScaffoldError, match="at most 40 characters"):
        new_spider(ROOT, "a" * 41, "https://cours.acme-formation.fr/sitemap.xml")
