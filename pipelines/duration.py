"""Duration and effort: « 7 semaines », « 2 à 3 h/semaine » → week and hour ranges.

A total effort (FUN-MOOC's « 21 heures » next to « 7 semaines ») gives the hours per week
by division and, when the duration states no hours, the course's length in hours.
"""

from __future__ import annotations

from pipelines.common import Pipeline, normalised
from pipelines.normalise.duration import parse_duration, parse_effort


def _stated(value) -> bool:
    return value is not None and str(value).strip() != ""


class DurationEffortPipeline(Pipeline):
    def process_item(self, item):
        out = normalised(item)
        weeks = hours = None
        if _stated(item.get("duration")):
            duration = parse_duration(item["duration"], item.get("platform"))
            if duration.unparsed:
                self.inc("normalise/duration/unparsed")
            weeks, hours = duration.weeks, duration.hours
        if _stated(item.get("effort")):
            effort = parse_effort(item["effort"], weeks, item.get("platform"))
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
        return item


def _rounded(values) -> tuple[float, float]:
    return round(values[0], 2), round(values[1], 2)
