"""The monitors a run must pass to be called healthy, as one spidermon suite.

Spidermon's own monitors check the finish reason, the item count, the errors, the requests
that ran out of retries and the coverage of key fields; two of ours compare the run with
the spider's last healthy run (taken from the catalogue's ``crawl_run`` table, passed in as
``stats_history``) and count items the catalogue could not take. Each failure says, in one
sentence, what an operator needs to know; thresholds are settings a spider may override in
its ``custom_settings`` (defaults in crawlers/settings.py, meanings in docs/OPERATIONS.md).
"""

from __future__ import annotations

from typing import ClassVar

from spidermon import MonitorSuite, monitors
from spidermon.contrib.scrapy.monitors import (
    ErrorCountMonitor,
    FieldCoverageMonitor,
    FinishReasonMonitor,
    ItemCountMonitor,
    RetryCountMonitor,
)
from spidermon.contrib.scrapy.monitors.base import BaseScrapyMonitor

from crawlers.bases.common import (
    MALFORMED,
    MALFORMED_NAMES,
    PAGING_STOPPED,
    PAGING_STOPPED_AT,
)
from pipelines.store import STORE_FAILED

STORED = "moisson/items/stored"
CATALOGUE_UNAVAILABLE = "moisson/store/unavailable"
PAGING_REASONS = {
    "failed_page": "a page failed",
    "empty_page": "a page was empty where the platform announced more",
    "ceiling": "the spider's page ceiling (MOISSON_MAX_PAGES) was reached",
}


class _Sentence:
    """Replaces spidermon's generic assertion text with an operator's sentence."""

    sentence: ClassVar[str]

    @monitors.name("within bounds")
    def test_stat_monitor(self):
        if self.stat_name not in self.stats and not self.fail_if_stat_missing:
            self.skipTest(f"no {self.stat_name} in the stats")
        threshold = float(self._get_threshold_value())
        value = float(self.stats.get(self.stat_name, 0))
        passes = {"<=": value <= threshold, ">=": value >= threshold}[self.assert_type]
        self.assertTrue(passes, msg=self.sentence.format(value=value, threshold=threshold))


@monitors.name("items stored")
class StoredItemsMonitor(_Sentence, ItemCountMonitor):
    stat_name = STORED
    sentence = "{value:.0f} items stored, fewer than the minimum {threshold:.0f}"


@monitors.name("errors logged")
class ErrorsMonitor(_Sentence, ErrorCountMonitor):
    sentence = "{value:.0f} errors logged, more than the allowed {threshold:.0f}"


@monitors.name("finish reason")
class FinishedMonitor(FinishReasonMonitor):
    @monitors.name("finished normally")
    def test_should_finish_with_expected_reason(self):
        expected = self.crawler.settings.getlist("SPIDERMON_EXPECTED_FINISH_REASONS", ["finished"])
        reason = self.stats.get("finish_reason")
        self.assertIn(reason, expected, msg=f"finish reason is {reason!r}, not one of {expected}")


@monitors.name("requests out of retries")
class RetriesExhaustedMonitor(RetryCountMonitor):
    @monitors.name("no request gave up")
    def test_maximum_retries(self):
        given_up = self.stats.get("retry/max_reached", 0)
        allowed = self.crawler.settings.getint("SPIDERMON_MAX_RETRIES", -1)
        if allowed >= 0:
            self.assertLessEqual(
                given_up,
                allowed,
                msg=f"{given_up} requests gave up after their last retry, "
                f"more than the allowed {allowed}",
            )


@monitors.name("retries")
class RetryShareMonitor(BaseScrapyMonitor):
    """Retries within bounds: a platform that needs many is struggling or throttling us."""

    @monitors.name("few retries")
    def test_retry_share(self):
        retries = self.stats.get("retry/count", 0)
        requests = self.stats.get("downloader/request_count", 0)
        share = self.crawler.settings.getfloat("MOISSON_HEALTH_MAX_RETRY_SHARE", 0.25)
        self.assertLessEqual(
            retries,
            share * requests,
            msg=f"{retries} retries for {requests} requests, more than {share:.0%}",
        )


