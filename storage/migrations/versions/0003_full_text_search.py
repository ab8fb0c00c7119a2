"""full-text search of courses in French, and indexes for the portal's read queries

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 11:30:00

SQLite: an FTS5 table over course titles and descriptions (``unicode61 remove_diacritics 2``
folds accents), external-content so the text is not stored twice, kept in sync by triggers
on ``course``. Beware: a later batch migration that rebuilds ``course`` on SQLite drops
these triggers with the old table; it must recreate them (``create_sqlite_triggers``), and
``tests/test_portal_search.py`` checks they exist at head.

PostgreSQL: a ``moisson_fr`` text search configuration (French stemming behind
``unaccent``) and a GIN expression index on the weighted document. ``unaccent`` is an
extension: the migration creates it when the role may (a superuser or the database owner
on PostgreSQL ≥ 13, where it is trusted); otherwise an administrator must run
``CREATE EXTENSION unaccent;`` in the catalogue database first, and the migration says so.
"""

from collections.abc import Sequence

from alembic import op
from sqlalchemy import text

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The document searched on PostgreSQL; storage/search.py repeats it so the index is used.
PG_DOCUMENT = (
    "setweight(to_tsvector('moisson_fr', coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('moisson_fr', coalesce(description, '')), 'B')"
)

SQLITE_TRIGGERS = {
    "course_fts_after_insert": """
        CREATE TRIGGER course_fts_after_insert AFTER INSERT ON course BEGIN
            INSERT INTO course_fts(rowid, title, description)
            VALUES (new.id, new.title, new.description);
        END""",
    "course_fts_after_delete": """
        CREATE TRIGGER course_fts_after_delete AFTER DELETE ON course BEGIN
            INSERT INTO course_fts(course_fts, rowid, title, description)
            VALUES ('delete', old.id, old.title, old.description);
        END""",
    "course_fts_after_update": """
        CREATE TRIGGER course_fts_after_update AFTER UPDATE OF title, description ON course
        BEGIN
            INSERT INTO course_fts(course_fts, rowid, title, description)
            VALUES ('delete', old.id, old.title, old.description);
            INSERT INTO course_fts(rowid, title, description)
            VALUES (new.id, new.title, new.description);
        END""",
}


def create_sqlite_triggers() -> None:
    for sql in SQLITE_TRIGGERS.values():
        op.execute(sql)


def _read_indexes() -> None:
    # The "start" sort reads sessions in start order; a state filter probes a course's
    # sessions, and this covering index answers the probe without reading the rows;
    # "new" sorts courses by creation.
    op.create_index("ix_session_start", "session", ["start"])
    op.create_index(
        "ix_session_listing_id_dates",
        "session",
        ["listing_id", "start", "end", "enrolment_start", "enrolment_end", "pace"],
    )
    op.create_index("ix_course_created_at", "course", ["created_at"])
    op.create_index("ix_listing_course_id_hidden", "listing", ["course_id", "hidden"])


def _unaccent_schema(bind) -> str:
    """The schema holding ``unaccent``, creating the extension when this role may."""
    schema = bind.execute(
        text(
            "SELECT n.nspname FROM pg_extension e "
            "JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'unaccent'"
        )
    ).scalar()
    if schema:
        return schema
    try:
        with bind.begin_nested():
            bind.execute(text("CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public"))
    except Exception as exc:
        raise RuntimeError(
            "PostgreSQL full-text search needs the 'unaccent' extension and this role "
            "cannot create it: ask an administrator to run `CREATE EXTENSION unaccent "
            f"SCHEMA public;` in the catalogue database, then upgrade again ({exc})"
        ) from exc
    return "public"


def upgrade() -> None:
    bind = op.get_bind()
    _read_indexes()
    if bind.dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE course_fts USING fts5("
            "title, description, content='course', content_rowid='id', "
            "tokenize='unicode61 remove_diacritics 2')"
        )
        op.execute("INSERT INTO course_fts(course_fts) VALUES ('rebuild')")
        create_sqlite_triggers()
    elif bind.dialect.name == "postgresql":
        schema = _unaccent_schema(bind)
        op.execute("CREATE TEXT SEARCH CONFIGURATION moisson_fr (COPY = pg_catalog.french)")
        op.execute(
            "ALTER TEXT SEARCH CONFIGURATION moisson_fr "
            f'ALTER MAPPING FOR hword, hword_part, word WITH "{schema}".unaccent, french_stem'
        )
        op.execute(f"CREATE INDEX ix_course_search ON course USING gin (({PG_DOCUMENT}))")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS course_fts")
    elif bind.dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_course_search")
        op.execute("DROP TEXT SEARCH CONFIGURATION IF EXISTS moisson_fr")
    op.drop_index("ix_listing_course_id_hidden", "listing")
    op.drop_index("ix_course_created_at", "course")
    op.drop_index("ix_session_listing_id_dates", "session")
    op.drop_index("ix_session_start", "session")
