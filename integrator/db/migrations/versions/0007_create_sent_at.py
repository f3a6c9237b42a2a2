"""supplier_orders.create_sent_at: when a create was last sent without a definite answer

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 11:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("supplier_orders") as batch:
        batch.add_column(sa.Column("create_sent_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("supplier_orders") as batch:
        batch.drop_column("create_sent_at")
