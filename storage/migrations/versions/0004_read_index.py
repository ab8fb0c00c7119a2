"""the read index: course visibility, state spans in time, state and facet counts

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 14:00:00

Derived tables that make the portal's state filters and facet counts cheap on a large
catalogue (see ``storage/readindex.py``). They are filled here from the catalogue, by the
same code the writer keeps them with; ``moisson db reindex`` does it again at any time.

SQLite: the column is added with ``ALTER TABLE … ADD COLUMN`` (no batch rebuild), so the
full-text triggers of 0003 survive.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.models import EpochMicroseconds, UTCDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _scope_columns() -> list[sa.Column]:
    """The whole catalogue (both empty) or the courses having one facet value."""
    return [
        sa.Column("scope_facet", sa.String(length=20), nullable=False),
        sa.Column("scope_value", sa.String(length=100), nullable=False),
    ]


def upgrade() -> None:
    op.add_column(
        "course",
        sa.Column("visible", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.create_index("ix_course_visible", "course", ["visible"])
    op.create_index("ix_listing_platform_id_hidden", "listing", ["platform_id", "hidden"])
    op.create_index(
        "ix_course_rating",
        "course",
        [
            sa.text("(rating IS NULL)"),
            sa.text("rating DESC"),
            sa.text("(coalesce(rating_count, 0)) DESC"),
            "id",
        ],
    )
    op.create_table(
        "course_state_span",
        sa.Column(
            "course_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("since", EpochMicroseconds(), nullable=False),  # microseconds since 1970
        sa.Column("until", EpochMicroseconds(), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["course.id"],
            name=op.f("fk_course_state_span_course_id_course"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("course_id", "state", "since", name=op.f("pk_course_state_span")),
        sqlite_with_rowid=False,
    )
    op.create_index(
        "ix_course_state_span_state",
        "course_state_span",
        ["state", "until", "since", "course_id"],
    )
    op.create_table(
        "facet_value",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("facet", sa.String(length=20), nullable=False),
        sa.Column("value", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_facet_value")),
        sa.UniqueConstraint("facet", "value", name=op.f("uq_facet_value_facet_value")),
    )
    op.create_table(
        "course_facet",
        sa.Column(
            "course_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("value_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["course.id"],
            name=op.f("fk_course_facet_course_id_course"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["value_id"], ["facet_value.id"], name=op.f("fk_course_facet_value_id_facet_value")
        ),
        sa.PrimaryKeyConstraint("course_id", "value_id", name=op.f("pk_course_facet")),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_course_facet_value_id", "course_facet", ["value_id", "course_id"])
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
    from storage import readindex

    readindex.rebuild(op.get_bind())


def downgrade() -> None:
    op.drop_table("state_count")
    op.drop_index("ix_state_count_change_at", "state_count_change")
    op.drop_table("state_count_change")
    op.drop_table("facet_count")
    op.drop_index("ix_course_facet_value_id", "course_facet")
    op.drop_table("course_facet")
    op.drop_table("facet_value")
    op.drop_index("ix_course_state_span_state", "course_state_span")
    op.drop_table("course_state_span")
    op.drop_index("ix_listing_platform_id_hidden", "listing")
    op.drop_index("ix_course_rating", "course")
    op.drop_index("ix_course_visible", "course")
    op.drop_column("course", "visible")  # native ALTER TABLE DROP COLUMN (SQLite ≥ 3.35)
