"""The Printify adapter against Printify's published payloads (``printify_openapi.json``:
response examples in tests/fixtures/suppliers/printify_*.docs.json, webhook payloads built from
the ``x-webhooks`` schemas' example values in printify_*.schema.json), answered by ``responses``."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
import responses

from integrator.domain.model import (
    EventKind,
    ShipmentInfo,
    ShipmentItem,
    SupplierEvent,
    SupplierItemSpec,
    SupplierLine,
)
from integrator.domain.stages import Stage
from integrator.suppliers.http import CircuitBreaker, RateLimiter
from integrator.suppliers.printify import SKUS_ONLY, PrintifyAdapter
from tests.suppliers.conftest import fixture_bytes, fixture_json, make_harness

SHOP = "/v1/shops/815256"
API = f"https://api.printify.com{SHOP}"
WEBHOOK_ORDER = "5a96f649b2439217d070f507"  # resource.id of every x-webhooks example
MAY_17 = datetime(2022, 5, 17, 15, 0, tzinfo=UTC)


def printify(**options: Any) -> PrintifyAdapter:
    return PrintifyAdapter(
        "printify",
        {"api_key": "k", "shop_id": "815256", "callback_secret": "t", **options},
        breaker=CircuitBreaker(threshold=100),
        limiter=RateLimiter(10_000),
        get_wait_seconds=0,
    )


def docs_order(**changes: Any) -> dict[str, Any]:
    """``components.responses.order``'s example, with ``changes`` to its one line item."""
    order: dict[str, Any] = fixture_json("printify_get_order.docs.json")
    order["line_items"][0].update(changes.pop("line", {}))
    order.update(changes)
    return order


def lines_we_sent() -> list[SupplierLine]:
    return [
        SupplierLine("111", 2, SupplierItemSpec({"product_id": "5b05842f3921c9547531758d",
                                                 "variant_id": "17887"})),
        SupplierLine("222", 1, SupplierItemSpec({"product_id": "5b05842f3921c9547531758d",
                                                 "variant_id": "6202"})),
    ]


# --- duplicates: 409 / 8503 with the existing order ---------------------------------------------


@responses.activate
def test_a_repeated_external_id_finds_the_existing_order_from_the_409_in_two_calls() -> None:
    conflict = fixture_json("printify_error_order_conflict.docs.json")
    existing = conflict["order"]["id"]
    responses.add(responses.POST, f"{API}/orders.json", status=409, json=conflict)
    responses.add(responses.GET, f"{API}/orders/{existing}.json",
                  json=docs_order(id=existing, status="in-production"))
    harness = make_harness("printify")

    result = printify().submit(harness.request())

    assert (result.supplier_order_id, result.already_existed) == (existing, True)
    assert (result.raw_status, result.stage) == ("in-production", Stage.IN_PRODUCTION)
    assert [c.request.method for c in responses.calls] == ["POST", "GET"]  # never the list


def test_a_retried_submission_behind_many_newer_orders_costs_two_calls() -> None:
    harness = make_harness("printify")
    first = harness.request("2000")
    harness.adapter.submit(first)
    for number in range(60):
        harness.adapter.submit(harness.request(f"3{number:03d}"))
    calls: list[str] = []
    harness.adapter.http.session.hooks["response"].append(
        lambda response, *args, **kwargs: calls.append(
            f"{response.request.method} {response.request.path_url}"))

    again = harness.adapter.submit(first)

    assert again.already_existed
    assert harness.sandbox.created_count(first.external_ref) == 1
    assert calls == [
        "POST /v1/shops/815256/orders.json",
        f"GET /v1/shops/815256/orders/{again.supplier_order_id}.json",
    ]


@responses.activate
def test_a_validation_error_is_not_mistaken_for_a_duplicate() -> None:
    error = {"status": "error", "code": 8203, "message": "Validation failed.",
             "errors": {"reason": "Image has low quality", "code": 8203}}
    responses.add(responses.POST, f"{API}/orders.json", status=400, json=error)

    from integrator.suppliers.errors import SupplierRejected

    with pytest.raises(SupplierRejected) as refused:
        printify().submit(make_harness("printify").request())
    assert (refused.value.code, refused.value.reason) == ("8203", "Image has low quality")


