"""Shopify topic handlers, each run twice: the end state is the same as after one run."""

from __future__ import annotations

import json

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from integrator.db.models import DataExport, Order, Shop, WebhookDelivery
from integrator.db.shop_tokens import SqlShopTokenStore
from integrator.sandbox.shopify import AddressSpec, LineSpec
from integrator.sandbox.stack import Stack
from integrator.shopify.tokens import TokenCipher

from .conftest import (
    INGEST_ONLY,
    drain,
    items_of,
    jobs_of,
    legacy,
    notify,
    order_row,
    paid_order,
    remote_id_of,
    run_again,
    supplier_orders_of,
)

TEE, MUG = "TEE-BLK-M-DTG", "MUG-11OZ-WHT"
NEW_ADDRESS = AddressSpec(address1="99 Moved Avenue", city="Hamburg", zip="20095")


def stages(stack: Stack, order: dict[str, object] | None = None) -> list[str]:
    return [item.stage for item in items_of(stack, order)]  # type: ignore[arg-type]


# --- orders/cancelled ------------------------------------------------------------------------


def test_cancel_before_submission_cancels_items_and_submits_nothing(stack: Stack) -> None:
    order = paid_order(stack, [TEE, MUG], kinds=INGEST_ONLY)
    assert stages(stack) == ["routed", "routed"]
    stack.shop.cancel_order(order["id"])
    notify(stack, "orders/cancelled", order)
    notify(stack, "orders/cancelled", order)  # Shopify may deliver the event twice
    drain(stack, ("shopify.delivery", "order.cancel"))  # before the queued submissions run
    stack.drain()
    run_again(stack, "order.cancel", "supplier.submit")
    assert stages(stack) == ["cancelled", "cancelled"]
    assert order_row(stack, order).status == "cancelled"
    assert all(so.status == "cancelled" for so in supplier_orders_of(stack))
    assert all(not sandbox.orders for sandbox in stack.suppliers.values())


def test_cancel_after_submission_cancels_at_the_supplier(stack: Stack) -> None:
    order = paid_order(stack, [TEE])
    assert stages(stack) == ["submitted"]
    remote = remote_id_of(stack, "printful")
    stack.shop.cancel_order(order["id"])
    notify(stack, "orders/cancelled", order)
    stack.drain()
    run_again(stack, "order.cancel")
    assert stack.suppliers["printful"].orders[remote]["status"] == "canceled"
    assert stages(stack) == ["cancelled"]
    (supplier_order,) = supplier_orders_of(stack)
    assert supplier_order.status == "cancelled"
    row = order_row(stack, order)
    assert (row.status, row.attention) == ("cancelled", None)


SKU_AT = {
    "printful": TEE,
    "printify": "CASE-IPHONE15-CLEAR",
    "gelato": "CANVAS-30X40",
    "prodigi": MUG,
}


@pytest.mark.parametrize("supplier", sorted(SKU_AT))
def test_each_supplier_cancels_a_submitted_order_or_the_order_is_flagged(
    stack: Stack, supplier: str
) -> None:
    order = paid_order(stack, [SKU_AT[supplier]])
    remote = remote_id_of(stack, supplier)
    stack.shop.cancel_order(order["id"])
    notify(stack, "orders/cancelled", order)
    stack.drain()
    run_again(stack, "order.cancel")
    (supplier_order,) = supplier_orders_of(stack)
    row = order_row(stack, order)
    if supplier == "printify":
        # sent to production at once (send_to_production: true); Printify then only cancels
        # orders on hold or unpaid: the refusal is recorded and the operator told
        assert supplier_order.status == "cancel_refused"
        assert supplier_order.last_error
        assert stages(stack) == ["submitted"]
        assert row.attention and "printify" in row.attention
        return
    assert supplier_order.status == "cancelled"
    assert stages(stack) == ["cancelled"]
    assert row.attention is None
    assert "cancel" in json.dumps(stack.suppliers[supplier].orders[remote], default=str).lower()


