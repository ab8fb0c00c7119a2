"""list pages' validators and the list page of each listing, for incremental crawls

Revision ID: 0013_listing_modified
Revises: 0012_sort_indexes
Create Date: 2026-12-02 13:30:00

A sitemap or an API page read in full, all of whose courses came into the catalogue,
keeps its ``ETag`` / ``Last-Modified`` (and the URL of the page after it) in
``list_page``; a listing keeps the list page that listed it (``listing.listed_on``).
The next night the page is asked for conditionally; a ``304`` means its listings are
unchanged, seen (crawlers/incremental.py). ``listing.lastmod`` now also holds an API
record's stated modification date. The column is added with ``ALTER TABLE … ADD COLUMN``
(no batch rebuild on SQLite, so the triggers of 0003 survive).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.models import BigId

revision: str = "0013_listing_modified"
down_revision: str | None = "0012_sort_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("listing", sa.Column("listed_on", sa.Text(), nullable=True))
    op.create_table(
        "list_page",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("spider", sa.String(100), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("etag", sa.String(500), nullable=True),
        sa.Column("last_modified", sa.String(100), nullable=True),
        sa.Column("next_url", sa.Text(), nullable=True),
        sa.UniqueConstraint("spider", "url"),
    )


def downgrade() -> None:
    op.drop_table("list_page")
    op.drop_column("listing", "listed_on")
