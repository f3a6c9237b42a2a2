"""`integrator suppliers explain gelato|printify FILE`: every Gelato and Printify sample and
every payload example of their published documents, explained with exact events, through the
parsing code the callback endpoint and the polls use. (Gelato: gelato_v4_api_docs.md; Printify:
printify_openapi.json, webhook payloads built from its ``x-webhooks`` schemas' examples.)"""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner

from integrator.cli.main import cli
from integrator.suppliers.explain import explain_event, explain_payload
from integrator.suppliers.printify import SKUS_ONLY
from integrator.suppliers.registry import build_adapter
from tests.suppliers.conftest import FIXTURES, fixture_bytes, fixture_json

GELATO_DOCS_ORDER = "37365096-6628-4538-a9c2-fbf9892deb85"
GELATO_WEBHOOK_ORDER = "a6a1f9ce-2bdd-4a9e-9f8d-0009df0e24d9"
SPLIT_FIRST = "c3c8f7f5-a0e8-4014-a3fb-38a5375d2af8"
SPLIT_SECOND = "2b8b2b0d-1383-44ac-a650-17619b30a0dc"
PRINTIFY_ORDER = "5a96f649b2439217d070f507"
# request bodies and non-order answers of the documents: tests/sandbox_suppliers checks them
NOT_PAYLOADS = {
    "gelato_v4_create_order_request.docs.json",
    "gelato_v4_split_create_order_request.docs.json",
    "gelato_v4_patch_order_request.docs.json",
    "gelato_v4_patch_order_request_items.docs.txt",
    "gelato_v4_search_orders_request.docs.json",
    "printify_error_order_conflict.docs.json",
    "printify_orders_list.docs.json",  # a page of orders; each is explained below
}


def event(stage: str | None, items: list[str] | None = None, *, reason: str | None = None,
          hold: str | None = None, shipment: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"stage": stage, "hold": hold, "reason": reason, "items": items or [],
            "shipment": shipment}


def parcel(number: str, carrier: str, url: str, items: list[str]) -> dict[str, Any]:
    return {"tracking_number": number, "carrier": carrier, "tracking_url": url, "items": items}


def dhl(code: str) -> dict[str, Any]:
    return parcel(code, "DHL Express Domestic BR", f"http://example.com/tracking?code={code}",
                  ["{{MyItemId}}"])


UPS = ("12345678990", "UPS Surepost", "http://test.tracking.url")
BOTH = ["{{myItemId1}}", "{{myItemId2}}"]
PRINTIFY_PARCEL = parcel("9400110200828911663274", "USPS",
                         "https://example.com/track/9400110200828911663274", ["6202"])
PRINTIFY_DOCS_PARCEL = parcel("94001116990045395649372", "usps",
                              "http://example.com/94001116990045395649372", ["line-item-abc-001"])
NOTHING = [event(None)]  # understood, moves nothing


def gelato(kind: str, reference: str | None, order: str | None,
           events: list[dict[str, Any]]) -> dict[str, Any]:
    return {"kind": kind, "reference": reference, "supplier_order_id": order, "events": events}


