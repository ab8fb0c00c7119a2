"""Two helpers every writer in ``storage`` uses: the dialect's upsert and bounded chunks.

Chunks keep the number of bound parameters of one statement well under SQLite's limit
(32,766 since 3.32) and PostgreSQL's (65,535), whatever the size of a batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy.engine import Connection

CHUNK = 500


def dialect_insert(connection: Connection, table):
    """``INSERT`` with the dialect's ``ON CONFLICT`` support."""
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    if connection.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table)
    raise NotImplementedError(f"no upsert for {connection.dialect.name}")


def chunks(values: Sequence, size: int = CHUNK) -> Iterable[Sequence]:
    """``values`` in consecutive slices of at most ``size``."""
    for start in range(0, len(values), size):
        yield values[start : start + size]
