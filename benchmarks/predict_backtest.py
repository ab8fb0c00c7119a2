"""Back-test of the predicted next session on a history of course runs.

    .venv/bin/python -m benchmarks.predict_backtest [--db URL]
    .venv/bin/python -m benchmarks.predict_backtest --launches [CSV]

Without ``--db`` it builds the demo catalogue (``moisson demo``: every recording replayed)
in a temporary file. ``--launches`` reads real course runs instead: by default the 290
HarvardX and MITx runs of 2012-2016 (``benchmarks/data/harvardx_mitx``, METADATA.json),
a course being its institution and course number, a run its launch date.

For every course, its runs (``storage.predict.runs``) are replayed in order: each run from
the third on is predicted from the runs before it alone, asked the day after the last of
them, as a visitor would have seen the course page then. A prediction hits when the run
started within 31 days of the expected start.

Printed: how many runs could be predicted at all (two runs or more before them), how many
the predictor answered (the others are "too thin or irregular": no estimate shown), its hit
rate, and the baseline's: "one year after the last run", asked of every run with two runs
before it, and of the runs the predictor answered.
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from storage.models import Listing, Session
from storage.predict import MIN_RUNS, WINDOW, predict, runs
from storage.readonly import open_readonly

YEAR = timedelta(days=365)
LAUNCHES = Path(__file__).with_name("data") / "harvardx_mitx" / "harvardMIT.csv"


def launch_histories(path: Path) -> list[list]:
    """Each course's runs from a table of launches (Institution, Course Number, Launch
    Date as MM/DD/YYYY), through ``storage.predict.runs`` like the catalogue's."""
    starts: dict[tuple, list] = {}
    with path.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            day = datetime.strptime(row["Launch Date"], "%m/%d/%Y").replace(tzinfo=UTC)
            starts.setdefault((row["Institution"], row["Course Number"]), []).append(day)
    return [runs(s) for s in starts.values()]


def histories(url: str) -> list[list]:
    """Each course's runs, from its visible listings' dated sessions."""
    engine = open_readonly(url)
    starts: dict[int, list] = {}
    with engine.connect() as conn:
        for course_id, start in conn.execute(
            select(Listing.course_id, Session.start)
            .join(Listing, Listing.id == Session.listing_id)
            .where(Listing.hidden.is_(False), Session.start.is_not(None))
        ):
            starts.setdefault(course_id, []).append(start)
    engine.dispose()
    return [runs(s) for s in starts.values()]


def backtest(courses: list[list]) -> dict:
    askable = answered = hits = baseline_hits = baseline_on_answered = 0
    for history in courses:
        for i in range(MIN_RUNS, len(history)):
            before, actual = history[:i], history[i]
            askable += 1
            naive = before[-1] + YEAR
            naive_hit = abs(naive - actual) <= WINDOW
            baseline_hits += naive_hit
            found = predict(before, before[-1] + timedelta(days=1))
            if found is None:
                continue
            answered += 1
            hits += abs(found["expected"] - actual) <= WINDOW
            baseline_on_answered += naive_hit
    return {
        "courses": len(courses),
        "courses_with_3_runs": sum(len(h) > MIN_RUNS for h in courses),
        "askable": askable,
        "answered": answered,
        "hits": hits,
        "baseline_hits": baseline_hits,
        "baseline_hits_on_answered": baseline_on_answered,
    }


def _rate(hits: int, total: int) -> str:
    return f"{hits}/{total} = {hits / total:.0%}" if total else "0/0 (nothing to score)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="a catalogue URL (default: the demo, built here)")
    parser.add_argument(
        "--launches",
        nargs="?",
        const=str(LAUNCHES),
        help=f"a CSV of course launches instead of a catalogue (default: {LAUNCHES.name})",
    )
    args = parser.parse_args(argv)
    if args.launches:
        result = backtest(launch_histories(Path(args.launches)))
        _report(result)
        return 0
    with tempfile.TemporaryDirectory() as folder:
        url = args.db
        if url is None:
            url = f"sqlite:///{Path(folder) / 'demo.sqlite3'}"
            built = subprocess.run(
                [sys.executable, "-m", "moisson.cli", "demo", "--db", url, "--quiet"],
                capture_output=True,
                text=True,
            )
            if built.returncode != 0:
                print(built.stderr, file=sys.stderr)
                return 1
        result = backtest(histories(url))
    _report(result)
    return 0


def _report(result: dict) -> None:
    print(f"courses: {result['courses']}, with 3 runs or more: {result['courses_with_3_runs']}")
    print(f"runs with 2 runs or more before them: {result['askable']}")
    print(f"answered (regular history): {result['answered']}")
    print(f"hit rate within ±31 days: {_rate(result['hits'], result['answered'])}")
    print(
        "baseline (last run + 1 year), every askable run: "
        f"{_rate(result['baseline_hits'], result['askable'])}; on the answered runs: "
        f"{_rate(result['baseline_hits_on_answered'], result['answered'])}"
    )
    if result["answered"] and result["baseline_hits_on_answered"]:
        ratio = result["hits"] / result["baseline_hits_on_answered"]
        print(f"ratio (hits / baseline hits on the answered runs): {ratio:.2f}")


if __name__ == "__main__":
    sys.exit(main())