EXPECTED: dict[tuple[str, str], dict[str, Any]] = {
    # --- Gelato webhooks ("Webhooks > Events" and "Orders > Webhooks") ----------------------
    ("gelato", "gelato_order_status_updated.docs.json"): gelato(
        "callback", "{{MyOrderId}}", GELATO_WEBHOOK_ORDER,
        # one item in two parcels: two shipments, each naming it; "shipped" needs no more
        [event("shipped", ["{{MyItemId}}"], shipment=dhl("code123")),
         event("shipped", ["{{MyItemId}}"], shipment=dhl("code234"))]),
    ("gelato", "gelato_order_item_status_updated.docs.json"): gelato(
        "callback", "{{MyOrderId}}", "e82885f8-f92a-4326-b2c7-77d010f6996f",
        [event("submitted", ["{{MyItemId}}"])]),
    ("gelato", "gelato_order_item_tracking_code_updated.docs.json"): gelato(
        "callback", "{{MyOrderId}}", GELATO_WEBHOOK_ORDER,
        [event("shipped", ["{{MyItemId}}"], shipment=dhl("code123"))]),
    ("gelato", "gelato_order_delivery_estimate_updated.docs.json"): gelato(
        "callback", "9AKJFFH372", GELATO_WEBHOOK_ORDER, NOTHING),
    ("gelato", "gelato_v4_split_order_status_updated_1.docs.json"): gelato(
        "callback", "83831IAKD2", SPLIT_FIRST, [event("submitted", ["poster-13x18"])]),
    ("gelato", "gelato_v4_split_order_status_updated_2.docs.json"): gelato(
        "callback", "83831IAKD2", SPLIT_SECOND,
        [event("submitted", ["phone-case"]), event("submitted", ["mug-15-oz"])]),
    ("gelato", "gelato_v4_split_order_item_status_updated_1.docs.json"): gelato(
        "callback", "83831IAKD2", SPLIT_FIRST, [event("submitted", ["poster-13x18"])]),
    ("gelato", "gelato_v4_split_order_item_status_updated_2.docs.json"): gelato(
        "callback", "83831IAKD2", SPLIT_SECOND, [event("submitted", ["phone-case"])]),
    ("gelato", "gelato_v4_split_order_item_status_updated_3.docs.json"): gelato(
        "callback", "83831IAKD2", SPLIT_SECOND, [event("submitted", ["mug-15-oz"])]),
    # catalog and store events: no order of ours, nothing to move
    **{
        ("gelato", f"gelato_{name}.docs.json"): gelato("callback", None, None, NOTHING)
        for name in (
            "catalog_product_stock_availability_updated", "store_product_created",
            "store_product_updated", "store_product_deleted", "store_product_template_created",
            "store_product_template_updated", "store_product_template_deleted",
        )
    },
    # --- Gelato orders ("Get order", "Create order", "Patch draft order" response examples) --
    ("gelato", "gelato_v4_get_order.docs.json"): gelato(
        "order", "{{myOrderId}}", GELATO_DOCS_ORDER,
        # tracking is in shipment.packages[]: one parcel with both items, which still say
        # "printed" (in production; never a step back)
        [event("shipped", BOTH, shipment=parcel(*UPS, BOTH)),
         event("in_production", ["{{myItemId1}}"]), event("in_production", ["{{myItemId2}}"])]),
    ("gelato", "gelato_v4_patch_order.docs.json"): gelato(
        "order", "{{myOrderId}}", GELATO_DOCS_ORDER,
        [event("shipped", BOTH, shipment=parcel(*UPS, BOTH)),
         event("in_production", ["{{myItemId1}}"]), event("in_production", ["{{myItemId2}}"])]),
    ("gelato", "gelato_v4_create_order.docs.json"): gelato(
        "order", "{{myOrderId}}", GELATO_DOCS_ORDER,
        [event("shipped", ["{{myItemId1}}"], shipment=parcel(*UPS, ["{{myItemId1}}"])),
         event("in_production", ["{{myItemId1}}"])]),
    ("gelato", "gelato_v4_split_create_order.docs.json"): gelato(
        "order", "83831IAKD2", SPLIT_FIRST, [event("submitted", ["poster-13x18"])]),
    # --- Printify webhooks (x-webhooks) ---------------------------------------------------
    ("printify", "printify_order_created.schema.json"): gelato(
        "callback", None, PRINTIFY_ORDER, NOTHING),
    ("printify", "printify_order_updated.schema.json"): gelato(
        "callback", None, PRINTIFY_ORDER, [event("in_production")]),
    ("printify", "printify_order_sent_to_production.schema.json"): gelato(
        "callback", None, PRINTIFY_ORDER, [event("submitted")]),
    ("printify", "printify_order_shipment_created.schema.json"): gelato(
        "callback", None, PRINTIFY_ORDER,
        [event("shipped", reason=SKUS_ONLY, shipment=PRINTIFY_PARCEL)]),
    ("printify", "printify_order_shipment_created.3p_representative.json"): gelato(
        "callback", None, PRINTIFY_ORDER,
        [event("shipped", reason=SKUS_ONLY, shipment=PRINTIFY_PARCEL)]),
    ("printify", "printify_order_shipment_delivered.schema.json"): gelato(
        "callback", None, PRINTIFY_ORDER,
        [event("delivered", reason=SKUS_ONLY, shipment=PRINTIFY_PARCEL)]),
    # --- Printify order (components.responses.order) ---------------------------------------
    ("printify", "printify_get_order.docs.json"): gelato(
        "order", None, PRINTIFY_ORDER,
        # the order carries no top-level external id: no reference to show
        [event("shipped", ["line-item-abc-001"], shipment=PRINTIFY_DOCS_PARCEL),
         event("delivered", ["line-item-abc-001"], shipment=PRINTIFY_DOCS_PARCEL),
         event("shipped")]),
}


@pytest.mark.parametrize(("supplier", "sample"), sorted(EXPECTED))
def test_every_sample_and_spec_example_is_explained_exactly(supplier: str, sample: str) -> None:
    assert explain_payload(supplier, fixture_bytes(sample)) == {
        "supplier": supplier, **EXPECTED[(supplier, sample)]}


