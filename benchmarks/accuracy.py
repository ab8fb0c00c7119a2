"""Accuracy of every normaliser on the labelled corpus, every miss listed.

    .venv/bin/python -m benchmarks.accuracy

Exit status 1 when a field misses its target (docs/NORMALISATION.md).
"""

from __future__ import annotations

import json
import sys

from benchmarks.corpus import FIELDS, TARGETS, score


def main() -> int:
    failed = False
    total = 0
    report = []
    for field in FIELDS:
        count, misses = score(field)
        total += count
        accuracy = (count - len(misses)) / count if count else 0.0
        target = TARGETS.get(field)
        verdict = "" if target is None else ("  ok" if accuracy >= target else "  BELOW TARGET")
        failed |= target is not None and accuracy < target
        shown = f"target {target:.0%}" if target is not None else "no target"
        report.append(f"{field:<12} {count:>4} strings  {accuracy:7.1%}  ({shown}){verdict}")
        for miss in misses:
            got = {k: v for k, v in miss.got.items() if v is not None}
            report.append(
                f"    miss: {miss.line['text'][:70]!r}\n"
                f"          expected {json.dumps(miss.line['expected'], ensure_ascii=False)}\n"
                f"          got      {json.dumps(got, ensure_ascii=False)}"
            )
    print("\n".join(report))
    print(f"{total} labelled strings")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
