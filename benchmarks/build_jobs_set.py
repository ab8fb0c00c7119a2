"""Build benchmarks/data/jobs/labelled.jsonl: the hand labels of labels.csv joined with the
course texts the recordings hold, plus every recorded training offer that states official
ROME codes.

    moisson demo --db sqlite:///var/bench/demo.sqlite3
    python -m benchmarks.build_jobs_set --db sqlite:///var/bench/demo.sqlite3

1. Each row of labels.csv names a listing by platform and exact title; its text (title,
   categories, introduction, description) is copied from the listing's record as the
   replayed catalogue stores it.
2. Every formation of the LHEO files (crawlers/recordings/lheo and
   ../shared/realdata/intercarif-lheo, face-to-face ones included: the demo keeps only
   distance offers), every CPF offer of the recordings (``code_rome_1..3``) and every listing
   of the catalogue that states ROME codes is a case whose acceptable jobs are its official
   codes, with the fiches ROME 4.0 split them into (``code_rome_parent``: a ROME 3 code such
   as D1402 became D1402, D1416 and D1433). The same offer found in two files is one case.
3. ``split``: a fixed rule, not file order: ``tune`` when the first byte of
   sha1("platform:external_id") is even, else ``test``.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import json
from pathlib import Path

from lxml import etree
from sqlalchemy import select

from crawlers.spiders.lheo import _codes, _prose, _text
from storage.db import make_engine
from storage.models import Listing, Platform
from storage.rome import SNAPSHOT

HERE = Path(__file__).resolve().parent / "data" / "jobs"
ROOT = HERE.parents[2]
RECORDINGS = ROOT / "crawlers" / "recordings"
# ../shared/realdata beside the checkout (or beside its worktrees' folder); absent, the
# recordings still hold its LHEO files byte for byte (tests/realdata.py)
REALDATA = next(
    (
        base / "shared" / "realdata"
        for base in (ROOT.parent, ROOT.parent.parent)
        if (base / "shared" / "realdata").is_dir()
    ),
    ROOT.parent / "shared" / "realdata",
)
# where each platform's listings are recorded (their METADATA says real or built)
SOURCE = {
    "cnam": "schema_org",
    "m2i": "schema_org",
    "pantheon_sorbonne": "schema_org",
    "u_bordeaux": "schema_org",
    "cnfpt_mooc": "richie_sites",
    "edulib": "richie_sites",
    "fun_campus": "richie_sites",
    "fun_corporate": "richie_sites",
    "fun_lms": "openedx",
}


def split_of(platform: str, external_id: str) -> str:
    digest = hashlib.sha1(f"{platform}:{external_id}".encode()).digest()
    return "tune" if digest[0] % 2 == 0 else "test"


def children_of() -> dict[str, list[str]]:
    """ROME code → the fiches whose ``code_rome_parent`` it is (itself included)."""
    (path,) = SNAPSHOT.glob("unix_referentiel_code_rome_v*_utf8.csv.gz")
    found: dict[str, list[str]] = {}
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            found.setdefault(row["code_rome_parent"] or row["code_rome"], []).append(
                row["code_rome"]
            )
    return found


def official(codes: list[str], children: dict[str, list[str]]) -> list[str]:
    return list(dict.fromkeys(c for code in codes for c in children.get(code, [code])))


def _shown(path: Path) -> str:
    """A recording's path as the project names it."""
    if path.is_relative_to(ROOT):
        return str(path.relative_to(ROOT))
    return "../shared/realdata/" + str(path.relative_to(REALDATA))