def test_every_gelato_and_printify_fixture_is_covered() -> None:
    ours = {p.name for p in FIXTURES.iterdir() if p.name.startswith(("gelato_", "printify_"))}

    assert ours - NOT_PAYLOADS == {sample for _, sample in EXPECTED}


@pytest.mark.parametrize(("supplier", "sample"), sorted(
    key for key, value in EXPECTED.items() if value["kind"] == "callback"))
def test_explain_is_what_the_callback_endpoint_parses(supplier: str, sample: str) -> None:
    adapter = build_adapter(supplier, supplier, None, {"api_key": "k", "callback_secret": "t"})

    events = adapter.parse_callback(fixture_bytes(sample))

    assert [explain_event(e) for e in events] == EXPECTED[(supplier, sample)]["events"]


@pytest.mark.parametrize(("supplier", "sample"), sorted(
    key for key, value in EXPECTED.items() if value["kind"] == "order"))
def test_explain_is_what_a_status_poll_applies(supplier: str, sample: str) -> None:
    adapter = build_adapter(supplier, supplier, None, {"api_key": "k"})

    events = adapter.order_events(fixture_json(sample))

    assert [explain_event(e) for e in events] == EXPECTED[(supplier, sample)]["events"]


def test_each_order_of_the_printify_list_example_is_explained_as_an_order() -> None:
    [order] = fixture_json("printify_orders_list.docs.json")["data"]

    explained = explain_payload("printify", json.dumps(order).encode())

    assert explained["kind"] == "order"
    assert explained["supplier_order_id"] == "5a6e03bd2f7d8055768923c8"
    # the list example's line carries no external id: the parcel names the variant we sent
    assert explained["events"][0]["shipment"]["items"] == [
        "variant:5b05842f3921c9547531758d:17887", "168699843"]


@pytest.mark.parametrize("sample", sorted(NOT_PAYLOADS - {
    "gelato_v4_patch_order_request_items.docs.txt"}))
def test_a_request_body_or_a_list_is_refused_with_one_line(sample: str) -> None:
    supplier = sample.split("_", 1)[0]
    path = FIXTURES / sample

    result = CliRunner().invoke(cli, ["suppliers", "explain", supplier, str(path)])

    assert result.exit_code == 1
    assert result.output.count("\n") == 1
    assert f"neither a {supplier} callback nor a {supplier} order" in result.output


def test_the_command_prints_the_json_of_a_gelato_order() -> None:
    result = CliRunner().invoke(
        cli, ["suppliers", "explain", "gelato", str(FIXTURES / "gelato_v4_get_order.docs.json"),
              "--json"])

    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {
        "supplier": "gelato", **EXPECTED[("gelato", "gelato_v4_get_order.docs.json")]}


# --- Printify webhooks about something else than an order, built from the document ----------

OTHER_PRINTIFY_WEBHOOKS = {
    # (resource type in the example) → the order it names
    "shop:disconnected": None,
    "product:deleted": None,
    "product:created": None,
    "product:updated": None,
    "product:publish:started": None,
    "personalization-preview-task:processed": None,
    # a support request names its order in data.order_id
    "support-request:updated": PRINTIFY_ORDER,
}


def test_every_printify_webhook_is_a_fixture_or_in_the_table() -> None:
    from integrator.sandbox.suppliers.validation import load_document

    published = set(load_document("printify_openapi.json.gz")["x-webhooks"])
    fixtures = {"order:created", "order:updated", "order:sent-to-production",
                "order:shipment:created", "order:shipment:delivered"}
    assert published == fixtures | set(OTHER_PRINTIFY_WEBHOOKS)
    assert all(("printify", f"printify_{name.replace(':', '_').replace('-', '_')}.schema.json")
               in EXPECTED for name in fixtures)


@pytest.mark.parametrize("topic", sorted(OTHER_PRINTIFY_WEBHOOKS))
def test_a_printify_webhook_about_no_order_names_none_and_moves_nothing(topic: str) -> None:
    """A product's or a shop's id is not an order id: explain and the pipeline must not
    take it for one."""
    from tests.suppliers.test_explain import document_webhook_example

    body = document_webhook_example("printify_openapi.json.gz", topic)
    assert json.loads(body)["type"] == topic

    assert explain_payload("printify", body) == {
        "supplier": "printify", "kind": "callback", "reference": None,
        "supplier_order_id": OTHER_PRINTIFY_WEBHOOKS[topic], "events": NOTHING}
