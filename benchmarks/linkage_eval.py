"""Precision and recall of course linkage on tests/data/linkage_pairs.jsonl.

Two figures: the pairwise verdict (``storage.matching.compare``) and the end-to-end
decision through the candidate index (``storage.linkage.CourseIndex``: MinHash LSH + exact
keys), where a duplicate also has to be found among every other listing of the set.
Run: ``python -m benchmarks.linkage_eval`` (prints every miss; targets P ≥ 0.98, R ≥ 0.90);
``--real`` scores tests/data/linkage_real_pairs.jsonl, where both sides are written as
published.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from storage.linkage import CourseIndex, candidate_of
from storage.matching import compare

PAIRS = Path(__file__).resolve().parent.parent / "tests" / "data" / "linkage_pairs.jsonl"
# both sides as published (benchmarks/build_real_linkage_pairs.py)
REAL_PAIRS = PAIRS.with_name("linkage_real_pairs.jsonl")
TARGET_PRECISION, TARGET_RECALL = 0.98, 0.90


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    misses: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    def count(self, expected: bool, got: bool, line: dict) -> None:
        if expected and got:
            self.tp += 1
        elif expected:
            self.fn += 1
            self.misses.append(f"missed duplicate: {_show(line)}")
        elif got:
            self.fp += 1
            self.misses.append(f"wrongly merged ({line['kind']}): {_show(line)}")
        else:
            self.tn += 1


def _show(line: dict) -> str:
    a, b = line["a"], line["b"]
    return f"{a['title']!r} {a['organisations']} ~ {b['title']!r} {b['organisations']}"


def load(path: Path = PAIRS) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def _candidate(listing: dict):
    return candidate_of(
        listing["title"], listing["organisations"], listing.get("level"), listing.get("platform")
    )


def pairwise(lines: list[dict]) -> Score:
    score = Score()
    for line in lines:
        got = compare(_candidate(line["a"]), _candidate(line["b"])).same
        score.count(line["same"], got, line)
    return score


def end_to_end(lines: list[dict]) -> Score:
    """Index every 'a' listing as its own course, then decide every 'b' against all of them."""
    index = CourseIndex()
    course_of: dict[str, int] = {}
    for line in lines:
        key = f"{line['a']['platform']}:{line['a']['external_id']}"
        if key not in course_of:
            course_of[key] = len(course_of) + 1
            index.add(key, course_of[key], _candidate(line["a"]))
    score = Score()
    for line in lines:
        key_a = f"{line['a']['platform']}:{line['a']['external_id']}"
        key_b = f"{line['b']['platform']}:{line['b']['external_id']}:probe"
        decision = index.decide(key_b, _candidate(line["b"]))
        score.count(line["same"], decision.course_id == course_of[key_a], line)
    return score


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = REAL_PAIRS if "--real" in args else PAIRS
    lines = load(path)
    print(f"{path.name}: {len(lines)} labelled pairs ({sum(x['same'] for x in lines)} duplicates)")
    ok = True
    for name, score in (("pairwise", pairwise(lines)), ("end to end", end_to_end(lines))):
        print(
            f"{name:>10}: precision {score.precision:.3f} (target {TARGET_PRECISION}), "
            f"recall {score.recall:.3f} (target {TARGET_RECALL}); "
            f"tp {score.tp} fp {score.fp} fn {score.fn} tn {score.tn}"
        )
        for miss in score.misses:
            print(f"    {miss}")
        ok &= score.precision >= TARGET_PRECISION and score.recall >= TARGET_RECALL
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