def test_cancel_with_items_in_production_flags_the_order(stack: Stack) -> None:
    order = paid_order(stack, [TEE, MUG])
    stack.suppliers["printful"].advance(remote_id_of(stack, "printful"), "in_production")
    stack.drain()
    stack.shop.cancel_order(order["id"])
    notify(stack, "orders/cancelled", order)
    stack.drain()
    run_again(stack, "order.cancel")
    by_sku = {item.sku: item for item in items_of(stack)}
    # the tee is being made: not silently cancelled, the operator is told
    assert by_sku[TEE].stage == "in_production"
    assert by_sku[MUG].stage == "cancelled"
    row = order_row(stack, order)
    assert row.status == "cancelled"
    assert row.attention and "printful" in row.attention
    statuses = {so.supplier: so.status for so in supplier_orders_of(stack)}
    assert statuses == {"printful": "cancel_refused", "prodigi": "cancelled"}
    assert stack.suppliers["printful"].orders[remote_id_of(stack, "printful")]["status"] == (
        "inprocess"
    )


def test_a_late_paid_webhook_after_cancellation_submits_nothing(stack: Stack) -> None:
    order = stack.shop.create_order([LineSpec(TEE)])
    stack.shop.cancel_order(order["id"])
    notify(stack, "orders/cancelled", order)
    stack.drain()
    notify(stack, "orders/paid", order)
    stack.drain()
    assert order_row(stack, order).status == "cancelled"
    assert not stack.suppliers["printful"].orders


# --- orders/updated --------------------------------------------------------------------------


def test_address_change_before_submission_is_used_for_the_supplier_order(stack: Stack) -> None:
    order = paid_order(stack, [TEE], kinds=INGEST_ONLY)
    stack.shop.update_shipping_address(order["id"], NEW_ADDRESS)
    notify(stack, "orders/updated", order)
    notify(stack, "orders/updated", order)
    drain(stack, ("shopify.delivery", "order.update"))
    run_again(stack, "order.update")
    stack.drain()
    (remote,) = stack.suppliers["printful"].orders.values()
    recipient = remote["recipient"]
    assert (recipient["address1"], recipient["city"], recipient["zip"]) == (
        "99 Moved Avenue",
        "Hamburg",
        "20095",
    )
    row = order_row(stack, order)
    assert row.shipping_address and row.shipping_address["city"] == "Hamburg"
    assert row.attention is None


def test_address_change_after_submission_is_flagged(stack: Stack) -> None:
    order = paid_order(stack, [TEE])
    (remote,) = stack.suppliers["printful"].orders.values()
    stack.shop.update_shipping_address(order["id"], NEW_ADDRESS)
    notify(stack, "orders/updated", order)
    stack.drain()
    run_again(stack, "order.update")
    row = order_row(stack, order)
    assert row.attention and "address changed" in row.attention and "printful" in row.attention
    assert remote["recipient"]["city"] == "Berlin"  # not silently left: the flag says so
    assert len(stack.suppliers["printful"].orders) == 1


def test_an_update_without_an_address_change_changes_nothing(stack: Stack) -> None:
    order = paid_order(stack, [TEE])
    notify(stack, "orders/updated", order)
    stack.drain()
    assert order_row(stack, order).attention is None
    assert [job.status for job in jobs_of(stack, "order.update")] == ["done"]


# --- app/uninstalled -------------------------------------------------------------------------


def token_store(stack: Stack) -> SqlShopTokenStore:
    return SqlShopTokenStore(stack.db, TokenCipher([Fernet.generate_key().decode()]))


def shop_row(stack: Stack) -> Shop:
    with stack.db.read() as session:
        row = session.scalars(select(Shop).where(Shop.domain == stack.options.shop)).one()
        session.expunge(row)
        return row


