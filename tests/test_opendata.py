"""The open-data exports (docs/OPENDATA.md): each format checked against its published schema
(tests/data/schemas/PROVENANCE.md), streamed by the API and written by ``moisson export``,
on the test catalogue built from the recordings (tests/portal_catalogue.py)."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import event

from moisson.cli import main
from portal.opendata import Export, terms
from portal.opendata.formats import FORMATS
from portal.opendata.tabular import FIELDS, cell
from storage.export_queries import export_courses
from storage.search import CourseFilters, course_details
from tests.portal_catalogue import (  # noqa: F401 (fixtures)
    HOSTILE_TITLE,
    NOW,
    VISIBLE,
    catalogue,
    client,
)

SCHEMAS = Path(__file__).parent / "data" / "schemas"
LHEO = "{http://lheo.gouv.fr/2.3}"
PUBLIC = "https://cours.example.fr"


def _export(client, fmt: str, **params):  # noqa: F811
    response = client.get(f"/api/v1/export/{fmt}", params=params)
    assert response.status_code == 200, response.text
    return response


def _jsonld_lines(client) -> list[dict]:  # noqa: F811
    return [json.loads(line) for line in _export(client, "jsonld").text.splitlines()]


# -- reading -----------------------------------------------------------------------------


def test_export_reads_every_visible_course_once_in_batches(catalogue):  # noqa: F811
    ids = [c["id"] for c in export_courses(catalogue.engine, CourseFilters(), NOW, batch=4)]
    assert len(ids) == VISIBLE
    assert ids == sorted(set(ids))  # keyset paging: in order, none twice, none lost
    whole = [c["id"] for c in export_courses(catalogue.engine, CourseFilters(), NOW)]
    assert whole == ids


def test_export_applies_the_search_filters(catalogue):  # noqa: F811
    chosen = list(
        export_courses(catalogue.engine, CourseFilters(platform="openclassrooms"), NOW, batch=2)
    )
    assert chosen and len(chosen) < VISIBLE
    assert all(any(lst["platform"] == "openclassrooms" for lst in c["listings"]) for c in chosen)


def _document(fmt: str, courses) -> bytes:
    export = Export(PUBLIC, NOW)
    pieces = FORMATS[fmt].write(courses, export)
    return b"".join(p.encode("utf-8") if isinstance(p, str) else p for p in pieces)


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_the_lean_read_writes_what_the_course_pages_read_wrote(catalogue, fmt):  # noqa: F811
    """Each format's document from the export read is byte for byte the one written from
    ``course_details`` (the course page's description) of the same courses."""
    lean = list(export_courses(catalogue.engine, CourseFilters(), NOW, batch=3))
    assert len(lean) == VISIBLE
    with catalogue.engine.connect() as conn:
        paged = course_details(conn, [c["id"] for c in lean], NOW)
    assert _document(fmt, lean) == _document(fmt, paged)


def test_the_export_read_is_a_constant_number_of_statements_per_batch(catalogue):  # noqa: F811
    """Six statements a batch (courses, sessions, ROME codes, organisations, topics,
    listings), however many courses, sessions and listings the batch holds: nothing is read
    course by course, and of a listing's JSON record only its stated codes."""
    statements, columns = [], set()

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    def described(conn, cursor, statement, parameters, context, executemany):
        columns.update(column[0] for column in cursor.description or ())

    event.listen(catalogue.engine, "before_cursor_execute", count)
    event.listen(catalogue.engine, "after_cursor_execute", described)
    try:
        for batch in (2, 5, VISIBLE):
            statements.clear()
            courses = list(export_courses(catalogue.engine, CourseFilters(), NOW, batch=batch))
            reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
            full = -(-len(courses) // batch)  # batches with courses: six statements each
            empty = len(courses) % batch == 0  # then one more batch finds none: one statement
            assert len(reads) == 6 * full + empty, (batch, reads)
        assert "codes" in columns and "record" not in columns  # the codes, not the record
    finally:
        event.remove(catalogue.engine, "before_cursor_execute", count)
        event.remove(catalogue.engine, "after_cursor_execute", described)


def _cli(catalogue, fmt: str, *options: str) -> int:  # noqa: F811
    return main(["export", fmt, "--db", catalogue.url, "--public-url", PUBLIC, *options])


# -- LHEO --------------------------------------------------------------------------------


def test_lheo_export_is_valid_against_the_official_xsd(client):  # noqa: F811
    response = _export(client, "lheo")
    assert response.headers["content-type"].startswith("application/xml")
    schema = etree.XMLSchema(etree.parse(str(SCHEMAS / "lheo-2.3.xsd")))
    document = etree.fromstring(response.content)
    assert schema.validate(document), schema.error_log
    formations = document.findall(f"{LHEO}offres/{LHEO}formation")
    assert len(formations) == VISIBLE
    titles = [f.findtext(f"{LHEO}intitule-formation") for f in formations]
    assert HOSTILE_TITLE in titles  # escaped on the way out, the same text read back
    # every action names its source platform and page; the document its licence
    for action in document.iter(f"{LHEO}action"):
        source = {e.get("info"): e.text for e in action.find(f"{LHEO}extras")}
        assert source["url"].startswith("https://") and source["plateforme"]
        assert action.findtext(f"{LHEO}modalites-enseignement") == "2"
    licence = {e.get("info"): e.text for e in document.find(f"{LHEO}extras")}
    assert licence["url-licence"] == terms()["licence"]["url"]
    assert licence["attribution"] == terms()["attribution"]


def test_an_lheo_export_of_no_course_is_refused_not_invalid(client, catalogue, tmp_path, capsys):  # noqa: F811
    """LHEO's ``offres`` holds at least one ``formation`` (the XSD): an empty selection is
    refused with a reason, by the command (exit 3, no file) and by the endpoint (404);
    formats that can be empty stay empty and valid."""
    schema = etree.XMLSchema(etree.parse(str(SCHEMAS / "lheo-2.3.xsd")))
    assert 'minOccurs="1"' in (SCHEMAS / "lheo-2.3.xsd").read_text()
    out = tmp_path / "empty.xml"
    assert _cli(catalogue, "lheo", "--since", "2999-01-01", "--out", str(out)) == 3
    assert "at least one formation" in capsys.readouterr().err
    assert not out.exists() and not list(tmp_path.iterdir())
    response = client.get("/api/v1/export/lheo", params={"since": "2999-01-01"})
    assert response.status_code == 404
    assert "at least one formation" in response.text
    # the same document with one course is valid: the refusal is about emptiness only
    one = next(export_courses(catalogue.engine, CourseFilters(), NOW))
    assert schema.validate(etree.fromstring(_document("lheo", [one]))), schema.error_log
    status = _cli(catalogue, "all", "--since", "2999-01-01", "--dir", str(tmp_path))
    assert status == 3
    (folder,) = tmp_path.iterdir()
    assert "moisson-lheo.xml" not in {p.name for p in folder.iterdir()}
    assert (folder / "moisson-courses.jsonld").read_text() == ""


def test_lheo_sessions_carry_their_dates(client, catalogue):  # noqa: F811
    document = etree.fromstring(_export(client, "lheo").content)
    course = catalogue.ids["oc-stats"]
    formation = next(f for f in document.iter(f"{LHEO}formation") if f.get("numero") == str(course))
    start = formation.find(f"{LHEO}action/{LHEO}session/{LHEO}periode/{LHEO}debut").text
    assert start == "20261120"  # five days after the catalogue's now, a Paris day
    assert formation.findtext(f"{LHEO}action/{LHEO}prix-total-TTC") == "49.00"


def test_official_codes_go_where_each_format_has_a_place(client, catalogue):  # noqa: F811
    """The listing of « Statistiques descriptives » states ROME M1419 and Z9999 (a code the
    referential lacks), RNCP 35030 and RS « RS5234 »: the stored course is linked to M1419 by
    code, and every format says so; Z9999, unknown, is in none (LHEO: XSD-valid places)."""
    course = catalogue.ids["oc-stats"]
    document = etree.fromstring(_export(client, "lheo").content)
    formation = next(f for f in document.iter(f"{LHEO}formation") if f.get("numero") == str(course))
    domain = formation.find(f"{LHEO}domaine-formation")
    assert [e.text for e in domain.findall(f"{LHEO}code-ROME")] == ["M1419"]
    certifications = [
        (child.tag.removeprefix(LHEO), child.text)
        for certification in formation.findall(f"{LHEO}certification")
        for child in certification
    ]
    assert certifications == [("code-RNCP", "35030"), ("code-RS", "5234")]
    schema = etree.XMLSchema(etree.parse(str(SCHEMAS / "lheo-2.3.xsd")))
    assert schema.validate(document), schema.error_log  # in the XSD's order

    line = next(x for x in _jsonld_lines(client) if x["url"].endswith(f"/cours/{course}"))
    identifiers = line["occupationalCredentialAwarded"]["identifier"]
    assert [(i["propertyID"], i["value"]) for i in identifiers] == [
        ("RNCP", "35030"),
        ("RS", "5234"),
    ]
    assert [(a["educationalFramework"], a["targetName"]) for a in line["educationalAlignment"]] == [
        ("ROME", "M1419")
    ]
    rows = csv.DictReader(io.StringIO(_export(client, "csv").text))
    row = next(r for r in rows if r["id"] == str(course))
    assert (row["rome"], row["rncp"], row["rs"], row["formacode"]) == ("M1419", "35030", "5234", "")
    others = [f for f in document.iter(f"{LHEO}formation") if f.get("numero") != str(course)]
    assert not any(f.find(f"{LHEO}domaine-formation/{LHEO}code-ROME") is not None for f in others)


@pytest.mark.parametrize(
    "text",
    ["a & b < c > d", '</x><y a="1">', 'l\'été "cité"', "tab\tline\nreturn\r end", "]]>", "é€😀"],
)
def test_the_lheo_writers_escaping_is_what_lxml_serialises(text):
    """LHEO is written as text (fast): each text and attribute escaped as libxml2 does,
    so the document is the one lxml would write, and reads back as the same text."""
    from portal.opendata.lheo import _attribute, _escape

    element = etree.Element("x", a=text)
    element.text = text
    assert etree.tostring(element, encoding="unicode") == (
        f'<x a="{_attribute(text)}">{_escape(text)}</x>'
    )
    read = etree.fromstring(f'<x a="{_attribute(text)}">{_escape(text)}</x>')
    assert (read.text, read.get("a")) == (text, text)


# -- schema.org JSON-LD ------------------------------------------------------------------


def test_jsonld_lines_are_the_course_pages_objects(client, catalogue):  # noqa: F811
    lines = _jsonld_lines(client)
    assert len(lines) == VISIBLE
    by_url = {line["url"]: line for line in lines}
    course = catalogue.ids["oc-stats"]
    page = client.get(f"/cours/{course}").text
    start = page.index('<script type="application/ld+json">') + len(
        '<script type="application/ld+json">'
    )
    on_page = json.loads(page[start : page.index("</script>", start)])
    assert by_url[on_page["url"]] == on_page  # one builder for both
    assert on_page["offers"][0]["price"] == 49
    assert on_page["timeRequired"] == "P8W"
    assert on_page["aggregateRating"]["ratingValue"] == 3.9
    assert on_page["hasCourseInstance"][0]["startDate"].startswith("2026-11-20")
    assert on_page["sdLicense"] == terms()["licence"]["url"]
    assert on_page["sameAs"] == ["https://openclassrooms.com/fr/courses/oc-stats"]


def test_jsonld_round_trips_through_extruct(client):  # noqa: F811
    import extruct

    lines = _jsonld_lines(client)
    html = (
        "<html><body>"
        + "".join(
            '<script type="application/ld+json">'
            + json.dumps(line, ensure_ascii=False).replace("<", "\\u003c")
            + "</script>"
            for line in lines
        )
        + "</body></html>"
    )
    found = extruct.extract(html, syntaxes=["json-ld"], uniform=False)["json-ld"]
    assert found == lines


# schema.org's JSON-LD context, reduced to what these documents use: its @vocab (the
# published context, https://schema.org/docs/jsonldcontext.jsonld, maps every term to
# https://schema.org/ the same way); built here because tests never touch the internet.
SCHEMA_ORG_CONTEXT = {"@context": {"@vocab": "https://schema.org/"}}


def _local_loader(url, options=None):
    assert url.rstrip("/") in ("https://schema.org", "http://schema.org"), url
    return {"contextUrl": None, "documentUrl": url, "document": SCHEMA_ORG_CONTEXT}


def test_jsonld_expands_with_a_json_ld_processor(client):  # noqa: F811
    from pyld import jsonld

    line = next(line for line in _jsonld_lines(client) if "aggregateRating" in line)
    expanded = jsonld.expand(line, {"documentLoader": _local_loader})
    (course,) = expanded
    schema = "https://schema.org/"
    assert course["@type"] == [schema + "Course"]
    assert course["@id"] == line["url"]
    for term in ("hasCourseInstance", "provider", "aggregateRating", "sdLicense", "name"):
        assert schema + term in course, term
    instance = course[schema + "hasCourseInstance"][0]
    assert instance["@type"] == [schema + "CourseInstance"]
    graph = jsonld.to_rdf(line, {"documentLoader": _local_loader, "format": "application/n-quads"})
    assert (
        f"<{line['url']}> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{schema}Course>"
        in graph
    )


# -- MOOChub -----------------------------------------------------------------------------


def test_moochub_export_is_valid_against_the_published_schema(client):  # noqa: F811
    from jsonschema import Draft202012Validator, FormatChecker

    response = _export(client, "moochub")
    assert response.headers["content-type"].startswith("application/vnd.api+json")
    document = response.json()
    schema = json.loads((SCHEMAS / "moochub-schema-v3.json").read_text(encoding="utf-8"))
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]
    assert not errors, errors[:5]
    assert len(document["data"]) == VISIBLE
    assert len({c["id"] for c in document["data"]}) == VISIBLE
    assert document["meta"]["license"] == terms()["licence"]
    stats = next(c for c in document["data"] if c["attributes"]["name"].startswith("Statistiques"))
    assert stats["attributes"]["url"] == "https://openclassrooms.com/fr/courses/oc-stats"
    assert stats["attributes"]["offer"][0]["price"] == 49


# -- CSV ---------------------------------------------------------------------------------


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised():
    assert [cell(v) for v in ("=1+1", "+33 1", "-2", "@SUM(A1)", "\tx", "ok", None)] == [
        "'=1+1",
        "'+33 1",
        "'-2",
        "'@SUM(A1)",
        "'\tx",
        "ok",
        "",
    ]
    assert cell(-2.5) == "-2.5" and cell(True) == "true"  # numbers are not text


def test_csv_and_its_datapackage_validate_with_frictionless(catalogue, tmp_path):  # noqa: F811
    from frictionless import validate

    out = tmp_path / "courses.csv"
    status = _cli(catalogue, "csv", "--out", str(out))
    assert status == 0
    package = json.loads((tmp_path / "datapackage.json").read_text(encoding="utf-8"))
    assert package["licenses"][0]["path"] == terms()["licence"]["url"]
    report = validate(tmp_path / "datapackage.json")
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:5]
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert len(rows) == VISIBLE
    assert list(rows[0]) == [f.name for f in FIELDS]
    assert all(row["url"].startswith(f"{PUBLIC}/cours/") and row["source_urls"] for row in rows)
    assert HOSTILE_TITLE in {row["title"] for row in rows}


