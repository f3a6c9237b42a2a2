"""`integrator suppliers explain`: every Printful and Prodigi sample and spec example explained
with exact events, through the same parsing code the callback endpoint and the polls use."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from integrator.cli.main import cli
from integrator.suppliers.explain import explain_event, explain_payload
from integrator.suppliers.registry import build_adapter
from tests.sandbox_suppliers.test_prodigi import EXAMPLES as PRODIGI_REQUEST_EXAMPLES
from tests.suppliers.conftest import FIXTURES, fixture_bytes, fixture_json

PF_ORDER = {"reference": "4235234213", "supplier_order_id": "13"}


def status(stage: str | None, *, hold: str | None = None, reason: str | None = None,
           items: list[str] | None = None) -> dict[str, Any]:
    return {"stage": stage, "hold": hold, "reason": reason, "items": items or [],
            "shipment": None}


PF_SHIPPED = {
    "stage": "shipped", "hold": None, "reason": None, "items": ["item-1"],
    "shipment": {
        "tracking_number": "0",  # the spec's example is the integer 0
        "carrier": "FEDEX",
        "tracking_url": "https://www.fedex.com/fedextrack/?tracknumbers=0000000000",
        "items": ["item-1"],
    },
}
PRODIGI_POSTMAN_SHIPMENT = {
    "stage": "shipped", "hold": None, "reason": None,
    "items": ["ori_1142184", "ori_1142185"],
    "shipment": {
        "tracking_number": "1257TEST874983",
        "carrier": "USPS",
        "tracking_url": "https://tools.usps.com/go/TrackConfirmAction?qtc_tLabels1=1257TEST874983",
        "items": ["ori_1142184", "ori_1142185"],
    },
}
EXPECTED: dict[tuple[str, str], dict[str, Any]] = {
    **{
        ("printful", f"printful_v1_package_shipped.{v}.json"): {
            "kind": "callback", **PF_ORDER, "events": [PF_SHIPPED]}
        for v in ("full", "trimmed")
    },
    **{
        ("printful", f"printful_v1_order_failed.{v}.json"): {
            "kind": "callback", **PF_ORDER, "events": [status("failed", reason="<string>")]}
        for v in ("full", "trimmed")
    },
    **{
        ("printful", f"printful_v1_order_canceled.{v}.json"): {
            "kind": "callback", **PF_ORDER, "events": [status("cancelled", reason="<string>")]}
        for v in ("full", "trimmed")
    },
    **{
        ("printful", f"printful_v1_order_put_hold.{v}.json"): {
            "kind": "callback", **PF_ORDER,
            "events": [status("on_hold", hold="placed", reason="<string>")]}
        for v in ("full", "trimmed")
    },
    **{
        ("printful", f"printful_v1_order_updated.{v}.json"): {
            "kind": "callback", **PF_ORDER, "events": [status("submitted")]}
        for v in ("full", "trimmed")
    },
    ("printful", "printful_v2_order_created.docs.json"): {
        "kind": "callback", "reference": None, "supplier_order_id": "11111",
        "events": [status("submitted")],
    },
    ("printful", "printful_v2_shipment_sent.schema.json"): {
        "kind": "callback", "reference": "<string>", "supplier_order_id": "0",
        "events": [{
            "stage": "shipped", "hold": None,
            "reason": "the payload names no items: they are read from /v2/orders/{id}/shipments",
            "items": [],
            "shipment": {"tracking_number": "<string>", "carrier": None, "tracking_url": None,
                         "items": []},
        }],
    },
    ("prodigi", "prodigi_callback_stage_changed_inprogress.docs.json"): {
        "kind": "callback", "reference": "1", "supplier_order_id": "ord_1469466",
        "events": [status("submitted")],
    },
    ("prodigi", "prodigi_get_order_by_id.postman.json"): {
        "kind": "order", "reference": "ljb-test-order", "supplier_order_id": "ord_123456",
        # "Complete" covers exactly the items its shipments name
        "events": [PRODIGI_POSTMAN_SHIPMENT,
                   status("shipped", items=["ori_1142184", "ori_1142185"])],
    },
    ("prodigi", "prodigi_create_order_response.docs.json"): {
        "kind": "order", "reference": "MyMerchantReference1", "supplier_order_id": "ord_840797",
        "events": [status("submitted")],
    },
}


@pytest.mark.parametrize(("supplier", "sample"), sorted(EXPECTED))
def test_every_sample_and_spec_example_is_explained_exactly(supplier: str, sample: str) -> None:
    assert explain_payload(supplier, fixture_bytes(sample)) == {
        "supplier": supplier, **EXPECTED[(supplier, sample)]}


def test_every_printful_and_prodigi_fixture_is_covered() -> None:
    ours = {p.name for p in FIXTURES.iterdir() if p.name.startswith(("printful_", "prodigi_"))}

    # request bodies are not payloads to explain: tests/sandbox_suppliers validates them
    assert ours - set(PRODIGI_REQUEST_EXAMPLES) == {sample for _, sample in EXPECTED}


def test_a_printful_get_order_answer_is_explained_as_an_order() -> None:
    """v1 ``GET /orders/{id}`` answers ``{code, result: order}`` with its shipments."""
    callback = fixture_json("printful_v1_package_shipped.full.json")["data"]
    order = {**callback["order"], "shipments": [callback["shipment"]]}

    explained = explain_payload("printful", json.dumps({"code": 200, "result": order}).encode())

    assert explained == {
        "supplier": "printful", "kind": "order", **PF_ORDER,
        "events": [PF_SHIPPED, status("submitted")],
    }


@pytest.mark.parametrize(("supplier", "sample"), sorted(
    key for key, value in EXPECTED.items() if value["kind"] == "callback"))
def test_explain_is_what_the_callback_endpoint_parses(supplier: str, sample: str) -> None:
    adapter = build_adapter(supplier, supplier, None, {"api_key": "k", "callback_secret": "t"})

    events = adapter.parse_callback(fixture_bytes(sample))

    assert [explain_event(e) for e in events] == EXPECTED[(supplier, sample)]["events"]


def run(*args: str, env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(cli, ["suppliers", "explain", *args], env=env)


def test_cli_prints_the_json_object_without_database_or_configuration(tmp_path: Path) -> None:
    sample = str(FIXTURES / "printful_v1_order_put_hold.trimmed.json")
    env = {"INTEGRATOR_CONFIG_DIR": str(tmp_path / "nowhere"),
           "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}

    result = run("printful", sample, "--json", env=env)

    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {
        "supplier": "printful", **EXPECTED[("printful", "printful_v1_order_put_hold.trimmed.json")]}


def test_cli_text_output_says_the_same() -> None:
    result = run("prodigi", str(FIXTURES / "prodigi_get_order_by_id.postman.json"))

    assert result.exit_code == 0
    assert result.output == (
        "prodigi order: reference ljb-test-order, supplier order ord_123456\n"
        "  - stage shipped; items ori_1142184, ori_1142185; shipment USPS 1257TEST874983 "
        "https://tools.usps.com/go/TrackConfirmAction?qtc_tLabels1=1257TEST874983 "
        "items ori_1142184, ori_1142185\n"
        "  - stage shipped; items ori_1142184, ori_1142185\n"
    )


@pytest.mark.parametrize(
    ("supplier", "content", "message"),
    [
        ("printful", b"[", "not a printful payload: callback body is not JSON"),
        ("printful", b"[1, 2]", "not a printful payload: callback body is not a JSON object"),
        ("printful", b'{"hello": "world"}',
         "not a printful payload: neither a printful callback nor a printful order"),
        ("prodigi", b'{"specversion": "1.0", "type": "com.prodigi.x", "id": "evt_1"}',
         "not a prodigi payload: callback field 'data' missing or not dict"),
    ],
)
def test_cli_exits_1_with_one_line_for_a_payload_it_cannot_read(
    tmp_path: Path, supplier: str, content: bytes, message: str
) -> None:
    path = tmp_path / "payload.json"
    path.write_bytes(content)

    result = run(supplier, str(path), "--json")

    assert result.exit_code == 1
    [line] = result.output.splitlines()
    assert line.startswith(f"Error: {path}: {message}")


def test_cli_names_an_unknown_supplier_and_a_missing_file(tmp_path: Path) -> None:
    unknown = run("acme", str(FIXTURES / "printful_v2_order_created.docs.json"))
    missing = run("printful", str(tmp_path / "nope.json"))

    assert (unknown.exit_code, missing.exit_code) == (1, 1)
    assert unknown.output.splitlines() == [
        "Error: unknown supplier adapter 'acme'; known: ['gelato', 'printful', 'printify', "
        "'prodigi']"]
    assert missing.output.splitlines() == [f"Error: {tmp_path / 'nope.json'}: cannot read: "
                                           "No such file or directory"]


# --- Printful webhooks the samples folder lacks, built from the v1 document's examples -------


def example_of(document: dict[str, Any], schema: dict[str, Any]) -> Any:
    """An instance made of the schema's ``example`` values (``<string>`` where a string has
    none), the way the samples' ``.full.json`` files were built."""
    if "$ref" in schema:
        node: Any = document
        for part in schema["$ref"][2:].split("/"):
            node = node[part]
        return example_of(document, node)
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            value = example_of(document, part)
            if isinstance(value, dict):
                merged.update(value)
        return merged
    if "example" in schema:
        return schema["example"]
    if schema.get("enum"):
        return schema["enum"][0]  # the v2 document gives event types as a one-value enum
    if "properties" in schema:
        return {k: example_of(document, v) for k, v in schema["properties"].items()}
    if schema.get("type") == "array":
        return [example_of(document, schema.get("items", {}))]
    return {"integer": 0, "number": 0, "boolean": False}.get(schema.get("type", ""), "<string>")


