"""the store's quarantine: records the catalogue could not take, with the reason

Revision ID: 0005_store_quarantine
Revises: 0004
Create Date: 2026-12-02 02:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.models import BigId, JSONType, UTCDateTime

revision: str = "0005_store_quarantine"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "quarantine",
        sa.Column("id", BigId, nullable=False),
        sa.Column("platform_id", BigId, nullable=False),
        sa.Column("external_id", sa.String(length=300), nullable=False),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("record", JSONType, nullable=True),
        sa.Column("raw", JSONType, nullable=True),
        sa.Column("first_seen", UTCDateTime(), nullable=False),
        sa.Column("last_seen", UTCDateTime(), nullable=False),
        sa.Column("crawl_run_id", BigId, nullable=True),
        sa.ForeignKeyConstraint(
            ["platform_id"], ["platform.id"], name=op.f("fk_quarantine_platform_id_platform")
        ),
        sa.ForeignKeyConstraint(
            ["crawl_run_id"], ["crawl_run.id"], name=op.f("fk_quarantine_crawl_run_id_crawl_run")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quarantine")),
        sa.UniqueConstraint(
            "platform_id", "external_id", name=op.f("uq_quarantine_platform_id_external_id")
        ),
    )


def downgrade() -> None:
    op.drop_table("quarantine")