def test_csv_endpoint_links_its_datapackage(client):  # noqa: F811
    response = _export(client, "csv", platform="openclassrooms")
    assert response.headers["content-type"].startswith("text/csv")
    assert 'rel="describedby"' in response.headers["link"]
    package = client.get("/api/v1/export/datapackage.json", params={"platform": "openclassrooms"})
    assert package.json()["resources"][0]["path"].endswith(
        "/api/v1/export/csv?platform=openclassrooms"
    )


# -- the command and the endpoints -------------------------------------------------------


def test_since_exports_only_the_courses_changed_since(catalogue, tmp_path, capsysbinary):  # noqa: F811
    out = tmp_path / "all.jsonld"
    assert _cli(catalogue, "jsonld", "--out", str(out)) == 0
    modified = sorted(
        datetime.fromisoformat(json.loads(line)["dateModified"])
        for line in out.read_text(encoding="utf-8").splitlines()
    )
    assert len(modified) == VISIBLE
    since = modified[-1]
    expected = sum(1 for m in modified if m >= since)
    assert _cli(catalogue, "jsonld", "--since", since.isoformat()) == 0
    lines = capsysbinary.readouterr().out.decode("utf-8").splitlines()
    assert len(lines) == expected
    assert _cli(catalogue, "jsonld", "--since", "2999-01-01") == 0
    assert capsysbinary.readouterr().out == b""


