"""The pure answers of a fulfillment service: accept a request when routing places every line
(naming the suppliers), reject it with the reason the merchant sees; accept a cancellation
when nothing is still being made, reject it with the supplier's answer otherwise."""

from __future__ import annotations

from dataclasses import replace

from integrator.domain.model import EnrichedOrder, FulfillmentOrder, FulfillmentOrderLine
from integrator.routing.assignment import FulfillmentMode, Ownership
from integrator.routing.fulfillment_requests import (
    ItemAtSupplier,
    RejectionReason,
    answer_cancellation_request,
    answer_fulfillment_request,
)
from integrator.routing.router import route_order
from integrator.store_config.store import StoreConfig
from tests.routing.routing_builders import catalog_entry, line, make_config, order

RULES = [
    {"name": "tees", "match": {"product_type": "T-Shirt"}, "supplier": "printful"},
    {
        "name": "posters to Europe",
        "match": {"product_type": "Poster", "ship_to_country": ["DE", "FR"]},
        "supplier": "gelato",
    },
]
CATALOG = [
    catalog_entry("TEE", "printful", product_type="T-Shirt"),
    catalog_entry("POSTER", "gelato", product_type="Poster"),
    catalog_entry("MUG", "prodigi", product_type="Mug"),
]
SERVICE = Ownership(FulfillmentMode.FULFILLMENT_SERVICE, ("77",), accepting=True)


def config() -> StoreConfig:
    return make_config(RULES, CATALOG)


def with_fo(enriched: EnrichedOrder, request_status: str = "SUBMITTED") -> EnrichedOrder:
    fo = FulfillmentOrder(
        id="gid://shopify/FulfillmentOrder/9",
        status="OPEN",
        request_status=request_status,
        location_id="77",
        location_name="Print on demand (integrator)",
        fulfillment_service_location=True,
        lines=tuple(
            FulfillmentOrderLine(f"gid://shopify/FulfillmentOrderLineItem/{n}", ln.line_item_id, ln.quantity, ln.quantity)
            for n, ln in enumerate(enriched.lines)
        ),
    )
    return replace(enriched, fulfillment_orders=(fo,), fulfillment_orders_known=True)


def answer(enriched: EnrichedOrder) -> tuple[bool, RejectionReason | None, str]:
    decisions = {d.line_item_id: d for d in route_order(enriched, config(), SERVICE)}
    result = answer_fulfillment_request(enriched.fulfillment_orders[0], enriched, decisions, config())
    return result.accept, result.reason, result.message


def test_a_request_routing_places_entirely_is_accepted_naming_the_suppliers() -> None:
    enriched = with_fo(
        order(
            line("1", sku="TEE", title="Tee", quantity=2),
            line("2", sku="POSTER", title="Poster"),
            country="DE",
        )
    )

    assert answer(enriched) == (True, None, "Accepted; made by gelato: Poster; printful: 2 × Tee")


def test_a_line_without_a_catalog_entry_rejects_the_request() -> None:
    enriched = with_fo(order(line("1", sku="TEE", title="Tee"), line("2", sku="CANDLE", title="Candle")))

    accepted, reason, message = answer(enriched)

    assert (accepted, reason) == (False, RejectionReason.INVALID_SKU)
    assert message == "Cannot make this order: Candle: no catalog entry for sku CANDLE"


def test_no_rule_for_the_product_is_an_ineligible_product() -> None:
    enriched = with_fo(order(line("1", sku="MUG", title="Mug")))

    assert answer(enriched) == (
        False,
        RejectionReason.INELIGIBLE_PRODUCT,
        "Cannot make this order: Mug: no routing rule takes it",
    )


def test_a_destination_no_rule_ships_to_is_an_undeliverable_destination() -> None:
    enriched = with_fo(order(line("1", sku="POSTER", title="Poster"), country="US"))

    assert answer(enriched) == (
        False,
        RejectionReason.UNDELIVERABLE_DESTINATION,
        "Cannot make this order: Poster: no supplier ships it to US",
    )


def test_no_shipping_address_is_an_incorrect_address() -> None:
    enriched = with_fo(order(line("1", sku="TEE", title="Tee"), country=None))

    accepted, reason, _message = answer(enriched)

    assert (accepted, reason) == (False, RejectionReason.INCORRECT_ADDRESS)


def test_without_the_what_if_a_submitted_request_only_waits() -> None:
    enriched = with_fo(order(line("1", sku="TEE", title="Tee")))

    (decision,) = route_order(enriched, config(), replace(SERVICE, accepting=False))

    assert (decision.disposition.value, decision.reason) == (
        "wait",
        "fulfillment requested at Print on demand (integrator): being answered",
    )


def test_a_cancellation_is_accepted_when_nothing_is_being_made() -> None:
    items = [ItemAtSupplier("Tee", "printful", stopped=True), ItemAtSupplier("Mug", None, stopped=True)]

    result = answer_cancellation_request("fo", items)
    nothing_sent = answer_cancellation_request("fo", [ItemAtSupplier("Tee", None, stopped=True)])

    assert (result.accept, result.message) == (True, "Cancelled at printful")
    assert (nothing_sent.accept, nothing_sent.message) == (
        True,
        "Cancelled; nothing had been sent to a supplier",
    )


def test_a_cancellation_is_rejected_with_the_suppliers_answer() -> None:
    items = [
        ItemAtSupplier("Tee", "printful", stopped=False, supplier_answer="Only pending orders can be canceled"),
        ItemAtSupplier("Mug", "prodigi", stopped=True),
    ]

    result = answer_cancellation_request("fo", items)

    assert (result.accept, result.message) == (
        False,
        "Production has started, cannot cancel: Tee at printful: Only pending orders can be canceled",
    )
