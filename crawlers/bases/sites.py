"""Spiders that read several sites of one software, each site its own platform.

A spider reads the site its class names (``platform``, ``platform_label``, ``base_url``) or
those of a data file (``crawlers/data/<software>_sites.json``, ``{"sites": [...]}``, one
object per site with at least ``platform``, ``label`` and ``base_url``): adding a site of
software the project knows is adding an object there and its recordings. The site of a
response is the one whose host it is on.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

from crawlers.bases.common import UnparseablePage

DATA = Path(__file__).resolve().parent.parent / "data"


@cache
def _file_sites(path: Path) -> tuple[dict[str, Any], ...]:
    sites = tuple(json.loads(path.read_text(encoding="utf-8"))["sites"])
    for site in sites:
        check_timezone(site, path)
    return sites


def check_timezone(site: dict[str, Any], path: Path) -> None:
    """A site's optional ``timezone`` must be an IANA zone name: refused here, not later."""
    name = site.get("timezone")
    if name is None:
        return
    try:
        ZoneInfo(str(name))
    except (ValueError, KeyError) as exc:  # ZoneInfoNotFoundError is a KeyError
        raise ValueError(
            f"{path}: site {site.get('platform')!r}: unknown timezone {name!r} "
            "(an IANA name such as 'America/Montreal')"
        ) from exc


def configured_sites(filename: str, site: str | None = None) -> list[dict[str, Any]]:
    """The sites of ``crawlers/data/filename``; only the one named ``site`` if given."""
    path = DATA / filename
    chosen = [dict(s) for s in _file_sites(path) if site in (None, s["platform"])]
    if not chosen:
        raise ValueError(f"no site named {site!r} in {path}")
    return chosen


class SitesMixin:
    """``self.sites`` and ``self.by_host``; ``sites_file`` names the data file, if any."""

    platform: ClassVar[str | None]
    platform_label: ClassVar[str]
    base_url: ClassVar[str | None]
    default_language: ClassVar[str | None]

    sites_file: ClassVar[str | None] = None

    def __init__(self, *args, site: str | None = None, **kwargs):
        """``-a site=PLATFORM`` reads one site of the data file only."""
        super().__init__(*args, **kwargs)
        self._site_choice = site
        self._sites: list[dict[str, Any]] | None = None
        if self.sites_file:  # known now: an unknown site fails here, the domains are set
            self.allowed_domains = list(self.by_host)

    @property
    def chosen_site(self) -> str | None:
        """The one site ``-a site=PLATFORM`` named, or None when the spider reads them all."""
        return self._site_choice

    @property
    def sites(self) -> list[dict[str, Any]]:
        """Read on first use: a test harness may still set ``base_url`` after ``__init__``."""
        if self._sites is None:
            self._sites = self.site_list(self._site_choice)
        return self._sites

    @property
    def by_host(self) -> dict[str, dict[str, Any]]:
        return {urlparse(s["base_url"]).netloc: s for s in self.sites}

    def site_list(self, site: str | None = None) -> list[dict[str, Any]]:
        if self.sites_file:
            return configured_sites(self.sites_file, site)
        own = {"platform": self.platform, "label": self.platform_label, "base_url": self.base_url}
        return [{**own, "language": self.default_language}]

    def site_for(self, url: str) -> dict[str, Any]:
        """The site ``url`` is on; UnparseablePage for a host of no site of this spider."""
        host = urlparse(url).netloc
        if host not in self.by_host:
            where = f"crawlers/data/{self.sites_file}" if self.sites_file else "its base_url"
            raise UnparseablePage(
                f"{host} is not a site of this spider ({where} names "
                f"{', '.join(self.by_host) or 'none'}; a new site is added there)"
            )
        return self.by_host[host]

    def platform_info(self, platform: str) -> dict[str, str | None]:
        site = next((s for s in self.sites if s["platform"] == platform), {})
        return {"label": site.get("label") or platform, "base_url": site.get("base_url")}