def test_export_all_writes_a_dated_dump(catalogue, tmp_path):  # noqa: F811
    status = _cli(catalogue, "all", "--dir", str(tmp_path))
    assert status == 0
    (folder,) = tmp_path.iterdir()
    datetime.strptime(folder.name, "%Y-%m-%d")
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted(
        [
            "moisson-lheo.xml",
            "moisson-courses.jsonld",
            "moisson-moochub.json",
            "moisson-courses.csv",
            "datapackage.json",
        ]
    )
    assert not list(folder.glob("*.partial"))


@pytest.mark.parametrize(
    "args, says",
    [
        (["export", "csv", "--since", "hier"], "not a day"),
        (["export", "csv", "--public-url", "ftp://x"], "not an http(s) base URL"),
        (["export", "csv", "--public-url", PUBLIC, "--state", "soon"], "invalid choice"),
        (["export", "all", "--public-url", PUBLIC, "--out", "x.csv"], "give --dir"),
    ],
)
def test_bad_export_arguments_are_usage_errors(catalogue, args, says, capsys, monkeypatch):  # noqa: F811
    monkeypatch.delenv("MOISSON_PUBLIC_URL", raising=False)
    try:
        status = main([*args, "--db", catalogue.url])
    except SystemExit as exc:  # argparse's own refusals
        status = exc.code
    assert status == 2
    assert says in capsys.readouterr().err


def test_export_without_a_public_url_says_so(catalogue, capsys, monkeypatch):  # noqa: F811
    monkeypatch.delenv("MOISSON_PUBLIC_URL", raising=False)
    assert main(["export", "csv", "--db", catalogue.url]) == 2
    assert "--public-url" in capsys.readouterr().err


def test_export_endpoints_are_in_the_openapi_document(client):  # noqa: F811
    document = client.get("/api/v1/openapi.json").json()
    operation = document["paths"]["/api/v1/export/{format}"]["get"]
    formats = next(p for p in operation["parameters"] if p["name"] == "format")["schema"]["enum"]
    assert sorted(formats) == ["csv", "jsonld", "lheo", "moochub"]
    assert {p["name"] for p in operation["parameters"]} >= {"since", "state", "platform", "q"}
    assert "/api/v1/export/datapackage.json" in document["paths"]


def test_export_endpoint_refuses_an_unknown_format(client):  # noqa: F811
    response = client.get("/api/v1/export/pdf")
    assert response.status_code == 422
    assert "format" in response.json()["message"]