def printful_v1_webhook_example(event: str) -> bytes:
    return document_webhook_example("printful_v1_openapi.json.gz", event)


def document_webhook_example(document_name: str, event: str) -> bytes:
    from integrator.sandbox.suppliers.validation import body_schema_pointer, load_document

    document = load_document(document_name)
    pointer = body_schema_pointer(document, f"/x-webhooks/{event}/post/requestBody")
    node: Any = document
    for part in pointer[1:].split("/"):
        node = node[part.replace("~1", "/")]
    return json.dumps(example_of(document, node)).encode()


def test_printful_order_remove_hold_from_the_document_releases_the_hold() -> None:
    body = printful_v1_webhook_example("order_remove_hold")
    assert json.loads(body)["type"] == "order_remove_hold"

    assert explain_payload("printful", body) == {
        "supplier": "printful", "kind": "callback", **PF_ORDER,
        # the example order is a draft: the pipeline confirms it (options.confirm) first
        "events": [status("submitted", hold="released", reason="<string>")],
    }


def test_printful_package_returned_from_the_document_keeps_its_reason_and_items() -> None:
    body = printful_v1_webhook_example("package_returned")
    assert json.loads(body)["type"] == "package_returned"

    assert explain_payload("printful", body) == {
        "supplier": "printful", "kind": "callback", **PF_ORDER,
        "events": [{
            "stage": "returned", "hold": None, "reason": "<string>", "items": ["item-1"],
            "shipment": {
                "tracking_number": "0", "carrier": "FEDEX",
                "tracking_url": "https://www.fedex.com/fedextrack/?tracknumbers=0000000000",
                "items": ["item-1"],
            },
        }],
    }


