"""How well course texts find their ROME jobs, against a baseline; and how fast.

    python -m benchmarks.jobs_eval [--split test|tune|all] [--speed N]

Reads the labelled set (benchmarks/data/jobs/labelled.jsonl, see its README) and the shipped
referential, then prints for the matcher (storage.jobmatch) and for the baseline (the same
retrieval over job titles only):

- hit@3: share of texts with an acceptable job among the first three; for a text whose
  acceptable set is empty (a course that prepares for no job), a hit is an empty answer;
- precision@3: among texts that got jobs, the mean share of acceptable ones in the first three;
- coverage: share of texts that got at least one job.

The figures are printed for the whole split and for each kind of label (``hand``: labelled
by reading the referential; ``official codes``: the codes a training offer states).

``--speed N`` links N course texts (the set, repeated) in batches of 500 and prints courses
per second of CPU time (``time.process_time``: one core, whatever else the machine runs),
beside the target of 500, with the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from storage.joblinks import course_text
from storage.jobmatch import JobMatcher
from storage.rome import read_release

SET = Path(__file__).resolve().parent / "data" / "jobs" / "labelled.jsonl"
TARGETS = {"hit@3": 0.85, "precision@3": 0.6}
SPEED_TARGET = 500.0
BATCH = 500


def load_set(split: str) -> list[dict]:
    rows = [json.loads(line) for line in SET.read_text(encoding="utf-8").splitlines() if line]
    return [r for r in rows if split == "all" or r["split"] == split]


def scores(matcher: JobMatcher, rows: list[dict]) -> dict[str, float]:
    answers = matcher.match([course_text([r]) for r in rows])
    hits, precisions, covered = 0, [], 0
    for row, found in zip(rows, answers, strict=True):
        top = [h.code for h in found[:3]]
        acceptable = set(row["acceptable"])
        if not acceptable:
            hits += not top
        else:
            hits += any(code in acceptable for code in top)
        if top:
            covered += 1
            precisions.append(sum(code in acceptable for code in top) / len(top))
    n = len(rows)
    return {
        "hit@3": hits / n,
        "precision@3": sum(precisions) / len(precisions) if precisions else 0.0,
        "coverage": covered / n,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="test", choices=["test", "tune", "all"])
    parser.add_argument("--speed", type=int, default=0, metavar="N")
    args = parser.parse_args(argv)
    release = read_release()
    started = time.process_time()
    matcher = JobMatcher.from_release(release)
    built = time.process_time() - started
    baseline = JobMatcher.from_release(release, titles_only=True)
    rows = load_set(args.split)
    print(f"ROME version {release.number}; {len(rows)} labelled texts, split {args.split}")
    print(f"matcher built in {built:.1f} s CPU")
    parts = [("all", rows)] + [
        (kind, [r for r in rows if r["label"] == kind]) for kind in ("hand", "official codes")
    ]
    print(f"{'':30}{'n':>4}{'matcher':>10}{'baseline':>10}{'ratio':>8}{'target':>8}")
    for part, chosen in parts:
        if not chosen:
            continue
        mine, base = scores(matcher, chosen), scores(baseline, chosen)
        for name in ("hit@3", "precision@3", "coverage"):
            ratio = f"{mine[name] / base[name]:8.2f}" if base[name] else f"{'':8}"
            target = f"{TARGETS[name]:.2f}" if name in TARGETS else ""
            label = f"{part} {name}"
            print(
                f"{label:30}{len(chosen):4}{mine[name]:10.3f}{base[name]:10.3f}{ratio}{target:>8}"
            )
    if args.speed:
        every = load_set("all")
        texts = [course_text([every[i % len(every)]]) for i in range(args.speed)]
        load = os.getloadavg()
        started, wall = time.process_time(), time.perf_counter()
        for start in range(0, len(texts), BATCH):
            matcher.match(texts[start : start + BATCH])
        cpu, wall = time.process_time() - started, time.perf_counter() - wall
        rate = len(texts) / cpu
        print(
            f"speed: {rate:.0f} courses/s of CPU time ({len(texts)} texts in batches of {BATCH}, "
            f"{cpu:.1f} s CPU, {wall:.1f} s wall; target {SPEED_TARGET:.0f}, "
            f"ratio {rate / SPEED_TARGET:.2f}); load average {load[0]:.2f} {load[1]:.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