@monitors.name("share of the previous healthy run")
class PreviousRunMonitor(BaseScrapyMonitor):
    """Items stored against the spider's last healthy run, read from ``crawl_run``."""

    @monitors.name("not much fewer items than last time")
    def test_share_of_previous(self):
        history = self.data.stats_history or []
        previous = history[0].get(STORED) if history else None
        if not previous:
            self.skipTest("no previous healthy run")
        share = self.crawler.settings.getfloat("MOISSON_HEALTH_MIN_SHARE_OF_PREVIOUS", 0.8)
        stored = self.stats.get(STORED, 0)
        self.assertGreaterEqual(
            stored,
            share * previous,
            msg=f"{stored} items stored, under {share:.0%} of the previous healthy run's "
            f"{previous}",
        )


@monitors.name("catalogue")
class CatalogueMonitor(BaseScrapyMonitor):
    """Everything the spider delivered reached the catalogue."""

    @monitors.name("every item written")
    def test_store(self):
        failed = self.stats.get(STORE_FAILED, 0)
        unavailable = self.stats.get(CATALOGUE_UNAVAILABLE, 0)
        self.assertFalse(
            unavailable, msg="the catalogue database became unavailable during the run"
        )
        self.assertEqual(failed, 0, msg=f"{failed} items could not be written to the catalogue")


@monitors.name("paging")
class PagingMonitor(BaseScrapyMonitor):
    """Every listing was paged to its end: later pages may hold courses still published."""

    @monitors.name("paging went to the end")
    def test_paging(self):
        stopped = [
            PAGING_REASONS.get(key[len(PAGING_STOPPED) :], key[len(PAGING_STOPPED) :])
            for key, value in sorted(self.stats.items())
            if key.startswith(PAGING_STOPPED) and value
        ]
        self.assertFalse(
            stopped,
            msg=f"paging stopped at {self.stats.get(PAGING_STOPPED_AT)} before the end: "
            + "; ".join(stopped),
        )


@monitors.name("malformed objects")
class MalformedObjectsMonitor(BaseScrapyMonitor):
    """Every course object could be read: a skipped one is a course this run did not see."""

    @monitors.name("no object skipped")
    def test_malformed(self):
        skipped = self.stats.get(MALFORMED, 0)
        named = "; ".join(self.stats.get(MALFORMED_NAMES) or [])
        self.assertFalse(skipped, msg=f"{skipped} malformed course objects skipped: {named}")


@monitors.name("field coverage")
class KeyFieldCoverageMonitor(FieldCoverageMonitor):
    """Coverage of the fields a listing is useless without.

    The counts come from crawlers.extensions.coverage, which counts every item that reached
    a verdict (stored or dropped), so spidermon's own item counting stays off.
    """

    def run(self, result):
        return BaseScrapyMonitor.run(self, result)

    @monitors.name("key fields filled")
    def test_check_if_field_coverage_rules_are_met(self):
        if not self.stats.get("spidermon_item_scraped_count/RawCourse"):
            self.skipTest("no items")
        rules = self.crawler.settings.getdict("SPIDERMON_FIELD_COVERAGE_RULES")
        short = []
        for field, minimum in sorted(rules.items()):
            actual = self.stats.get(f"spidermon_field_coverage/{field}", 0)
            if actual < minimum:
                short.append(f"{field.split('/')[-1]} {actual:.0%} (minimum {minimum:.0%})")
        self.assertFalse(short, msg="key fields too rarely filled: " + ", ".join(short))


class RunHealthSuite(MonitorSuite):
    monitors: ClassVar[list] = [
        FinishedMonitor,
        StoredItemsMonitor,
        PreviousRunMonitor,
        ErrorsMonitor,
        RetriesExhaustedMonitor,
        RetryShareMonitor,
        KeyFieldCoverageMonitor,
        CatalogueMonitor,
        PagingMonitor,
        MalformedObjectsMonitor,
    ]
