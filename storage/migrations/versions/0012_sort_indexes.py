"""the read side of the sort options: best rated with enough ratings, most run

Revision ID: 0012_sort_indexes
Revises: 0011_job_offers
Create Date: 2026-12-02 13:30:00

- ``ix_course_best_rated`` replaces 0004's ``ix_course_rating``: ``sort=rating`` puts the
  courses with at least ``storage.ratings.MIN_RATINGS`` ratings first, best first. The
  number is a literal of the index (an expression index matches literal expressions only):
  ``tests/test_read_index.py`` checks that the database's index and the constant agree.
- ``course_run_span``: how many times each visible course has run, as steps in time
  (``storage.readindex.run_spans``), for ``sort=most_run``; filled here by the code that
  keeps it.

SQLite: only indexes and a new table, no batch rebuild, so 0003's full-text triggers stay.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.models import EpochMicroseconds

revision: str = "0012_sort_indexes"
down_revision: str | None = "0011_job_offers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MIN_RATINGS = 20  # storage.ratings.MIN_RATINGS when this was written
RATING_ORDER = [
    sa.text("(rating IS NULL)"),
    sa.text("rating DESC"),
    sa.text("(coalesce(rating_count, 0)) DESC"),
    "id",
]


def upgrade() -> None:
    op.drop_index("ix_course_rating", "course")
    op.create_index(
        "ix_course_best_rated",
        "course",
        [sa.text(f"(coalesce(rating_count, 0) < {MIN_RATINGS})"), *RATING_ORDER],
    )
    op.create_table(
        "course_run_span",
        sa.Column(
            "course_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("since", EpochMicroseconds(), nullable=False),
        sa.Column("until", EpochMicroseconds(), nullable=False),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["course.id"],
            name=op.f("fk_course_run_span_course_id_course"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("course_id", "since", name=op.f("pk_course_run_span")),
        sqlite_with_rowid=False,
    )
    op.create_index(
        "ix_course_run_span_runs",
        "course_run_span",
        [sa.text("runs DESC"), "course_id", "since", "until"],
    )
    from storage import readindex

    readindex.rebuild(op.get_bind())


def downgrade() -> None:
    op.drop_index("ix_course_run_span_runs", "course_run_span")
    op.drop_table("course_run_span")
    op.drop_index("ix_course_best_rated", "course")
    op.create_index("ix_course_rating", "course", RATING_ORDER)
