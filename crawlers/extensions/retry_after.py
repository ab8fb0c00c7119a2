"""Scrapy's retries, waiting as long as a 429 or 503 answer asks in ``Retry-After``.

Scrapy's RetryMiddleware retries at once, which a throttling platform answers with
another 429. This subclass keeps its retry logic, counters and give-up rules and only
adds the wait: the retried request goes out after ``Retry-After`` (seconds or an HTTP
date), and the domain's download slot slows down to that pace, so the other requests to
that platform wait too. A wait longer than ``MOISSON_RETRY_AFTER_MAX`` seconds is not
sat out in a nightly crawl: the page is given up, logged and the run is unhealthy.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.utils.response import response_status_message

logger = logging.getLogger(__name__)

HONOURED = {429, 503}


def retry_after_seconds(value: bytes | str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value, or None when absent or unreadable."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - (now or datetime.now(UTC))).total_seconds())


class RetryAfterMiddleware(RetryMiddleware):
    def __init__(self, settings):
        super().__init__(settings)
        self.max_wait = settings.getfloat("MOISSON_RETRY_AFTER_MAX", 300)

    async def process_response(self, request, response):
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        wait = None
        if response.status in HONOURED:
            wait = retry_after_seconds(response.headers.get("Retry-After"))
        if wait is not None:
            stats = self.crawler.stats
            if wait > self.max_wait:
                stats.inc_value("moisson/retry_after/too_long")
                logger.error(
                    "%s asks to retry after %.0f s, longer than MOISSON_RETRY_AFTER_MAX "
                    "(%.0f s): giving up this page",
                    request.url,
                    wait,
                    self.max_wait,
                    extra={"spider": self.crawler.spider},
                )
                return response
            stats.inc_value("moisson/retry_after/waited")
            self.slow_down(request, wait)
            await asyncio.sleep(wait)
        reason = response_status_message(response.status)
        return self._retry(request, reason) or response

    def slow_down(self, request, wait: float) -> None:
        """Pace the whole domain at the wait asked for; AutoThrottle relaxes it later."""
        downloader = self.crawler.engine.downloader
        slot = downloader.slots.get(downloader.get_slot_key(request))
        if slot is not None:
            slot.delay = max(slot.delay, wait)
