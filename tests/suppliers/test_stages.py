"""Supplier vocabularies onto our stages, and supplier events through the forward-only
state machine: late and repeated events never move an item back."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from integrator.domain.model import EventKind, SupplierEvent
from integrator.domain.stages import Stage, advance
from integrator.sandbox.suppliers import SANDBOXES
from integrator.suppliers.registry import ADAPTERS
from tests.suppliers.conftest import LINE_IDS, Harness, make_harness

# every status word each supplier documents (api-notes.md §1.3, §2.2, §3.2, §4.2)
VOCABULARY = {
    "printful": ["draft", "pending", "failed", "canceled", "inprocess", "onhold", "partial",
                 "fulfilled", "archived", "packaged", "shipped", "returned", "outstock",
                 "delivered"],
    "printify": ["pending", "on-hold", "sending-to-production", "in-production", "has-issues",
                 "payment-not-received", "fulfilled", "canceled", "delivered"],
    "gelato": ["created", "uploading", "passed", "in_production", "printed", "draft", "failed",
               "canceled", "pending_approval", "pending_personalization", "digitizing",
               "shipped", "in_transit", "delivered", "returned", "on_hold", "not_connected"],
    "prodigi": ["InProgress", "Complete", "Cancelled", "Error", "RequiresPaymentAuthorisation"],
}


@pytest.mark.parametrize("key", sorted(ADAPTERS))
def test_every_documented_status_is_mapped(key: str) -> None:
    status_map = ADAPTERS[key].STATUS_MAP

    assert set(VOCABULARY[key]) <= set(status_map)
    assert all(isinstance(stage, Stage) for stage in status_map.values())


def test_registry_and_sandboxes_cover_the_same_suppliers() -> None:
    assert set(ADAPTERS) == set(SANDBOXES)


def replay(events: Iterable[SupplierEvent], items: Iterable[str]) -> dict[str, Stage]:
    """What the pipeline does with events: each item goes through stages.advance."""
    state = {item: (Stage.SUBMITTED, Stage.SUBMITTED) for item in items}
    for event in events:
        if event.stage is None:
            continue
        for item in event.line_item_ids or tuple(state):
            moved = advance(*state[item], event.stage)
            if moved is not None:
                state[item] = moved
    return {item: current for item, (current, _) in state.items()}


def collected_events(harness: Harness) -> list[SupplierEvent]:
    events = []
    for received in harness.received:
        events += harness.events(received.body)
    return events


@pytest.mark.parametrize("key", sorted(SANDBOXES))
def test_late_and_repeated_events_never_move_an_item_back(key: str) -> None:
    harness = make_harness(key)
    request = harness.request()
    order = harness.adapter.submit(request)
    harness.sandbox.advance(order.supplier_order_id, "in_production")
    production = collected_events(harness)
    harness.received.clear()
    harness.sandbox.advance(order.supplier_order_id, "shipped")
    shipped = [harness.adapter.resolve_shipment_items(e, request.lines)
               for e in collected_events(harness)]

    # shipped arrives, then the production update late, then everything again
    final = replay([*shipped, *production, *shipped, *production], LINE_IDS)

    assert final == {LINE_IDS[0]: Stage.SHIPPED, LINE_IDS[1]: Stage.SHIPPED}


@pytest.mark.parametrize("key", sorted(SANDBOXES))
def test_two_shipments_of_one_order_keep_their_own_tracking(key: str) -> None:
    harness = make_harness(key)
    request = harness.request()
    order = harness.adapter.submit(request)
    harness.sandbox.advance(order.supplier_order_id, "shipped", [harness.item_key(LINE_IDS[0])])
    harness.sandbox.advance(order.supplier_order_id, "shipped", [harness.item_key(LINE_IDS[1])])

    shipments = {}
    for event in collected_events(harness) * 2:  # redelivered callbacks too
        event = harness.adapter.resolve_shipment_items(event, request.lines)
        if event.kind == EventKind.SHIPMENT and event.shipment is not None:
            shipments.setdefault(event.dedupe_key, event.shipment)

    assert len(shipments) == 2
    by_item = {i.line_item_id: s.tracking_number for s in shipments.values() for i in s.items}
    assert set(by_item) == set(LINE_IDS)
    assert by_item[LINE_IDS[0]] != by_item[LINE_IDS[1]]
