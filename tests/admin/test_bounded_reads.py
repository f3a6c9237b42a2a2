"""``/healthz``, ``/metrics`` and the console's production page cost the same as tables grow.

The tables get 20,000 rows of history (done jobs, delivered items, orders paid long ago with
their shipped events), a few live rows, and the count cap is lowered to 100. Every statement
the three pages run is captured and explained on the test's database:

* SQLite (``EXPLAIN QUERY PLAN``): no table and no whole index is scanned, every table is
  searched through an index range;
* PostgreSQL (``EXPLAIN ANALYZE`` after ``ANALYZE``): the rows all scan nodes produced or
  filtered out add up to a few hundred, not to the 20,000 rows in the tables.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, insert, text

from integrator.db.database import Database
from integrator.db.models import Alert, ItemEvent, Job, LineItem, Order
from integrator.db.timestamps import utcnow
from tests.admin.conftest import api_headers, signed_in

HISTORY = 20_000
CAP = 100
TABLES = ("jobs", "line_items", "orders", "item_events", "alerts")


def fill_history(db: Database) -> None:
    long_ago = utcnow() - timedelta(days=400)
    now = utcnow()
    with db.engine.begin() as connection:
        connection.execute(
            insert(Job),
            [
                {"kind": "order.ingest", "payload": {}, "status": "done", "run_at": long_ago}
                for _ in range(HISTORY)
            ],
        )
        connection.execute(
            insert(Job),
            [{"kind": "supplier.submit", "payload": {}, "status": "queued", "run_at": now}] * 3,
        )
        connection.execute(
            insert(Order),
            [
                {
                    "shop_domain": "old.myshopify.com",
                    "shopify_order_id": str(n),
                    "paid_at": long_ago,
                }
                for n in range(HISTORY)
            ],
        )
        order_ids = [row[0] for row in connection.execute(text("SELECT id FROM orders"))]
        connection.execute(
            insert(LineItem),
            [
                {
                    "order_id": order_id,
                    "shopify_line_item_id": "1",
                    "stage": "delivered",
                    "supplier": "printful",
                    "product_type": "T-Shirt",
                }
                for order_id in order_ids
            ],
        )
        item_ids = [row[0] for row in connection.execute(text("SELECT id FROM line_items"))]
        connection.execute(
            insert(ItemEvent),
            [
                {"line_item_id": item_id, "stage": "shipped", "source": "supplier:printful",
                 "occurred_at": long_ago + timedelta(days=2)}
                for item_id in item_ids
            ],
        )  # fmt: skip
        connection.execute(
            insert(Alert),
            [
                {"kind": "stuck_item", "subject": f"old:{n}", "message": "old",
                 "resolved_at": long_ago, "created_at": long_ago}
                for n in range(HISTORY)
            ],
        )  # fmt: skip
        if connection.dialect.name == "postgresql":
            connection.execute(text("ANALYZE"))


@pytest.fixture
def statements(db: Database) -> Iterator[list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    yield seen
    event.remove(db.engine, "before_cursor_execute", record)


def explain_sqlite(db: Database, statement: str, parameters: Any) -> list[str]:
    with db.engine.connect() as connection:
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
    return [str(row[-1]) for row in rows]


def rows_touched(plan: dict[str, Any]) -> int:
    """Rows every scan node of a PostgreSQL plan produced or read and filtered out."""
    touched = 0
    if "Scan" in plan["Node Type"]:
        loops = plan.get("Actual Loops", 1)
        touched += (plan.get("Actual Rows", 0) + plan.get("Rows Removed by Filter", 0)) * loops
    return touched + sum(rows_touched(child) for child in plan.get("Plans", []))


def explain_postgres(db: Database, statement: str, parameters: Any) -> int:
    with db.engine.connect() as connection:
        [[plan]] = connection.exec_driver_sql(
            f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}", parameters
        ).all()
    document = plan if isinstance(plan, list) else json.loads(plan)
    return rows_touched(document[0]["Plan"])


PAGES = ("/healthz", "/metrics", "/admin/production", "/admin/api/stats")


def test_each_page_polled_or_opened_reads_a_bounded_number_of_rows(
    app: Flask,
    db: Database,
    statements: list[tuple[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One history for the four pages (filling it is most of the test's time)."""
    monkeypatch.setattr("integrator.read_models.vitals.COUNT_CAP", CAP)
    fill_history(db)
    unbounded = {page: unbounded_reads(app, db, statements, page) for page in PAGES}
    assert unbounded == dict.fromkeys(PAGES, [])


def unbounded_reads(
    app: Flask, db: Database, statements: list[tuple[str, Any]], page: str
) -> list[Any]:
    """Each statement ``page`` runs that scans a table (SQLite) or touches too many rows."""
    client = signed_in(app)[0] if page == "/admin/production" else app.test_client()
    statements.clear()
    headers = api_headers() if page.startswith("/admin/api") else {}
    response = client.get(page, headers=headers)
    assert response.status_code == 200, (page, response.get_data(as_text=True)[:300])
    assert statements, f"{page} ran no query"
    found: list[Any] = []
    for statement, parameters in list(statements):
        if db.is_sqlite:
            plan = explain_sqlite(db, statement, parameters)
            # SEARCH reads an index range; SCAN reads a whole table or a whole index
            scanned = [step for step in plan if re.match(rf"SCAN ({'|'.join(TABLES)})\b", step)]
            if scanned:
                found.append((statement, plan))
        else:
            touched = explain_postgres(db, statement, parameters)
            if touched > 4 * CAP + 50:
                found.append((statement, touched))
    return found
