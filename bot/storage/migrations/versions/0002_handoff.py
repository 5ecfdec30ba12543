"""The consultants' desk: consultants, tickets and their messages, the outbox, feedback.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("pseudonym", sa.String(16), nullable=True))
        batch.add_column(sa.Column("last_question", sa.Text, nullable=True))
        batch.add_column(sa.Column("last_question_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_unique_constraint("uq_users_pseudonym", ["pseudonym"])
    op.create_table(
        "consultants",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("languages", sa.String(64), nullable=False),
        sa.Column("telegram_id", sa.BigInteger, nullable=True, unique=True),
        sa.Column("display_name", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
        sa.Column("pseudonym", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("topic", sa.String(32), nullable=True),
        sa.Column("reason", sa.String(24), nullable=False),
        sa.Column("priority", sa.String(8), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("consultant_id", sa.Integer, sa.ForeignKey("consultants.id", ondelete="SET NULL"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn", sa.Boolean, nullable=False),
    )
    op.create_index("ix_tickets_user_id", "tickets", ["user_id"])
    op.create_index("ix_tickets_consultant_id", "tickets", ["consultant_id"])
    op.create_index("ix_tickets_closed_at", "tickets", ["closed_at"])
    op.create_index("ix_tickets_status_language", "tickets", ["status", "language"])
    op.create_table(
        "ticket_messages",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("author", sa.String(12), nullable=False),
        sa.Column("consultant_id", sa.Integer, sa.ForeignKey("consultants.id", ondelete="SET NULL"), nullable=True),
        sa.Column("text", sa.Text, nullable=False),
    )
    op.create_index("ix_ticket_messages_ticket_id", "ticket_messages", ["ticket_id"])
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(96), nullable=False, unique=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=True),
        sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id", ondelete="SET NULL"), nullable=True),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("chat_id", sa.String(128), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("buttons", sa.Text, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(300), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_outbox_user_id", "outbox", ["user_id"])
    op.create_index("ix_outbox_ticket_id", "outbox", ["ticket_id"])
    op.create_index("ix_outbox_due", "outbox", ["channel", "status", "next_attempt_at"])
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id", ondelete="SET NULL"), nullable=True),
        sa.Column("entry_id", sa.String(64), nullable=True),
        sa.Column("helpful", sa.Boolean, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_feedback_user_id", "feedback", ["user_id"])


def downgrade() -> None:
    op.drop_table("feedback")
    op.drop_table("outbox")
    op.drop_table("ticket_messages")
    op.drop_table("tickets")
    op.drop_table("consultants")
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint("uq_users_pseudonym", type_="unique")
        batch.drop_column("last_question_at")
        batch.drop_column("last_question")
        batch.drop_column("pseudonym")
