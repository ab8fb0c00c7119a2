"""normalised course fields, quality signals, run health, listing freshness and links

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 10:58:28.665258
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    with op.batch_alter_table("course", schema=None) as batch_op:
        batch_op.add_column(sa.Column("free", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("price_amount", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("currency", sa.String(length=3), nullable=True))
        batch_op.add_column(sa.Column("certificate", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("certificate_price", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("rating", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("rating_count", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("enrolments", sa.Integer(), nullable=True))

    with op.batch_alter_table("crawl_run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("healthy", sa.Boolean(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "health_reasons",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=True,
            )
        )

    with op.batch_alter_table("listing", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("missing_runs", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("hidden", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("link_method", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("link_score", sa.Float(), nullable=True))


def downgrade() -> None:

    with op.batch_alter_table("listing", schema=None) as batch_op:
        batch_op.drop_column("link_score")
        batch_op.drop_column("link_method")
        batch_op.drop_column("hidden")
        batch_op.drop_column("missing_runs")

    with op.batch_alter_table("crawl_run", schema=None) as batch_op:
        batch_op.drop_column("health_reasons")
        batch_op.drop_column("healthy")

    with op.batch_alter_table("course", schema=None) as batch_op:
        batch_op.drop_column("enrolments")
        batch_op.drop_column("rating_count")
        batch_op.drop_column("rating")
        batch_op.drop_column("certificate_price")
        batch_op.drop_column("certificate")
        batch_op.drop_column("currency")
        batch_op.drop_column("price_amount")
        batch_op.drop_column("free")
