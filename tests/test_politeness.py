"""Politeness from one table, and the boilerplate the bases now hold (coverage, missing ids)."""

from __future__ import annotations

import json

import pytest

from crawlers import politeness
from crawlers.bases.common import WITHOUT_ID
from tests.recorded import fresh_crawler, parse_body, recorded

TABLE = json.loads(politeness.TABLE.read_text(encoding="utf-8"))
COURSERA_PAGE = (
    "https://api.coursera.org/api/courses.v1?start=0&limit=100&includes=partnerIds"
    "&fields=name%2Cslug%2Cdescription%2Cworkload%2CprimaryLanguages%2CsubtitleLanguages"
    "%2CpartnerIds%2CdomainTypes%2CphotoUrl%2Ccertificates%2Cpartners.v1%28name%2CshortName%29"
)


def effective(spider: str, **overrides):
    return fresh_crawler(spider, **overrides).settings


def test_a_platforms_row_sets_its_spider_only():
    udemy, fun = effective("udemy"), effective("fun_mooc")
    row, default = TABLE["platforms"]["udemy"], TABLE["default"]
    assert udemy.getfloat("DOWNLOAD_DELAY") == row["delay"] != default["delay"]
    assert udemy.getint("CONCURRENT_REQUESTS_PER_DOMAIN") == row["concurrency_per_site"]
    assert (
        udemy.getfloat("AUTOTHROTTLE_TARGET_CONCURRENCY")
        == (row["autothrottle_target_concurrency"])
    )
    assert "fun_mooc" not in TABLE["platforms"]
    assert fun.getfloat("DOWNLOAD_DELAY") == default["delay"]
    assert fun.getint("CONCURRENT_REQUESTS_PER_DOMAIN") == default["concurrency_per_site"]
    for settings in (udemy, fun):
        assert settings.getbool("ROBOTSTXT_OBEY") is True
        assert settings.getbool("AUTOTHROTTLE_ENABLED") is True


def test_the_command_line_and_the_replay_still_win():
    assert effective("udemy", DOWNLOAD_DELAY=0.25).getfloat("DOWNLOAD_DELAY") == 0.25
    replayed = effective("udemy", MOISSON_REPLAY=True)
    assert replayed.getfloat("DOWNLOAD_DELAY") == 0
    assert replayed.getbool("AUTOTHROTTLE_ENABLED") is False


def test_the_user_agent_names_the_bot_and_a_contact(monkeypatch):
    agent = effective("fun_mooc").get("USER_AGENT")
    assert agent.startswith("Moisson/") and "github.com/moisson-catalogue/moisson" in agent
    assert "contact:" in agent
    built = politeness.default_settings("https://bot.example.org", "mailto:ops@example.org")
    assert "+https://bot.example.org; mailto:ops@example.org" in built["USER_AGENT"]


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda t: t["platforms"]["udemy"].update(speed=3), "unknown columns ['speed']"),
        (lambda t: t["platforms"]["udemy"].update(delay="2s"), "udemy.delay = '2s'"),
        (lambda t: t["platforms"]["edx"].update(concurrency_per_site=0), "whole number"),
        (lambda t: t["default"].pop("robots_txt"), "row 'default' lacks ['robots_txt']"),
        (lambda t: t["default"].update(autothrottle="yes"), "not true or false"),
        (lambda t: t.update(user_agent="Moisson"), "must name {bot_url}"),
    ],
)
def test_a_bad_table_is_refused_with_the_reason(tmp_path, damage, message):
    broken = json.loads(json.dumps(TABLE))
    damage(broken)
    path = tmp_path / "politeness.json"
    path.write_text(json.dumps(broken))
    with pytest.raises(politeness.PolitenessError, match=message.replace("[", r"\[")):
        politeness.table(path)


def test_key_field_minimums_are_a_class_attribute():
    rules = effective("openclassrooms").getdict("SPIDERMON_FIELD_COVERAGE_RULES")
    assert rules["RawCourse/sessions_or_pace"] == 0
    assert effective("fun_mooc").getdict("SPIDERMON_FIELD_COVERAGE_RULES")[
        "RawCourse/sessions_or_pace"
    ] == pytest.approx(0.5)


def test_an_object_without_id_is_skipped_and_counted_by_the_base():
    page = json.loads(recorded("coursera", "courses-0.json"))
    kept = len(parse_body("coursera", json.dumps(page).encode(), COURSERA_PAGE)[0])
    french = next(e for e in page["elements"] if "fr" in (e.get("primaryLanguages") or []))
    del french["id"]
    items, _requests, stats = parse_body("coursera", json.dumps(page).encode(), COURSERA_PAGE)
    assert len(items) == kept - 1
    assert stats[WITHOUT_ID] == 1
