"""Tickets' cards and forum topics in the consultants' Telegram group.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ticket_cards",
        sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("chat_id", sa.BigInteger, nullable=False),
        sa.Column("message_id", sa.Integer, nullable=True),
        sa.Column("thread_id", sa.Integer, nullable=True),
        sa.Column("last_message_id", sa.Integer, nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_ticket_cards_message_id", "ticket_cards", ["message_id"])
    op.create_index("ix_ticket_cards_thread_id", "ticket_cards", ["thread_id"])


def downgrade() -> None:
    op.drop_table("ticket_cards")
