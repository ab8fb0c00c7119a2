"""Each health rule on its own: the spidermon suite judges a crawler's stats in-process.

The stats are those a run of the FUN-MOOC spider leaves (26 courses stored, full
coverage); each test spoils one figure and checks the verdict and its reason.
"""

from __future__ import annotations

import pytest

from crawlers import health
from crawlers.offline import offline_crawler

HEALTHY_STATS = {
    "finish_reason": "finished",
    "downloader/request_count": 7,
    "item_scraped_count": 26,
    "moisson/listings/new": 20,
    "moisson/listings/changed": 2,
    "moisson/listings/unchanged": 4,
    "spidermon_item_scraped_count/RawCourse": 26,
    "spidermon_item_scraped_count/RawCourse/title": 26,
    "spidermon_item_scraped_count/RawCourse/url": 26,
    "spidermon_item_scraped_count/RawCourse/sessions_or_pace": 25,
    "spidermon_item_scraped_count/RawCourse/language": 26,
}


def judged(stats=None, previous=None, reason="finished", **settings):
    crawler = offline_crawler("fun_mooc", **settings)
    for key, value in {**HEALTHY_STATS, **(stats or {})}.items():
        crawler.stats.set_value(key, value)
    return health.evaluate(crawler, reason, previous)


def test_a_normal_run_is_healthy():
    verdict = judged(previous=26)
    assert verdict.healthy, verdict.reasons
    assert verdict.reasons == []


@pytest.mark.parametrize(
    ("stats", "previous", "reason", "expected"),
    [
        ({}, None, "shutdown", "finish reason is 'shutdown'"),
        (
            {
                "moisson/listings/new": 0,
                "moisson/listings/changed": 0,
                "moisson/listings/unchanged": 0,
            },
            None,
            "finished",
            "0 items stored, fewer than the minimum 1",
        ),
        (
            {"moisson/listings/new": 10},
            26,
            "finished",
            "16 items stored, under 80% of the previous healthy run's 26",
        ),
        ({"log_count/ERROR": 2}, None, "finished", "2 errors logged, more than the allowed 0"),
        (
            {"retry/max_reached": 1, "retry/count": 1},
            None,
            "finished",
            "1 requests gave up after their last retry",
        ),
        ({"retry/count": 5}, None, "finished", "5 retries for 7 requests, more than 25%"),
        (
            {"spidermon_item_scraped_count/RawCourse/title": 13},
            None,
            "finished",
            "key fields too rarely filled: title 50% (minimum 95%)",
        ),
        (
            {"spidermon_item_scraped_count/RawCourse/language": 0},
            None,
            "finished",
            "language 0% (minimum 90%)",
        ),
        (
            {"moisson/store/failed_items": 500},
            None,
            "finished",
            "500 items could not be written to the catalogue",
        ),
        (
            {"moisson/store/unavailable": 1},
            None,
            "finished",
            "the catalogue database became unavailable during the run",
        ),
    ],
    ids=[
        "not_finished",
        "no_items",
        "under_share_of_previous",
        "errors",
        "retries_exhausted",
        "too_many_retries",
        "title_coverage",
        "language_coverage",
        "store_failed",
        "catalogue_gone",
    ],
)
def test_each_rule_makes_a_run_unhealthy_with_its_reason(stats, previous, reason, expected):
    verdict = judged(stats, previous, reason)
    assert not verdict.healthy
    assert len(verdict.reasons) == 1, verdict.reasons
    assert expected in verdict.reasons[0]


def test_thresholds_are_settings_a_spider_can_override():
    flaky = {"log_count/ERROR": 3, "moisson/listings/new": 12}
    assert not judged(flaky, previous=26).healthy
    verdict = judged(
        flaky,
        previous=26,
        SPIDERMON_MAX_ERRORS=5,
        MOISSON_HEALTH_MIN_SHARE_OF_PREVIOUS=0.5,
    )
    assert verdict.healthy, verdict.reasons


def test_coverage_and_stored_items_are_left_in_the_stats():
    crawler = offline_crawler("fun_mooc")
    for key, value in HEALTHY_STATS.items():
        crawler.stats.set_value(key, value)
    health.evaluate(crawler, "finished", None)
    stats = crawler.stats.get_stats()
    assert stats["moisson/items/stored"] == 26
    assert stats["spidermon_field_coverage/RawCourse/sessions_or_pace"] == pytest.approx(25 / 26)


def test_a_monitor_that_cannot_run_makes_the_run_unhealthy():
    verdict = judged(SPIDERMON_FIELD_COVERAGE_RULES='{"RawCourse/title": "much"}')
    assert not verdict.healthy
    assert "could not run" in verdict.reasons[0]


def test_a_spider_lowers_one_coverage_minimum_and_keeps_the_others():
    from crawlers.extensions.coverage import key_field_coverage

    rules = key_field_coverage(sessions_or_pace=0)
    assert rules["RawCourse/sessions_or_pace"] == 0
    assert rules["RawCourse/title"] == 0.95
    no_sessions = {"spidermon_item_scraped_count/RawCourse/sessions_or_pace": 0}
    assert not judged(no_sessions).healthy
    assert judged(no_sessions, SPIDERMON_FIELD_COVERAGE_RULES=rules).healthy
    with pytest.raises(ValueError, match="no key field"):
        key_field_coverage(sessions=0)
