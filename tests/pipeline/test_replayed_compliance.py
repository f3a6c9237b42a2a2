"""Issue 11 point 5: replayed compliance and uninstall webhooks are stored, flagged, not acted on.

Shopify's HMAC covers the body only, so a captured signed body verifies again under any
header. Each test replays a genuinely signed body the way an attacker could (another shop's
``X-Shopify-Shop-Domain``, an old ``X-Shopify-Triggered-At``) and checks that the other
shop's data is untouched and the delivery is kept with outcome ``flagged`` and its reason.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from integrator.db.models import Order, Shop, WebhookDelivery
from integrator.sandbox.stack import Stack, StackOptions
from integrator.settings import SettingsError, load_settings

from .conftest import legacy, paid_order

TEE = "TEE-BLK-M-DTG"
OTHER = "other-store.myshopify.com"


@pytest.fixture
def stack(database_url: str) -> Iterator[Stack]:
    running = Stack(StackOptions(database_url=database_url, migrate=False))
    yield running
    running.close()


def add_other_shop(stack: Stack) -> None:
    with stack.db.write() as session:
        session.add(Shop(domain=OTHER, status="active"))
        session.add(
            Order(shop_domain=OTHER, shopify_order_id="77", email="o@example.com", customer_id="5")
        )


def deliver(
    stack: Stack,
    topic: str,
    payload: dict[str, Any],
    *,
    header_shop: str,
    triggered_at: datetime | str | None = None,
) -> None:
    delivery = stack.sender.prepare(topic, payload, header_shop)
    if triggered_at is not None:
        text = (
            triggered_at
            if isinstance(triggered_at, str)
            else triggered_at.isoformat(timespec="microseconds").replace("+00:00", "Z")
        )
        delivery = dataclasses.replace(delivery, triggered_at=text)
    outcome = stack.sender.deliver(f"{stack.integrator_url}/webhooks/shopify", delivery)
    assert outcome.statuses == [200]  # stored: the sender must not retry it
    stack.drain()


def delivery_outcomes(stack: Stack, topic: str) -> list[tuple[str, str | None]]:
    with stack.db.read() as session:
        return [
            (row.outcome, row.outcome_detail)
            for row in session.scalars(
                select(WebhookDelivery).where(WebhookDelivery.topic == topic)
            )
        ]


def other_shop_state(stack: Stack) -> tuple[str, list[tuple[str | None, str | None]]]:
    with stack.db.read() as session:
        shop = session.scalars(select(Shop).where(Shop.domain == OTHER)).one()
        orders = [
            (o.email, o.customer_id)
            for o in session.scalars(select(Order).where(Order.shop_domain == OTHER))
        ]
        return shop.status, orders


def test_shop_redact_of_one_shop_replayed_under_another_shops_header_erases_nothing(
    stack: Stack,
) -> None:
    add_other_shop(stack)
    captured = {"shop_id": 1, "shop_domain": stack.options.shop}
    deliver(stack, "shop/redact", captured, header_shop=OTHER)
    assert other_shop_state(stack) == ("active", [("o@example.com", "5")])
    [(outcome, detail)] = delivery_outcomes(stack, "shop/redact")
    assert outcome == "flagged"
    assert detail == (
        f"the body's shop_domain {stack.options.shop!r} is not the header's shop {OTHER!r}:"
        " not acted on"
    )


def test_customer_redact_replayed_under_another_shops_header_erases_nothing(
    stack: Stack,
) -> None:
    add_other_shop(stack)
    captured = {
        "shop_id": 1,
        "shop_domain": stack.options.shop,
        "customer": {"id": 5, "email": "o@example.com", "phone": None},
        "orders_to_redact": [77],
    }
    deliver(stack, "customers/redact", captured, header_shop=OTHER)
    assert other_shop_state(stack) == ("active", [("o@example.com", "5")])
    assert [o for o, _ in delivery_outcomes(stack, "customers/redact")] == ["flagged"]


def test_app_uninstalled_replayed_under_another_shops_header_keeps_that_shop(
    stack: Stack,
) -> None:
    add_other_shop(stack)
    deliver(stack, "app/uninstalled", stack.shop.shop_payload(), header_shop=OTHER)
    assert other_shop_state(stack)[0] == "active"
    [(outcome, detail)] = delivery_outcomes(stack, "app/uninstalled")
    assert outcome == "flagged" and "myshopify_domain" in (detail or "")


def test_a_compliance_body_that_names_no_shop_is_not_acted_on(stack: Stack) -> None:
    order = paid_order(stack, [TEE], email="ada@example.com")
    payload = {"customer": {"id": 1, "email": "ada@example.com"}, "orders_to_redact": []}
    payload["orders_to_redact"] = [int(legacy(order))]
    deliver(stack, "customers/redact", payload, header_shop=stack.options.shop)
    with stack.db.read() as session:
        assert session.scalars(select(Order.email)).all() == ["ada@example.com"]
    assert delivery_outcomes(stack, "customers/redact") == [
        ("flagged", "the body names no shop (shop_domain): not acted on")
    ]


def test_a_shop_redact_triggered_longer_ago_than_the_window_is_stored_and_flagged(
    stack: Stack,
) -> None:
    paid_order(stack, [TEE])
    old = datetime.now(UTC) - timedelta(hours=49)
    payload = {"shop_id": 1, "shop_domain": stack.options.shop}
    deliver(stack, "shop/redact", payload, header_shop=stack.options.shop, triggered_at=old)
    with stack.db.read() as session:
        assert len(session.scalars(select(Order)).all()) == 1
    [(outcome, detail)] = delivery_outcomes(stack, "shop/redact")
    assert outcome == "flagged"
    assert "window 48 h" in (detail or "") and "49.0 h before it was received" in (detail or "")


def test_a_shop_redact_inside_the_window_is_acted_on(stack: Stack) -> None:
    paid_order(stack, [TEE])
    recent = datetime.now(UTC) - timedelta(hours=47)
    payload = {"shop_id": 1, "shop_domain": stack.options.shop}
    deliver(stack, "shop/redact", payload, header_shop=stack.options.shop, triggered_at=recent)
    with stack.db.read() as session:
        assert session.scalars(select(Order)).all() == []
    assert [o for o, _ in delivery_outcomes(stack, "shop/redact")] == ["processed"]


@pytest.mark.parametrize("triggered_at", ["", "yesterday"])
def test_an_uninstall_without_a_readable_trigger_time_is_not_acted_on(
    stack: Stack, triggered_at: str
) -> None:
    paid_order(stack, [TEE])
    deliver(
        stack,
        "app/uninstalled",
        stack.shop.shop_payload(),
        header_shop=stack.options.shop,
        triggered_at=triggered_at,
    )
    with stack.db.read() as session:
        shop = session.scalars(select(Shop).where(Shop.domain == stack.options.shop)).one()
        assert shop.status == "active" and shop.access_token_encrypted is not None
    assert [o for o, _ in delivery_outcomes(stack, "app/uninstalled")] == ["flagged"]


def test_the_window_is_a_setting(stack: Stack) -> None:
    assert load_settings({}).webhook_max_age == timedelta(hours=48)
    assert load_settings({"WEBHOOK_MAX_AGE_HOURS": "1"}).webhook_max_age == timedelta(hours=1)
    stack.container.settings = dataclasses.replace(
        stack.container.settings, webhook_max_age_hours=1
    )
    paid_order(stack, [TEE])
    two_hours_ago = datetime.now(UTC) - timedelta(hours=2)
    payload = {"shop_id": 1, "shop_domain": stack.options.shop}
    deliver(
        stack, "shop/redact", payload, header_shop=stack.options.shop, triggered_at=two_hours_ago
    )
    assert [o for o, _ in delivery_outcomes(stack, "shop/redact")] == ["flagged"]
    with stack.db.read() as session:
        assert len(session.scalars(select(Order)).all()) == 1


def test_a_bad_window_setting_is_named() -> None:
    with pytest.raises(SettingsError, match="WEBHOOK_MAX_AGE_HOURS"):
        load_settings({"WEBHOOK_MAX_AGE_HOURS": "two days"})
