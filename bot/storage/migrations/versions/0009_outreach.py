"""Info sessions and announcements: subscriptions, registrations for events (with a row per event to lock while
a place is taken), broadcasts, and the outbox's
priority (a conversation goes before a broadcast) and the broadcast each message belongs to.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "subscriptions",
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("city", sa.String(48), nullable=True),
        sa.Column("topics", sa.String(400), nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "registrations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("event_id", sa.String(48), nullable=False),
        sa.Column("attending", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("remind", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("user_id", "event_id", name="uq_registrations_user_event"),
    )
    op.create_index("ix_registrations_event_id", "registrations", ["event_id"])
    op.create_table("event_locks", sa.Column("event_id", sa.String(48), primary_key=True))
    op.create_table(
        "broadcasts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("texts", sa.Text, nullable=False),
        sa.Column("audience", sa.Text, nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("fallback_default", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("recipients", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
    )
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("priority", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("broadcast_id", sa.Integer, nullable=True))
        batch.create_index("ix_outbox_broadcast", ["broadcast_id", "status"])


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index("ix_outbox_broadcast")
        batch.drop_column("broadcast_id")
        batch.drop_column("priority")
    op.drop_table("broadcasts")
    op.drop_table("event_locks")
    op.drop_index("ix_registrations_event_id", "registrations")
    op.drop_table("registrations")
    op.drop_table("subscriptions")
