"""The durable inbox (it replaces processed_updates), outbox owners, erasure marks, the group's posts.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbox",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("lane", sa.String(128), nullable=True),
        sa.Column("body", sa.Text, nullable=True),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("owner", sa.String(32), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("urgent", sa.Boolean, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("channel", "key", name="uq_inbox_channel_key"),
    )
    op.create_index("ix_inbox_status_lease", "inbox", ["status", "lease_until"])
    op.create_index("ix_inbox_received_at", "inbox", ["received_at"])
    # the update ids handled before this version stay known, so a repeat after the upgrade is still ignored
    op.execute(
        "INSERT INTO inbox (channel, key, status, urgent, received_at) "
        "SELECT channel, key, 'done', false, at FROM processed_updates"
    )
    op.drop_table("processed_updates")
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("owner", sa.String(32), nullable=True))
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("ticket_cards") as batch:
        batch.add_column(sa.Column("scrubbed_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "group_posts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False),
        sa.Column("message_id", sa.Integer, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_group_posts_ticket_id", "group_posts", ["ticket_id"])


def downgrade() -> None:
    op.drop_table("group_posts")
    with op.batch_alter_table("ticket_cards") as batch:
        batch.drop_column("scrubbed_at")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("erased_at")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("owner")
    op.create_table(
        "processed_updates",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("channel", "key", name="uq_processed_updates_channel_key"),
    )
    op.create_index("ix_processed_updates_at", "processed_updates", ["at"])
    op.drop_table("inbox")
