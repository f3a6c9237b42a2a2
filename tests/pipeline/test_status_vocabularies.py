"""The named statuses (``JobStatus``, ``SupplierOrderStatus``, ``ShipmentSyncStatus``,
``OrderStatus``, ``ShopStatus``) and the values in the database are the same words: what the pipeline writes reads back as a member,
the stored text is the member's value, and a word outside the vocabulary is refused on write
instead of leaving a row that no query of ours would ever find."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import StatementError

from integrator.db.models import Job, Order, Shipment, Shop, SupplierOrder
from integrator.domain.statuses import (
    OrderStatus,
    ShipmentSyncStatus,
    ShopStatus,
    SupplierOrderStatus,
)
from integrator.jobqueue.status import JobStatus
from integrator.sandbox.stack import Stack

from .conftest import paid_order, remote_id_of, shipments_of, supplier_orders_of

CANVAS = "CANVAS-30X40"  # Gelato


def stored(stack: Stack, sql: str) -> set[str]:
    """The raw text in a status column, as the database holds it (no ORM type in between)."""
    with stack.db.read() as session:
        return {str(value) for value in session.scalars(text(sql))}


def test_statuses_the_pipeline_writes_read_back_as_members_and_are_stored_as_their_values(
    stack: Stack,
) -> None:
    paid_order(stack, [CANVAS])
    stack.suppliers["gelato"].advance(remote_id_of(stack, "gelato"), "shipped")
    stack.drain()

    (supplier_order,) = supplier_orders_of(stack)
    (shipment,) = shipments_of(stack)
    with stack.db.read() as session:
        job_statuses = set(session.scalars(select(Job.status)))
        (order_status,) = session.scalars(select(Order.status))

    assert supplier_order.status is SupplierOrderStatus.SHIPPED
    assert shipment.sync_status is ShipmentSyncStatus.SYNCED
    assert job_statuses == {JobStatus.DONE}
    assert all(isinstance(status, JobStatus) for status in job_statuses)
    assert isinstance(order_status, OrderStatus)
    assert stored(stack, "SELECT status FROM supplier_orders") == {"shipped"}
    assert stored(stack, "SELECT sync_status FROM shipments") == {"synced"}
    assert stored(stack, "SELECT status FROM jobs") == {"done"}
    assert stored(stack, "SELECT status FROM orders") == {order_status.value}


@pytest.mark.parametrize(
    ("model", "column"),
    [
        (SupplierOrder, "status"),
        (Shipment, "sync_status"),
        (Job, "status"),
        (Order, "status"),
        (Shop, "status"),
    ],
)
def test_a_status_outside_the_vocabulary_is_refused_on_write(
    stack: Stack, model: type[SupplierOrder | Shipment | Job | Order | Shop], column: str
) -> None:
    with stack.db.write() as session:
        session.add(Shop(domain="other.myshopify.com", status="active"))
    paid_order(stack, [CANVAS])
    stack.suppliers["gelato"].advance(remote_id_of(stack, "gelato"), "shipped")
    stack.drain()
    before = stored(stack, f"SELECT {column} FROM {model.__tablename__}")

    with (
        pytest.raises(StatementError, match="'sent' is not a valid"),
        stack.db.write() as session,
    ):
        row = session.scalars(select(model).limit(1)).one()
        setattr(row, column, "sent")

    assert stored(stack, f"SELECT {column} FROM {model.__tablename__}") == before


def test_a_shop_written_with_its_word_reads_back_as_a_member(stack: Stack) -> None:
    with stack.db.write() as session:
        session.add(Shop(domain="other.myshopify.com", status="uninstalled"))

    with stack.db.read() as session:
        status = session.scalars(
            select(Shop.status).where(Shop.domain == "other.myshopify.com")
        ).one()
    assert status is ShopStatus.UNINSTALLED