def test_app_uninstalled_marks_the_shop_and_deletes_its_token(stack: Stack) -> None:
    paid_order(stack, [TEE])  # the shop has a stored token now
    assert shop_row(stack).access_token_encrypted is not None
    payload = stack.shop.shop_payload()
    for _ in range(2):
        assert stack.sender.send(
            f"{stack.integrator_url}/webhooks/shopify",
            "app/uninstalled",
            payload,
            stack.options.shop,
        ).statuses == [200]
    stack.drain()
    run_again(stack, "shopify.delivery")
    row = shop_row(stack)
    assert row.status == "uninstalled"
    assert row.uninstalled_at is not None
    assert (row.access_token_encrypted, row.refresh_token_encrypted) == (None, None)
    assert token_store(stack).load(stack.options.shop) is None


def test_no_work_for_a_shop_after_app_uninstalled(stack: Stack) -> None:
    paid_order(stack, [TEE])
    stack.sender.send(
        f"{stack.integrator_url}/webhooks/shopify",
        "app/uninstalled",
        stack.shop.shop_payload(),
        stack.options.shop,
    )
    stack.drain()
    later = paid_order(stack, [MUG])
    assert not stack.suppliers["prodigi"].orders
    assert items_of(stack, later) == []
    assert shop_row(stack).access_token_encrypted is None


# --- compliance topics -----------------------------------------------------------------------


def send_compliance(stack: Stack, topic: str, payload: dict[str, object]) -> None:
    outcome = stack.sender.send(
        f"{stack.integrator_url}/webhooks/shopify", topic, payload, stack.options.shop
    )
    assert outcome.statuses == [200]


def customer_payload(order: dict[str, object], email: str, key: str) -> dict[str, object]:
    return {
        "shop_id": 1,
        "shop_domain": "demo-store.myshopify.com",
        "customer": {"id": 191167, "email": email, "phone": None},
        key: [int(legacy(order))],
    }


def test_data_request_exports_the_customers_orders_once(stack: Stack) -> None:
    mine = paid_order(stack, [TEE, MUG], email="ada@example.com")
    paid_order(stack, [TEE], email="someone.else@example.com")
    body = {**customer_payload(mine, "ada@example.com", "orders_requested")}
    body["data_request"] = {"id": 9999}
    send_compliance(stack, "customers/data_request", body)
    send_compliance(stack, "customers/data_request", body)  # a second delivery of it
    stack.drain()
    run_again(stack, "shopify.delivery")
    with stack.db.read() as session:
        exports = session.scalars(select(DataExport)).all()
        assert len(exports) == 1
        export = exports[0].payload
    assert [o["order_id"] for o in export["orders"]] == [legacy(mine)]
    (exported,) = export["orders"]
    assert exported["email"] == "ada@example.com"
    assert sorted(i["sku"] for i in exported["items"]) == sorted([TEE, MUG])
    assert exported["shipping_address"]["address1"] == "1 Sandbox Street"


SECRETS = (b"ada@example.com", b"7 Secret Lane")


def redacted_customer(stack: Stack) -> tuple[dict[str, object], dict[str, object]]:
    """A personalised order of ada@example.com, shipped (callbacks stored), then redacted."""
    personal = LineSpec("TEE-BLK-M-MONO", 1, properties={"Monogram": "ADA"})
    mine = stack.shop.create_order(
        [personal],
        email="ada@example.com",
        shipping_address=AddressSpec(address1="7 Secret Lane"),
    )
    notify(stack, "orders/paid", mine)
    stack.drain()
    stack.suppliers["printful"].advance(remote_id_of(stack, "printful"), "shipped")
    stack.drain()
    other = paid_order(stack, [MUG], email="someone.else@example.com")
    body = customer_payload(mine, "ada@example.com", "orders_to_redact")
    send_compliance(stack, "customers/redact", body)
    stack.drain()
    run_again(stack, "shopify.delivery")
    return mine, other


