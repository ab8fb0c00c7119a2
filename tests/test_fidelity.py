"""The field-fidelity contract: what a recording states reaches the catalogue, the API and
the page — or a counter says why.

``pipelines/data/fidelity.json`` says where each item field lands. For every spider with
recordings, each raw item its callbacks make of them is followed through a replayed crawl
(``moisson demo``, once for the module) into the catalogue, ``/api/v1/courses/{id}`` and
``/cours/{id}``. A new spider is checked as soon as it has recordings; a new item field
must get its row in the table.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import pytest
from parsel import Selector
from sqlalchemy import select

from crawlers.items import RawCourse
from crawlers.replay import spiders_with_recordings
from storage.models import CrawlRun, Listing, Platform
from tests.conftest import RECORDINGS, REFERENCE_TIME, ROOT, moisson
from tests.recorded import harvest

NOW = datetime.fromisoformat(REFERENCE_TIME).astimezone(UTC)
TABLE = json.loads((ROOT / "pipelines" / "data" / "fidelity.json").read_text())["fields"]
SPIDERS = spiders_with_recordings(RECORDINGS)
LOST = "moisson/fields/lost/"


def _empty(value) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _path(root: dict, path: str):
    value = root
    for part in path.split("."):
        if isinstance(value, list):
            value = value[int(part)] if part.isdigit() and int(part) < len(value) else None
        elif isinstance(value, dict):
            value = value.get(part)
        else:
            return None
    return value


def _words(text: str) -> str:
    return " ".join(str(text).split())


def _written(value, how: str) -> str:
    from portal.formatting import french_date

    if how == "decimal":
        return f"{round(float(value), 2):g}".replace(".", ",")
    if how == "count":
        return f"{int(value):,}".replace(",", " ")
    if how == "date":
        return french_date(datetime.fromisoformat(value))
    return _words(value)


@dataclass(eq=False)  # hashed by identity, for the caches
class Catalogue:
    url: str
    client: object
    engine: object

    @cache  # noqa: B019 (one catalogue per module)
    def detail(self, course_id: int) -> dict:
        return self.client.get(f"/api/v1/courses/{course_id}").json()

    @cache  # noqa: B019
    def page(self, course_id: int) -> Selector:
        return Selector(text=self.client.get(f"/cours/{course_id}").text)

    def run_stats(self, spider: str) -> dict:
        stats: dict = {}
        with self.engine.connect() as conn:
            for run in conn.execute(select(CrawlRun.stats).where(CrawlRun.spider == spider)):
                for key, value in (run.stats or {}).items():
                    if isinstance(value, int | float):
                        stats[key] = stats.get(key, 0) + value
        return stats

    def listings(self, spider: str) -> dict[tuple[str, str], dict]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(Listing.__table__, Platform.name.label("platform_name"), Platform.spider)
                .join(Platform, Platform.id == Listing.platform_id)
                .where(Platform.spider == spider)
            )
            return {
                (r.platform_name, r.external_id): {
                    "listing": {**r._mapping, "platform": r.platform_name},
                    "record": r.record or {},
                    "platform": {"spider": r.spider},
                }
                for r in rows
            }


def open_catalogue(url: str):
    from fastapi.testclient import TestClient

    from portal.app import create_app
    from storage.readonly import open_readonly

    engine = open_readonly(url)
    client = TestClient(create_app(engine, clock=lambda: NOW))
    return Catalogue(url, client, engine)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('fidelity') / 'demo.sqlite3'}"
    result = moisson("demo", "--db", url, "--reference-time", REFERENCE_TIME, "--quiet")
    assert result.returncode == 0, result.stderr
    catalogue = open_catalogue(url)
    yield catalogue
    catalogue.engine.dispose()


def _counted(stats: dict, field: str, row: dict) -> bool:
    prefixes = [f"{LOST}{field}/", *row.get("counters", [])]
    return any(stats.get(k) for k in stats if k.startswith(tuple(prefixes)))


def _on_page(catalogue, course_id, listing, api_root, spec) -> str | None:
    """None when the page shows it, else what is missing."""
    page = catalogue.page(course_id)
    where = spec["where"]
    if where == "selector":
        found = " ".join(page.css(f"{spec['selector']} ::text").getall()).strip()
        return None if found else f"nothing at {spec['selector']}"
    if where == "jsonld":
        ld = json.loads(page.xpath('//script[@type="application/ld+json"]/text()').get())
        return None if not _empty(ld.get(spec["key"])) else f"no JSON-LD {spec['key']}"
    value = _path(api_root, spec["value"])
    if _empty(value):
        return f"nothing at {spec['value']} to show"
    key = f"{listing['platform']}:{listing['external_id']}"
    scope = (
        page.xpath("//li[@data-listing=$key]", key=key) if where in ("listing", "link") else page
    )
    if not scope:
        return f"no element for listing {key}"
    if where == "link":
        return None if scope.xpath(".//a[@href=$url]", url=value) else f"no link to {value}"
    text = _words(" ".join(scope.xpath(".//text()").getall()))
    written = _written(value, spec.get("format", "text"))
    return None if written in text else f"{written!r} not in {text[:300]!r}"


def follow(spider: str, catalogue: Catalogue) -> list[str]:
    """What each stated value of ``spider``'s recordings became; the problems found."""
    crop = harvest(spider)
    listings = catalogue.listings(spider)
    stats = catalogue.run_stats(spider)
    problems, missing = [], 0
    for item in crop.items:
        platform = item.get("platform") or crop.crawler.spider.platform
        stored = listings.get((platform, str(item.get("external_id"))))
        if stored is None:
            missing += 1
            continue
        listing = stored["listing"]
        course = catalogue.detail(listing["course_id"])
        entry = next(
            (
                lst
                for lst in course["listings"]
                if (lst["platform"], lst["external_id"]) == (platform, listing["external_id"])
            ),
            None,
        )
        api_root = {"course": course, "listing": entry or {}}
        for field, row in TABLE.items():
            if row.get("pipeline") or row["catalogue"] is None or _empty(item.get(field)):
                continue
            where = f"{spider} {platform}:{listing['external_id']} {field}={item[field]!r:.60}"
            value = _path(stored, row["catalogue"])
            if _empty(value):
                if not _counted(stats, field, row):
                    problems.append(
                        f"{where}: not in the catalogue ({row['catalogue']}), uncounted"
                    )
                continue
            if row["api"] is not None and _empty(_path(api_root, row["api"])):
                if not _counted(stats, field, row):
                    problems.append(f"{where}: not in the API ({row['api']}), uncounted")
                continue
            if row["page"] is not None:
                spec = {"value": row["api"], **row["page"]}
                missing_on_page = _on_page(catalogue, course["id"], entry, api_root, spec)
                if missing_on_page:
                    problems.append(f"{where}: not on /cours/{course['id']}: {missing_on_page}")
    dropped = sum(v for k, v in stats.items() if k.startswith("moisson/dropped/"))
    if missing > dropped:
        problems.append(f"{spider}: {missing} items not stored, only {dropped} drops counted")
    return problems


