"""indexes for bounded reads: the production window and open alerts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 08:30:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_order_paid", "orders", ["paid_at"], unique=False)
    op.create_index("ix_alert_open", "alerts", ["kind", "resolved_at", "created_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_alert_open", table_name="alerts")
    op.drop_index("ix_order_paid", table_name="orders")
