"""per-session duration and effort, course qualification levels, organisation identity

Revision ID: 0007_session_qualification
Revises: 0004
Create Date: 2026-12-02 02:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_session_qualification"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SESSION_RANGES = (
    "duration_weeks_min",
    "duration_weeks_max",
    "duration_hours_min",
    "duration_hours_max",
    "effort_hours_per_week_min",
    "effort_hours_per_week_max",
)


def upgrade() -> None:
    with op.batch_alter_table("session", schema=None) as batch_op:
        batch_op.add_column(sa.Column("duration_text", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("effort_text", sa.Text(), nullable=True))
        for name in SESSION_RANGES:
            batch_op.add_column(sa.Column(name, sa.Float(), nullable=True))

    with op.batch_alter_table("course", schema=None) as batch_op:
        batch_op.add_column(sa.Column("qualification_entry", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("qualification_exit", sa.String(length=20), nullable=True))

    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("legal_name", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("siret", sa.String(length=14), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.drop_column("siret")
        batch_op.drop_column("legal_name")

    with op.batch_alter_table("course", schema=None) as batch_op:
        batch_op.drop_column("qualification_exit")
        batch_op.drop_column("qualification_entry")

    with op.batch_alter_table("session", schema=None) as batch_op:
        for name in reversed(SESSION_RANGES):
            batch_op.drop_column(name)
        batch_op.drop_column("effort_text")
        batch_op.drop_column("duration_text")
