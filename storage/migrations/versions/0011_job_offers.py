"""job offers: the number of current offers per ROME job, with its date

Revision ID: 0011_job_offers
Revises: 0010_alerts
Create Date: 2026-12-02 13:40:00

One row per job code that has linked courses, written by ``moisson jobs refresh-offers``
(storage/offers.py, docs/JOBS.md). No foreign key to ``rome_job``: a new ROME release never
loses a count; the pages read it for the jobs the release in use has.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision: str = "0011_job_offers"
down_revision: str | None = "0010_alerts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "job_offers",
        sa.Column("job_code", sa.String(5), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("fetched_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("job_code", name=op.f("pk_job_offers")),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("job_offers")
