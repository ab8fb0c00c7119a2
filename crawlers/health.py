"""Is a finished crawl run trustworthy enough to act on what it did not see?

A run is healthy when it finished normally, stored at least a minimum of items and at
least a share of what the previous healthy run of the same spider stored, and logged no
more errors than allowed. Only a healthy run may mark listings missing: a crash, a
half-empty run or an error storm must never hide courses. Each rule's threshold is a
setting, which a spider can override in its ``custom_settings``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULTS = {
    "MOISSON_HEALTH_MIN_ITEMS": 1,
    "MOISSON_HEALTH_MIN_SHARE_OF_PREVIOUS": 0.8,
    # A failed page may hide courses that are still published: by default any error makes
    # the run unfit for missing-marking. Raise it for platforms with known flaky pages.
    "MOISSON_HEALTH_MAX_ERRORS": 0,
}


@dataclass
class Verdict:
    healthy: bool
    reasons: list[str] = field(default_factory=list)


def _setting(settings, name):
    if settings is None:
        return DEFAULTS[name]
    value = settings.get(name)
    return DEFAULTS[name] if value is None else value


def evaluate(
    finish_reason: str | None,
    items_stored: int,
    errors: int,
    previous_items: int | None,
    settings=None,
) -> Verdict:
    reasons = []
    if finish_reason != "finished":
        reasons.append(f"finish reason is {finish_reason!r}, not 'finished'")
    min_items = int(_setting(settings, "MOISSON_HEALTH_MIN_ITEMS"))
    if items_stored < min_items:
        reasons.append(f"{items_stored} items stored, fewer than the minimum {min_items}")
    share = float(_setting(settings, "MOISSON_HEALTH_MIN_SHARE_OF_PREVIOUS"))
    if previous_items and items_stored < share * previous_items:
        reasons.append(
            f"{items_stored} items stored, under {share:.0%} of the previous healthy run's "
            f"{previous_items}"
        )
    max_errors = int(_setting(settings, "MOISSON_HEALTH_MAX_ERRORS"))
    if errors > max_errors:
        reasons.append(f"{errors} errors logged, more than the allowed {max_errors}")
    return Verdict(healthy=not reasons, reasons=reasons)
