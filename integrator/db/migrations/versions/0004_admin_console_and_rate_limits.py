"""admin console sessions kept by the server; rate-limit counters shared by web processes

Revision ID: 0004
Revises: 0003_fulfillment_orders
Create Date: 2026-11-23 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003_fulfillment_orders"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "admin_console_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("signing_key_encrypted", sa.LargeBinary(), nullable=False),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column("token_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "rate_limit_counters",
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index("ix_rate_limit_expires", "rate_limit_counters", ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_rate_limit_expires", table_name="rate_limit_counters")
    op.drop_table("rate_limit_counters")
    op.drop_table("admin_console_state")