def test_a_fulfilled_printful_order_ships_only_what_its_shipments_name() -> None:
    """v1 "fulfilled" ("all items are shipped") is order-level: it moves the items the order's
    shipments name, and nothing when none is named."""
    callback = fixture_json("printful_v1_package_shipped.full.json")["data"]
    order = {**callback["order"], "status": "fulfilled"}
    two_items = {**order, "items": [*order["items"], {**order["items"][0], "id": 2,
                                                     "external_id": "item-2"}]}

    with_parcel = explain_payload("printful", json.dumps(
        {"code": 200, "result": {**two_items, "shipments": [callback["shipment"]]}}).encode())
    without = explain_payload(
        "printful", json.dumps({"code": 200, "result": {**order, "shipments": []}}).encode())

    assert with_parcel["events"] == [PF_SHIPPED, status("shipped", items=["item-1"])]
    assert without["events"] == [
        status(None, reason="fulfilled, but the payload names no shipped items")]


def test_the_example_builder_rebuilds_the_published_sample() -> None:
    built = json.loads(printful_v1_webhook_example("package_shipped"))
    sample = fixture_json("printful_v1_package_shipped.full.json")

    assert built["data"]["shipment"] == sample["data"]["shipment"]
    assert built["data"]["order"]["items"][0]["external_id"] == "item-1"


# --- every webhook of both Printful documents, built from their examples ---------------------

V1, V2 = "printful_v1_openapi.json.gz", "printful_v2_openapi.json.gz"
V1_ORDER = {"kind": "callback", **PF_ORDER}
V2_ORDER = {"kind": "callback", "reference": "<string>", "supplier_order_id": "0"}
NO_ORDER = {"kind": "callback", "reference": None, "supplier_order_id": None}
UNUSED = {**NO_ORDER, "events": [status(None)]}  # understood, moves nothing
V2_SHIPMENT = {"tracking_number": "<string>", "carrier": None,
               "tracking_url": "https://www.fedex.com/fedextrack/?tracknumbers=0000000000",
               "items": []}  # the example's URL starts with a zero-width space: dropped