def test_every_item_field_has_its_row():
    assert set(TABLE) == set(RawCourse.fields)
    for field, row in TABLE.items():
        if row.get("pipeline"):
            continue
        assert row["catalogue"] is None or row["catalogue"].split(".")[0] in {
            "listing",
            "record",
            "platform",
        }, field
        assert row["api"] is None or row["api"].split(".")[0] in {"listing", "course"}, field
        if row["page"] is not None:
            assert row["page"]["where"] in {"listing", "course", "link", "jsonld", "selector"}
        if row["api"] is None or row["page"] is None:
            assert row.get("why"), f"{field}: say why it stops there"


def test_every_spider_with_recordings_is_followed():
    assert len(SPIDERS) >= 9 and "udemy" in SPIDERS


@pytest.mark.parametrize("spider", SPIDERS)
def test_every_stated_value_arrives_or_is_counted(demo, spider):
    problems = follow(spider, demo)
    assert not problems, "\n".join(problems)


# -- the check catches a broken mapping ----------------------------------------------------

DROPS_DURATION = """
import pipelines.validate as validate
_record = validate.CourseRecord
def _broken(**fields):
    fields.pop("duration_text", None)  # the mapping "forgets" the duration
    return _record(**fields)
validate.CourseRecord = _broken
"""
DROPS_DURATION_COUNTED = """
import pipelines.validate as validate
from pipelines.common import lost
_process = validate.ValidatePipeline.process_item
def _process_item(self, item):
    if item.get("duration"):
        item["duration"] = None
        lost(self.crawler, "duration", "refused")
    return _process(self, item)
validate.ValidatePipeline.process_item = _process_item
"""


