"""e-mail alerts: subscriptions and their outbox

Revision ID: 0010_alerts
Revises: 0006_session_qualification
Create Date: 2026-12-02 06:00:00

Two tables apart from the catalogue, the only ones the alerts' writable engine may write
(storage/alerts.py, docs/ALERTS.md). No foreign key to ``course``: a subscription to a
course that disappears simply finds nothing, and the catalogue's writer never waits on them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.models import BigId, JSONType, UTCDateTime

revision: str = "0010_alerts"
down_revision: str | None = "0009_incremental"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alert_subscription",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("address", sa.String(320), nullable=False),
        sa.Column("search", sa.Text(), nullable=True),
        sa.Column("course_id", BigId, nullable=True),
        sa.Column("confirm_hash", sa.String(64), nullable=True),
        sa.Column("unsubscribe_key", sa.String(64), nullable=False),
        sa.Column("seen", JSONType, nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("confirmed_at", UTCDateTime(), nullable=True),
        sa.Column("last_mailed_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint("(search IS NULL) <> (course_id IS NULL)", name="search_or_course"),
    )
    op.create_index("ix_alert_subscription_address", "alert_subscription", ["address"])
    op.create_index(
        "ix_alert_subscription_confirmed_at_created_at",
        "alert_subscription",
        ["confirmed_at", "created_at"],
    )
    op.create_table(
        "alert_outbox",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("address", sa.String(320), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("day", sa.String(10), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        # one digest per address per day: the second is refused by the database itself
        sa.UniqueConstraint("address", "kind", "day"),
    )
    op.create_index("ix_alert_outbox_state", "alert_outbox", ["state", "id"])


def downgrade() -> None:
    op.drop_table("alert_outbox")
    op.drop_table("alert_subscription")
