"""Migration 0003 keeps every row (SQLite rebuilds tables in batch mode: foreign keys must not
cascade) and turns a shipment synced before it into one remembered fulfillment of its items."""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import command

from integrator.db.database import Database
from integrator.db.migrate import alembic_config

BEFORE = "0002"


def test_rows_survive_and_synced_shipments_remember_their_fulfillment(database_url: str) -> None:
    config = alembic_config(database_url)
    command.downgrade(config, BEFORE)
    db = Database.from_url(database_url)
    try:
        with db.write_connection() as connection:
            _seed(connection)
        command.upgrade(config, "head")
        with db.write_connection() as connection:
            items = connection.execute(
                sa.text("SELECT part, quantity, fulfilled_quantity FROM line_items ORDER BY id")
            ).all()
            fulfillments = connection.execute(
                sa.text("SELECT fulfillments FROM shipments ORDER BY id")
            ).scalars().all()
            events = connection.execute(sa.text("SELECT count(*) FROM item_events")).scalar()
    finally:
        db.dispose()
    assert [tuple(row) for row in items] == [(0, 2, 2), (0, 1, 0)]
    remembered = [json.loads(f) if isinstance(f, str) else f for f in fulfillments]
    assert remembered == [
        [{"id": "gid://shopify/Fulfillment/9", "items": [{"line_item_id": "11", "quantity": 2}]}],
        [],
    ]
    assert events == 2  # the item events were not cascade-deleted by the table rebuild


def _seed(connection: sa.Connection) -> None:
    connection.execute(
        sa.text(
            "INSERT INTO orders (id, shop_domain, shopify_order_id, name, currency, "
            "financial_status, status, created_at, updated_at) VALUES "
            "(1, 'a.myshopify.com', '1', '#1', 'USD', 'PAID', 'open', '2026-01-01', '2026-01-01')"
        )
    )
    connection.execute(
        sa.text(
            "INSERT INTO supplier_orders (id, order_id, supplier, sequence, external_ref, status, "
            "created_at) VALUES (1, 1, 'printful', 0, 'r', 'shipped', '2026-01-01')"
        )
    )
    for item_id, line, quantity in ((1, "11", 2), (2, "12", 1)):
        connection.execute(
            sa.text(
                "INSERT INTO line_items (id, order_id, shopify_line_item_id, title, quantity, "
                "properties, stage, reached_stage, stage_changed_at, fallbacks, "
                "supplier_order_id) VALUES (:id, 1, :line, 't', :quantity, '{}', 'shipped', "
                "'shipped', '2026-01-01', '[]', 1)"
            ),
            {"id": item_id, "line": line, "quantity": quantity},
        )
        connection.execute(
            sa.text(
                "INSERT INTO item_events (line_item_id, stage, source, occurred_at, recorded_at) "
                "VALUES (:id, 'shipped', 'test', '2026-01-01', '2026-01-01')"
            ),
            {"id": item_id},
        )
    for shipment_id, fulfillment, line, quantity in ((1, "gid://shopify/Fulfillment/9", "11", 2), (2, None, "12", 1)):
        connection.execute(
            sa.text(
                "INSERT INTO shipments (id, order_id, supplier_order_id, supplier, "
                "supplier_shipment_id, carrier, tracking_number, tracking_url, items, created_at, "
                "shopify_fulfillment_id, sync_status) VALUES (:id, 1, 1, 'printful', :ref, 'UPS', "
                "'1Z', '', :items, '2026-01-01', :fulfillment, :status)"
            ),
            {
                "id": shipment_id,
                "ref": f"s{shipment_id}",
                "items": json.dumps([{"line_item_id": line, "quantity": quantity}]),
                "fulfillment": fulfillment,
                "status": "synced" if fulfillment else "pending",
            },
        )
