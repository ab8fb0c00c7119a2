"""The probable next session of a course, from the starts of its past sessions.

Computed when asked, never stored, and pure: starts in, a window or None out. Many courses
run on a cadence (every September, twice a year); when a course's past runs show one, the
next run is expected one typical gap after the last, within ``WINDOW`` either side, the
tolerance the back-test scores (benchmarks/predict_backtest.py, docs/BENCHMARKS.md).

The history must support it, else there is no prediction:
- at least ``MIN_RUNS`` past runs (starts within ``SAME_RUN`` of each other, e.g. one run
  on two platforms, count once);
- a regular gap: with one gap, a calendar cadence (within ``WINDOW`` of a half year or a
  year); with more, every gap within ``max(WINDOW, 20 %)`` of their median;
- no known session after ``now`` (then the next one is known, not predicted), and the
  expected start not long past: a course whose expected run is more than one window late
  has probably stopped.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from statistics import median

MIN_RUNS = 2
SAME_RUN = timedelta(days=14)
WINDOW = timedelta(days=31)
CADENCES = (timedelta(days=182), timedelta(days=365))  # what one gap alone may show
SPREAD = 0.20  # each gap within this share of the median (or within WINDOW)
MIN_GAP, MAX_GAP = timedelta(days=60), timedelta(days=800)


def runs(starts: list[datetime]) -> list[datetime]:
    """The distinct runs among session starts: sorted, starts within ``SAME_RUN`` merged."""
    out: list[datetime] = []
    for start in sorted(s for s in starts if s is not None):
        if not out or start - out[-1] > SAME_RUN:
            out.append(start)
    return out


def regular_gap(history: list[datetime]) -> timedelta | None:
    """The typical gap between the runs of ``history`` (sorted), or None when irregular."""
    if len(history) < MIN_RUNS:
        return None
    gaps = [b - a for a, b in zip(history, history[1:], strict=False)]
    typical = timedelta(seconds=median(g.total_seconds() for g in gaps))
    if not MIN_GAP <= typical <= MAX_GAP:
        return None
    if len(gaps) == 1:
        return typical if any(abs(typical - c) <= WINDOW for c in CADENCES) else None
    allowed = max(WINDOW, typical * SPREAD)
    return typical if all(abs(g - typical) <= allowed for g in gaps) else None


def predict(starts: list[datetime], now: datetime) -> dict | None:
    """The window the next run should start in, with the evidence; None without support."""
    history = runs(starts)
    if any(start > now for start in history):
        return None
    gap = regular_gap(history)
    if gap is None:
        return None
    expected = history[-1] + gap
    if expected + WINDOW < now:  # the run is late: one more cadence, no further
        expected += gap
        if expected + WINDOW < now:
            return None
    return {
        "expected": expected,
        "start": expected - WINDOW,
        "end": expected + WINDOW,
        "evidence": {
            "sessions": len(history),
            "first": history[0],
            "last": history[-1],
            "gap_days": round(gap.total_seconds() / 86400),
        },
    }


def track_record(sessions: list[dict], now: datetime) -> dict | None:
    """How often a course has run by ``now``: its runs (as ``runs`` counts them), the first
    one's start and the platforms it ran on; None when it has not run yet."""
    started = [s for s in sessions if s["start"] is not None and s["start"] <= now]
    history = runs([s["start"] for s in started])
    if not history:
        return None
    platforms = list(dict.fromkeys(s["platform_label"] for s in started))
    return {"runs": len(history), "since": history[0], "platforms": platforms}
