"""Build tests/data/linkage_pairs.jsonl: labelled listing pairs from real catalogue data.

Sources (titles, organisations and levels are real; see each line's ``source``):
- /work/shared/realdata/edx/edx_algolia_courses_2025-07.csv (1,000 real edX search hits),
- crawlers/recordings/fun_mooc (titles and organisations modelled on real FUN-MOOC courses),
- crawlers/recordings/*/METADATA.json cross-listings, where other spiders' recordings
  declare courses also published on FUN-MOOC.

Duplicates ("same": true) pair a real course with the listing another platform makes of it,
using the variations platforms really introduce (case, accents, "MOOC", session markers,
punctuation, the organisation in the title or written another way, a subtitle). Hard near
misses ("same": false) are real distinct courses with close titles (numbered series, same
title by two organisations, same title at two levels, titles sharing most words).
Deterministic: ``python -m benchmarks.build_linkage_pairs`` rewrites the same file.
"""

from __future__ import annotations

import ast
import csv
import json
import random
import unicodedata
from itertools import combinations
from pathlib import Path

from rapidfuzz import fuzz

ROOT = Path(__file__).resolve().parent.parent
SHARED = next(  # ../shared beside the checkout (a worktree sits one folder deeper)
    (base / "shared" for base in (ROOT.parent, ROOT.parent.parent) if (base / "shared").is_dir()),
    ROOT.parent / "shared",
)
EDX = SHARED / "realdata" / "edx" / "edx_algolia_courses_2025-07.csv"
FUN = ROOT / "crawlers" / "recordings" / "fun_mooc"
OUT = ROOT / "tests" / "data" / "linkage_pairs.jsonl"
EDX_LEVELS = {"Introductory": "debutant", "Intermediate": "intermediaire", "Advanced": "avance"}
SUBTITLES = ["les fondamentaux", "les bases", "an introduction", "cours en ligne"]
FRENCH_ALIASES = {
    "Université Paris 1 Panthéon-Sorbonne": "Paris 1",
    "Cnam": "Conservatoire national des arts et métiers",
    "Centrale Lille": "École Centrale de Lille",
    "Université Grenoble Alpes": "UGA",
    "Sciences Po": "Institut d'études politiques de Paris",
    "Inria": "INRIA",
    "École polytechnique": "Ecole polytechnique",
    "Université de Bordeaux": "Univ. Bordeaux",
    "CNED": "Centre national d'enseignement à distance",
    "Institut Mines-Télécom": "IMT",
}


def strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def edx_courses() -> list[dict]:
    courses = []
    with EDX.open(encoding="utf-8") as handle:
        for number, row in enumerate(csv.DictReader(handle)):
            partners = ast.literal_eval(row["partner"]) if row["partner"] else []
            levels = ast.literal_eval(row["level"]) if row["level"] else []
            courses.append(
                {
                    "platform": "edx",
                    "external_id": f"edx-row-{number}",
                    "title": row["title"],
                    "organisations": partners[:1],
                    "level": EDX_LEVELS.get(levels[0]) if len(levels) == 1 else None,
                    "source": f"realdata/edx/{EDX.name} row {number}",
                }
            )
    return courses


def fun_courses() -> list[dict]:
    organisations = {
        o["id"]: o["title"]
        for o in json.loads((FUN / "organizations-0.json").read_text())["objects"]
    }
    courses = []
    for page in sorted(FUN.glob("courses-*.json")):
        for obj in json.loads(page.read_text())["objects"]:
            names = [organisations[i] for i in obj.get("organizations") or [] if i in organisations]
            courses.append(
                {
                    "platform": "fun_mooc",
                    "external_id": obj["id"],
                    "title": obj["title"],
                    "organisations": names[:1],
                    "level": None,
                    "source": f"recordings/fun_mooc/{page.name} id {obj['id']}",
                }
            )
    return courses


