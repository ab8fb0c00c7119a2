"""Official codes from a feed to every export: the LHEO and CPF recordings replayed through
the real crawl (spider, pipelines, store, job linking) into a catalogue holding the shipped
ROME, then exported by ``moisson export`` (docs/OPENDATA.md, "Field mapping")."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import select

from moisson.cli import main
from storage.db import make_engine
from storage.models import CourseJob, Listing
from tests.conftest import replay_crawl
from tests.portal_catalogue import _sqlite_with_rome

SCHEMAS = Path(__file__).parent / "data" / "schemas"
LHEO = "{http://lheo.gouv.fr/2.3}"
PUBLIC = "https://cours.example.fr"


@pytest.fixture(scope="module")
def replayed(tmp_path_factory):
    path = tmp_path_factory.mktemp("codes") / "catalogue.sqlite3"
    _sqlite_with_rome(tmp_path_factory, path)
    url = f"sqlite:///{path}"
    for spider in ("lheo", "mon_compte_formation"):
        done = replay_crawl(url, spider=spider)
        assert done.returncode == 0, done.stderr
    out = tmp_path_factory.mktemp("exports")
    for fmt, name in (("lheo", "lheo.xml"), ("jsonld", "c.jsonld"), ("csv", "courses.csv")):
        assert (
            main(["export", fmt, "--db", url, "--public-url", PUBLIC, "--out", str(out / name)])
            == 0
        )
    return url, out


def _course_id(url: str, title: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(
                select(Listing.course_id).where(Listing.title == title)
            ).scalar_one()
    finally:
        engine.dispose()


def test_a_feeds_rncp_and_formacode_reach_every_export(replayed):
    """carif-oref-distance.xml states Formacode 31054 and, for « Assistant ressources
    humaines », certification/code-RNCP 35030: both come out where each format puts them."""
    url, out = replayed
    course = _course_id(url, "Assistant ressources humaines")
    document = etree.parse(str(out / "lheo.xml"))
    schema = etree.XMLSchema(etree.parse(str(SCHEMAS / "lheo-2.3.xsd")))
    assert schema.validate(document), schema.error_log
    formation = next(f for f in document.iter(f"{LHEO}formation") if f.get("numero") == str(course))
    assert formation.findtext(f"{LHEO}domaine-formation/{LHEO}code-FORMACODE") == "31054"
    assert formation.findtext(f"{LHEO}certification/{LHEO}code-RNCP") == "35030"

    lines = [json.loads(x) for x in (out / "c.jsonld").read_text(encoding="utf-8").splitlines()]
    line = next(x for x in lines if x["url"] == f"{PUBLIC}/cours/{course}")
    assert {"@type": "PropertyValue", "propertyID": "RNCP", "value": "35030"} in line[
        "occupationalCredentialAwarded"
    ]["identifier"]
    assert ("Formacode", "31054") in {
        (a["educationalFramework"], a["targetName"]) for a in line["educationalAlignment"]
    }
    rows = list(csv.DictReader(io.StringIO((out / "courses.csv").read_text(encoding="utf-8"))))
    row = next(r for r in rows if r["id"] == str(course))
    assert (row["rncp"], row["formacode"]) == ("35030", "31054")


def test_a_cpf_offers_nsf_code_reaches_every_export(replayed):
    """The CPF offer « Programmer en Java » (CNAM) states NSF 326 (``code_nsf_1``)."""
    url, out = replayed
    course = _course_id(url, "Programmer en Java")
    document = etree.parse(str(out / "lheo.xml"))
    formation = next(f for f in document.iter(f"{LHEO}formation") if f.get("numero") == str(course))
    assert formation.findtext(f"{LHEO}domaine-formation/{LHEO}code-NSF") == "326"
    lines = [json.loads(x) for x in (out / "c.jsonld").read_text(encoding="utf-8").splitlines()]
    line = next(x for x in lines if x["url"] == f"{PUBLIC}/cours/{course}")
    assert {(a["educationalFramework"], a["targetName"]) for a in line["educationalAlignment"]} == {
        ("NSF", "326")
    }
    rows = list(csv.DictReader(io.StringIO((out / "courses.csv").read_text(encoding="utf-8"))))
    assert next(r for r in rows if r["id"] == str(course))["nsf"] == "326"


def test_jobs_found_from_the_text_are_not_written_as_official_rome_codes(replayed):
    """The feed states no ROME code: its courses are linked to jobs by their text only, and
    no export states a ROME code for them."""
    url, out = replayed
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            methods = set(conn.scalars(select(CourseJob.method)))
    finally:
        engine.dispose()
    assert methods == {"text"}, "the recordings' courses are linked by their text"
    document = etree.parse(str(out / "lheo.xml"))
    assert not list(document.iter(f"{LHEO}code-ROME"))
    lines = (out / "c.jsonld").read_text(encoding="utf-8")
    assert '"ROME"' not in lines
    rows = csv.DictReader(io.StringIO((out / "courses.csv").read_text(encoding="utf-8")))
    assert not any(r["rome"] for r in rows)
