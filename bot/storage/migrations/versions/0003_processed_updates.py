"""Update ids already handled, per channel, for deduplication across restarts.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "processed_updates",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("channel", "key", name="uq_processed_updates_channel_key"),
    )
    op.create_index("ix_processed_updates_at", "processed_updates", ["at"])


def downgrade() -> None:
    op.drop_table("processed_updates")
