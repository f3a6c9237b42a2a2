"""The contract every supplier adapter passes, run against that supplier's sandbox."""

from __future__ import annotations

import pytest

from integrator.domain.model import Address, EventKind
from integrator.domain.stages import Stage
from integrator.suppliers.base import CancelResult
from integrator.suppliers.errors import (
    RetryableSupplierError,
    SupplierAuthError,
    SupplierRejected,
    SupplierRequestIncomplete,
)
from integrator.suppliers.http import reset_process_limits
from tests.suppliers.conftest import (
    LINE_IDS,
    RECEIVER,
    SECRET,
    UNAVAILABLE,
    Harness,
    make_harness,
)

# --- submit and idempotency ----------------------------------------------------------------


def test_submit_creates_one_order(harness: Harness) -> None:
    request = harness.request()

    result = harness.adapter.submit(request)

    assert result.supplier_order_id in harness.sandbox.orders
    assert result.stage == Stage.SUBMITTED
    assert result.already_existed is False
    assert harness.sandbox.created_count(request.external_ref) == 1


def test_duplicate_submit_finds_the_first_order(harness: Harness) -> None:
    request = harness.request()
    first = harness.adapter.submit(request)

    again = harness.adapter.submit(request)

    assert again.supplier_order_id == first.supplier_order_id
    assert again.already_existed is True
    assert harness.sandbox.created_count(request.external_ref) == 1


def test_submit_that_timed_out_after_the_supplier_acted_is_not_doubled(harness: Harness) -> None:
    request = harness.request()
    harness.fail_create("timeout")

    with pytest.raises(RetryableSupplierError):
        harness.adapter.submit(request)
    harness.sandbox.wait_idle()
    retried = harness.adapter.submit(request)

    assert retried.already_existed is True
    assert harness.sandbox.created_count(request.external_ref) == 1


def test_orders_of_different_shopify_orders_get_their_own_reference(harness: Harness) -> None:
    first = harness.adapter.submit(harness.request("1001"))
    second = harness.adapter.submit(harness.request("1002"))

    assert first.supplier_order_id != second.supplier_order_id
    assert second.already_existed is False


# --- cancel --------------------------------------------------------------------------------


def test_cancel_before_production(harness: Harness) -> None:
    order = harness.adapter.submit(harness.request())

    outcome = harness.adapter.cancel(order.supplier_order_id)

    assert outcome.result == CancelResult.CANCELLED


def test_cancel_in_production_is_too_late_with_a_reason(harness: Harness) -> None:
    order = harness.adapter.submit(harness.request())
    harness.sandbox.advance(order.supplier_order_id, "in_production")

    outcome = harness.adapter.cancel(order.supplier_order_id)

    assert outcome.result == CancelResult.TOO_LATE
    assert outcome.reason


def test_cancel_unknown_order_is_not_found(harness: Harness) -> None:
    unknown = {"printful": "424242", "printify": "5a96f649b2439217d0700000",
               "gelato": "00000000-0000-0000-0000-000000000000", "prodigi": "ord_424242"}

    outcome = harness.adapter.cancel(unknown[harness.key])

    assert outcome.result == CancelResult.NOT_FOUND


# --- fetch status --------------------------------------------------------------------------


def test_fetch_status_reports_stage_and_partial_shipment(harness: Harness) -> None:
    request = harness.request()
    order = harness.adapter.submit(request)
    harness.sandbox.advance(order.supplier_order_id, "in_production")
    harness.sandbox.advance(order.supplier_order_id, "shipped", [harness.item_key(LINE_IDS[0])])

    by_id = harness.adapter.fetch_status(supplier_order_id=order.supplier_order_id)
    by_ref = harness.adapter.fetch_status(external_ref=request.external_ref)

    if harness.adapter.FINDS_BY_REFERENCE:
        assert [e.dedupe_key for e in by_ref] == [e.dedupe_key for e in by_id]
    else:  # Printify: no look-up by our reference exists (ADR 0004)
        assert by_ref == []
    shipments = [harness.adapter.resolve_shipment_items(e, request.lines)
                 for e in by_id if e.kind == EventKind.SHIPMENT]
    assert len(shipments) == 1
    shipment = shipments[0].shipment
    assert shipment is not None
    assert shipment.tracking_number and shipment.carrier
    assert [(i.line_item_id, i.quantity) for i in shipment.items] == [(LINE_IDS[0], 1)]
    stages = {e.stage for e in by_id if e.kind == EventKind.STATUS}
    assert Stage.IN_PRODUCTION in stages


def test_fetch_status_of_unknown_reference_is_empty(harness: Harness) -> None:
    harness.adapter.submit(harness.request())

    assert harness.adapter.fetch_status(external_ref="no-such-ref") == []


# --- faults are classified ---------------------------------------------------------------------