@responses.activate
def test_send_to_production_answers_an_id_so_the_order_is_read_again() -> None:
    responses.add(responses.POST, f"{API}/orders.json", json={"id": "o1"})
    responses.add(responses.GET, f"{API}/orders/o1.json", json=docs_order(id="o1",
                  status="on-hold"))
    responses.add(responses.POST, f"{API}/orders/o1/send_to_production.json", json={"id": "o1"})
    responses.add(responses.GET, f"{API}/orders/o1.json",
                  json=docs_order(id="o1", status="sending-to-production"))

    result = printify(send_to_production=True).submit(make_harness("printify").request())

    assert (result.supplier_order_id, result.raw_status) == ("o1", "sending-to-production")


def test_each_line_is_sent_with_our_line_item_id_as_its_external_id() -> None:
    harness = make_harness("printify")
    request = harness.request()

    order = harness.adapter.submit(request)

    stored = harness.sandbox.orders[order.supplier_order_id]
    assert [line["metadata"]["external_id"] for line in stored["line_items"]] == ["111", "222"]
    # and Printify's SKUs are its own, not our variant ids
    assert [line["metadata"]["sku"] for line in stored["line_items"]] != ["6202", "6203"]


# --- shipments named by Printify SKUs ---------------------------------------------------------


def test_a_shipment_sku_is_never_matched_to_a_variant_id_without_asking_printify() -> None:
    adapter = printify()
    [event] = adapter.parse_callback(fixture_bytes("printify_order_shipment_created.schema.json"))

    resolved = adapter.resolve_shipment_items(event, lines_we_sent())  # 222 is variant 6202

    assert resolved.shipment is not None
    assert resolved.shipment.items == ()  # "6202" is a Printify SKU, not our variant 6202
    assert resolved.shipment.supplier_skus == ("6202",)


@responses.activate
def test_a_shipment_webhook_is_named_through_the_order_by_our_external_ids() -> None:
    responses.add(responses.GET, f"{API}/orders/{WEBHOOK_ORDER}.json", json=docs_order(
        id=WEBHOOK_ORDER, line={"metadata": {"sku": "6202", "external_id": "111"}}))
    adapter = printify()
    parsed = adapter.parse_callback(fixture_bytes("printify_order_shipment_created.schema.json"))

    [event] = adapter.complete_events(parsed)
    resolved = adapter.resolve_shipment_items(event, lines_we_sent())

    assert resolved == SupplierEvent(
        kind=EventKind.SHIPMENT,
        event_id="653b6be8-2ff7-4ab5-a7a6-6889a8b3bbf5",
        supplier_order_id=WEBHOOK_ORDER,
        external_ref=None,
        stage=Stage.SHIPPED,
        raw_status="order:shipment:created",
        line_item_ids=("111",),
        shipment=ShipmentInfo(
            shipment_id=f"{WEBHOOK_ORDER}:9400110200828911663274",
            carrier="USPS",
            tracking_number="9400110200828911663274",
            tracking_url="https://example.com/track/9400110200828911663274",
            items=(ShipmentItem("111", 2),),
            shipped_at=MAY_17,
        ),
        occurred_at=MAY_17,
    )


@responses.activate
def test_without_our_external_id_the_sku_is_matched_by_the_variant_we_sent() -> None:
    """The issue's case: variant 43424 has Printify SKU "901426000"."""
    body = json.loads(fixture_bytes("printify_order_shipment_created.schema.json"))
    body["resource"]["data"]["skus"] = ["901426000"]
    order = docs_order(id=WEBHOOK_ORDER, line={"product_id": "p-1", "variant_id": 43424,
                                               "metadata": {"sku": "901426000"}})
    responses.add(responses.GET, f"{API}/orders/{WEBHOOK_ORDER}.json", json=order)
    ours = [SupplierLine("333", 1, SupplierItemSpec({"product_id": "p-1", "variant_id": "43424"})),
            SupplierLine("444", 1, SupplierItemSpec({"product_id": "p-1", "variant_id": "901426000"}))]
    adapter = printify()

    [event] = adapter.complete_events(adapter.parse_callback(json.dumps(body).encode()))
    resolved = adapter.resolve_shipment_items(event, ours)

    assert resolved.shipment is not None
    assert resolved.shipment.items == (ShipmentItem("333", 1),)
    assert resolved.line_item_ids == ("333",)


