"""ROME 4.0 in the catalogue: the shipped snapshot, `moisson rome load/update`, bad releases."""

from __future__ import annotations

import http.server
import json
import threading
from datetime import UTC, datetime
from functools import partial

import pytest
from sqlalchemy import func, insert, select

from moisson.cli import main
from storage.db import ensure_schema, make_engine
from storage.models import Course, CourseJob, RomeItem, RomeJob, RomeJobItem, RomeTitle
from storage.rome import RomeError, load, read_release, version_summary
from tests.conftest import moisson
from tests.rome_release import JOBS, write_release


@pytest.fixture(scope="module")
def snapshot():
    return read_release()


def test_the_shipped_snapshot_is_version_60_with_the_whole_referential(snapshot):
    assert snapshot.number == 60
    assert snapshot.attribution == "Source : France Travail, ROME 4.0 version 60"
    # the counts SOURCES.md states for the official tables
    assert len(snapshot.jobs) == 1584
    assert len(snapshot.titles) == 13120
    assert len(snapshot.items) == 18317 + 15354
    jobs = {j["code"]: j for j in snapshot.jobs}
    developer = jobs["M1805"]
    assert developer["domain"] == "M18" and developer["grand_domain"] == "M"
    assert developer["domain_label"] and developer["grand_domain_label"]
    assert developer["definition"]
    core = [r for r in snapshot.job_items if r["job_code"] == "M1805" and r["core"]]
    assert core, "the core-skill flags (coeur_metier) are read"
    items = {i["ogr"]: i for i in snapshot.items}
    linked = {items[r["item_ogr"]]["kind"] for r in snapshot.job_items if r["job_code"] == "M1805"}
    assert linked == {"savoir_faire", "savoir_etre", "savoir"}
    assert any(j["tags"] and "transition_eco" in j["tags"] for j in snapshot.jobs)


def _engine(url):
    engine = make_engine(url)
    ensure_schema(engine)
    return engine


def _course_with_link(engine, code="M1805"):
    now = datetime.now(UTC)
    with engine.begin() as conn:
        course_id = conn.execute(
            insert(Course).values(title="Python", created_at=now, updated_at=now)
        ).inserted_primary_key[0]
        conn.execute(
            insert(CourseJob).values(
                course_id=course_id, job_code=code, method="text", score=0.5, reasons=[]
            )
        )
    return course_id


def test_a_release_loads_into_the_tables_and_replaces_the_previous_one(engine, tmp_path):
    load(engine, read_release(write_release(tmp_path / "v61.zip", 61)))
    _course_with_link(engine)
    load(engine, read_release(write_release(tmp_path / "v62.zip", 62, jobs=JOBS[:2])))
    with engine.connect() as conn:
        assert set(conn.scalars(select(RomeJob.code))) == set(JOBS[:2])
        assert conn.scalar(select(func.count()).select_from(RomeTitle)) > 0
        assert conn.scalar(select(func.count()).select_from(RomeItem)) > 0
        assert conn.scalar(
            select(func.count()).select_from(RomeJobItem).where(RomeJobItem.core == "Principale")
        )
        assert conn.scalar(select(func.count()).select_from(CourseJob)) == 1, "links kept"
    assert version_summary(engine)["number"] == 62


class _Release(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def release_server(tmp_path):
    """A loopback HTTP server over ``tmp_path/served``."""
    root = tmp_path / "served"
    root.mkdir()
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), partial(_Release, directory=str(root))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield root, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_update_fetches_checks_and_loads_a_new_version_keeping_course_links(
    sqlite_url, tmp_path, release_server
):
    root, base = release_server
    engine = _engine(sqlite_url)
    load(engine, read_release(write_release(tmp_path / "v61.zip", 61)))
    course_id = _course_with_link(engine)
    write_release(root / "RefRomeCsv.zip", 62)
    done = moisson("rome", "update", "--db", sqlite_url, "--url", f"{base}/RefRomeCsv.zip")
    assert done.returncode == 0, done.stderr
    assert "ROME version 62 loaded" in done.stdout
    assert "Source : France Travail, ROME 4.0 version 62" in done.stdout
    with engine.connect() as conn:
        assert conn.scalars(select(CourseJob.course_id)).all() == [course_id]
    stats = json.loads(moisson("stats", "--json", "--db", sqlite_url).stdout)
    assert stats["rome"]["number"] == 62
    assert stats["rome"]["attribution"] == "Source : France Travail, ROME 4.0 version 62"
    again = moisson("rome", "update", "--db", sqlite_url, "--url", f"{base}/RefRomeCsv.zip")
    assert again.returncode == 0 and "already in use" in again.stdout


