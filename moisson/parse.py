"""``moisson parse``: what a spider (and the pipelines) make of one saved response.

Items go to stdout, one JSON line each; what the run counted goes to stderr: how many
items and follow-up requests, the drops by reason, the pages that failed by reason and
the stated values the pipelines could not use (``moisson/fields/lost/<field>/<reason>``).
An empty result always says why (objects a spider holds until its paging ends, such as
Open edX's course runs, are counted as held). An HTML page whose URL matches none of a sitemap
spider's course URL rules is not a course page for that spider: the report says so
(and which rules) instead of reading the page as a sitemap. Exit status (``moisson
parse``): 0 when the page was understood, even if it holds no course; 1 when the page
itself could not be understood (the spider counted it as failed, its callback raised,
or it is not a course page) and it yielded no item.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from scrapy.http import HtmlResponse

from crawlers.bases.common import UnparseablePage
from crawlers.offline import normalise, offline_crawler, response_from_file
from pipelines.common import dropped_by_reason, lost_fields

EXIT_UNDERSTOOD, EXIT_NOT_UNDERSTOOD = 0, 1
PAGES_FAILED = "moisson/pages/failed/"


def _default(value):
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


@dataclass
class ParseReport:
    lines: list[str] = field(default_factory=list)
    items: int = 0
    requests: int = 0
    stats: dict = field(default_factory=dict)
    error: str | None = None  # the callback's exception, if it raised
    not_course: str | None = None  # why the page is not a course page of this spider
    held: int = 0  # objects the spider keeps until its paging ends (Open edX runs)

    @property
    def page_failures(self) -> dict[str, int]:
        return {
            key[len(PAGES_FAILED) :]: value
            for key, value in sorted(self.stats.items())
            if key.startswith(PAGES_FAILED)
        }

    @property
    def understood(self) -> bool:
        return (
            self.error is None
            and self.not_course is None
            and not (self.page_failures and not self.items)
        )

    @property
    def exit_status(self) -> int:
        return EXIT_UNDERSTOOD if self.understood else EXIT_NOT_UNDERSTOOD

    def explanation(self) -> list[str]:
        """What the run counted, for stderr; never empty when no course came out."""
        dropped = dropped_by_reason(self.stats)
        kept = self.items - sum(dropped.values())
        out = [
            f"{self.items} item(s), {kept} kept, {self.requests} follow-up request(s)"
            if dropped
            else f"{self.items} item(s), {self.requests} follow-up request(s)"
        ]
        if self.error:
            out.append(f"the spider's callback failed: {self.error}")
        if self.not_course:
            out.append(self.not_course)
        for title, counts in (
            ("page failed", self.page_failures),
            ("dropped", dropped),
            ("lost", lost_fields(self.stats)),
        ):
            if counts:
                out.append(f"{title}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        if self.held:
            out.append(
                f"{self.held} object(s) read and held: the spider makes them items when the "
                "paging ends (on the last page), not on this one"
            )
        if not self.items and self.understood and not self.held:
            out.append(
                "no course on this page: it leads to other pages"
                if self.requests
                else "no course on this page: the spider recognised none"
            )
        return out


def parse_report(
    spider: str,
    path: Path,
    url: str,
    normalise_items: bool = False,
    reference_time: str | None = None,
    **_,
) -> ParseReport:
    try:
        crawler = offline_crawler(spider, MOISSON_REFERENCE_TIME=reference_time)
    except KeyError as exc:
        raise LookupError(f"unknown spider {spider!r}") from exc
    from crawlers.offline import run_callback

    report = ParseReport()
    response = response_from_file(path, url)
    report.not_course = not_a_course_page(crawler.spider, response)
    if report.not_course:
        report.stats = crawler.stats.get_stats()
        return report
    try:
        items, requests = run_callback(crawler, response)
    except OSError:
        raise
    except Exception as exc:  # a maintainer's tool: say what broke instead of a traceback
        items, requests = [], []
        report.error = f"{type(exc).__name__}: {exc}"
    report.items, report.requests = len(items), len(requests)
    held = getattr(crawler.spider, "held_objects", None)
    report.held = held() if callable(held) else 0
    if not normalise_items:
        report.lines = [json.dumps(dict(i), ensure_ascii=False, default=_default) for i in items]
    else:
        for item, dropped in normalise(crawler, items):
            if dropped:
                report.lines.append(json.dumps({"dropped": dropped}, ensure_ascii=False))
            else:
                record = item["record"].model_dump(mode="json")
                report.lines.append(json.dumps(record, ensure_ascii=False))
    report.stats = crawler.stats.get_stats()
    return report


def not_a_course_page(spider, response) -> str | None:
    """Why an HTML page is no course page of a sitemap spider (its URL rules), else None."""
    if not isinstance(response, HtmlResponse) or not hasattr(spider, "is_course_url"):
        return None
    if spider.is_course_url(response.url):
        return None
    unknown = _not_a_configured_site(spider, response.url)
    if unknown:
        return unknown
    rules = getattr(spider, "course_url_rules", None) or [
        rule for site in getattr(spider, "sites", []) for rule in site.get("course_url_rules", [])
    ]
    return (
        f"not a course page: {response.url} is an HTML page and matches none of "
        f"{spider.name}'s course URL rules ({', '.join(rules) or 'none'}); "
        "give the course page's own URL with --url"
    )


def _not_a_configured_site(spider, url: str) -> str | None:
    """Why ``url`` is on no site of a spider of several configured sites, else None."""
    if not getattr(spider, "sites_file", None) or not callable(getattr(spider, "site_for", None)):
        return None
    try:
        if spider.site_for(url) is not None:
            return None
    except UnparseablePage:
        pass
    return (
        f"not a course page: {urlparse(url).netloc} is no site of crawlers/data/"
        f"{spider.sites_file}; add the site's entry there first (for schema_org: its "
        "sitemap_urls and course_url_rules), or look at the page's structured data without "
        "a spider (docs/ADD_A_PLATFORM.md, section 1)"
    )


def parse_saved_response(*args, **kwargs) -> list[str]:
    """The output lines of ``moisson parse`` (items or records)."""
    return parse_report(*args, **kwargs).lines
