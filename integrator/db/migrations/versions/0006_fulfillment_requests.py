"""fulfillment-service mode: every answer we gave Shopify to a fulfillment or cancellation
request, for the operator (the mode itself and our service/location ids are on shops, 0003)

Revision ID: 0006_fulfillment_requests
Revises: 0005
Create Date: 2026-11-27 11:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_fulfillment_requests"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fulfillment_request_answers",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("shop_domain", sa.String(length=255), nullable=False),
        sa.Column("shopify_order_id", sa.String(length=64), nullable=False),
        sa.Column("fulfillment_order_id", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("answered_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_request_answer_order",
        "fulfillment_request_answers",
        ["shop_domain", "shopify_order_id", "answered_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_request_answer_order", table_name="fulfillment_request_answers")
    op.drop_table("fulfillment_request_answers")
