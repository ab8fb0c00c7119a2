"""ROME 4.0: the referential of jobs and skills, and the courses' links to jobs

Revision ID: 0008_rome
Revises: 0006_session_qualification
Create Date: 2026-12-02 06:00:00

The referential's rows are loaded by ``moisson rome load`` (storage/rome.py), not here.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.models import BigId, JSONType, UTCDateTime

revision: str = "0008_rome"
down_revision: str | None = "0007_read_redesign"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CODE = sa.String(length=5)


def upgrade() -> None:
    op.create_table(
        "rome_version",
        sa.Column("id", BigId, nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("published", sa.String(length=20), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("counts", JSONType, nullable=True),
        sa.Column("loaded_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rome_version")),
    )
    op.create_table(
        "rome_job",
        sa.Column("code", CODE, nullable=False),
        sa.Column("ogr", sa.Integer(), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("domain", sa.String(length=3), nullable=False),
        sa.Column("domain_label", sa.Text(), nullable=True),
        sa.Column("grand_domain", sa.String(length=1), nullable=False),
        sa.Column("grand_domain_label", sa.Text(), nullable=True),
        sa.Column("tags", JSONType, nullable=True),
        sa.Column("definition", sa.Text(), nullable=True),
        sa.Column("access", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_rome_job")),
    )
    op.create_index("ix_rome_job_domain", "rome_job", ["domain"])
    op.create_table(
        "rome_title",
        sa.Column("ogr", sa.Integer(), nullable=False),
        sa.Column("job_code", CODE, nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("short_label", sa.Text(), nullable=True),
        sa.Column("synonym", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("ogr", name=op.f("pk_rome_title")),
    )
    op.create_index("ix_rome_title_job_code", "rome_title", ["job_code"])
    op.create_table(
        "rome_item",
        sa.Column("ogr", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("category", sa.Text(), nullable=True),
        sa.Column("subcategory", sa.Text(), nullable=True),
        sa.Column("tags", JSONType, nullable=True),
        sa.PrimaryKeyConstraint("ogr", name=op.f("pk_rome_item")),
    )
    op.create_table(
        "rome_job_item",
        sa.Column("job_code", CODE, nullable=False),
        sa.Column("item_ogr", sa.Integer(), nullable=False),
        sa.Column("core", sa.String(length=20), nullable=True),
        sa.PrimaryKeyConstraint("job_code", "item_ogr", name=op.f("pk_rome_job_item")),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_rome_job_item_item", "rome_job_item", ["item_ogr", "job_code"])
    op.create_table(
        "course_job",
        sa.Column("course_id", BigId, nullable=False),
        sa.Column("job_code", CODE, nullable=False),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("reasons", JSONType, nullable=True),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["course.id"],
            name=op.f("fk_course_job_course_id_course"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("course_id", "job_code", name=op.f("pk_course_job")),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_course_job_job_code", "course_job", ["job_code", "score"])
    op.create_table(
        "course_job_unknown",
        sa.Column("course_id", BigId, nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["course.id"],
            name=op.f("fk_course_job_unknown_course_id_course"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("course_id", "code", name=op.f("pk_course_job_unknown")),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    for table in (
        "course_job_unknown",
        "course_job",
        "rome_job_item",
        "rome_item",
        "rome_title",
        "rome_job",
        "rome_version",
    ):
        op.drop_table(table)