def bodies_holding_secrets(stack: Stack, shopify: bool) -> list[str]:
    with stack.db.read() as session:
        deliveries = session.scalars(select(WebhookDelivery)).all()
        return [
            f"{d.source} {d.topic}"
            for d in deliveries
            if (d.source == "shopify") == shopify
            and not d.topic.startswith("customers/")
            and any(secret in (d.body or b"") for secret in SECRETS)
        ]


def test_customer_redact_erases_orders_items_copies_and_shopify_deliveries(
    stack: Stack,
) -> None:
    mine, other = redacted_customer(stack)
    row = order_row(stack, mine)
    assert (row.email, row.shipping_address, row.redacted_at is not None) == (None, None, True)
    assert [item.properties for item in items_of(stack, mine)] == [{}]
    copies = [so.request_copy for so in supplier_orders_of(stack) if so.order_id == row.id]
    assert copies == [None]
    kept = order_row(stack, other)
    assert kept.email == "someone.else@example.com" and kept.shipping_address
    assert items_of(stack, other)[0].stage == "submitted"
    assert bodies_holding_secrets(stack, shopify=True) == []


def test_customer_redact_erases_supplier_callback_bodies(stack: Stack) -> None:
    redacted_customer(stack)
    assert bodies_holding_secrets(stack, shopify=False) == []


def test_shop_redact_removes_the_shops_orders(stack: Stack) -> None:
    paid_order(stack, [TEE, MUG])
    paid_order(stack, [MUG])
    payload = {"shop_id": 1, "shop_domain": stack.options.shop}
    send_compliance(stack, "shop/redact", payload)
    send_compliance(stack, "shop/redact", payload)
    stack.drain()
    run_again(stack, "shopify.delivery")
    with stack.db.read() as session:
        assert session.scalars(select(Order)).all() == []
        bodies = session.scalars(
            select(WebhookDelivery.body).where(WebhookDelivery.topic == "orders/paid")
        ).all()
    assert bodies == [None, None]
    assert items_of(stack) == []
    assert shop_row(stack).status == "redacted"


def test_stored_compliance_bodies_parse(stack: Stack) -> None:
    # the stored copy is the exact bytes Shopify signed, usable for the operator's records
    send_compliance(stack, "shop/redact", {"shop_id": 1, "shop_domain": stack.options.shop})
    with stack.db.read() as session:
        (raw,) = session.scalars(select(WebhookDelivery.body)).all()
    assert raw is not None and json.loads(raw)["shop_id"] == 1


def test_data_request_for_a_customer_without_orders_still_exports(stack: Stack) -> None:
    paid_order(stack, [TEE], email="someone.else@example.com")
    body = {
        "shop_id": 1,
        "shop_domain": stack.options.shop,
        "customer": {"id": 42, "email": "nobody@example.com", "phone": None},
        "orders_requested": [],
        "data_request": {"id": 31337},
    }
    send_compliance(stack, "customers/data_request", body)
    stack.drain()
    with stack.db.read() as session:
        (export,) = session.scalars(select(DataExport)).all()
        assert (export.request_id, export.payload["orders"]) == ("31337", [])


def test_shop_redact_leaves_other_shops_alone(stack: Stack) -> None:
    paid_order(stack, [TEE])
    with stack.db.write() as session:
        session.add(Shop(domain="other.myshopify.com", status="active"))
        session.add(
            Order(shop_domain="other.myshopify.com", shopify_order_id="77", email="o@example.com")
        )
    send_compliance(stack, "shop/redact", {"shop_id": 1, "shop_domain": stack.options.shop})
    stack.drain()
    with stack.db.read() as session:
        left = [(o.shop_domain, o.email) for o in session.scalars(select(Order))]
        other = session.scalars(select(Shop).where(Shop.domain == "other.myshopify.com")).one()
        assert (left, other.status) == ([("other.myshopify.com", "o@example.com")], "active")
