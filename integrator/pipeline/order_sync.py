"""Keep our items in step with Shopify's fulfillment orders: the first ingest of a paid order,
and every change after it (order edits, refunds, exchanges, post-purchase offers, holds,
scheduled orders becoming due, moves, fulfillments made by someone else).

One rule covers all of them. Per line item, routing says how many units sit in open
fulfillment orders we may fulfil (``ItemDecision.quantity``); what we have in flight is what
our parts hold minus what our fulfillments already closed. More wanted than in flight: the
difference is routed (a waiting part is woken, an unsent part grows, or a new part goes to a
supplier order of its own). Less: the difference is taken back (an unsent part shrinks, goes
back to waiting or is cancelled; a sent one is cancelled at the supplier and the rest of that
supplier order sent again; what the supplier will not cancel, or what has shipped, is flagged
with its answer).

Shopify is read before any transaction; decisions are written in one; supplier cancellations
happen after it, each recorded in its own. Running a sync twice changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from integrator.bootstrap import Container
from integrator.db.models import Alert, LineItem, Order, SupplierOrder
from integrator.db.timestamps import as_utc, utcnow
from integrator.db.upsert import insert_or_ignore
from integrator.domain.model import Disposition, EnrichedOrder, ItemDecision, OrderLine
from integrator.domain.stages import Stage
from integrator.domain.statuses import (
    AT_SUPPLIER,
    NOT_AT_SUPPLIER,
    OrderStatus,
    SupplierOrderStatus,
)
from integrator.jobqueue.errors import RetryableJobError, RetryLater
from integrator.jobqueue.jobs import enqueue
from integrator.pipeline.decisions import apply_decision, move_first
from integrator.pipeline.fulfillment_requests import (
    answer_cancellation_requests,
    answer_fulfillment_requests,
)
from integrator.pipeline.job_kinds import JobKind
from integrator.pipeline.records import address_to_json, decision_of
from integrator.pipeline.shop_settings import ShopConnection, connection_in
from integrator.pipeline.shops import shop_is_active
from integrator.pipeline.stage_mirror import enqueue_mirror
from integrator.pipeline.supplier_orders import (
    assign_to_supplier_orders,
    submission_started,
)
from integrator.pipeline.timeline import move, refresh_order, reset
from integrator.routing.assignment import FulfillmentMode, Ownership
from integrator.routing.router import default_ownership, fulfilled_at_payment, route_order
from integrator.store_config.decoration import SourceKind
from integrator.store_config.operations import starts_production
from integrator.store_config.store import StoreConfig
from integrator.suppliers.base import CancelResult
from integrator.suppliers.errors import RetryableSupplierError, SupplierError

log = logging.getLogger(__name__)

COMMITTED = (Disposition.ROUTE.value, Disposition.HOLD.value)
UNSENT_STAGES = (Stage.RECEIVED.value, Stage.ROUTED.value, Stage.ON_HOLD.value, Stage.FAILED.value)
AFTER_SHIPPING = (Stage.SHIPPED.value, Stage.DELIVERED.value, Stage.RETURNED.value)


def metafield_keys(config: StoreConfig) -> list[str]:
    return [
        source.name
        for source in config.decoration.sources
        if source.kind is SourceKind.PRODUCT_METAFIELD
    ]


def upsert_order(session: Session, order: EnrichedOrder) -> Order:
    """The order row, created once; address and status refreshed from the source of truth
    (the caller decides whether a changed address may still be used, see order_sync)."""
    insert_or_ignore(
        session,
        Order,
        {
            "shop_domain": order.shop,
            "shopify_order_id": order.order_id,
            "name": order.name,
            "status": OrderStatus.OPEN,
            "created_at": utcnow(),
            "updated_at": utcnow(),
        },
    )
    row = session.scalars(
        select(Order)
        .where(Order.shop_domain == order.shop, Order.shopify_order_id == order.order_id)
        .with_for_update()
    ).one()
    row.name = order.name
    row.currency = order.currency
    row.financial_status = order.financial_status
    row.test = order.test
    if row.redacted_at is None:
        row.email = order.email or None
        row.shipping_address = address_to_json(order.shipping_address)
    if row.paid_at is None:
        # Shopify's time for the order, not ours: a webhook may arrive late and reconciliation
        # may find the order hours later; fulfillment time starts when the customer bought it
        row.paid_at = as_utc(order.created_at) if order.created_at else utcnow()
    return row


@dataclass
class SupplierCut:
    """A sent supplier order that must be cancelled because units left it: after the supplier
    cancels, each item keeps ``keep[item id]`` units (the rest of the order is sent again)."""

    supplier_order_id: int
    keep: dict[int, int] = field(default_factory=dict)
    waiting: dict[int, str] = field(default_factory=dict)  # item id → why it now waits
    why: str = ""


def ownership_for(
    container: Container, shop: str, config: StoreConfig, connection: ShopConnection | None = None
) -> Ownership:
    """Which fulfillment orders are ours for this shop: its mode as setup (or the first token
    exchange) stored it; a shop without one is merchant-managed. ``connection``: the shop's
    row as the caller just read it (else it is read here)."""
    from integrator.pipeline.shop_settings import connection_of

    if connection is None:
        connection = connection_of(container.db, shop)
    if connection.fulfillment_mode != FulfillmentMode.FULFILLMENT_SERVICE.value:
        return default_ownership(config)
    location = connection.fulfillment_location_id
    return Ownership(
        mode=FulfillmentMode.FULFILLMENT_SERVICE,
        locations=(location.rsplit("/", 1)[-1],) if location else (),
        service_name=config.shopify.fulfillment_service_name,
    )


def line_count_hint(value: object) -> int | None:
    """A job payload's ``lines`` (the webhook body's line count), if it is one."""
    return value if isinstance(value, int) and value > 0 else None


def sync_order(
    container: Container, shop: str, order_id: str, expected_lines: int | None = None
) -> str:
    """Read the order from Shopify and bring our items in line; return what happened.

    ``expected_lines`` (the webhook body's line count) sizes the enrichment query's first page;
    for an order we hold, the lines we hold do."""
    from integrator.pipeline.shopify_errors import as_job_error
    from integrator.shopify.enrichment import fetch_order

    with container.db.read() as session:
        if not shop_is_active(session, container, shop):
            return "shop_not_served"
        known, held_lines = _known_order(session, shop, order_id)
        connection = connection_in(session, shop)
    config = container.config(shop)
    with as_job_error():
        enriched = fetch_order(
            container.shopify, shop, order_id, metafield_keys(config), expected_lines or held_lines
        )
    if known is None and not starts_production(
        config.shopify.trigger_topic, enriched.financial_status
    ):
        return f"not_paid:{enriched.financial_status}"
    if known == OrderStatus.CANCELLED:
        return "cancelled"
    ownership = ownership_for(container, shop, config, connection)
    enriched = answer_fulfillment_requests(container, enriched, config, ownership)
    decisions = route_order(enriched, config, ownership)
    with container.db.write() as session:
        cuts = _write(session, container, enriched, decisions, ownership, first=known is None)
        if cuts is None:
            return "cancelled"
    outcomes = [cut_at_supplier(container, shop, cut) for cut in cuts]
    answers = answer_cancellation_requests(container, enriched, ownership)
    outcomes += [f"cancellation:{'accepted' if a.accept else 'rejected'}" for a in answers]
    log.info(
        "order.synced",
        extra={"shop": shop, "order_id": order_id, "items": len(decisions), "cuts": len(cuts)},
    )
    return "ingested" if known is None else ("updated" + "".join(f",{o}" for o in outcomes))


def _known_order(session: Session, shop: str, order_id: str) -> tuple[str | None, int | None]:
    """The stored order's status and how many Shopify line items it has (None: not known)."""
    row = session.execute(
        select(Order.id, Order.status).where(
            Order.shop_domain == shop, Order.shopify_order_id == order_id
        )
    ).first()
    if row is None:
        return None, None
    lines = session.scalar(
        select(func.count(distinct(LineItem.shopify_line_item_id))).where(
            LineItem.order_id == row.id
        )
    )
    return row.status, int(lines or 0) or None


def _write(
    session: Session,
    container: Container,
    enriched: EnrichedOrder,
    decisions: Sequence[ItemDecision],
    ownership: Ownership,
    *,
    first: bool,
) -> list[SupplierCut] | None:
    existing = session.scalar(
        select(Order).where(
            Order.shop_domain == enriched.shop, Order.shopify_order_id == enriched.order_id
        )
    )
    before = existing.shipping_address if existing is not None else None
    row = upsert_order(session, enriched)
    if row.status == OrderStatus.CANCELLED:
        return None
    if enriched.cancelled:
        # a cancellation whose webhook never came (found by a later read)
        enqueue(
            session,
            JobKind.ORDER_CANCEL,
            {"shop": row.shop_domain, "order_id": row.shopify_order_id},
            unique_key=f"cancel:{row.shop_domain}:{row.shopify_order_id}",
        )
        return None
    if not first and before != row.shipping_address:
        _note_address_change(row)
    cuts = _apply_decisions(session, row, enriched, decisions, ownership)
    _drop_emptied_supplier_orders(session, row)
    assign_to_supplier_orders(session, container, row, list(row.line_items))
    if first and fulfilled_at_payment(enriched):
        _warn_automatic_fulfilment(session, container, row)
    row.shopify_updated_at = _naive(enriched.updated_at) or row.shopify_updated_at
    if refresh_order(session, row):
        enqueue_mirror(session, container, row)
    return cuts


def _drop_emptied_supplier_orders(session: Session, row: Order) -> None:
    """A supplier order not sent yet whose items all went back to waiting or were cancelled
    has nothing left to send."""
    session.flush()
    for supplier_order in row.supplier_orders:
        if supplier_order.status != SupplierOrderStatus.PENDING:
            continue
        left = session.scalar(
            select(LineItem.id).where(LineItem.supplier_order_id == supplier_order.id)
        )
        if left is None:
            supplier_order.status = SupplierOrderStatus.CANCELLED
            supplier_order.last_error = "nothing left to send after a change in Shopify"


def _note_address_change(row: Order) -> None:
    sent = sorted({so.supplier for so in row.supplier_orders if so.status not in NOT_AT_SUPPLIER})
    if sent:
        row.attention = (
            "shipping address changed after submission to "
            + ", ".join(sent)
            + ": update it at the supplier"
        )


def _warn_automatic_fulfilment(session: Session, container: Container, row: Order) -> None:
    message = (
        f"{row.name}: Shopify fulfilled every item when the order was paid, so nothing was "
        "routed. The store fulfils line items automatically (Settings → Checkout → Order "
        "processing); turn that off for the integrator to produce its orders."
    )
    row.attention = message
    subject = f"shop:{row.shop_domain}"
    if (
        session.scalar(
            select(Alert.id).where(Alert.kind == "automatic_fulfilment", Alert.subject == subject)
        )
        is not None
    ):
        return
    alert = Alert(kind="automatic_fulfilment", subject=subject, order_id=row.id, message=message)
    session.add(alert)
    session.flush()
    log.warning("shop.automatic_fulfilment", extra={"shop": row.shop_domain, "alert_id": alert.id})
    if container.config(row.shop_domain).alerts.webhook_url:
        enqueue(session, JobKind.ALERT_POST, {"alert_id": alert.id}, unique_key=f"alert:{alert.id}")


# --- per line ------------------------------------------------------------------------------


def _apply_decisions(
    session: Session,
    row: Order,
    enriched: EnrichedOrder,
    decisions: Sequence[ItemDecision],
    ownership: Ownership,
) -> list[SupplierCut]:
    parts: dict[str, list[LineItem]] = {}
    for item in sorted(row.line_items, key=lambda i: i.part):
        parts.setdefault(item.shopify_line_item_id, []).append(item)
    lines = {line.line_item_id: line for line in enriched.lines}
    cuts: dict[int, SupplierCut] = {}
    for decision in decisions:
        line = lines[decision.line_item_id]
        found = parts.get(line.line_item_id, [])
        outside = _fulfilled_at_our_locations(enriched, ownership, line.line_item_id)
        if not found:
            _first_part(session, row, line, decision, outside)
        elif decision.quantity is not None:
            _sync_line(session, row, line, decision, found, outside, cuts)
    return list(cuts.values())


def _first_part(
    session: Session, row: Order, line: OrderLine, decision: ItemDecision, fulfilled: int
) -> LineItem:
    item = _new_part(session, row, line, 0, decision.quantity or line.quantity)
    # units fulfilled before we knew the order are nobody's mistake: the baseline
    item.outside_fulfilled = fulfilled
    apply_decision(session, item, decision)
    return item


def _new_part(session: Session, row: Order, line: OrderLine, part: int, quantity: int) -> LineItem:
    item = LineItem(
        order_id=row.id,
        shopify_line_item_id=line.line_item_id,
        part=part,
        title=line.title[:255],
        sku=line.sku,
        variant_id=line.variant_id,
        product_type=line.product_type,
        quantity=quantity,
        properties=dict(line.properties),
        stage=Stage.RECEIVED.value,
        reached_stage=Stage.RECEIVED.value,
    )
    session.add(item)
    session.flush()
    row.line_items.append(item)
    move_first(session, item)
    return item


def _fulfilled_at_our_locations(order: EnrichedOrder, ownership: Ownership, line_id: str) -> int:
    """Units of the line Shopify shows fulfilled from fulfillment orders at our locations."""
    return sum(
        fo_line.total_quantity - fo_line.remaining_quantity
        for fo in order.fulfillment_orders
        if fo.status != "CANCELLED" and ownership.owns(fo)
        for fo_line in fo.lines
        if fo_line.line_item_id == line_id
    )


def _sync_line(
    session: Session,
    row: Order,
    line: OrderLine,
    decision: ItemDecision,
    parts: list[LineItem],
    fulfilled_here: int,
    cuts: dict[int, SupplierCut],
) -> None:
    active = [p for p in parts if p.disposition in COMMITTED and p.stage != Stage.CANCELLED.value]
    dormant = [p for p in parts if p not in active and p.stage == Stage.RECEIVED.value]
    _notice_outside_fulfilment(row, line, parts, active, fulfilled_here)
    wanted = (decision.quantity or 0) if decision.disposition.value in COMMITTED else 0
    in_flight = sum(p.quantity - p.fulfilled_quantity for p in active)
    if wanted > in_flight:
        _grow(session, row, line, decision, parts, active, dormant, wanted - in_flight)
    elif wanted < in_flight:
        waiting = decision.reason if decision.disposition is Disposition.WAIT else ""
        _shrink(session, row, line, active, in_flight - wanted, waiting, decision.reason, cuts)
    for part in dormant:
        if part.stage == Stage.RECEIVED.value and part.disposition not in COMMITTED:
            # nothing to make: it still waits, or is now skipped, with Shopify's latest reason
            part.disposition = decision.disposition.value
            part.reason = decision.reason


def _notice_outside_fulfilment(
    row: Order,
    line: OrderLine,
    parts: list[LineItem],
    active: list[LineItem],
    fulfilled_here: int,
) -> None:
    """Units of ours that Shopify shows fulfilled though our fulfillments did not do it (the
    merchant by hand, another app): count them done for the newest parts, and flag the order,
    since the supplier still makes them."""
    outside = fulfilled_here - sum(p.fulfilled_quantity for p in parts) - parts[0].outside_fulfilled
    if outside <= 0 or not active:
        return
    left = outside
    for part in sorted(active, key=lambda p: p.part, reverse=True):
        take = min(left, part.quantity - part.fulfilled_quantity)
        part.fulfilled_quantity += take
        left -= take
    row.attention = (
        f"{outside} × {line.title} fulfilled in Shopify outside the integrator (by hand or "
        "another app) while it is with a supplier: check that it is not made twice"
    )


def _grow(
    session: Session,
    row: Order,
    line: OrderLine,
    decision: ItemDecision,
    parts: list[LineItem],
    active: list[LineItem],
    dormant: list[LineItem],
    more: int,
) -> None:
    if dormant:
        part = dormant[0]
        part.quantity = more
        apply_decision(session, part, decision, first=False)
        return
    unsent = [
        p
        for p in active
        if p.stage in (Stage.ROUTED.value, Stage.ON_HOLD.value) and _is_unsent(session, p)
    ]
    if unsent:
        unsent[-1].quantity += more
        return
    part = _new_part(session, row, line, max(p.part for p in parts) + 1, more)
    apply_decision(session, part, decision, first=False)


def _shrink(
    session: Session,
    row: Order,
    line: OrderLine,
    active: list[LineItem],
    less: int,
    waiting: str,
    why: str,
    cuts: dict[int, SupplierCut],
) -> None:
    """Take ``less`` units back, unsent parts first, newest first."""
    order_key = {p.id: (0 if _is_unsent(session, p) else 1, -p.part) for p in active}
    for part in sorted(active, key=lambda p: order_key[p.id]):
        if less <= 0:
            return
        take = min(less, part.quantity - part.fulfilled_quantity)
        if take <= 0:
            continue
        less -= take
        keep = part.quantity - take
        if part.stage in AFTER_SHIPPING:
            row.attention = (
                f"{take} × {line.title} left the order in Shopify after it shipped "
                f"({why}): nothing was cancelled"
            )
        elif _is_unsent(session, part):
            _shrink_unsent(session, part, keep, waiting, why)
        else:
            assert part.supplier_order_id is not None
            cut = cuts.setdefault(part.supplier_order_id, SupplierCut(part.supplier_order_id))
            cut.keep[part.id] = keep
            cut.why = why
            if waiting and keep <= part.fulfilled_quantity:
                cut.waiting[part.id] = waiting


def _shrink_unsent(session: Session, part: LineItem, keep: int, waiting: str, why: str) -> None:
    if keep > part.fulfilled_quantity:
        part.quantity = keep
        return
    if waiting:
        to_wait(session, part, waiting)
    else:
        cancel_part(session, part, f"removed from the order in Shopify ({why})")


def _is_unsent(session: Session, part: LineItem) -> bool:
    if part.stage not in UNSENT_STAGES:
        return False
    if part.supplier_order_id is None:
        return True
    supplier_order = session.get(SupplierOrder, part.supplier_order_id)
    assert supplier_order is not None
    if supplier_order.status == SupplierOrderStatus.PENDING and _may_have_reached_supplier(
        session, supplier_order
    ):
        # its submission is under way: what it becomes decides; read the order again then
        raise RetryLater(30, f"{supplier_order.supplier} order is being submitted")
    return supplier_order.status in NOT_AT_SUPPLIER


def _may_have_reached_supplier(session: Session, supplier_order: SupplierOrder) -> bool:
    return supplier_order.maybe_created or submission_started(session, supplier_order)


def to_wait(session: Session, part: LineItem, reason: str) -> None:
    """Back to waiting for Shopify (held, scheduled, not requested): routed when it opens."""
    reset(session, part, Stage.RECEIVED, source="shopify", detail=f"waits: {reason}")
    part.disposition = Disposition.WAIT.value
    part.reason = reason
    part.supplier_order_id = None


def cancel_part(session: Session, part: LineItem, detail: str) -> None:
    move(session, part, Stage.CANCELLED, source="shopify", detail=detail)
    part.supplier_order_id = None


def _naive(moment: datetime | None) -> datetime | None:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment is not None else None


# --- cancelling at the supplier --------------------------------------------------------------


def cut_at_supplier(container: Container, shop: str, cut: SupplierCut) -> str:
    """Cancel a sent supplier order whose units left the Shopify order; send the rest again.

    Suppliers cancel whole orders, so the items that stay are routed again into a new supplier
    order (the same supplier). A refusal changes nothing and is flagged with the answer.
    """
    with container.db.read() as session:
        supplier_order = session.get(SupplierOrder, cut.supplier_order_id)
        if supplier_order is None or supplier_order.status not in AT_SUPPLIER:
            return "nothing_to_cancel"
        supplier, remote = supplier_order.supplier, supplier_order.supplier_order_id
    if remote is None:
        return "nothing_to_cancel"
    adapter = container.adapter(supplier, shop)
    try:
        outcome = adapter.cancel(remote)
        answer = outcome.reason or outcome.result.value
        cancelled = outcome.result in (CancelResult.CANCELLED, CancelResult.NOT_FOUND)
    except RetryableSupplierError as error:
        raise RetryableJobError(
            f"{supplier} cancel: {error}", retry_after=error.retry_after
        ) from error
    except SupplierError as error:
        answer, cancelled = str(error), False
    with container.db.write() as session:
        row = session.get(SupplierOrder, cut.supplier_order_id, with_for_update=True)
        assert row is not None
        if cancelled:
            _replace(session, container, row, cut, answer)
        else:
            _refused(row, cut, answer)
        refresh_order(session, row.order)
    return f"{supplier}:{'cancelled' if cancelled else 'refused'}"


def _replace(
    session: Session, container: Container, row: SupplierOrder, cut: SupplierCut, answer: str
) -> None:
    row.status = SupplierOrderStatus.CANCELLED
    row.last_error = f"cancelled after a change in Shopify ({cut.why})"
    items = list(session.scalars(select(LineItem).where(LineItem.supplier_order_id == row.id)))
    for item in items:
        keep = cut.keep.get(item.id, item.quantity)
        if keep <= item.fulfilled_quantity:
            if item.id in cut.waiting:
                to_wait(session, item, cut.waiting[item.id])
            else:
                cancel_part(
                    session,
                    item,
                    f"removed from the order in Shopify ({cut.why}); cancelled at "
                    f"{row.supplier}: {answer}",
                )
            continue
        item.quantity = keep
        decision = decision_of(item, f"sent again to {row.supplier} after a change in Shopify")
        spec = item.spec  # the catalog spec it was routed with (decision_of carries none)
        reset(
            session,
            item,
            Stage.RECEIVED,
            source="shopify",
            detail=f"{row.supplier} order cancelled after a change in Shopify ({cut.why})",
        )
        item.supplier_order_id = None
        apply_decision(session, item, decision, first=False)
        item.spec = spec
    assign_to_supplier_orders(session, container, row.order, items)


def _refused(row: SupplierOrder, cut: SupplierCut, answer: str) -> None:
    row.last_error = f"cancel refused: {answer}"
    row.order.attention = (
        f"the order changed in Shopify ({cut.why}) but {row.supplier} could not cancel "
        f"order {row.supplier_order_id} ({answer}): the removed items will still be made"
    )
