"""Delivery receipts (Viber's delivered, seen, failed) against outbox messages.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("provider_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("receipt", sa.String(12), nullable=True))
        batch.create_index("ix_outbox_provider_id", ["provider_id"])


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index("ix_outbox_provider_id")
        batch.drop_column("receipt")
        batch.drop_column("provider_id")