@pytest.mark.parametrize("fault", ["5xx", "timeout", "429", "down"])
def test_transient_faults_on_submit_are_retryable(harness: Harness, fault: str) -> None:
    harness.fail_create(fault)
    if fault == "down":
        harness.sandbox.faults.down = True

    with pytest.raises(RetryableSupplierError) as caught:
        harness.adapter.submit(harness.request())

    if fault == "429":
        assert caught.value.status == 429
        assert caught.value.retry_after == harness.sandbox.faults.retry_after_seconds
    if fault == "5xx":
        assert caught.value.status is not None and caught.value.status >= 500


def test_idempotent_reads_retry_briefly_and_then_give_up(harness: Harness) -> None:
    order = harness.adapter.submit(harness.request())
    harness.sandbox.faults.fail_next("5xx", times=1, method="GET")
    assert harness.adapter.fetch_status(supplier_order_id=order.supplier_order_id)

    harness.sandbox.faults.fail_next("5xx", times=3, method="GET")
    with pytest.raises(RetryableSupplierError):
        harness.adapter.fetch_status(supplier_order_id=order.supplier_order_id)


def test_out_of_stock_item_is_a_reroutable_rejection(harness: Harness) -> None:
    key = {"printful": "variant_id", "printify": "variant_id", "gelato": "product_uid",
           "prodigi": "sku"}[harness.key]
    base = dict(harness.request().lines[0].spec.identifiers)
    request = harness.request(identifiers=[{**base, key: UNAVAILABLE[harness.key]}])

    with pytest.raises(SupplierRejected) as caught:
        harness.adapter.submit(request)

    assert caught.value.status == 400
    assert caught.value.code
    assert caught.value.reason
    assert caught.value.reroutable is True


def test_invalid_address_is_rejected_for_good_with_the_supplier_reason(harness: Harness) -> None:
    request = harness.request(recipient=Address(name="Jane Doe", country_code="US"))

    with pytest.raises((SupplierRejected, SupplierRequestIncomplete)) as caught:
        harness.adapter.submit(request)

    reason = caught.value.reason.lower()
    assert "address" in reason or "recipient" in reason
    if isinstance(caught.value, SupplierRejected):
        assert caught.value.status == 400
        assert caught.value.code
        assert caught.value.reroutable is False
    else:  # refused before sending: the supplier documents what it requires (Gelato)
        assert harness.sandbox.orders == {}


def test_wrong_credentials_are_an_auth_error(harness: Harness) -> None:
    harness.sandbox.api_key = "another-key"

    with pytest.raises(SupplierAuthError):
        harness.adapter.submit(harness.request())
    assert harness.adapter.check_credentials().ok is False


def test_breaker_opens_after_consecutive_failures_and_fails_fast(harness: Harness) -> None:
    harness.adapter.breaker.threshold = 3
    harness.sandbox.faults.error_rate = 1.0
    assert harness.adapter.can_take_work()
    for _ in range(3):
        with pytest.raises(RetryableSupplierError):
            harness.adapter.submit(harness.request())
        if harness.adapter.breaker.is_open():
            break

    assert harness.adapter.breaker.is_open()
    assert not harness.adapter.can_take_work()  # what the submission job asks
    harness.sandbox.faults.error_rate = 0.0
    with pytest.raises(RetryableSupplierError, match="circuit open") as caught:
        harness.adapter.submit(harness.request())
    assert caught.value.retry_after is not None and caught.value.retry_after > 0
    assert harness.sandbox.orders == {}


# --- callbacks from the sandbox --------------------------------------------------------------


def test_partial_then_full_shipment_callbacks_verify_and_parse(harness: Harness) -> None:
    request = harness.request()
    order = harness.adapter.submit(request)
    harness.sandbox.advance(order.supplier_order_id, "shipped", [harness.item_key(LINE_IDS[0])])
    harness.sandbox.advance(order.supplier_order_id, "shipped", [harness.item_key(LINE_IDS[1])])

    shipments = {}
    for received in harness.received:
        assert harness.adapter.verify_callback(received.headers, received.body, received.query)
        for event in harness.events(received.body):
            event = harness.adapter.resolve_shipment_items(event, request.lines)
            if event.kind == EventKind.SHIPMENT and event.shipment is not None:
                shipments[event.dedupe_key] = event.shipment

    assert len(shipments) == 2
    items = sorted((i.line_item_id, i.quantity) for s in shipments.values() for i in s.items)
    assert items == [(LINE_IDS[0], 1), (LINE_IDS[1], 2)]
    numbers = {s.tracking_number for s in shipments.values()}
    assert len(numbers) == 2 and all(isinstance(n, str) and n for n in numbers)


@pytest.mark.parametrize(
    ("target", "stage"),
    [("in_production", Stage.IN_PRODUCTION), ("on_hold", Stage.ON_HOLD),
     ("failed", Stage.FAILED), ("cancelled", Stage.CANCELLED)],
)
def test_stage_callbacks_parse_to_our_stage(harness: Harness, target: str, stage: Stage) -> None:
    if harness.key == "printify" and target == "failed":
        stage = Stage.ON_HOLD  # Printify has no failed order, only "has-issues"
    order = harness.adapter.submit(harness.request())

    harness.sandbox.advance(order.supplier_order_id, target)

    assert harness.received, "sandbox posted no callback"
    events = []
    for received in harness.received:
        assert harness.adapter.verify_callback(received.headers, received.body, received.query)
        events += harness.adapter.parse_callback(received.body)
    assert stage in {e.stage for e in events}
    assert {e.supplier_order_id for e in events} == {order.supplier_order_id}
    if stage in (Stage.ON_HOLD, Stage.FAILED):
        assert any(e.reason for e in events if e.stage == stage)


