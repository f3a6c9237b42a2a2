"""The Gelato adapter against Gelato's published payloads (``gelato_v4_api_docs.md``, verbatim
examples in tests/fixtures/suppliers/gelato_v4_*.docs.json), answered by ``responses``."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import responses

from integrator.domain.model import (
    Address,
    EventKind,
    PrintFile,
    ShipmentInfo,
    ShipmentItem,
    SupplierEvent,
    SupplierItemSpec,
    SupplierLine,
    SupplierOrderRequest,
)
from integrator.domain.stages import Stage
from integrator.suppliers.base import CancelResult
from integrator.suppliers.errors import SupplierRequestIncomplete
from integrator.suppliers.gelato import GelatoAdapter
from integrator.suppliers.http import CircuitBreaker, RateLimiter
from tests.suppliers.conftest import fixture_bytes, fixture_json

API = "https://order.gelatoapis.com"
DOCS_ORDER = "37365096-6628-4538-a9c2-fbf9892deb85"  # "Get order → Response example"
SPLIT_FIRST = "c3c8f7f5-a0e8-4014-a3fb-38a5375d2af8"  # "Example of split orders"
SPLIT_SECOND = "2b8b2b0d-1383-44ac-a650-17619b30a0dc"


def gelato() -> GelatoAdapter:
    return GelatoAdapter(
        "gelato",
        {"api_key": "k", "callback_secret": "t"},
        breaker=CircuitBreaker(threshold=100),
        limiter=RateLimiter(10_000),
        get_wait_seconds=0,
    )


def docs_order() -> dict[str, Any]:
    order: dict[str, Any] = fixture_json("gelato_v4_get_order.docs.json")
    return order


def serve_order(order: dict[str, Any]) -> None:
    responses.add(responses.GET, f"{API}/v4/orders/{order['id']}", json=order)


# --- tracking in GET order: shipment.packages[] ---------------------------------------------


@responses.activate
def test_a_poll_reads_tracking_from_shipment_packages_and_names_every_item_in_it() -> None:
    serve_order(docs_order())

    events = gelato().fetch_status(supplier_order_id=DOCS_ORDER)

    parcel = ShipmentInfo(
        shipment_id=f"{DOCS_ORDER}:12345678990",
        carrier="UPS Surepost",
        tracking_number="12345678990",
        tracking_url="http://test.tracking.url",
        items=(ShipmentItem("{{myItemId1}}", 0), ShipmentItem("{{myItemId2}}", 0)),
    )
    assert events == [
        SupplierEvent(
            kind=EventKind.SHIPMENT,
            event_id=f"poll:{DOCS_ORDER}:12345678990",
            supplier_order_id=DOCS_ORDER,
            external_ref="{{myOrderId}}",
            stage=Stage.SHIPPED,
            raw_status="shipped",
            line_item_ids=("{{myItemId1}}", "{{myItemId2}}"),
            shipment=parcel,
        ),
        # the example's items still say "printed": nothing moves back for it
        *[
            SupplierEvent(
                kind=EventKind.STATUS,
                event_id=f"poll:{DOCS_ORDER}:{item}:printed",
                supplier_order_id=DOCS_ORDER,
                external_ref="{{myOrderId}}",
                stage=Stage.IN_PRODUCTION,
                raw_status="printed",
                line_item_ids=(item,),
            )
            for item in ("{{myItemId1}}", "{{myItemId2}}")
        ],
    ]
    assert len(responses.calls) == 1  # connectedOrderIds is empty: nothing more to read


@responses.activate
def test_two_packages_are_two_shipments_each_with_its_own_items() -> None:
    order = docs_order()
    first, second = (item["id"] for item in order["items"])
    order["shipment"]["packages"] = [
        {"id": "p1", "orderItemIds": [first], "trackingCode": "T1", "trackingUrl": "https://t/1"},
        {"id": "p2", "orderItemIds": [second], "trackingCode": "T2", "trackingUrl": "https://t/2"},
        {"id": "p3", "orderItemIds": [second], "trackingCode": "", "trackingUrl": ""},
    ]
    serve_order(order)

    events = gelato().fetch_status(supplier_order_id=DOCS_ORDER)

    shipments = [(e.shipment.tracking_number, e.shipment.items) for e in events if e.shipment]
    assert shipments == [
        ("T1", (ShipmentItem("{{myItemId1}}", 0),)),
        ("T2", (ShipmentItem("{{myItemId2}}", 0),)),
    ]


@responses.activate
def test_a_package_naming_items_the_order_does_not_have_is_never_a_whole_order_shipment() -> None:
    order = docs_order()
    order["shipment"]["packages"][0]["orderItemIds"] = ["not-an-item-of-this-order"]
    serve_order(order)

    [shipment] = [e for e in gelato().fetch_status(supplier_order_id=DOCS_ORDER) if e.shipment]

    assert shipment.shipment is not None
    assert shipment.shipment.items == ()
    assert shipment.shipment.supplier_skus == ("not-an-item-of-this-order",)


@responses.activate
def test_a_poll_by_reference_searches_with_the_documented_filter_then_reads_the_order() -> None:
    responses.add(
        responses.POST,
        f"{API}/v4/orders:search",
        json={"orders": [{"id": DOCS_ORDER, "orderReferenceId": "{{myOrderId}}"}]},
        match=[
            responses.matchers.json_params_matcher(
                {"orderReferenceIds": ["{{myOrderId}}"], "limit": 10}
            )
        ],
    )
    serve_order(docs_order())

    events = gelato().fetch_status(external_ref="{{myOrderId}}")

    assert [e.kind for e in events] == [EventKind.SHIPMENT, EventKind.STATUS, EventKind.STATUS]


# --- split (connected) orders ----------------------------------------------------------------


def split_orders() -> tuple[dict[str, Any], dict[str, Any]]:
    """The docs' split example: the create answer (the poster's order, listing both ids), and
    its connected order with the phone case and the mug (from the docs' webhooks for it)."""
    first: dict[str, Any] = fixture_json("gelato_v4_split_create_order.docs.json")
    second = copy.deepcopy(first)
    second["id"] = SPLIT_SECOND
    poster = first["items"][0]
    second["items"] = [
        {**poster, "id": "b1", "itemReferenceId": "phone-case", "fulfillmentStatus": "shipped"},
        {**poster, "id": "b2", "itemReferenceId": "mug-15-oz", "fulfillmentStatus": "shipped"},
    ]
    second["fulfillmentStatus"] = "shipped"
    second["shipment"]["packages"] = [
        {"id": "pk", "orderItemIds": ["b1", "b2"], "trackingCode": "9400111", "trackingUrl": "u"}
    ]
    return first, second


@responses.activate
def test_a_poll_follows_connected_orders_that_share_our_reference() -> None:
    first, second = split_orders()
    serve_order(first)
    serve_order(second)

    events = gelato().fetch_status(supplier_order_id=SPLIT_FIRST)

    assert [(e.kind, e.supplier_order_id, e.line_item_ids, e.stage) for e in events] == [
        (EventKind.STATUS, SPLIT_FIRST, ("poster-13x18",), Stage.SUBMITTED),
        (EventKind.SHIPMENT, SPLIT_SECOND, ("phone-case", "mug-15-oz"), Stage.SHIPPED),
    ]
    assert {e.external_ref for e in events} == {"83831IAKD2"}
    assert [call.request.url for call in responses.calls] == [
        f"{API}/v4/orders/{SPLIT_FIRST}",
        f"{API}/v4/orders/{SPLIT_SECOND}",
    ]


@responses.activate
def test_a_connected_order_with_another_reference_is_not_ours() -> None:
    first, second = split_orders()
    second["orderReferenceId"] = "someone-else"
    serve_order(first)
    serve_order(second)

    events = gelato().fetch_status(supplier_order_id=SPLIT_FIRST)

    assert {e.supplier_order_id for e in events} == {SPLIT_FIRST}


@pytest.mark.parametrize(
    ("sample", "order_id", "items"),
    [
        ("gelato_v4_split_order_status_updated_1.docs.json", SPLIT_FIRST, ["poster-13x18"]),
        (
            "gelato_v4_split_order_status_updated_2.docs.json",
            SPLIT_SECOND,
            ["phone-case", "mug-15-oz"],
        ),
    ],
)
def test_each_connected_orders_webhook_names_its_own_items_and_our_reference(
    sample: str, order_id: str, items: list[str]
) -> None:
    events = gelato().parse_callback(fixture_bytes(sample))

    assert [(e.supplier_order_id, e.external_ref, e.stage, e.line_item_ids) for e in events] == [
        (order_id, "83831IAKD2", Stage.SUBMITTED, (item,)) for item in items
    ]


# --- webhooks name parcels ---------------------------------------------------------------------


def test_order_status_updated_gives_one_shipment_per_parcel_with_every_item_in_it() -> None:
    body = json.loads(fixture_bytes("gelato_order_status_updated.docs.json"))
    item = body["items"][0]
    body["items"].append({**item, "itemReferenceId": "second", "fulfillments": [
        item["fulfillments"][0]]})

    events = gelato().parse_callback(json.dumps(body).encode())

    assert [(e.shipment.tracking_number, e.line_item_ids) for e in events if e.shipment] == [
        ("code123", ("{{MyItemId}}", "second")),
        ("code234", ("{{MyItemId}}",)),
    ]
    assert all(e.kind is EventKind.SHIPMENT for e in events)  # shipped items need no status


@responses.activate
def test_a_tracking_code_event_is_completed_with_every_item_of_its_package() -> None:
    body = fixture_bytes("gelato_order_item_tracking_code_updated.docs.json")
    order = docs_order()
    order_id = "a6a1f9ce-2bdd-4a9e-9f8d-0009df0e24d9"  # the webhook example's orderId
    order["id"] = order_id
    order["items"][0]["itemReferenceId"] = "{{MyItemId}}"
    order["shipment"]["packages"][0]["trackingCode"] = "code123"
    serve_order(order)
    adapter = gelato()

    [parsed] = adapter.parse_callback(body)
    [completed] = adapter.complete_events([parsed])

    assert parsed.line_item_ids == ("{{MyItemId}}",)
    assert completed.line_item_ids == ("{{MyItemId}}", "{{myItemId2}}")
    assert completed.shipment is not None and parsed.shipment is not None
    assert completed.shipment == ShipmentInfo(
        shipment_id=f"{order_id}:code123",
        carrier="DHL Express Domestic BR",
        tracking_number="code123",
        tracking_url="http://example.com/tracking?code=code123",
        items=(ShipmentItem("{{MyItemId}}", 0), ShipmentItem("{{myItemId2}}", 0)),
    )
    assert completed.dedupe_key == parsed.dedupe_key  # the same parcel from every source


@responses.activate
def test_a_tracking_code_event_for_an_unknown_order_stays_as_it_was() -> None:
    body = fixture_bytes("gelato_order_item_tracking_code_updated.docs.json")
    responses.add(
        responses.GET,
        f"{API}/v4/orders/a6a1f9ce-2bdd-4a9e-9f8d-0009df0e24d9",
        status=404,
        json={"code": "not_found", "message": "Order not found."},
    )
    adapter = gelato()
    parsed = adapter.parse_callback(body)

    assert adapter.complete_events(parsed) == parsed


# --- every documented required address field ---------------------------------------------------


def order_to(address: Address) -> SupplierOrderRequest:
    spec = SupplierItemSpec({"product_uid": "flat_a3"}, (PrintFile("default", "https://x/a.png"),))
    return SupplierOrderRequest(
        external_ref="1001-abc",
        shop="s.myshopify.com",
        order_id="1001",
        order_name="#1001",
        recipient=address,
        lines=(SupplierLine("111", 1, spec),),
    )


FULL = Address(
    name="Paul Smith",
    address1="451 Clarkson Ave",
    city="New York",
    province_code="NY",
    zip="11203",
    country_code="US",
    email="paul.smith@email.com",
)


@pytest.mark.parametrize(
    ("address", "named"),
    [
        (Address(**{**FULL.__dict__, "email": ""}), "shippingAddress.email (missing)"),
        (
            Address(**{**FULL.__dict__, "province_code": ""}),
            "shippingAddress.state (missing; required for US)",
        ),
        (
            Address(**{**FULL.__dict__, "province_code": "", "country_code": "AU"}),
            "shippingAddress.state (missing; required for AU)",
        ),
        (
            Address(**{**FULL.__dict__, "province_code": "", "country_code": "CA"}),
            "shippingAddress.state (missing; required for CA)",
        ),
        (Address(**{**FULL.__dict__, "zip": ""}), "shippingAddress.postCode (missing)"),
        (
            Address(**{**FULL.__dict__, "country_code": "usa"}),
            "shippingAddress.country as two capital letters (got 'usa')",
        ),
        (
            Address(**{**FULL.__dict__, "address1": "x" * 36}),
            "shippingAddress.addressLine1 of at most 35 characters",
        ),
    ],
)
@responses.activate
def test_an_address_gelato_would_refuse_is_held_before_anything_is_sent(
    address: Address, named: str
) -> None:
    with pytest.raises(SupplierRequestIncomplete) as held:
        gelato().submit(order_to(address))

    assert held.value.reason == f"Gelato needs {named} (Create order → ShippingAddressObject)"
    assert len(responses.calls) == 0


@responses.activate
def test_a_complete_address_sends_every_field_and_no_empty_ones() -> None:
    responses.add(responses.POST, f"{API}/v4/orders:search", json={"orders": []})
    created = {"id": "new", "fulfillmentStatus": "created"}
    responses.add(responses.POST, f"{API}/v4/orders", json=created)
    address = Address(**{**FULL.__dict__, "province_code": "", "country_code": "DE"})

    result = gelato().submit(order_to(address))

    assert result.supplier_order_id == "new"
    sent = json.loads(responses.calls[1].request.body or b"{}")
    assert sent["shippingAddress"] == {
        "firstName": "Paul",
        "lastName": "Smith",
        "addressLine1": "451 Clarkson Ave",
        "city": "New York",
        "postCode": "11203",
        "country": "DE",
        "email": "paul.smith@email.com",
    }


# --- cancel ------------------------------------------------------------------------------------


@responses.activate
def test_cancel_after_printing_started_is_a_named_refusal() -> None:
    responses.add(
        responses.POST,
        f"{API}/v4/orders/{DOCS_ORDER}:cancel",
        status=409,
        json={"code": "conflict", "message": "at least one of the items is in 'printed' status"},
    )

    outcome = gelato().cancel(DOCS_ORDER)

    assert outcome.result is CancelResult.TOO_LATE
    assert outcome.reason == (
        f"Gelato refused to cancel order {DOCS_ORDER} (409): printing has started; "
        "Gelato said: at least one of the items is in 'printed' status"
    )


@responses.activate
def test_cancel_of_an_unknown_order_is_not_found() -> None:
    responses.add(responses.POST, f"{API}/v4/orders/nope:cancel", status=404, body=b"")

    assert gelato().cancel("nope").result is CancelResult.NOT_FOUND