def variant(course: dict, rng: random.Random, platform: str) -> dict:
    """The same course as another platform lists it."""
    title, organisations = course["title"], list(course["organisations"])
    org = organisations[0] if organisations else ""
    kind = rng.randrange(9)
    if kind == 0:
        title, how = title.upper(), "upper case"
    elif kind == 1:
        title, how = strip_accents(title).lower(), "accents and case lost"
    elif kind == 2:
        title, how = f"MOOC {title}", "MOOC prefix"
    elif kind == 3:
        title, how = f"{title} - session {rng.choice([2025, 2026, 2027])}", "session marker"
    elif kind == 4 and org:
        title, how = f"{title} - {org}", "organisation in the title"
    elif kind == 5:
        title = title.replace(" : ", " - ").replace(": ", " - ").replace("'", "’")
        title, how = title + ".", "punctuation"
    elif kind == 6 and len(title.split()) >= 3:
        subtitle = rng.choice(SUBTITLES)
        title, how = f"{title} : {subtitle}", "subtitle"
    elif kind == 7 and org in FRENCH_ALIASES:
        organisations, how = [FRENCH_ALIASES[org]], "organisation alias"
    elif kind == 8:
        organisations, how = [], "organisation not stated"
    else:
        title, how = f"{title} (MOOC)", "MOOC suffix"
    return {
        "platform": platform,
        "external_id": f"{platform}-{course['external_id']}",
        "title": title,
        "organisations": organisations,
        "level": course["level"] if rng.random() < 0.5 else None,
        "source": f"variant of {course['source']}: {how}",
    }


def near_misses(courses: list[dict], limit: int, rng: random.Random) -> list[tuple]:
    """Real distinct courses whose titles are close."""
    pairs = []
    for a, b in combinations(courses, 2):
        if a["title"] == b["title"] and a["organisations"] == b["organisations"]:
            continue  # the same product twice: not a clean negative
        score = fuzz.token_sort_ratio(a["title"].lower(), b["title"].lower())
        if score >= 72 or (
            a["title"].split(":")[0] == b["title"].split(":")[0]
            and len(a["title"].split(":")[0]) > 8
        ):
            pairs.append((a, b, f"real distinct courses, title similarity {score:.0f}"))
    rng.shuffle(pairs)
    return pairs[:limit]


def main() -> None:
    rng = random.Random(20261128)
    edx = edx_courses()
    fun = fun_courses()
    lines = []
    # duplicates: every FUN course and a sample of edX courses, listed on a second platform
    pool = fun + rng.sample(edx, 160)
    for course in pool:
        other = variant(course, rng, rng.choice(["mon_compte_formation", "schema_org", "udemy"]))
        lines.append({"a": course, "b": other, "same": True, "kind": "cross-listing"})
    # near misses among real courses
    for a, b, why in near_misses(edx + fun, 110, rng):
        lines.append({"a": a, "b": b, "same": False, "kind": why})
    # same title by another organisation; same title at another level; numbered parts
    for course in rng.sample(edx + fun, 40):
        others = [
            c
            for c in edx + fun
            if c["organisations"] and c["organisations"] != course["organisations"]
        ]
        other_org = rng.choice(others)["organisations"]
        b = {
            **course,
            "platform": "udemy",
            "external_id": f"udemy-other-org-{course['external_id']}",
            "organisations": other_org,
            "source": f"{course['source']} with the organisation of another real course",
        }
        lines.append(
            {"a": course, "b": b, "same": False, "kind": "same title, another organisation"}
        )
    for course in rng.sample([c for c in edx if c["level"]], 25):
        level = rng.choice([lv for lv in EDX_LEVELS.values() if lv != course["level"]])
        b = {
            **course,
            "platform": "mon_compte_formation",
            "external_id": f"cpf-level-{course['external_id']}",
            "level": level,
            "source": f"{course['source']} at level {level}",
        }
        lines.append({"a": course, "b": b, "same": False, "kind": "same title, another level"})
    for course in rng.sample(fun, 15):
        a = {
            **course,
            "title": f"{course['title']} – partie 1",
            "external_id": course["external_id"] + "-p1",
        }
        b = {
            **course,
            "title": f"{course['title']} – partie 2",
            "external_id": course["external_id"] + "-p2",
            "source": course["source"] + " as a two-part series",
        }
        lines.append({"a": a, "b": b, "same": False, "kind": "part 1 / part 2"})
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", encoding="utf-8") as handle:
        for line in lines:
            handle.write(json.dumps(line, ensure_ascii=False) + "\n")
    same = sum(line["same"] for line in lines)
    print(f"{len(lines)} pairs ({same} duplicates, {len(lines) - same} near misses) -> {OUT}")


if __name__ == "__main__":
    main()
