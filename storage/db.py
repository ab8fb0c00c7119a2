"""Engines, the default database location and schema migrations."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.util import CommandError
from sqlalchemy import create_engine, event, inspect
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.engine.url import make_url
from sqlalchemy.exc import (
    ArgumentError,
    DatabaseError,
    DataError,
    IntegrityError,
    ProgrammingError,
    SQLAlchemyError,
)

DEFAULT_SQLITE_PATH = Path("var") / "catalogue.sqlite3"
ENV_VAR = "MOISSON_DATABASE_URL"
MIGRATIONS = Path(__file__).with_name("migrations")


class DatabaseUnavailable(RuntimeError):
    """The catalogue database cannot be reached or opened."""


# What code above storage catches when the database fails an operation: it never imports
# SQLAlchemy itself (the layers of tests/test_layers.py).
CatalogueError = SQLAlchemyError


class BadDatabaseURL(ValueError):
    """Not a database URL, or one of a dialect SQLAlchemy does not know."""


class RevisionError(ValueError):
    """A schema revision alembic cannot go to."""


class HalfBuiltSchema(DatabaseUnavailable):
    """The schema holds tables its revision does not account for (an interrupted upgrade
    from before migrations were atomic): upgrading would fail on "already exists"."""


def database_url(explicit: str | None = None) -> str:
    """The URL to use: ``--db`` first, then ``MOISSON_DATABASE_URL``, then the SQLite file."""
    if explicit:
        return explicit
    if os.environ.get(ENV_VAR):
        return os.environ[ENV_VAR]
    return f"sqlite:///{DEFAULT_SQLITE_PATH}"


def _sqlite_pragmas(dbapi_connection, _record):
    cursor = dbapi_connection.cursor()
    # WAL lets the portal read while a nightly crawl writes.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_engine(url: str | None = None, **kwargs) -> Engine:
    url = database_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise BadDatabaseURL(f"{url!r} is not a database URL: {exc}") from exc
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    try:
        return create_engine(url, **kwargs)
    except ArgumentError as exc:  # an unknown dialect
        raise BadDatabaseURL(f"{url!r} is not a database URL: {exc}") from exc


def display_url(url: str) -> str:
    """``url`` as it may be shown: without its password."""
    return make_url(url).render_as_string()


def unavailable_reason(exc: BaseException) -> str | None:
    """The driver's message when ``exc`` says the catalogue cannot be used (the server is
    down or refuses us, the file is not a database); None for any other error (integrity,
    programming, data errors are bugs and keep their traceback)."""
    if isinstance(exc, DatabaseError) and not isinstance(
        exc, IntegrityError | ProgrammingError | DataError
    ):
        return str(exc.orig)
    return None


@contextmanager
def transactional_ddl(connection: Connection) -> Iterator[None]:
    """Make ``CREATE``/``ALTER``/``DROP`` part of the connection's transactions on SQLite.

    Python's sqlite3 module (before 3.12's ``autocommit``) opens a transaction only before
    ``INSERT``/``UPDATE``/``DELETE``: DDL runs outside any, each statement committed alone,
    so a migration cut short leaves half a schema. Here the driver's own handling is off
    and every ``begin()`` of this connection sends ``BEGIN`` (SQLAlchemy's documented
    recipe for pysqlite), for the duration of the block. Other databases are unchanged.
    """
    if connection.dialect.name != "sqlite":
        yield
        return
    driver = connection.connection.driver_connection
    saved = driver.isolation_level

    def begin(conn):
        conn.exec_driver_sql("BEGIN")

    driver.isolation_level = None
    event.listen(connection, "begin", begin)
    try:
        yield
    finally:
        event.remove(connection, "begin", begin)
        driver.isolation_level = saved


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply the migrations up to ``revision``."""
    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    try:
        command.downgrade(alembic_config(engine), revision)
    except CommandError as exc:  # a revision alembic does not know
        raise RevisionError(str(exc)) from exc


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


def ensure_schema(engine: Engine) -> None:
    """Bring the schema to the newest revision; fails clearly if the server is unreachable
    or the schema is half built (see ``HalfBuiltSchema``)."""
    try:
        if current_revision(engine) != head_revision():
            upgrade(engine)
    except Exception as exc:  # the driver's own exception types differ per backend
        from sqlalchemy.exc import OperationalError, ProgrammingError

        if isinstance(exc, OperationalError | ProgrammingError) and "already exists" in str(
            exc.orig
        ):
            raise HalfBuiltSchema(
                f"the catalogue database {engine.url.render_as_string()} holds tables its "
                f"schema revision ({current_revision(engine) or 'none'}) does not account "
                f"for: {exc.orig}. An upgrade by a Moisson older than its atomic migrations "
                "was interrupted there. Restore a backup, or, for a catalogue that never "
                "completed its first upgrade, delete it and run `moisson db upgrade` again."
            ) from exc
        if isinstance(exc, OperationalError):
            raise DatabaseUnavailable(
                f"cannot open the catalogue database {engine.url.render_as_string()}: {exc.orig}"
            ) from exc
        raise


def table_names(engine: Engine) -> list[str]:
    return sorted(inspect(engine).get_table_names())
