"""Duration and effort: « 7 semaines », « 2 à 3 h/semaine » → week and hour ranges.

A total effort (FUN-MOOC's « 21 heures » next to « 7 semaines ») gives the hours per week
by division and, when the duration states no hours, the course's length in hours.

A session that states its own duration or effort (one schema.org ``CourseInstance``'s
``courseWorkload``) gets them read the same way; a course that states neither takes the
span of its sessions' values (the least minimum to the greatest maximum).
"""

from __future__ import annotations

from pipelines.common import Pipeline, normalised
from pipelines.normalise.duration import parse_duration, parse_effort


def _stated(value) -> bool:
    return value is not None and str(value).strip() != ""


RANGES = ("duration_weeks", "duration_hours", "effort_hours_per_week")


class DurationEffortPipeline(Pipeline):
    def process_item(self, item):
        platform = item.get("platform")
        out = normalised(item)
        out.update(self.read(item.get("duration"), item.get("effort"), platform))
        sessions = item.get("sessions_normalised") or []
        for session in sessions:
            session.update(
                self.read(session.get("duration_text"), session.get("effort_text"), platform)
            )
        for name in RANGES:
            lows = [s[f"{name}_min"] for s in sessions if s.get(f"{name}_min") is not None]
            highs = [s[f"{name}_max"] for s in sessions if s.get(f"{name}_max") is not None]
            if lows and highs and out.get(f"{name}_min") is None:
                out[f"{name}_min"], out[f"{name}_max"] = min(lows), max(highs)
        return item

    def read(self, duration_text, effort_text, platform: str | None) -> dict:
        """The week and hour ranges of one duration and effort, counted when not understood."""
        out: dict = {}
        weeks = hours = None
        if _stated(duration_text):
            duration = parse_duration(duration_text, platform)
            if duration.unparsed:
                self.inc("normalise/duration/unparsed")
            weeks, hours = duration.weeks, duration.hours
        if _stated(effort_text):
            effort = parse_effort(effort_text, weeks, platform)
            if effort.unparsed:
                self.inc("normalise/effort/unparsed")
            elif effort.hours_per_week is None:
                self.inc("normalise/effort/total_without_weeks")
            if effort.hours_per_week is not None:
                out["effort_hours_per_week_min"] = round(effort.hours_per_week[0], 2)
                out["effort_hours_per_week_max"] = round(effort.hours_per_week[1], 2)
            if hours is None and effort.total_hours is not None:
                hours = effort.total_hours
        if weeks is not None:
            out["duration_weeks_min"], out["duration_weeks_max"] = _rounded(weeks)
        if hours is not None:
            out["duration_hours_min"], out["duration_hours_max"] = _rounded(hours)
        return out


def _rounded(values) -> tuple[float, float]:
    return round(values[0], 2), round(values[1], 2)
