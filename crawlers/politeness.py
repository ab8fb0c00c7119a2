"""How politely each platform is crawled, from one table: ``crawlers/data/politeness.json``.

The table's ``default`` row sets the project's settings (crawlers/settings.py) and a
platform's row, keyed by spider name, overrides some of them for that spider only
(``MoissonSpider.update_settings``, at Scrapy's "spider" priority: a ``--set`` on the
command line still wins, and the replay mode turns delays off). Columns:

| column | Scrapy setting |
|---|---|
| ``robots_txt`` | ``ROBOTSTXT_OBEY`` |
| ``concurrency_per_site`` | ``CONCURRENT_REQUESTS_PER_DOMAIN`` |
| ``delay`` | ``DOWNLOAD_DELAY`` (seconds; AutoThrottle never goes below it) |
| ``autothrottle`` | ``AUTOTHROTTLE_ENABLED`` |
| ``autothrottle_start_delay`` / ``_max_delay`` / ``_target_concurrency`` | ``AUTOTHROTTLE_*`` |

``user_agent`` is the one user agent, with the bot's URL and a contact filled in from
``MOISSON_BOT_URL`` and ``MOISSON_BOT_CONTACT``.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

TABLE = Path(__file__).resolve().parent / "data" / "politeness.json"
COLUMNS = {
    "robots_txt": ("ROBOTSTXT_OBEY", bool),
    "concurrency_per_site": ("CONCURRENT_REQUESTS_PER_DOMAIN", int),
    "delay": ("DOWNLOAD_DELAY", float),
    "autothrottle": ("AUTOTHROTTLE_ENABLED", bool),
    "autothrottle_start_delay": ("AUTOTHROTTLE_START_DELAY", float),
    "autothrottle_max_delay": ("AUTOTHROTTLE_MAX_DELAY", float),
    "autothrottle_target_concurrency": ("AUTOTHROTTLE_TARGET_CONCURRENCY", float),
}


class PolitenessError(ValueError):
    """The politeness table has a row or a value it cannot mean."""


def _check_row(name: str, row: Any, complete: bool, path: Path) -> dict[str, Any]:
    if not isinstance(row, dict):
        raise PolitenessError(f"{path}: row {name!r} is not an object")
    unknown = set(row) - set(COLUMNS) - {"why"}
    if unknown:
        raise PolitenessError(
            f"{path}: row {name!r} has unknown columns {sorted(unknown)}; known: {sorted(COLUMNS)}"
        )
    if complete and set(COLUMNS) - set(row):
        raise PolitenessError(f"{path}: row {name!r} lacks {sorted(set(COLUMNS) - set(row))}")
    for column, value in row.items():
        if column == "why":
            continue
        kind = COLUMNS[column][1]
        if kind is bool:
            ok = isinstance(value, bool)
        else:
            ok = isinstance(value, int | float) and not isinstance(value, bool) and value >= 0
            ok = ok and (kind is not int or float(value).is_integer() and value >= 1)
        if not ok:
            want = "true or false" if kind is bool else f"a {'whole ' if kind is int else ''}number"
            raise PolitenessError(f"{path}: {name}.{column} = {value!r}, not {want}")
    return row


@cache
def table(path: Path = TABLE) -> dict[str, Any]:
    """The table, checked: every column known, every value of its type."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PolitenessError(f"cannot read the politeness table {path}: {exc}") from exc
    if not isinstance(data, dict) or "{bot_url}" not in str(data.get("user_agent", "")):
        raise PolitenessError(f"{path}: 'user_agent' must name {{bot_url}}")
    _check_row("default", data.get("default"), complete=True, path=path)
    platforms = data.get("platforms") or {}
    for name, row in platforms.items():
        _check_row(name, row, complete=False, path=path)
    return data


def _as_settings(row: dict[str, Any]) -> dict[str, Any]:
    return {
        COLUMNS[column][0]: COLUMNS[column][1](value)
        for column, value in row.items()
        if column != "why"
    }


def default_settings(bot_url: str, contact: str, path: Path = TABLE) -> dict[str, Any]:
    """The project's politeness settings, user agent included."""
    data = table(path)
    user_agent = data["user_agent"].format(bot_url=bot_url, contact=contact)
    return {**_as_settings(data["default"]), "USER_AGENT": user_agent}


def platform_settings(spider: str, path: Path = TABLE) -> dict[str, Any]:
    """The settings a spider's row changes (none for a spider without a row)."""
    return _as_settings((table(path).get("platforms") or {}).get(spider) or {})
