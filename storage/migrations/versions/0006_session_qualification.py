"""per-session duration and effort, course qualification levels, organisation identity

Revision ID: 0006_session_qualification
Revises: 0005_store_quarantine
Create Date: 2026-12-02 02:20:00

SQLite: columns are added with ``ALTER TABLE … ADD COLUMN`` and dropped with the native
``DROP COLUMN`` (SQLite ≥ 3.35), no batch rebuild, so the full-text triggers of 0003 and
the expression index of 0004 survive.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_session_qualification"
down_revision: str | None = "0005_store_quarantine"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _columns() -> dict[str, list[sa.Column]]:
    session_ranges = [
        f"{name}_{end}"
        for name in ("duration_weeks", "duration_hours", "effort_hours_per_week")
        for end in ("min", "max")
    ]
    return {
        "session": [
            sa.Column("duration_text", sa.Text(), nullable=True),
            sa.Column("effort_text", sa.Text(), nullable=True),
            *(sa.Column(name, sa.Float(), nullable=True) for name in session_ranges),
        ],
        "course": [
            sa.Column("qualification_entry", sa.String(length=20), nullable=True),
            sa.Column("qualification_exit", sa.String(length=20), nullable=True),
        ],
        "organisation": [
            sa.Column("legal_name", sa.String(length=500), nullable=True),
            sa.Column("siret", sa.String(length=14), nullable=True),
        ],
    }


def upgrade() -> None:
    for table, columns in _columns().items():
        for column in columns:
            op.add_column(table, column)


def downgrade() -> None:
    for table, columns in reversed(_columns().items()):
        for column in reversed(columns):
            op.drop_column(table, column.name)
