"""fulfillment orders as the source of truth: item parts, FO line hints, every fulfillment of a
shipment, Shopify's updatedAt per order; per shop: webhook address and fulfillment mode

Revision ID: 0003_fulfillment_orders
Revises: 0002
Create Date: 2026-11-27 09:00:00
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0003_fulfillment_orders"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("shops") as batch:
        batch.add_column(sa.Column("webhook_callback_url", sa.Text(), nullable=True))
        batch.add_column(sa.Column("fulfillment_mode", sa.String(length=30), nullable=True))
        batch.add_column(sa.Column("fulfillment_service_id", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("fulfillment_location_id", sa.String(length=100), nullable=True))
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("test", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("shopify_updated_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("line_items") as batch:
        batch.add_column(sa.Column("part", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(
            sa.Column(
                "fulfillment_order_lines", sa.JSON(), nullable=False, server_default=sa.text("'[]'")
            )
        )
        batch.add_column(
            sa.Column("fulfilled_quantity", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(
            sa.Column("outside_fulfilled", sa.Integer(), nullable=False, server_default="0")
        )
        batch.drop_constraint("uq_line_item_order", type_="unique")
        batch.create_unique_constraint(
            "uq_line_item_part", ["order_id", "shopify_line_item_id", "part"]
        )
    with op.batch_alter_table("shipments") as batch:
        batch.add_column(
            sa.Column("fulfillments", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
        batch.add_column(
            sa.Column(
                "uncertain_fulfillment_orders",
                sa.JSON(),
                nullable=False,
                server_default=sa.text("'[]'"),
            )
        )
        batch.add_column(sa.Column("not_ready_since", sa.DateTime(), nullable=True))
    _remember_synced_shipments()


def _remember_synced_shipments() -> None:
    """A shipment synced before this version made one fulfillment, of all its items: record
    it as such, and count its quantities as fulfilled on the items it shipped."""
    bind = op.get_bind()
    synced = bind.execute(
        sa.text(
            "SELECT id, supplier_order_id, shopify_fulfillment_id, items FROM shipments "
            "WHERE shopify_fulfillment_id IS NOT NULL"
        )
    ).all()
    for shipment_id, supplier_order_id, fulfillment_id, items in synced:
        shipped = json.loads(items) if isinstance(items, str) else list(items or [])
        remembered = [{"id": fulfillment_id, "items": shipped}]
        bind.execute(
            sa.text("UPDATE shipments SET fulfillments = :value WHERE id = :id"),
            {"value": json.dumps(remembered), "id": shipment_id},
        )
        for entry in shipped:
            bind.execute(
                sa.text(
                    "UPDATE line_items SET fulfilled_quantity = fulfilled_quantity + :quantity "
                    "WHERE supplier_order_id = :supplier_order AND shopify_line_item_id = :line"
                ),
                {
                    "quantity": int(entry["quantity"]),
                    "supplier_order": supplier_order_id,
                    "line": str(entry["line_item_id"]),
                },
            )


def downgrade() -> None:
    with op.batch_alter_table("shipments") as batch:
        batch.drop_column("not_ready_since")
        batch.drop_column("uncertain_fulfillment_orders")
        batch.drop_column("fulfillments")
    with op.batch_alter_table("line_items") as batch:
        batch.drop_constraint("uq_line_item_part", type_="unique")
        batch.create_unique_constraint("uq_line_item_order", ["order_id", "shopify_line_item_id"])
        batch.drop_column("outside_fulfilled")
        batch.drop_column("fulfilled_quantity")
        batch.drop_column("fulfillment_order_lines")
        batch.drop_column("part")
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("shopify_updated_at")
        batch.drop_column("test")
    with op.batch_alter_table("shops") as batch:
        batch.drop_column("fulfillment_location_id")
        batch.drop_column("fulfillment_service_id")
        batch.drop_column("fulfillment_mode")
        batch.drop_column("webhook_callback_url")
