"""Build the CourseRecord; an item that cannot be one is dropped with its reason."""

from __future__ import annotations

from pydantic import ValidationError

from pipelines.common import Pipeline, drop
from pipelines.rating import rating_fields
from records import CourseRecord


class ValidatePipeline(Pipeline):
    def process_item(self, item):
        where = item.get("url") or item.get("source_url") or item.get("external_id")
        if not item.get("title"):
            raise drop(self.crawler, "missing_title", f"{where}: no title")
        if not item.get("url"):
            raise drop(self.crawler, "missing_url", f"{where}: no course URL")
        try:
            item["record"] = CourseRecord(
                platform=item.get("platform"),
                external_id=str(item.get("external_id") or ""),
                url=item["url"],
                title=item["title"],
                code=item.get("code"),
                introduction=item.get("introduction"),
                description=item.get("description"),
                language=item.get("language"),
                duration_text=item.get("duration"),
                effort_text=item.get("effort"),
                level_text=item.get("level"),
                categories=item.get("categories") or [],
                organisations=item.get("organisations") or [],
                image=item.get("image"),
                kind=item.get("kind"),
                price_text=_text(item.get("price")),
                certificate_text=_text(item.get("certificate")),
                qualification_entry_text=_text((item.get("qualification") or {}).get("entry")),
                qualification_exit_text=_text((item.get("qualification") or {}).get("exit")),
                organisation_identities=item.get("organisation_identities") or [],
                codes=item.get("codes") or {},
                sessions=item.get("sessions_normalised") or [],
                spider=item.get("spider"),
                source_url=item.get("source_url"),
                fetched_at=item.get("fetched_at"),
                **(item.get("normalised") or {}),
                **rating_fields(item, self.crawler),
            )
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"])
            raise drop(self.crawler, "invalid", f"{where}: {field}: {first['msg']}") from exc
        return item


def _text(value):
    return None if value is None else str(value)