def lheo_cases() -> list[dict]:
    """Every LHEO formation stating ROME codes, once per formation number and title."""
    files = sorted((RECORDINGS / "lheo").glob("*.xml"))
    files += sorted((REALDATA / "intercarif-lheo").glob("*.xml"))
    cases: dict[tuple, dict] = {}
    for path in files:
        root = etree.parse(str(path), etree.XMLParser(resolve_entities=False)).getroot()
        for formation in root.xpath("//*[local-name()='formation']"):
            codes = (_codes(formation) or {}).get("rome")
            if not codes:
                continue
            title = _text(formation, "intitule-formation")
            key = (formation.get("numero"), title)
            source = _shown(path)
            if key in cases:
                cases[key]["source"] += f"; {source}"
                continue
            cases[key] = {
                "platform": "lheo",
                "external_id": formation.get("numero"),
                "source": source,
                "title": title,
                "categories": [],
                "introduction": _prose(_text(formation, "objectif-formation")),
                "description": _prose(_text(formation, "contenu-formation")),
                "codes": codes,
            }
    return list(cases.values())


def cpf_cases() -> list[dict]:
    """Every CPF offer of the recordings stating ``code_rome_1..3``."""
    cases = []
    for path in sorted((RECORDINGS / "mon_compte_formation").glob("records-*.json")):
        for row in json.loads(path.read_text(encoding="utf-8")).get("results", []):
            codes = [row.get(f"code_rome_{i}") for i in (1, 2, 3)]
            codes = [c for c in codes if c]
            if codes:
                cases.append(
                    {
                        "platform": "mon_compte_formation",
                        "external_id": row.get("numero_formation"),
                        "source": _shown(path),
                        "title": row.get("intitule_formation"),
                        "categories": [],
                        "introduction": None,
                        "description": row.get("points_forts"),
                        "codes": codes,
                    }
                )
    return cases


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    args = parser.parse_args(argv)
    engine = make_engine(args.db)
    with engine.connect() as conn:
        records = [
            (platform, record)
            for platform, record in conn.execute(
                select(Platform.name, Listing.record).join(Platform).order_by(Listing.id)
            )
            if record
        ]
    by_title = {(p, r["title"]): r for p, r in records}
    children = children_of()
    entries: dict[tuple, dict] = {}

    def add(case: dict, acceptable: list[str], label: str, note: str) -> None:
        key = (case["platform"], case["external_id"])
        if key in entries:
            return
        entries[key] = {
            "split": split_of(*key),
            "label": label,
            "platform": case["platform"],
            "external_id": case["external_id"],
            "source": case["source"],
            "title": case["title"],
            "categories": case.get("categories") or [],
            "introduction": case.get("introduction"),
            "description": case.get("description"),
            "acceptable": acceptable,
            "note": note,
        }

    with (HERE / "labels.csv").open(encoding="utf-8", newline="") as handle:
        for label in csv.DictReader(handle):
            record = by_title.get((label["platform"], label["title"]))
            if record is None:  # not in the catalogue (dropped as not French…): said, skipped
                print(f"skipped, no listing {label['platform']}: {label['title']!r}")
                continue
            folder = SOURCE.get(label["platform"], label["platform"])
            case = dict(record, source=f"crawlers/recordings/{folder}")
            add(case, label["acceptable"].split(), "hand", label["note"])
    stated = [
        dict(r, source=f"crawlers/recordings/{SOURCE.get(p, p)}", codes=r["codes"]["rome"])
        for p, r in records
        if (r.get("codes") or {}).get("rome")
    ]
    for case in stated + lheo_cases() + cpf_cases():
        note = "codes stated by the platform: " + " ".join(case["codes"])
        add(case, official(case["codes"], children), "official codes", note)
    rows = list(entries.values())
    with (HERE / "labelled.jsonl").open("w", encoding="utf-8") as out:
        for entry in rows:
            out.write(json.dumps(entry, ensure_ascii=False) + "\n")
    kinds = {k: sum(r["label"] == k for r in rows) for k in ("hand", "official codes")}
    splits = {k: sum(r["split"] == k for r in rows) for k in ("tune", "test")}
    print(f"{len(rows)} labelled texts ({kinds}; {splits}) written to {HERE / 'labelled.jsonl'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