def _cut_last_row(table):
    """The last row stops after its second field, as a file cut at a line would."""

    def damage(name, text):
        if name != table:
            return text
        *rows, last = text.rstrip("\n").split("\n")
        return "\n".join([*rows, '","'.join(last.split('","')[:2]) + '"']) + "\n"

    return damage


def _unterminated_quote(name, text):
    return text + '"M1805","100023\n' if name == "coherence_item" else text


BAD_RELEASES = {
    "truncated CSV row": (dict(damage=_cut_last_row("referentiel_savoir")), "fields"),
    "unterminated quote": (dict(damage=_unterminated_quote), "malformed or truncated CSV"),
    "no version.txt": (dict(version_text=""), "no version.txt"),
    "version.txt without a number": (dict(version_text="ROME 4.0\n"), "release is unknown"),
    "files of another version": (dict(file_version="459"), "not one release"),
    "link to an unknown job": (
        dict(damage=lambda n, t: t.replace('"M1811"', '"Z9999"') if n == "texte" else t),
        None,  # texts of unknown jobs are ignored; the next case names a real inconsistency
    ),
    "title of an unknown job": (
        dict(
            damage=lambda n, t: (
                t.replace('"M1811"', '"M9999"') if n == "referentiel_appellation" else t
            )
        ),
        "M9999",
    ),
}


@pytest.mark.parametrize("case", [k for k, (_, m) in BAD_RELEASES.items() if m])
def test_a_bad_release_is_refused_clearly_and_the_version_in_use_stays(
    sqlite_url, tmp_path, case, capsys
):
    options, message = BAD_RELEASES[case]
    engine = _engine(sqlite_url)
    load(engine, read_release(write_release(tmp_path / "v61.zip", 61)))
    bad = write_release(tmp_path / "bad.zip", 62, **options)
    assert main(["rome", "load", str(bad), "--db", sqlite_url]) == 1
    stderr = capsys.readouterr().err
    assert message in stderr and "version 61 stays in use" in stderr
    assert version_summary(engine)["number"] == 61
    with engine.connect() as conn:
        assert set(conn.scalars(select(RomeJob.code))) == set(JOBS)


def test_a_truncated_zip_an_older_version_and_a_missing_url_are_refused(
    sqlite_url, tmp_path, release_server
):
    root, base = release_server
    engine = _engine(sqlite_url)
    load(engine, read_release(write_release(tmp_path / "v61.zip", 61)))
    whole = write_release(tmp_path / "v62.zip", 62).read_bytes()
    (root / "cut.zip").write_bytes(whole[: len(whole) // 2])
    cut = moisson("rome", "update", "--db", sqlite_url, "--url", f"{base}/cut.zip")
    assert cut.returncode == 1 and "zip" in cut.stderr
    missing = moisson("rome", "update", "--db", sqlite_url, "--url", f"{base}/none.zip")
    assert missing.returncode == 1 and "HTTP 404" in missing.stderr
    older = write_release(tmp_path / "v59.zip", 59)
    refused = moisson("rome", "load", str(older), "--db", sqlite_url)
    assert refused.returncode == 1 and "older than version 61" in refused.stderr
    with pytest.raises(RomeError, match="no such file"):
        read_release(tmp_path / "nothing.zip")
    assert version_summary(engine)["number"] == 61
