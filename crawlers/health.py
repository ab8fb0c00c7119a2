"""Is a finished crawl run trustworthy enough to act on what it did not see?

This is the one place that decides. The spidermon suite of crawlers/monitors/run_health.py
judges the run: it finished normally, stored at least a minimum of items and at least a
share of what the spider's last healthy run stored (history from the ``crawl_run`` table),
logged no more errors than allowed, gave up on no request after its retries, needed few
retries, filled the key fields often enough, and every item reached the catalogue. Only a
healthy run may mark listings missing: a crash, a half-empty run or an error storm must
never hide courses. An unhealthy verdict is logged and sent to the configured notifiers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from spidermon.contrib.scrapy.runners import SpiderMonitorResult, SpiderMonitorRunner
from spidermon.utils.field_coverage import calculate_field_coverage

from crawlers.monitors.run_health import STORED, RunHealthSuite
from crawlers.notifiers import Alert, notify

logger = logging.getLogger(__name__)


@dataclass
class Verdict:
    healthy: bool
    reasons: list[str] = field(default_factory=list)


class _ReasonsResult(SpiderMonitorResult):
    """Spidermon's result that also keeps each failure's message as a reason."""

    def __init__(self, spider):
        super().__init__(spider)
        self.reasons: list[str] = []

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self.reasons.append(str(err[1]))

    def addError(self, test, err):
        super().addError(test, err)
        # a monitor that cannot run proves nothing: the run is not healthy
        self.reasons.append(f"health check {test.monitor_name!r} could not run: {err[1]}")

    def write_errors(self):
        """The reasons go out once, in ``judge``'s warning, not as tracebacks."""

    def log(self, msg, level=logging.DEBUG):
        # Spidermon's step-by-step report is for debugging; the verdict is logged by judge.
        logger.debug("[Spidermon] %s", msg)


class _Runner(SpiderMonitorRunner):
    def create_result(self):
        return _ReasonsResult(self.spider)


def items_stored(stats: dict) -> int:
    return sum(stats.get(f"moisson/listings/{kind}", 0) for kind in ("new", "changed", "unchanged"))


def evaluate(crawler, finish_reason: str | None, previous_items: int | None) -> Verdict:
    """Run the health suite on the crawler's stats; ``previous_items`` from ``crawl_run``."""
    stats = crawler.stats
    stats.set_value(STORED, items_stored(stats.get_stats()))
    for key, value in calculate_field_coverage(stats.get_stats()).items():
        stats.set_value(key, value)
    data = dict(stats.get_stats(), finish_reason=finish_reason)
    history = [{STORED: previous_items}] if previous_items is not None else []
    runner = _Runner(crawler.spider)
    result = runner.run(
        RunHealthSuite(crawler=crawler),
        stats=data,
        stats_history=history,
        crawler=crawler,
        spider=crawler.spider,
        job=None,
    )
    return Verdict(healthy=not result.reasons, reasons=result.reasons)


def judge(crawler, finish_reason: str | None, previous_items: int | None, run_id=None) -> Verdict:
    """Evaluate, record the verdict in the stats, and raise the alarm when unhealthy."""
    verdict = evaluate(crawler, finish_reason, previous_items)
    crawler.stats.set_value("moisson/healthy", verdict.healthy)
    crawler.stats.set_value("moisson/health_reasons", verdict.reasons)
    spider = crawler.spider.name
    extra = {"spider": crawler.spider}
    if verdict.healthy:
        logger.info("run %s of %s is healthy", run_id, spider, extra=extra)
    else:
        logger.warning(
            "run %s of %s is not healthy, nothing marked missing: %s",
            run_id,
            spider,
            "; ".join(verdict.reasons),
            extra=extra,
        )
        notify(
            crawler.settings,
            Alert.from_run(spider, run_id, finish_reason, verdict, crawler.stats.get_stats()),
            spider=crawler.spider,
        )
    return verdict
