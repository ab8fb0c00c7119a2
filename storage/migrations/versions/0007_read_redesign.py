"""the read index without kept counts: facet counts come from grouping the stored rows

Revision ID: 0007_read_redesign
Revises: 0006_session_qualification
Create Date: 2026-12-02 06:00:00

Drops the per-scope kept counts and their event log of 0004 (``facet_count``,
``state_count_change``, ``state_count``): ``storage.search`` counts by grouping
``course_state_span`` and ``course_facet``, which stay. The downgrade recreates the three
tables empty; the code of 0006 needs them filled, so run that version's
``moisson db reindex`` after downgrading.

PostgreSQL only: the searched document becomes a stored generated ``tsvector`` column,
``course.search_document``, with a GIN index (replacing 0003's expression index, which a
change of the expression silently stopped matching); each span gets a generated range
``course_state_span.during`` (``[since, until)`` in microseconds since 1970, as the bounds
are stored) with a GiST index, so "the spans holding now" is ``during @> now``.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision: str = "0007_read_redesign"
down_revision: str | None = "0006_session_qualification"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# the document of 0003, now stored (storage/search.py reads the column)
PG_DOCUMENT = (
    "setweight(to_tsvector('moisson_fr'::regconfig, coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('moisson_fr'::regconfig, coalesce(description, '')), 'B')"
)


def upgrade() -> None:
    op.drop_table("state_count")
    op.drop_index("ix_state_count_change_at", "state_count_change")
    op.drop_table("state_count_change")
    op.drop_table("facet_count")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_course_search")
        op.execute(
            "ALTER TABLE course ADD COLUMN search_document tsvector "
            f"GENERATED ALWAYS AS ({PG_DOCUMENT}) STORED"
        )
        op.execute("CREATE INDEX ix_course_search_document ON course USING gin (search_document)")
        op.execute(
            "ALTER TABLE course_state_span ADD COLUMN during int8range "
            "GENERATED ALWAYS AS (int8range(since, until)) STORED"
        )
        op.execute(
            "CREATE INDEX ix_course_state_span_during ON course_state_span USING gist (during)"
        )


def _scope_columns() -> list[sa.Column]:
    return [
        sa.Column("scope_facet", sa.String(length=20), nullable=False),
        sa.Column("scope_value", sa.String(length=100), nullable=False),
    ]


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_course_state_span_during")
        op.execute("ALTER TABLE course_state_span DROP COLUMN during")
        op.execute("DROP INDEX ix_course_search_document")
        op.execute("ALTER TABLE course DROP COLUMN search_document")
        op.execute(f"CREATE INDEX ix_course_search ON course USING gin (({PG_DOCUMENT}))")
    op.create_table(
        "facet_count",
        *_scope_columns(),
        sa.Column("facet", sa.String(length=20), nullable=False),
        sa.Column("value", sa.String(length=100), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "scope_facet", "scope_value", "facet", "value", name=op.f("pk_facet_count")
        ),
    )
    op.create_table(
        "state_count_change",
        *_scope_columns(),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("delta", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "scope_facet", "scope_value", "state", "at", name=op.f("pk_state_count_change")
        ),
    )
    op.create_index("ix_state_count_change_at", "state_count_change", ["at"])
    op.create_table(
        "state_count",
        *_scope_columns(),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("scope_facet", "scope_value", "state", name=op.f("pk_state_count")),
    )
