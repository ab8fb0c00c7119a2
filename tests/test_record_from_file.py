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