@responses.activate
def test_a_sku_the_order_does_not_have_stays_unnamed_for_the_pipeline_to_flag() -> None:
    responses.add(responses.GET, f"{API}/orders/{WEBHOOK_ORDER}.json",
                  json=docs_order(id=WEBHOOK_ORDER, line={"metadata": {"sku": "other"}}))
    adapter = printify()
    parsed = adapter.parse_callback(fixture_bytes("printify_order_shipment_created.schema.json"))

    assert adapter.complete_events(parsed) == parsed


@responses.activate
def test_the_order_is_read_once_for_several_events_about_it() -> None:
    responses.add(responses.GET, f"{API}/orders/{WEBHOOK_ORDER}.json", json=docs_order(
        id=WEBHOOK_ORDER, line={"metadata": {"sku": "6202", "external_id": "111"}}))
    adapter = printify()
    created = adapter.parse_callback(fixture_bytes("printify_order_shipment_created.schema.json"))
    delivered = adapter.parse_callback(
        fixture_bytes("printify_order_shipment_delivered.schema.json"))

    events = adapter.complete_events([*created, *delivered])

    assert [e.line_item_ids for e in events] == [("111",), ("111",)]
    assert len(responses.calls) == 1


# --- deliveries and polls ---------------------------------------------------------------------


def test_a_delivery_webhook_names_its_parcel_and_when_it_arrived() -> None:
    [event] = printify().parse_callback(
        fixture_bytes("printify_order_shipment_delivered.schema.json"))

    assert event == SupplierEvent(
        kind=EventKind.DELIVERED,
        event_id="653b6be8-2ff7-4ab5-a7a6-6889a8b3bbf5",
        supplier_order_id=WEBHOOK_ORDER,
        stage=Stage.DELIVERED,
        raw_status="order:shipment:delivered",
        reason=SKUS_ONLY,
        shipment=ShipmentInfo(
            shipment_id=f"{WEBHOOK_ORDER}:9400110200828911663274",
            carrier="USPS",
            tracking_number="9400110200828911663274",
            tracking_url="https://example.com/track/9400110200828911663274",
            supplier_skus=("6202",),
        ),
        occurred_at=MAY_17,
    )


@responses.activate
def test_a_poll_names_shipped_lines_by_our_ids_and_reports_the_delivery() -> None:
    order = docs_order(line={"metadata": {"sku": "168699843", "external_id": "111"}})
    responses.add(responses.GET, f"{API}/orders/{order['id']}.json", json=order)

    events = printify().fetch_status(supplier_order_id=order["id"])

    shipment = ShipmentInfo(
        shipment_id=f"{order['id']}:94001116990045395649372",
        carrier="usps",
        tracking_number="94001116990045395649372",
        tracking_url="http://example.com/94001116990045395649372",
        items=(ShipmentItem("111", 0),),
    )
    assert [(e.kind, e.stage, e.line_item_ids, e.shipment) for e in events] == [
        (EventKind.SHIPMENT, Stage.SHIPPED, ("111",), shipment),
        (EventKind.DELIVERED, Stage.DELIVERED, ("111",), shipment),
        (EventKind.STATUS, Stage.SHIPPED, (), None),
    ]
    assert events[1].occurred_at == datetime(2017, 4, 18, 13, 24, 28, tzinfo=UTC)


@responses.activate
def test_the_published_order_has_no_external_id_so_polls_by_reference_find_nothing() -> None:
    assert "external_id" not in docs_order()
    assert printify().fetch_status(external_ref="1001-abc") == []
    assert len(responses.calls) == 0  # and no page of the order list is read for it


def test_the_hold_reason_is_what_the_status_means() -> None:
    body = json.loads(fixture_bytes("printify_order_updated.schema.json"))
    body["resource"]["data"]["status"] = "has-issues"

    [event] = printify().parse_callback(json.dumps(body).encode())

    assert (event.stage, event.reason) == (
        Stage.ON_HOLD,
        "Printify reports issues with the order: see it in the Printify dashboard",
    )
