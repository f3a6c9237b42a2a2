"""A supplier order that may have been made at the supplier (a create got no definite answer) says
so in its own field in the API and with its own label in the console, beside an error text
that no longer carries a "[maybe created] " prefix."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from integrator.db.database import Database
from integrator.db.models import LineItem, SupplierOrder
from integrator.domain.statuses import SupplierOrderStatus

from .conftest import Seeded, api_headers

LABEL = "maybe created at the supplier — check before retrying"
ERROR = "printful: timeout (gave up after 8 attempts)"


def fail_the_mug_after_an_unanswered_create(db: Database, seeded: Seeded) -> None:
    with db.write() as session:
        mug = session.get(LineItem, seeded.failed_item)
        assert mug is not None
        row = SupplierOrder(
            order_id=mug.order_id,
            supplier="printful",
            external_ref="acme-5001",
            status=SupplierOrderStatus.FAILED,
            last_error=ERROR,
            maybe_created=True,
        )
        session.add(row)
        session.flush()
        mug.supplier_order_id = row.id


def _json(app: Flask, path: str) -> dict:  # type: ignore[type-arg]
    response = app.test_client().get(path, headers=api_headers())
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert isinstance(body, dict)
    return body


def test_the_api_gives_maybe_created_as_a_field(app: Flask, db: Database, seeded: Seeded) -> None:
    fail_the_mug_after_an_unanswered_create(db, seeded)

    order = _json(app, f"/admin/api/orders/{seeded.held_order}")
    holds = _json(app, "/admin/api/holds")["items"]
    shipped = _json(app, f"/admin/api/orders/{seeded.shipped_order}")

    assert [(so["last_error"], so["maybe_created"]) for so in order["supplier_orders"]] == [
        (ERROR, True)
    ]
    assert [(h["line_item_id"], h["maybe_created"]) for h in holds] == [
        (seeded.held_item, False),
        (seeded.failed_item, True),
    ]
    assert [so["maybe_created"] for so in shipped["supplier_orders"]] == [False]


def test_the_console_labels_the_order_and_the_failed_item(
    console: tuple[FlaskClient, str], db: Database, seeded: Seeded
) -> None:
    client, _ = console
    before = client.get("/admin/holds").get_data(as_text=True)
    fail_the_mug_after_an_unanswered_create(db, seeded)

    holds = client.get("/admin/holds").get_data(as_text=True)
    order = client.get(f"/admin/orders/{seeded.held_order}").get_data(as_text=True)
    shipped = client.get(f"/admin/orders/{seeded.shipped_order}").get_data(as_text=True)

    assert LABEL not in before
    assert holds.count(LABEL) == 1
    assert order.count(LABEL) == 2  # the item's supplier order, and the supplier orders table
    assert ERROR in order and "[maybe created]" not in order
    assert LABEL not in shipped
