"""The whole stack, plus helpers to run some job kinds only, run jobs again, and read rows."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from sqlalchemy import select, update

from integrator.db.models import Job, LineItem, Order, Shipment, SupplierOrder
from integrator.db.timestamps import utcnow
from integrator.sandbox.shopify import AddressSpec, LineSpec
from integrator.sandbox.stack import Stack, StackOptions

# the jobs that turn a paid webhook into stored, routed items, but submit nothing
INGEST_ONLY = ("shopify.delivery", "order.ingest")


@pytest.fixture
def stack(database_url: str) -> Iterator[Stack]:
    running = Stack(StackOptions(database_url=database_url, migrate=False))
    yield running
    running.close()


def drain(stack: Stack, kinds: Sequence[str] | None = None) -> int:
    if kinds is None:
        return stack.drain()
    return stack.worker(kinds=list(kinds)).drain()


def paid_order(
    stack: Stack,
    skus: Sequence[str | tuple[str, int]],
    *,
    address: AddressSpec | None = None,
    email: str = "buyer@example.com",
    kinds: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Place a paid order at the sandbox shop, deliver orders/paid, run the jobs it causes."""
    lines = [LineSpec(s) if isinstance(s, str) else LineSpec(s[0], s[1]) for s in skus]
    order = stack.shop.create_order(lines, shipping_address=address, email=email)
    assert stack.send_webhook("orders/paid", order).statuses == [200]
    drain(stack, kinds)
    return order


def notify(stack: Stack, topic: str, order: dict[str, Any]) -> None:
    """A new delivery (fresh webhook id) of ``topic`` for the order as it is now."""
    assert stack.send_webhook(topic, order).statuses == [200]


def run_again(stack: Stack, *kinds: str) -> int:
    """Queue every finished job of these kinds once more (a redelivered job) and drain."""
    with stack.db.write() as session:
        session.execute(
            update(Job)
            .where(Job.kind.in_(kinds), Job.status.in_(("done", "dead")))
            .values(status="queued", attempts=0, run_at=utcnow(), locked_by=None)
        )
    return stack.drain()


def legacy(order: dict[str, Any]) -> str:
    return str(order["id"]).rsplit("/", 1)[-1]


def order_row(stack: Stack, order: dict[str, Any]) -> Order:
    with stack.db.read() as session:
        row = session.scalars(select(Order).where(Order.shopify_order_id == legacy(order))).one()
        session.expunge(row)
        return row


def items_of(stack: Stack, order: dict[str, Any] | None = None) -> list[LineItem]:
    with stack.db.read() as session:
        query = select(LineItem).order_by(LineItem.id)
        if order is not None:
            query = query.join(Order).where(Order.shopify_order_id == legacy(order))
        rows = list(session.scalars(query))
        session.expunge_all()
        return rows


def supplier_orders_of(stack: Stack) -> list[SupplierOrder]:
    with stack.db.read() as session:
        rows = list(session.scalars(select(SupplierOrder).order_by(SupplierOrder.id)))
        session.expunge_all()
        return rows


def shipments_of(stack: Stack) -> list[Shipment]:
    with stack.db.read() as session:
        rows = list(session.scalars(select(Shipment).order_by(Shipment.id)))
        session.expunge_all()
        return rows


def jobs_of(stack: Stack, kind: str) -> list[Job]:
    with stack.db.read() as session:
        rows = list(session.scalars(select(Job).where(Job.kind == kind).order_by(Job.id)))
        session.expunge_all()
        return rows


def remote_id_of(stack: Stack, supplier: str) -> str:
    (remote,) = [r for s, r, _ref in stack.supplier_orders() if s == supplier]
    return remote