ORDERLESS = "shipment 0: <string> (the webhook names no order, so no item is moved by it)"

EVERY_WEBHOOK: dict[tuple[str, str], dict[str, Any]] = {
    (V1, "package_shipped"): {**V1_ORDER, "events": [PF_SHIPPED]},
    (V1, "package_returned"): {**V1_ORDER, "events": [{
        **PF_SHIPPED, "stage": "returned", "reason": "<string>"}]},
    (V1, "order_created"): {**V1_ORDER, "events": [status("submitted")]},
    (V1, "order_updated"): {**V1_ORDER, "events": [status("submitted")]},
    (V1, "order_failed"): {**V1_ORDER, "events": [status("failed", reason="<string>")]},
    (V1, "order_canceled"): {**V1_ORDER, "events": [status("cancelled", reason="<string>")]},
    (V1, "order_put_hold"): {**V1_ORDER, "events": [
        status("on_hold", hold="placed", reason="<string>")]},
    (V1, "order_put_hold_approval"): {**V1_ORDER, "events": [
        status("on_hold", hold="placed", reason="<string>")]},
    (V1, "order_remove_hold"): {**V1_ORDER, "events": [
        status("submitted", hold="released", reason="<string>")]},
    (V1, "product_synced"): UNUSED,
    (V1, "product_updated"): UNUSED,
    (V1, "product_deleted"): UNUSED,
    (V1, "stock_updated"): UNUSED,
    (V2, "shipment_sent"): {**V2_ORDER, "events": [{
        "stage": "shipped", "hold": None, "items": [], "shipment": V2_SHIPMENT,
        "reason": "the payload names no items: they are read from /v2/orders/{id}/shipments"}]},
    (V2, "shipment_returned"): {**V2_ORDER, "events": [{
        "stage": "returned", "hold": None, "reason": "<string>", "items": [],
        "shipment": V2_SHIPMENT}]},
    (V2, "shipment_out_of_stock"): {**V2_ORDER, "events": [status("on_hold", hold="placed")]},
    (V2, "shipment_put_hold"): {**NO_ORDER, "events": [status(None, reason=ORDERLESS)]},
    (V2, "shipment_put_hold_approval"): {**NO_ORDER, "events": [status(None, reason=ORDERLESS)]},
    (V2, "shipment_remove_hold"): {**NO_ORDER, "events": [status(None, reason=ORDERLESS)]},
    (V2, "order_created"): {**V2_ORDER, "events": [status("submitted")]},
    (V2, "order_updated"): {**V2_ORDER, "events": [status("submitted")]},
    (V2, "order_failed"): {**V2_ORDER, "events": [status("failed", reason="<string>")]},
    (V2, "order_canceled"): {**V2_ORDER, "events": [status("cancelled", reason="<string>")]},
    (V2, "order_put_hold"): {**V2_ORDER, "events": [
        status("on_hold", hold="placed", reason="<string>")]},
    (V2, "order_put_hold_approval"): {**V2_ORDER, "events": [
        status("on_hold", hold="placed", reason="<string>")]},
    (V2, "order_remove_hold"): {**V2_ORDER, "events": [
        status("submitted", hold="released", reason="<string>")]},
    (V2, "order_refunded"): {**V2_ORDER, "events": [status("submitted")]},
    (V2, "catalog_stock_updated"): UNUSED,
    (V2, "catalog_price_changed"): UNUSED,
    (V2, "mockup_task_finished"): UNUSED,
}


def test_every_webhook_of_both_documents_is_in_the_table() -> None:
    from integrator.sandbox.suppliers.validation import load_document

    published = {(name, event) for name in (V1, V2)
                 for event in load_document(name)["x-webhooks"]}
    assert published == set(EVERY_WEBHOOK)


@pytest.mark.parametrize(("document", "event"), sorted(EVERY_WEBHOOK))
def test_every_document_webhook_example_is_explained_exactly(document: str, event: str) -> None:
    """Each built from its document's schema examples; none is refused as malformed (v2
    shipment holds carry no order, catalog_stock_updated a list: a 400 for them would make
    Printful retry a genuine webhook)."""
    body = document_webhook_example(document, event)
    assert json.loads(body)["type"] == event

    assert explain_payload("printful", body) == {"supplier": "printful", **EVERY_WEBHOOK[
        (document, event)]}
