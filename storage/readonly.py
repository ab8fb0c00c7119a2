"""Opening the catalogue for reading only: what the portal and other readers use.

The portal must not be able to write even if a bug or an attacker asked it to, so the
database itself refuses: SQLite is opened with ``mode=ro`` (and ``query_only``), and every
PostgreSQL connection starts with read-only transactions. In production, give the portal
a role that holds only ``SELECT`` too (docs/PORTAL.md).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.engine.url import make_url

from storage.db import DatabaseUnavailable, current_revision, database_url, head_revision

MMAP_BYTES = 1 << 30  # address space, not memory: pages are shared with the OS's cache
CACHE_KIB = 32 * 1024  # per pooled connection


def _sqlite_readonly_engine(path: str) -> Engine:
    file = Path(path)
    if not file.exists():
        raise DatabaseUnavailable(
            f"no catalogue at {file}: build one first (`moisson demo` or `moisson crawl`)"
        )
    uri = f"file:{quote(str(file.resolve()))}?mode=ro"

    def connect():
        connection = sqlite3.connect(uri, uri=True, check_same_thread=False)
        connection.execute("PRAGMA query_only = ON")
        connection.execute("PRAGMA busy_timeout = 5000")
        # reads through a memory map and a larger page cache: the indexes a search walks
        # stay in memory between requests instead of being copied in by read() each time
        connection.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
        connection.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        return connection

    return create_engine("sqlite+pysqlite://", creator=connect)


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
        engine = create_engine(url, pool_pre_ping=True)
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