def _crawl_patched(patch: str, spider: str, url: str) -> str:
    args = ["crawl", spider, "--replay", "--db", url, "--reference-time", REFERENCE_TIME]
    code = f"{patch}\nfrom moisson.cli import main\nraise SystemExit(main({args!r} + ['--quiet']))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_a_broken_mapping_fails_the_check(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'broken.sqlite3'}"
    _crawl_patched(DROPS_DURATION, "fun_mooc", url)
    catalogue = open_catalogue(url)
    problems = follow("fun_mooc", catalogue)
    catalogue.engine.dispose()
    assert problems and all(" duration=" in p for p in problems), problems
    assert "not in the catalogue (record.duration_text), uncounted" in problems[0]


def test_a_counted_loss_passes_the_check_and_is_shown(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'counted.sqlite3'}"
    summary = _crawl_patched(DROPS_DURATION_COUNTED, "fun_mooc", url)
    assert "fun_mooc: lost: duration/refused " in summary, summary
    catalogue = open_catalogue(url)
    assert follow("fun_mooc", catalogue) == []
    assert catalogue.run_stats("fun_mooc")["moisson/fields/lost/duration/refused"] > 0
    catalogue.engine.dispose()
    runs = moisson("runs", "--db", url)
    assert "lost: duration/refused" in runs.stdout, runs.stdout


def test_moisson_parse_shows_a_lost_value(tmp_path: Path):
    page = RECORDINGS / "udemy" / "course-les-data-sciences-de-a-a-z.html"
    damaged = tmp_path / "course.html"
    text = page.read_text(encoding="utf-8")
    assert '"ratingValue": "4.6"' in text
    damaged.write_text(text.replace('"ratingValue": "4.6"', '"ratingValue": "excellent"'))
    result = moisson(
        "parse",
        "udemy",
        str(damaged),
        "--url",
        "https://www.udemy.com/course/les-data-sciences-de-a-a-z/",
        "--normalise",
        "--reference-time",
        REFERENCE_TIME,
    )
    assert result.returncode == 0, result.stderr
    (record,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert record["rating"] is None and record["rating_count"] == 5123
    assert "moisson parse: lost: rating/unparsed 1" in result.stderr


def test_the_platforms_words_stand_beside_the_normalised_value(demo):
    from portal.formatting import label

    shown = 0
    for course_id in [
        c["id"] for c in demo.client.get("/api/v1/courses?per_page=100").json()["courses"]
    ]:
        course = demo.detail(course_id)
        stated, level = course["stated"]["level"], course["level"]
        if not (stated and level) or stated.casefold() == label("level", level).casefold():
            continue
        facts = demo.page(course_id).css("dl.facts")
        text = _words(" ".join(facts.xpath(".//text()").getall()))
        assert f"Niveau {stated} ({label('level', level)})" in text, text
        shown += 1
    assert shown >= 5
