"""``moisson parse``: what a spider (and the pipelines) make of one saved response."""

from __future__ import annotations

import json
from pathlib import Path

from crawlers.offline import normalise, offline_crawler, response_from_file


def _default(value):
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def parse_saved_response(
    spider: str,
    path: Path,
    url: str,
    normalise_items: bool = False,
    reference_time: str | None = None,
    **_,
) -> list[str]:
    try:
        crawler = offline_crawler(spider, MOISSON_REFERENCE_TIME=reference_time)
    except KeyError as exc:
        raise LookupError(f"unknown spider {spider!r}") from exc
    from crawlers.offline import run_callback

    items, _requests = run_callback(crawler, response_from_file(path, url))
    if not normalise_items:
        return [json.dumps(dict(item), ensure_ascii=False, default=_default) for item in items]
    lines = []
    for item, dropped in normalise(crawler, items):
        if dropped:
            lines.append(json.dumps({"dropped": dropped}, ensure_ascii=False))
        else:
            lines.append(json.dumps(item["record"].model_dump(mode="json"), ensure_ascii=False))
    return lines
