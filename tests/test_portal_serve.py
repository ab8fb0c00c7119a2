"""``moisson serve`` as operators run it: many clients at once, a frozen clock, a folder it
may not write, a port already taken, a PostgreSQL role that could write.

Each test starts a real ``moisson serve`` child process on a port the system picks, on the
demo catalogue (every recording replayed), and talks HTTP to it.
"""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest

from benchmarks.load import Server, drive, get, visitor_paths
from tests.conftest import REFERENCE_TIME, moisson
from tests.test_ops_postgres import roles  # noqa: F401 - the fixture, for the warning test

CLIENTS, SECONDS = 24, 4.0


@pytest.fixture(scope="module")
def demo_sqlite(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("serve") / "catalogue.sqlite3"
    result = moisson(
        "demo", "--db", f"sqlite:///{path}", "--reference-time", REFERENCE_TIME, "--quiet"
    )
    assert result.returncode == 0, result.stderr
    return path


def assert_survives_concurrent_clients(url: str) -> str:
    """CLIENTS clients for SECONDS against a real server: no error, the server still up."""
    with Server(url) as server:
        paths = visitor_paths(server.base)
        result = drive(server.base, paths, CLIENTS, SECONDS)
        alive = server.alive()
        stats = get(server.base, "/api/v1/stats")[0] if alive else None
        log = server.stderr()
    assert alive, f"the server died (exit {server.process.returncode}): {log[-2000:]}"
    assert result.errors == [], sorted(set(result.errors))[:10]
    assert result.requests > CLIENTS, result.requests  # every client got answers
    assert stats == 200
    return log


def test_concurrent_clients_on_sqlite(demo_sqlite):
    assert_survives_concurrent_clients(f"sqlite:///{demo_sqlite}")


@pytest.mark.postgres
def test_concurrent_clients_on_postgres_and_a_writer_role_is_warned_of(postgres_url):
    demo = moisson("demo", "--db", postgres_url, "--reference-time", REFERENCE_TIME, "--quiet")
    assert demo.returncode == 0, demo.stderr
    log = assert_survives_concurrent_clients(postgres_url)
    # the test server's role is a superuser: it could write, and serve says so
    assert "warning: the role postgres can write the catalogue" in log, log
    assert "connect the portal as a role with SELECT only" in log


@pytest.mark.postgres
def test_postgres_select_only_role_is_not_warned_of(roles):  # noqa: F811
    crawler_url, portal_url = roles
    assert moisson("db", "upgrade", "--db", crawler_url).returncode == 0
    with Server(portal_url) as server:
        assert get(server.base, "/api/v1/stats")[0] == 200
        log = server.stderr()
    assert "warning" not in log, log


def test_frozen_clock_cache_still_expires_by_wall_clock():
    from storage.cache import MAX_AGE, MinuteCache
    from tests.portal_catalogue import NOW

    wall = [1000.0]
    calls = []
    cache = MinuteCache(timer=lambda: wall[0])

    def count():
        calls.append(1)
        return len(calls)

    assert cache.get("count", NOW, count) == 1
    wall[0] += MAX_AGE - 1
    assert cache.get("count", NOW, count) == 1  # the same frozen minute, within a minute
    wall[0] += 1
    assert cache.get("count", NOW, count) == 2  # a minute of wall clock later: recomputed
    assert cache.get("count", NOW + timedelta(minutes=1), count) == 3  # a new minute of now


@pytest.mark.parametrize(
    "now, why",
    [
        ("0001-01-01T00:00:00+00:00", "out of range"),
        ("9999-12-31T23:59:59-01:00", "out of range"),
        ("9999-12-31T00:00:00+00:00", "out of range"),
        ("garbage", "not an ISO time"),
        ("2026-11-15T12:00:00", "not an ISO time with offset"),
    ],
)
def test_serve_refuses_an_unusable_now(demo_sqlite, now, why):
    result = moisson(
        "serve", "--db", f"sqlite:///{demo_sqlite}", "--port", "0", "--now", now, timeout=60
    )
    assert result.returncode == 2, result.stderr
    assert why in result.stderr and "Traceback" not in result.stderr, result.stderr


def test_serve_with_a_frozen_now_answers(demo_sqlite):
    with Server(f"sqlite:///{demo_sqlite}", "--now", REFERENCE_TIME) as server:
        status, body = get(server.base, "/api/v1/stats")
    assert status == 200 and b'"now":"2026-11-15T11:00:00Z"' in body, body[:200]


def test_serve_on_a_busy_port_exits_4_with_a_message(demo_sqlite):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = moisson(
            "serve", "--db", f"sqlite:///{demo_sqlite}", "--port", str(port), timeout=60
        )
    assert result.returncode == 4, (result.returncode, result.stderr)
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def _worker_pids(pid: int) -> set[int]:
    """The server processes ``pid`` started (multiprocessing's spawned children; Linux)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return {
        int(child)
        for child in children
        if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes()
    }


def test_several_worker_processes_share_the_port_and_the_options(demo_sqlite):
    url = f"sqlite:///{demo_sqlite}"
    with Server(url, "--workers", "2", "--now", REFERENCE_TIME) as server:
        result = drive(server.base, visitor_paths(server.base), CLIENTS, SECONDS)
        status, body = get(server.base, "/api/v1/stats")
        alive = server.alive()
        pids = _worker_pids(server.process.pid)
    assert alive and result.errors == [], sorted(set(result.errors))[:10]
    # each worker got the parent's checked options: the frozen clock here
    assert status == 200 and b'"now":"2026-11-15T11:00:00Z"' in body, body[:200]
    assert len(pids) == 2, pids
    for pid in pids:  # stopping the server stops its workers
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


@pytest.mark.parametrize("workers", ["0", "-1", "abc"])
def test_serve_refuses_a_bad_number_of_workers(demo_sqlite, workers):
    result = moisson(
        "serve",
        "--db",
        f"sqlite:///{demo_sqlite}",
        "--port",
        "0",
        "--workers",
        workers,
        timeout=60,
    )
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "--workers" in result.stderr and "Traceback" not in result.stderr, result.stderr


@pytest.mark.parametrize("size", ["-1", "abc"])
def test_serve_refuses_a_bad_cache_size(demo_sqlite, size):
    result = moisson(
        "serve", "--db", f"sqlite:///{demo_sqlite}", "--port", "0", "--cache-size", size,
        timeout=60,
    )  # fmt: skip
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "--cache-size" in result.stderr and "Traceback" not in result.stderr, result.stderr


def _as_a_reader_who_cannot_write() -> tuple[list[str], str]:
    """A command prefix that runs a child without the power to write where it may not."""
    if os.geteuid() != 0:
        return [], "an ordinary user"
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: cannot take away root's DAC override")
    # root without CAP_DAC_OVERRIDE obeys file modes like any user
    return [setpriv, "--inh-caps=-all", "--bounding-set=-dac_override"], "root without DAC override"


def test_serve_reads_a_catalogue_in_a_folder_it_cannot_write(demo_sqlite):
    prefix, who = _as_a_reader_who_cannot_write()
    folder = Path(tempfile.mkdtemp(prefix="moisson-ro-"))
    copy = folder / "catalogue.sqlite3"
    with sqlite3.connect(demo_sqlite) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    with sqlite3.connect(copy) as conn:  # a WAL catalogue, as crawls leave it
        assert conn.execute("PRAGMA journal_mode=WAL").fetchone()[0] == "wal"
        courses = conn.execute("SELECT count(*) FROM course").fetchone()[0]
    conn.close()
    assert copy.read_bytes()[18:20] == b"\x02\x02"  # the header says WAL
    assert sorted(p.name for p in folder.iterdir()) == ["catalogue.sqlite3"]  # no -wal/-shm
    copy.chmod(0o444)
    folder.chmod(0o555)
    try:
        writable = subprocess.run([*prefix, "touch", str(folder / "probe")], capture_output=True)
        assert writable.returncode != 0, f"{who} could still write {folder}"
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        with Server(f"sqlite:///{copy}", prefix=prefix, env=env) as server:
            status, body = get(server.base, "/api/v1/stats")
            log = server.stderr()
        assert status == 200 and f'"courses":{courses},'.encode() in body, body[:300]
        assert "immutable snapshot" in log, log
        assert sorted(p.name for p in folder.iterdir()) == ["catalogue.sqlite3"]
    finally:
        folder.chmod(0o755)
        shutil.rmtree(folder)


def test_immutable_only_when_the_folder_is_not_writable_and_no_crawl_has_it_open(
    demo_sqlite, tmp_path, monkeypatch
):
    from storage import readonly

    copy = tmp_path / "catalogue.sqlite3"
    shutil.copy(demo_sqlite, copy)
    assert readonly.sqlite_readonly_options(copy) == {"mode": "ro"}  # a writable folder
    monkeypatch.setattr(readonly.os, "access", lambda path, mode: False)
    assert readonly.sqlite_readonly_options(copy) == {"mode": "ro", "immutable": "1"}
    for companion in ("-wal", "-shm"):  # a crawl has it open: its WAL files exist
        (tmp_path / f"catalogue.sqlite3{companion}").touch()
    assert readonly.sqlite_readonly_options(copy) == {"mode": "ro"}  # it reads them


def test_each_request_thread_borrows_its_own_pooled_sqlite_connection(demo_sqlite):
    from sqlalchemy.pool import QueuePool

    from storage.readonly import POOL_OVERFLOW, POOL_SIZE, open_readonly

    engine = open_readonly(f"sqlite:///{demo_sqlite}")
    try:
        assert isinstance(engine.pool, QueuePool)  # not the in-memory singleton-per-thread
        assert engine.pool.size() == POOL_SIZE and POOL_SIZE + POOL_OVERFLOW >= 40
        assert engine.url.database.startswith("file:") and engine.url.query["mode"] == "ro"
        first, second = engine.connect(), engine.connect()  # two threads' requests at once
        assert first.connection.dbapi_connection is not second.connection.dbapi_connection
        first.close(), second.close()
    finally:
        engine.dispose()


def test_the_listening_socket_lets_asyncio_turn_nagle_off():
    from moisson.cli import _listen

    sock = _listen("127.0.0.1", 0)
    try:  # asyncio sets TCP_NODELAY only on connections of a socket that names TCP
        assert sock.proto == socket.IPPROTO_TCP
    finally:
        sock.close()
