"""Printful and Prodigi adapters against their spec-validating sandboxes: cancel refusals,
error codes where the real error bodies put them, setup's warning, Prodigi's shipping method."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
import requests
from click.testing import CliRunner

from integrator.cli import suppliers as cli
from integrator.sandbox.suppliers.printful import PrintfulSandbox
from integrator.sandbox.suppliers.transport import mount
from integrator.sandbox.suppliers.validation import load_document
from integrator.store_config.store import SupplierConfig
from integrator.suppliers.base import CancelResult
from integrator.suppliers.errors import SupplierRejected
from tests.suppliers.conftest import API_KEY, SECRET, Harness, fixture_json, make_harness


@pytest.fixture
def printful() -> Harness:
    return make_harness("printful")


# --- Printful cancel: pending or draft only ---------------------------------------------------


@pytest.mark.parametrize("status", ["inprocess", "onhold", "failed", "partial", "fulfilled"])
def test_printful_cancel_of_a_started_order_is_a_named_refusal(
    printful: Harness, status: str
) -> None:
    order = printful.adapter.submit(printful.request())
    printful.sandbox.orders[order.supplier_order_id]["status"] = status

    outcome = printful.adapter.cancel(order.supplier_order_id)

    assert outcome.result is CancelResult.TOO_LATE
    assert outcome.reason == (
        "Printful cancels only pending or draft orders (DELETE /orders/{id}); "
        f"order {order.supplier_order_id} is {status}: cancel it in the Printful dashboard "
        "or with Printful support"
    )
    assert printful.sandbox.orders[order.supplier_order_id]["status"] == status


@pytest.mark.parametrize("confirm", [True, False])
def test_printful_cancel_of_a_pending_order_or_draft_cancels_it(confirm: bool) -> None:
    harness = make_harness("printful", {"confirm": confirm})
    order = harness.adapter.submit(harness.request())
    assert harness.sandbox.orders[order.supplier_order_id]["status"] == (
        "pending" if confirm else "draft")

    outcome = harness.adapter.cancel(order.supplier_order_id)

    assert outcome.result is CancelResult.CANCELLED
    assert harness.sandbox.orders[order.supplier_order_id]["status"] == "canceled"


# --- Printful error bodies ----------------------------------------------------------------------


def _example(document: str, *path: str) -> Any:
    node = load_document(document)
    for part in path:
        node = node[part]
    return node


def _v1_example(response: str) -> dict[str, Any]:
    """A v1 error body built from the examples of components.responses.<response>."""
    schema = _example("printful_v1_openapi.json.gz", "components", "responses", response,
                      "content", "application/json", "schema", "properties")
    return {
        "code": schema["code"]["example"],
        "result": schema["result"]["example"],
        "error": {k: v["example"] for k, v in schema["error"]["properties"].items()},
    }


def test_printful_reads_v1_error_bodies_where_printful_puts_the_code(printful: Harness) -> None:
    bad_request = _v1_example("BadRequest")
    assert bad_request == {"code": 400, "result": "Missing required parameters",
                           "error": {"reason": "BadRequest",
                                     "message": "Missing required parameters"}}

    assert printful.adapter.describe_error(400, bad_request) == (
        "BadRequest", "Missing required parameters")
    assert printful.adapter.describe_error(404, _v1_example("NotFound")) == (
        "NotFound", "Not found")
    quoted = {**bad_request, "error": {"reason": "BadRequest",
                                       "message": "OR-6: variant is restricted"}}
    assert printful.adapter.describe_error(400, quoted) == ("OR-6", "OR-6: variant is restricted")


def test_printful_reads_v2_problem_details() -> None:
    harness = make_harness("printful")
    fields = _example("printful_v2_openapi.json.gz", "components", "schemas", "ProblemDetails",
                      "properties")
    assert set(fields) == {"type", "status", "title", "details", "instance"}
    body = {"type": "https://developers.printful.com/docs/v2-beta/#section/Errors",
            "status": 404, "title": "Not Found", "details": "Order 5 not found", "instance": ""}

    assert harness.adapter.describe_error(404, body) == ("Not Found", "Order 5 not found")


def test_a_refused_create_looks_the_reference_up_whatever_the_wording(printful: Harness) -> None:
    request = printful.request()
    first = printful.adapter.submit(request)
    # the look-up before the create misses once (a race): the create is refused as a duplicate
    original = printful.adapter._find  # noqa: SLF001 - simulate the race at its one point
    calls = iter([None])
    printful.adapter._find = lambda ref: next(calls, None) or original(ref)  # type: ignore[method-assign]

    again = printful.adapter.submit(request)

    assert (again.supplier_order_id, again.already_existed) == (first.supplier_order_id, True)
    assert printful.sandbox.created_count(request.external_ref) == 1


def test_a_refused_create_with_nothing_found_stays_refused(printful: Harness) -> None:
    with pytest.raises(SupplierRejected) as caught:
        printful.adapter.submit(printful.request(identifiers=[{"variant_id": "9999"}]))

    assert caught.value.status == 400
    assert printful.sandbox.orders == {}


# --- Printful v2 shipments: items come from /v2/orders/{id}/shipments --------------------------


def test_complete_events_reads_a_v2_shipments_items_and_carrier() -> None:
    harness = make_harness("printful", webhook_secret="v2-secret")
    order = harness.adapter.submit(harness.request())
    (payload,) = harness.sandbox.advance(order.supplier_order_id, "shipped", items=["222"])
    [event] = harness.adapter.parse_callback(harness.received[-1].body)
    assert payload["type"] == "shipment_sent"
    assert event.shipment is not None and event.shipment.items_pending

    [done] = harness.adapter.complete_events([event])

    assert done.shipment is not None
    assert (done.shipment.items_pending, done.line_item_ids) == (False, ("222",))
    assert [(i.line_item_id, i.quantity) for i in done.shipment.items] == [("222", 2)]
    assert done.shipment.carrier == "USPS"


# --- suppliers setup warns before replacing Printful's webhook configuration ------------------


@pytest.fixture
def printful_only(monkeypatch: pytest.MonkeyPatch) -> PrintfulSandbox:
    sandbox = PrintfulSandbox(api_key=API_KEY)
    config = SupplierConfig(name="printful", adapter="printful",
                            base_url="http://printful.sandbox",
                            options={"api_key": API_KEY, "callback_secret": SECRET})

    def new_session() -> requests.Session:
        return mount(requests.Session(), "http://printful.sandbox", sandbox)

    monkeypatch.setattr("integrator.store_config.loading.load_store_config",
                        lambda *_a, **_k: SimpleNamespace(suppliers={"printful": config}))
    monkeypatch.setattr(cli, "new_session", new_session)
    return sandbox


OURS = f"https://pod.example.com/webhooks/suppliers/printful?token={SECRET}"
OTHER = {"url": "https://other-app.example.com/hooks?key=abc", "types": ["package_shipped"],
         "params": []}


def test_setup_warns_and_asks_before_replacing_another_webhook_url(
    printful_only: PrintfulSandbox,
) -> None:
    printful_only.webhooks = dict(OTHER)

    result = CliRunner().invoke(cli.suppliers, ["setup", "--public-url", "https://pod.example.com"],
                                input="n\n")

    assert result.exit_code == 0, result.output
    assert ("! printful: Printful keeps one webhook configuration per store: POST /webhooks "
            "replaces it whole") in result.output
    assert "It now sends package_shipped to https://other-app.example.com/hooks;" in result.output
    assert "key=abc" not in result.output
    assert "- printful: skipped, nothing changed" in result.output
    assert printful_only.webhooks == OTHER


def test_setup_replaces_it_when_told_to(printful_only: PrintfulSandbox) -> None:
    printful_only.webhooks = dict(OTHER)

    result = CliRunner().invoke(
        cli.suppliers, ["setup", "--public-url", "https://pod.example.com", "--yes"])

    assert result.exit_code == 0, result.output
    assert "! printful: Printful keeps one webhook configuration" in result.output
    assert printful_only.webhooks["url"] == OURS


def test_setup_does_not_ask_when_nothing_would_be_lost(printful_only: PrintfulSandbox) -> None:
    result = CliRunner().invoke(cli.suppliers, ["setup", "--public-url", "https://pod.example.com"])

    assert result.exit_code == 0, result.output
    assert "!" not in result.output
    assert printful_only.webhooks["url"] == OURS


# --- Prodigi ----------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["Budget", "Standard", "Express", "Overnight", "express"])
def test_prodigi_configured_shipping_method_reaches_the_order(method: str) -> None:
    harness = make_harness("prodigi", {"shipping_method": method})

    order = harness.adapter.submit(harness.request())

    assert harness.sandbox.orders[order.supplier_order_id]["shippingMethod"] == method.title()


def test_prodigi_without_a_shipping_method_asks_for_standard() -> None:
    harness = make_harness("prodigi")

    order = harness.adapter.submit(harness.request())

    assert harness.sandbox.orders[order.supplier_order_id]["shippingMethod"] == "Standard"


def test_printful_shipped_at_as_the_documents_string_of_unix_seconds() -> None:
    """v1 ``Shipment.shipped_at`` is typed string "Ship time in unix timestamp" with an integer
    example: both forms give the same moment."""
    harness = make_harness("printful")
    payload = fixture_json("printful_v1_package_shipped.trimmed.json")
    as_text = copy.deepcopy(payload)
    as_text["data"]["shipment"]["shipped_at"] = "1588716060"

    [number] = harness.adapter.parse_callback(json.dumps(payload).encode())
    [string] = harness.adapter.parse_callback(json.dumps(as_text).encode())

    assert number.shipment is not None and string.shipment is not None
    assert number.shipment.shipped_at == string.shipment.shipped_at == datetime(
        2020, 5, 5, 22, 1, tzinfo=UTC)
