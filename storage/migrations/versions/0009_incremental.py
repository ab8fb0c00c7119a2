"""per-listing validators for incremental crawls: the page, its ETag, Last-Modified, lastmod

Revision ID: 0009_incremental
Revises: 0006_session_qualification
Create Date: 2026-12-02 06:00:00

A nightly crawl asks for a listing's page again only if it may have changed: the
sitemap's ``lastmod`` is later than the one of the page's last fetch, or the server does
not answer ``304 Not Modified`` to ``If-None-Match`` / ``If-Modified-Since`` built from
these values. Columns are added with ``ALTER TABLE … ADD COLUMN`` (no batch rebuild on
SQLite, so the triggers of 0003 survive).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_incremental"
down_revision: str | None = "0008_rome"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _columns() -> list[sa.Column]:
    return [
        sa.Column("page_url", sa.Text(), nullable=True),
        sa.Column("etag", sa.String(length=500), nullable=True),
        sa.Column("last_modified", sa.String(length=100), nullable=True),
        sa.Column("lastmod", sa.String(length=100), nullable=True),
    ]


def upgrade() -> None:
    for column in _columns():
        op.add_column("listing", column)


def downgrade() -> None:
    for column in reversed(_columns()):
        op.drop_column("listing", column.name)
