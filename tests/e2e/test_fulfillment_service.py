"""Fulfillment-service mode end to end: Shopify splits an order between the merchant's location
and ours, requests come both ways (webhook, callback notification) or are found by
reconciliation, and are answered once; cancellation requests, holds and moves stop our work."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from integrator.db.models import FulfillmentRequestAnswer, LineItem, SupplierOrder
from integrator.pipeline.reconcile import fulfillment_requests
from integrator.sandbox.shopify import LineSpec, VariantSpec
from integrator.sandbox.shopify.fulfillment_service import last_answer
from integrator.sandbox.stack import Stack, StackOptions

TEE, MUG = "TEE-BLK-M-DTG", "MUG-11OZ-WHT"
CANDLE = "CANDLE-OWN"  # the merchant's own product: not in the catalog
SERVICE = "Print on demand (integrator)"


@pytest.fixture
def stack(database_url: str) -> Iterator[Stack]:
    options = StackOptions(
        database_url=database_url,
        migrate=False,
        mode="fulfillment-service",
        bucket_size=1e6,
        restore_rate=1e6,
    )
    running = Stack(options)
    running.shop.add_product("Scented candle", variants=[VariantSpec(CANDLE)])
    yield running
    running.close()


def placed(stack: Stack, *lines: LineSpec) -> dict[str, Any]:
    """A paid order the merchant has not requested fulfillment of yet; orders/paid delivered."""
    order = stack.shop.create_order(list(lines))
    outcome = stack.send_webhook("orders/paid", order)
    # delivered, as Shopify delivers: a 503 first is the receiver's answer when the database
    # is slower than its 3 s (a loaded machine), and the delivery is sent again
    assert outcome.delivered and outcome.statuses[-1] == 200, outcome.statuses
    stack.drain()
    return order


def ours(stack: Stack, order: dict[str, Any]) -> dict[str, Any]:
    (fo,) = stack.our_fulfillment_orders(order)
    return fo


def merchants(order: dict[str, Any]) -> dict[str, Any]:
    (fo,) = [
        fo
        for fo in order["fulfillmentOrders"]
        if not fo["assignedLocation"]["location"]["isFulfillmentService"]
    ]
    return fo


def items(stack: Stack) -> list[tuple[str | None, str, str | None]]:
    with stack.db.read() as session:
        rows = session.scalars(select(LineItem).order_by(LineItem.id)).all()
        return [(row.sku, row.stage, row.supplier) for row in rows]


def answers(stack: Stack) -> list[tuple[str, bool, str | None, str]]:
    with stack.db.read() as session:
        rows = session.scalars(select(FulfillmentRequestAnswer).order_by(FulfillmentRequestAnswer.id))
        return [(r.kind, r.accepted, r.reason, r.message) for r in rows]


def test_an_order_split_between_the_merchant_and_us_makes_only_our_lines(stack: Stack) -> None:
    order = placed(stack, LineSpec(TEE, 2), LineSpec(CANDLE))
    assert items(stack) == [(TEE, "received", None), (CANDLE, "received", None)]

    stack.request_fulfillment(order)
    stack.drain()

    assert items(stack) == [(TEE, "submitted", "printful"), (CANDLE, "received", None)]
    fo = ours(stack, order)
    assert (fo["status"], fo["requestStatus"]) == ("IN_PROGRESS", "ACCEPTED")
    message = "Accepted; made by printful: 2 × Logo tee, black, M"
    assert last_answer(fo, "FULFILLMENT_REQUEST") == {"accepted": True, "message": message}
    assert answers(stack) == [("fulfillment", True, None, message)]
    # the merchant's line stays theirs, untouched
    assert (merchants(order)["status"], merchants(order)["requestStatus"]) == ("OPEN", "UNSUBMITTED")
    with stack.db.read() as session:
        candle = session.scalars(select(LineItem).where(LineItem.sku == CANDLE)).one()
        assert candle.disposition == "skip"
        assert "the merchant's own location" in (candle.reason or "")

    assert stack.advance_all("shipped") == 1
    stack.drain()

    (fulfillment,) = stack.shop.fulfillments_of(order["id"])
    assert [fo["id"] for fo in fulfillment["fulfillmentOrders"]] == [fo["id"]]
    assert [(li["lineItem"]["sku"], li["quantity"]) for li in fulfillment["fulfillmentLineItems"]] == [(TEE, 2)]
    assert merchants(order)["status"] == "OPEN"


def test_the_webhook_alone_and_the_notification_alone_each_bring_the_request(
    stack: Stack,
) -> None:
    by_webhook = placed(stack, LineSpec(TEE))
    by_ping = placed(stack, LineSpec(MUG))
    stack.shop.request_fulfillment(ours(stack, by_webhook)["id"])
    stack.shop.request_fulfillment(ours(stack, by_ping)["id"])

    from integrator.sandbox.shopify.topic_payloads import fulfillment_request_payload

    stack.send_topic(
        "fulfillment_orders/fulfillment_request_submitted",
        fulfillment_request_payload(ours(stack, by_webhook), None),
    )
    callback = ours(stack, by_ping)["assignedLocation"]["location"]["fulfillmentService"]
    assert stack.sender.notify_fulfillment_service(
        callback["callbackUrl"], "FULFILLMENT_REQUEST", stack.options.shop
    ) == 200
    stack.drain()

    assert sorted(items(stack)) == [(MUG, "submitted", "prodigi"), (TEE, "submitted", "printful")]
    assert [a[:2] for a in answers(stack)] == [("fulfillment", True)] * 2


def test_a_forged_notification_is_refused(stack: Stack) -> None:
    from integrator.sandbox.shopify import WebhookSender

    forger = WebhookSender("not-the-app-secret", http=stack.sender.http)

    status = forger.notify_fulfillment_service(
        f"{stack.integrator_url}/shopify/fulfillment_service", "FULFILLMENT_REQUEST", stack.options.shop
    )

    assert status == 401


def test_reconciliation_finds_requests_whose_webhook_and_ping_were_lost(stack: Stack) -> None:
    known = placed(stack, LineSpec(TEE))
    stack.shop.request_fulfillment(ours(stack, known)["id"])
    unknown = stack.shop.create_order([LineSpec(MUG)])  # its orders/paid was lost too
    stack.shop.request_fulfillment(ours(stack, unknown)["id"])

    dry = fulfillment_requests(stack.container, dry_run=True)
    report = fulfillment_requests(stack.container)
    stack.drain()
    again = fulfillment_requests(stack.container)

    assert (dry.found, dry.enqueued) == (2, 0)
    assert (report.found, report.enqueued) == (2, 2)
    assert sorted(items(stack)) == [(MUG, "submitted", "prodigi"), (TEE, "submitted", "printful")]
    assert (again.found, again.enqueued) == (0, 0)


def test_a_request_delivered_many_times_is_answered_once(stack: Stack) -> None:
    order = placed(stack, LineSpec(TEE))
    stack.shop.request_fulfillment(ours(stack, order)["id"])
    for _ in range(3):
        stack.notify(ours(stack, order), "FULFILLMENT_REQUEST")
    fulfillment_requests(stack.container)
    stack.drain()

    assert [a[:2] for a in answers(stack)] == [("fulfillment", True)]
    with stack.db.read() as session:
        assert len(session.scalars(select(SupplierOrder)).all()) == 1


def test_a_line_routing_cannot_place_rejects_the_request_for_the_merchant(stack: Stack) -> None:
    # the merchant stocked their own candle at our location too: no catalog entry for it
    stack.shop.stock(CANDLE, stack.shop.fulfillment_service(SERVICE)["location"])
    order = placed(stack, LineSpec(TEE), LineSpec(CANDLE))

    stack.request_fulfillment(order)
    stack.drain()

    fo = ours(stack, order)
    assert (fo["status"], fo["requestStatus"]) == ("OPEN", "REJECTED")
    seen = last_answer(fo, "FULFILLMENT_REQUEST")
    assert seen == {
        "reason": "INVALID_SKU",
        "message": "Cannot make this order: Scented candle: no catalog entry for sku CANDLE-OWN",
    }
    assert answers(stack) == [("fulfillment", False, "INVALID_SKU", seen["message"])]
    assert stack.supplier_orders() == []
    assert [stage for _sku, stage, _s in items(stack)] == ["received", "received"]


def test_a_cancellation_before_production_is_accepted_after_the_supplier_cancels(
    stack: Stack,
) -> None:
    order = placed(stack, LineSpec(TEE))
    stack.request_fulfillment(order)
    stack.drain()

    stack.request_cancellation(order)
    stack.drain()

    fo = ours(stack, order)
    assert (fo["status"], fo["requestStatus"]) == ("CLOSED", "CANCELLATION_ACCEPTED")
    assert last_answer(fo, "CANCELLATION_REQUEST") == {
        "accepted": True,
        "message": "Cancelled at printful",
    }
    with stack.db.read() as session:
        (supplier_order,) = session.scalars(select(SupplierOrder)).all()
        assert supplier_order.status == "cancelled"
    assert [stage for _sku, stage, _s in items(stack)] == ["received"]
    assert answers(stack)[-1][:2] == ("cancellation", True)


def test_a_cancellation_after_production_started_is_rejected_with_the_suppliers_reason(
    stack: Stack,
) -> None:
    order = placed(stack, LineSpec(TEE))
    stack.request_fulfillment(order)
    stack.drain()
    assert stack.advance_all("in_production") == 1
    stack.drain()

    stack.request_cancellation(order)
    stack.drain()

    fo = ours(stack, order)
    assert (fo["status"], fo["requestStatus"]) == ("IN_PROGRESS", "CANCELLATION_REJECTED")
    seen = last_answer(fo, "CANCELLATION_REQUEST")
    assert seen is not None and seen["accepted"] is False
    assert seen["message"].startswith("Production has started, cannot cancel: ")
    assert "printful" in seen["message"]
    assert answers(stack)[-1][:2] == ("cancellation", False)
    assert [stage for _sku, stage, _s in items(stack)] == ["in_production"]

    # the work goes on: the shipment is still fulfilled on our FO
    assert stack.advance_all("shipped") == 1
    stack.drain()
    assert len(stack.shop.fulfillments_of(order["id"])) == 1


def test_a_request_moved_away_before_it_was_made_makes_nothing(stack: Stack) -> None:
    order = placed(stack, LineSpec(TEE))
    fo = ours(stack, order)
    stack.shop.move_fulfillment_order(fo["id"], location_name="Shop location")
    stack.send_topic("fulfillment_orders/moved", {"original_fulfillment_order": {"id": fo["id"]}})
    stack.request_fulfillment(order)  # nothing of ours left to request
    stack.drain()

    assert stack.supplier_orders() == []
    with stack.db.read() as session:
        (item,) = session.scalars(select(LineItem)).all()
        assert (item.stage, item.disposition) == ("received", "skip")


def test_a_hold_on_an_accepted_fo_cancels_at_the_supplier(stack: Stack) -> None:
    order = placed(stack, LineSpec(TEE))
    stack.request_fulfillment(order)
    stack.drain()

    fo = stack.shop.hold_fulfillment_order(ours(stack, order)["id"], "OTHER", "address check")
    stack.send_topic("fulfillment_orders/placed_on_hold", {"fulfillment_order": {"id": fo["id"]}})
    stack.drain()

    with stack.db.read() as session:
        (supplier_order,) = session.scalars(select(SupplierOrder)).all()
        assert supplier_order.status == "cancelled"
        (item,) = session.scalars(select(LineItem)).all()
        assert (item.stage, item.disposition) == ("received", "wait")
        assert "on hold in Shopify" in (item.reason or "")


def test_the_notification_endpoint_refuses_what_shopify_would_not_send(stack: Stack) -> None:
    import base64
    import hashlib
    import hmac

    url = f"{stack.integrator_url}/shopify/fulfillment_service/fulfillment_order_notification"

    def post(body: bytes, **headers: str) -> int:
        digest = hmac.new(b"sandbox-client-secret", body, hashlib.sha256).digest()
        signed = {
            "X-Shopify-Hmac-Sha256": base64.b64encode(digest).decode(),
            "X-Shopify-Shop-Domain": stack.options.shop,
            "Content-Type": "application/json",
            **headers,
        }
        return stack.sender.http.post(url, content=body, headers=signed).status_code

    assert post(b'{"kind":"FULFILLMENT_REQUEST"}') == 200
    assert post(b'{"kind":"SOMETHING_ELSE"}') == 400
    assert post(b"[1, 2]") == 400
    assert post(b'{"kind":"FULFILLMENT_REQUEST"}', **{"X-Shopify-Shop-Domain": ""}) == 400
    assert post(b'{"kind":"FULFILLMENT_REQUEST"}', **{"X-Shopify-Hmac-Sha256": "bm9wZQ=="}) == 401


def test_a_public_app_shop_is_connected_as_a_fulfillment_service_on_first_exchange(
    database_url: str,
) -> None:
    from integrator.db.models import Job
    from integrator.pipeline.fulfillment_requests import connect_new_shop
    from integrator.pipeline.shop_settings import connection_of, remember_setup

    running = Stack(StackOptions(database_url=database_url, migrate=False))
    try:
        shop = running.options.shop
        remember_setup(running.db, shop, webhook_callback_url=None)  # the token's shop row

        first = connect_new_shop(running.container, shop)
        second = connect_new_shop(running.container, shop)
        running.drain()

        assert (first, second) == (True, False)
        connection = connection_of(running.db, shop)
        (service,) = running.shop.all_of("FulfillmentService")
        assert connection.fulfillment_mode == "fulfillment-service"
        assert connection.fulfillment_location_id == service["location"]["id"]
        assert service["serviceName"] == SERVICE and service["trackingSupport"] is True
        with running.db.read() as session:
            kinds = session.scalars(select(Job.kind).where(Job.status == "done")).all()
            assert list(kinds).count("shopify.fulfillment_service_setup") == 1
    finally:
        running.close()


def test_an_answer_shopify_refuses_because_another_job_answered_is_read_again(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy import update

    from integrator.db.models import Job
    from integrator.db.timestamps import utcnow
    from integrator.shopify import fulfillment_service as service_api

    order = placed(stack, LineSpec(TEE))
    fo_id = ours(stack, order)["id"]
    stack.shop.request_fulfillment(fo_id)
    real_accept = service_api.accept_fulfillment_request

    def another_job_first(client, shop, fulfillment_order_id, message):  # type: ignore[no-untyped-def]
        monkeypatch.setattr(service_api, "accept_fulfillment_request", real_accept)
        real_accept(client, shop, fulfillment_order_id, "accepted by another job")
        real_accept(client, shop, fulfillment_order_id, message)  # refused: already accepted

    monkeypatch.setattr(service_api, "accept_fulfillment_request", another_job_first)
    stack.notify(ours(stack, order), "FULFILLMENT_REQUEST")
    stack.drain()
    with stack.db.write() as session:  # the retry is due now, not in 2 s
        session.execute(update(Job).where(Job.status == "queued").values(run_at=utcnow()))
    stack.drain()

    with stack.db.read() as session:
        assert session.scalars(select(Job.status).where(Job.status == "dead")).all() == []
    assert items(stack) == [(TEE, "submitted", "printful")]
    assert answers(stack) == []  # ours was refused; the one that counted was not this job's
    assert ours(stack, order)["requestStatus"] == "ACCEPTED"
