"""``moisson record --from-file``: a hand-built body lands in the recordings with its provenance."""

from __future__ import annotations

import json

from tests.conftest import moisson

URL = "https://www.example-mooc.fr/api/v1.0/courses/?limit=10&offset=0"


def record(root, *args):
    return moisson("record", "acme", URL, "--recordings", str(root), *args)


def test_a_built_file_is_stored_with_its_index_entry_and_provenance(tmp_path):
    built = tmp_path / "courses-0.json"
    built.write_text('{"meta": {"total_count": 0}, "objects": []}')
    root = tmp_path / "recordings"
    result = record(
        root, "--from-file", str(built), "--source", "richie's documented course format"
    )
    assert result.returncode == 0, result.stderr
    folder = root / "acme"
    entry = json.loads((folder / "index.json").read_text())["responses"][0]
    assert entry["url"] == URL and entry["status"] == 200 and entry["built"] is True
    assert entry["headers"] == {"Content-Type": "application/json"}
    assert (folder / entry["body"]).read_bytes() == built.read_bytes()
    metadata = json.loads((folder / "METADATA.json").read_text())
    assert metadata["captured"] is False
    provenance = metadata["provenance"][entry["body"]]
    assert provenance.startswith("BUILT, not captured: richie's documented course format")
    assert URL in provenance and "moisson record --from-file" in provenance

    # a second built response, an error page, with its own status and type
    error = tmp_path / "maintenance.html"
    error.write_text("<html><body>Maintenance</body></html>")
    again = moisson(
        "record", "acme", URL.replace("offset=0", "offset=10"), "--recordings", str(root),
        "--from-file", str(error), "--source", "a typical maintenance page",
        "--status", "503", "--content-type", "text/html; charset=utf-8",
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    entries = json.loads((folder / "index.json").read_text())["responses"]
    assert [e["status"] for e in entries] == [200, 503]
    assert json.loads((folder / "METADATA.json").read_text())["captured"] is False


def test_bad_input_is_refused_with_the_reason_and_writes_nothing(tmp_path):
    root = tmp_path / "recordings"
    built = tmp_path / "page.html"
    built.write_text("<html></html>")
    no_source = record(root, "--from-file", str(built))
    assert no_source.returncode == 2
    assert "--from-file needs --source" in no_source.stderr
    missing = record(root, "--from-file", str(tmp_path / "nope.json"), "--source", "x")
    assert missing.returncode == 1 and "cannot read" in missing.stderr
    status = record(root, "--from-file", str(built), "--source", "x", "--status", "999")
    assert status.returncode == 1 and "not an HTTP status" in status.stderr
    assert not root.exists()


def _built(tmp_path, name="page.json", text='{"results": []}'):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_a_name_taken_by_another_url_or_outside_the_folder_is_refused(tmp_path):
    root = tmp_path / "recordings"
    first = record(root, "--from-file", _built(tmp_path), "--source", "x", "--name", "a.json")
    assert first.returncode == 0, first.stderr
    body = (root / "acme" / "a.json").read_bytes()
    other = URL.replace("offset=0", "offset=10")
    for name, reason in [
        ("a.json", f"already holds the body of {URL}"),
        ("../a.json", "a plain file name"),
        ("sub/a.json", "a plain file name"),
        ("index.json", "the folder's own index.json"),
    ]:
        result = moisson(
            "record", "acme", other, "--recordings", str(root),
            "--from-file", _built(tmp_path, text="{}"), "--source", "x", "--name", name,
        )  # fmt: skip
        assert result.returncode == 2 and reason in result.stderr, (name, result.stderr)
    assert (root / "acme" / "a.json").read_bytes() == body  # nothing was overwritten
    assert [
        e["url"] for e in json.loads((root / "acme" / "index.json").read_text())["responses"]
    ] == [URL]
    # the same URL may be recorded again under its own name
    again = record(root, "--from-file", _built(tmp_path, text="[]"), "--source", "y",
                   "--name", "a.json")  # fmt: skip
    assert again.returncode == 0 and (root / "acme" / "a.json").read_text() == "[]"


def test_a_second_sites_default_name_says_its_host(tmp_path):
    root = tmp_path / "recordings"
    record(root, "--from-file", _built(tmp_path, "robots.txt", "User-agent: *"), "--source", "x")
    other = "https://www.other-mooc.fr/robots.txt"
    empty = _built(tmp_path, "robots.txt", "")
    result = moisson(
        "record", "acme", other, "--recordings", str(root), "--from-file", empty, "--source", "x"
    )
    assert result.returncode == 0, result.stderr
    bodies = [
        e["body"] for e in json.loads((root / "acme" / "index.json").read_text())["responses"]
    ]
    assert bodies == ["api-v1-0-courses-limit-10-offset-0.txt", "other-mooc-fr-robots-txt.txt"]


def test_a_hand_written_provenance_is_kept_and_the_file_noted_beside_it(tmp_path):
    folder = tmp_path / "recordings" / "acme"
    folder.mkdir(parents=True)
    written = {
        "spider": "acme",
        "platforms": ["acme", "acme_bis"],
        "captured": False,
        "provenance": "BUILT from the documented format (see files).",
        "files": {"robots.txt": "built"},
        "cases": {"two_runs": ["acme:1"]},
    }
    (folder / "METADATA.json").write_text(json.dumps(written))
    result = record(folder.parent, "--from-file", _built(tmp_path), "--source", "the API docs",
                    "--name", "acme-bis-courses-0.json")  # fmt: skip
    assert result.returncode == 0, result.stderr
    text = (folder / "METADATA.json").read_text()
    metadata = json.loads(text)
    assert metadata["provenance"] == written["provenance"] and metadata["captured"] is False
    assert metadata["files"]["robots.txt"] == "built"
    assert metadata["files"]["acme-bis-courses-0.json"].startswith("BUILT, not captured: the API")
    # lists of plain values stay on one line, as they were written
    assert '"platforms": ["acme", "acme_bis"]' in text and '"two_runs": ["acme:1"]' in text
