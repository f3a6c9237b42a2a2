"""Migration 0009 turns the "[maybe created] " prefix of a supplier order's last error into the
``maybe_created`` column (the error keeps its text), and its downgrade puts the prefix back."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from integrator.db.database import Database
from integrator.db.migrate import alembic_config

BEFORE = "0008"
PREFIX = "[maybe created] "
LAST_ERRORS = {
    1: f"{PREFIX}gelato: timeout (gave up after 8 attempts)",
    2: "printful rejected the order: bad address (400)",
    3: None,
    4: PREFIX,  # nothing said after the prefix
}


def test_the_prefix_becomes_the_column_and_comes_back_on_downgrade(database_url: str) -> None:
    config = alembic_config(database_url)
    command.downgrade(config, BEFORE)
    db = Database.from_url(database_url)
    try:
        with db.write_connection() as connection:
            _seed(connection)
        command.upgrade(config, "head")
        upgraded = _read(db, "SELECT id, last_error, maybe_created FROM supplier_orders")
        command.downgrade(config, BEFORE)
        downgraded = _read(db, "SELECT id, last_error FROM supplier_orders")
        command.upgrade(config, "head")
    finally:
        db.dispose()

    assert upgraded == [
        (1, "gelato: timeout (gave up after 8 attempts)", True),
        (2, "printful rejected the order: bad address (400)", False),
        (3, None, False),
        (4, None, True),
    ]
    assert downgraded == [
        (1, f"{PREFIX}gelato: timeout (gave up after 8 attempts)"),
        (2, "printful rejected the order: bad address (400)"),
        (3, None),
        (4, PREFIX),
    ]


def _read(db: Database, sql: str) -> list[tuple[object, ...]]:
    with db.write_connection() as connection:
        rows = connection.execute(sa.text(f"{sql} ORDER BY id")).all()
    # SQLite hands a boolean back as 0/1
    return [
        tuple(bool(v) if isinstance(v, int) and i == 2 else v for i, v in enumerate(row))
        for row in rows
    ]


def _seed(connection: sa.Connection) -> None:
    connection.execute(
        sa.text(
            "INSERT INTO orders (id, shop_domain, shopify_order_id, name, currency, "
            "financial_status, status, created_at, updated_at) VALUES "
            "(1, 'a.myshopify.com', '1', '#1', 'USD', 'PAID', 'open', '2026-01-01', '2026-01-01')"
        )
    )
    for row_id, last_error in LAST_ERRORS.items():
        connection.execute(
            sa.text(
                "INSERT INTO supplier_orders (id, order_id, supplier, sequence, external_ref, "
                "status, last_error, created_at) VALUES (:id, 1, 'gelato', :id, :ref, 'failed', "
                ":error, '2026-01-01')"
            ),
            {"id": row_id, "ref": f"r{row_id}", "error": last_error},
        )
