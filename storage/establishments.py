"""Builds ``storage/data/establishments_fr.csv`` from the ministry's open data.

The French ministry of higher education publishes its principal establishments with their
official names, short names, acronyms, English names and synonyms
(« fr-esr-principaux-etablissements-enseignement-superieur », Licence Ouverte / Etalab).
This keeps, for each establishment, every name it is known by, one row per name, so that
``storage.matching`` can resolve « Essec » and « ESSEC Business School » to one key.
A name two establishments share (an acronym like « UCA ») is dropped: it identifies neither.

    python -m storage.establishments fr-esr-principaux-etablissements-enseignement-superieur.csv

Provenance of the shipped file: storage/data/SOURCES.md.
"""

from __future__ import annotations

import csv
import sys
from collections import defaultdict
from pathlib import Path

from storage.matching import organisation_key_plain

OUTPUT = Path(__file__).with_name("data") / "establishments_fr.csv"
COLUMNS = ("identifiant_interne", "name", "alias")
NAME_COLUMNS = ("nom_court", "sigle", "English name", "uo_lib_officiel")
MIN_ALIAS_LENGTH = 3  # « X » or « U2 » alone would join unrelated names
# Names of the export that other organisations also go by: « INP » (Grenoble INP, Toulouse
# INP…), « UPV » (Universitat Politècnica de València on edX), a truncated « Institut A ».
AMBIGUOUS = frozenset(["inp", "upv", "institut a", "unir"])


def _names_field(value: str) -> list[str]:
    """« NomLong:A|NomCourt:B|Synonymes:C;D » → [A, B, C, D]."""
    names = []
    for part in value.split("|"):
        label, _, text = part.partition(":")
        if label.strip() in ("NomLong", "NomCourt"):
            names.append(text)
        elif label.strip() == "Synonymes":
            names.extend(text.split(";"))
    return names


def establishment_names(row: dict[str, str]) -> list[str]:
    """Every name of one establishment of the ministry's file, its official label first."""
    names = [row["Libellé"] or ""] + [row.get(column) or "" for column in NAME_COLUMNS]
    for value in row.values():  # the names column's header moved between exports
        if isinstance(value, str) and value.startswith("NomLong:"):
            names.extend(_names_field(value))
    seen, kept = set(), []
    for name in (" ".join(n.split()) for n in names):
        if len(name) >= MIN_ALIAS_LENGTH and name.casefold() not in seen:
            seen.add(name.casefold())
            kept.append(name)
    return kept


def build(source: Path, output: Path = OUTPUT) -> int:
    """Write the alias rows; returns how many were written."""
    with source.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    if not rows or "Libellé" not in rows[0]:
        raise ValueError(f"{source}: not the ministry's establishments file (no Libellé column)")
    owners: dict[str, set[str]] = defaultdict(set)
    entries = []
    for row in rows:
        identifier = row["identifiant_interne"].strip()
        names = establishment_names(row)
        if not names:
            continue  # a row without a label names nothing
        for name in names:
            owners[organisation_key_plain(name)].add(identifier)
        entries.append((identifier, names))
    written = 0
    with output.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(COLUMNS)
        for identifier, names in sorted(entries, key=lambda entry: entry[1][0]):
            for alias in names[1:]:
                key = organisation_key_plain(alias)
                if len(owners[key]) == 1 and key not in AMBIGUOUS:
                    writer.writerow((identifier, names[0], alias))
                    written += 1
    return written


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print(__doc__.strip().splitlines()[-3].strip(), file=sys.stderr)
        return 2
    count = build(Path(args[0]))
    print(f"{count} aliases written to {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