def test_forged_callbacks_are_refused(harness: Harness) -> None:
    order = harness.adapter.submit(harness.request())
    harness.sandbox.advance(order.supplier_order_id, "in_production")
    genuine = harness.received[-1]
    tampered = genuine.body.replace(b"in", b"IN", 1)
    no_token = {k: v for k, v in genuine.query.items() if k != "token"}
    bare_headers = {k: v for k, v in genuine.headers.items()
                    if k.lower() not in ("x-integrator-token", "x-pfy-signature",
                                         "x-pf-webhook-signature")}

    assert harness.adapter.verify_callback(genuine.headers, genuine.body, genuine.query)
    assert not harness.adapter.verify_callback(bare_headers, genuine.body, no_token)
    assert not harness.adapter.verify_callback(bare_headers, genuine.body, {"token": "guess"})
    signed = {k: v for k, v in genuine.headers.items()
              if k.lower() in ("x-pfy-signature", "x-pf-webhook-signature")}
    if signed:
        assert not harness.adapter.verify_callback(signed, tampered, no_token)


def test_printful_v2_signed_callbacks() -> None:
    secret = "d7a1f7c2e4b5a6978877665544332211"
    harness = make_harness("printful", webhook_secret=secret,
                           adapter_options={"webhook_secret": secret})
    order = harness.adapter.submit(harness.request())
    harness.sandbox.advance(order.supplier_order_id, "shipped")
    genuine = harness.received[-1]
    no_token: dict[str, str] = {}

    assert harness.adapter.verify_callback(genuine.headers, genuine.body, no_token)
    assert not harness.adapter.verify_callback(genuine.headers, genuine.body + b" ", no_token)
    forged = {k: ("0" * 64 if k.lower() == "x-pf-webhook-signature" else v)
              for k, v in genuine.headers.items()}
    assert not harness.adapter.verify_callback(forged, genuine.body, genuine.query)
    [event] = harness.adapter.parse_callback(genuine.body)
    assert event.kind == EventKind.SHIPMENT and event.shipment is not None
    assert event.shipment.tracking_number.startswith("9400")


def test_callback_answer_is_what_the_supplier_expects(harness: Harness) -> None:
    answer = harness.adapter.callback_response()

    assert 200 <= answer.status < 300


# --- setup --------------------------------------------------------------------------------


def test_check_credentials(harness: Harness) -> None:
    assert harness.adapter.check_credentials().ok is True


def test_register_callback_or_manual_steps(harness: Harness) -> None:
    url = f"{RECEIVER}/webhooks/suppliers/{harness.key}?token={SECRET}"
    harness.sandbox.callback_url = None

    result = harness.adapter.register_callback(url)

    if harness.key in ("printful", "printify"):
        assert result.registered is True
        assert harness.sandbox.callback_url == url
    else:
        assert result.registered is False
        assert url in result.manual_steps


def test_delivery_is_reported_where_the_supplier_reports_it(harness: Harness) -> None:
    order = harness.adapter.submit(harness.request())
    harness.sandbox.advance(order.supplier_order_id, "shipped")
    harness.received.clear()

    harness.sandbox.advance(order.supplier_order_id, "delivered")

    events = [e for r in harness.received for e in harness.adapter.parse_callback(r.body)]
    if harness.key in ("printify", "gelato"):
        assert Stage.DELIVERED in {e.stage for e in events}
    else:  # Printful v1 and Prodigi send no delivery callback; reconciliation polls
        assert events == []


def test_control_api_over_http(harness: Harness) -> None:
    session = harness.adapter.http.session
    base = harness.adapter.http.base_url
    session.post(f"{base}/_sandbox/faults", json={"fail_next": ["429"]}, timeout=5)

    with pytest.raises(RetryableSupplierError) as caught:
        harness.adapter.submit(harness.request())
    assert caught.value.status == 429
    with pytest.raises(RetryableSupplierError, match="rate limit"):
        harness.adapter.submit(harness.request())  # held for its Retry-After: never sent
    assert session.get(f"{base}/_sandbox/counts", timeout=5).json() == {}

    reset_process_limits()  # the queue retries after Retry-After; here the wait is skipped
    order = harness.adapter.submit(harness.request())
    counts = session.get(f"{base}/_sandbox/counts", timeout=5).json()
    assert list(counts.values()) == [1]
    posted = session.post(f"{base}/_sandbox/advance", timeout=5,
                          json={"order_id": order.supplier_order_id, "to": "in_production"})
    assert posted.json() == {"posted": 1}
    assert harness.received
