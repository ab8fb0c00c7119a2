"""Opening the catalogue for reading only: what the portal and other readers use.

The portal must not be able to write even if a bug or an attacker asked it to, so the
database itself refuses: SQLite is opened with ``mode=ro`` (and ``query_only``), and every
PostgreSQL connection starts with read-only transactions. That is only a session default
on PostgreSQL: the protection is a role that holds only ``SELECT`` (docs/OPERATIONS.md),
and ``readonly_warnings`` says when the connected role holds more.

Both pool their connections for the server's threads: each request borrows one and gives
it back, none is shared between threads.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.engine.url import URL, make_url
from sqlalchemy.pool import QueuePool

from storage.db import DatabaseUnavailable, current_revision, database_url, head_revision

MMAP_BYTES = 1 << 30  # address space, not memory: pages are shared with the OS's cache
CACHE_KIB = 32 * 1024  # per pooled connection
# connections kept: the server runs requests on up to 40 threads (anyio's default), each
# holding one connection while it reads. All of them stay open: a connection opened for a
# burst and closed after it starts with a cold page cache and its pragmas to run again, which
# halved the throughput at 20 clients. The overflow is for other readers of the same engine.
POOL_SIZE, POOL_OVERFLOW = 40, 8


def _sqlite_is_wal(file: Path) -> bool:
    """Whether the file's header says WAL (bytes 18-19 are 2 then, 1 for a rollback journal)."""
    with file.open("rb") as handle:
        header = handle.read(20)
    return len(header) == 20 and header[18:20] == b"\x02\x02"


def sqlite_readonly_options(file: Path) -> dict[str, str]:
    """The ``file:`` URI options a reader opens with: ``mode=ro``, and ``immutable=1`` when it must.

    A reader of a WAL database needs its ``-shm`` and ``-wal`` files, and creates them when
    no writer has them open. A reader that may not write the folder and finds them absent
    cannot, so it opens the file as immutable: a snapshot that takes no locks, correct
    while nothing writes and blind to later writes (docs/OPERATIONS.md: restart the portal
    after each crawl, or let its user write the folder).
    """
    path = file.resolve()
    options = {"mode": "ro"}
    companions = [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm")]
    if (
        not os.access(path.parent, os.W_OK)
        and not all(c.exists() for c in companions)
        and _sqlite_is_wal(path)
    ):
        options["immutable"] = "1"
    return options


def _sqlite_readonly_engine(path: str) -> Engine:
    file = Path(path)
    if not file.exists():
        raise DatabaseUnavailable(
            f"no catalogue at {file}: build one first (`moisson demo` or `moisson crawl`)"
        )
    try:
        options = sqlite_readonly_options(file)
    except OSError as exc:
        raise DatabaseUnavailable(f"cannot read the catalogue {file}: {exc}") from exc
    # A file URL, and a real pool. Each thread of the server's pool borrows a connection and
    # gives it back; none is shared or closed under another thread (the singleton-per-thread
    # pool SQLAlchemy picks for in-memory URLs did close them, and crashed the server).
    url = URL.create(
        "sqlite+pysqlite",
        database=f"file:{quote(str(file.resolve()))}",
        query={**options, "uri": "true"},
    )
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False},
        poolclass=QueuePool,
        pool_size=POOL_SIZE,
        max_overflow=POOL_OVERFLOW,
    )

    @event.listens_for(engine, "connect")
    def _pragmas(connection, _record):
        connection.execute("PRAGMA query_only = ON")
        connection.execute("PRAGMA busy_timeout = 5000")
        # reads through a memory map and a larger page cache: the indexes a search walks
        # stay in memory between requests instead of being copied in by read() each time
        connection.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
        connection.execute(f"PRAGMA cache_size = -{CACHE_KIB}")

    return engine


def _postgres_read_only(dbapi_connection, _record) -> None:
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
    dbapi_connection.commit()


def open_readonly(url: str | None = None) -> Engine:
    """An engine that cannot write, on a catalogue whose schema is at head.

    Fails with ``DatabaseUnavailable`` and a message an operator can act on when the
    catalogue is missing, unreachable or not migrated: the portal cannot migrate it.
    """
    url = database_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise DatabaseUnavailable("the portal reads a catalogue file, not an in-memory one")
        engine = _sqlite_readonly_engine(parsed.database)
    else:
        engine = create_engine(
            url, pool_pre_ping=True, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW
        )
        event.listen(engine, "connect", _postgres_read_only)
    try:
        revision = current_revision(engine)
    except Exception as exc:
        engine.dispose()
        raise DatabaseUnavailable(
            f"cannot open the catalogue {parsed.render_as_string()}: {exc}"
        ) from exc
    if revision != head_revision():
        engine.dispose()
        raise DatabaseUnavailable(
            f"the catalogue's schema is at {revision}, the portal needs {head_revision()}: "
            "run `moisson db upgrade` first"
        )
    return engine


# what a portal's PostgreSQL role must not hold on the catalogue's tables
WRITE_PRIVILEGES = ("INSERT", "UPDATE", "DELETE", "TRUNCATE")
WATCHED_TABLES = ("course", "listing", "session")


def postgres_writable_tables(engine: Engine) -> list[str]:
    """The catalogue tables the connected PostgreSQL role may write (any of the privileges)."""
    query = text("SELECT has_table_privilege(current_user, :table, :privileges)")
    privileges = ",".join(WRITE_PRIVILEGES)
    with engine.connect() as conn:
        return [
            table
            for table in WATCHED_TABLES
            if conn.execute(query, {"table": table, "privileges": privileges}).scalar_one()
        ]


def readonly_warnings(engine: Engine) -> list[str]:
    """What an operator should know about how far this engine is from truly read-only."""
    if engine.dialect.name == "sqlite":
        if engine.url.query.get("immutable") == "1":
            return [
                "the catalogue's folder is not writable and no crawl has it open: opened "
                "as an immutable snapshot; restart the portal after each crawl "
                "(docs/OPERATIONS.md)"
            ]
        return []
    if engine.dialect.name != "postgresql":
        return []
    writable = postgres_writable_tables(engine)
    if not writable:
        return []
    return [
        f"the role {engine.url.username or '(default)'} can write the catalogue "
        f"(tables {', '.join(writable)}): read-only transactions are only its session "
        "default; connect the portal as a role with SELECT only (docs/OPERATIONS.md)"
    ]
