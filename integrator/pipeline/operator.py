"""What an operator can do to a line item: retry, re-route, release, cancel (CLI and console).

None of them makes an item a second time while a supplier still has it: release and re-route
first ask the supplier about the order the item is in (an HTTP call, made before any
transaction) and refuse while it is live there; retry sends the same reference again when the
first order may exist, so the adapter's look-up finds it instead of creating another.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from integrator.bootstrap import Container
from integrator.db.models import LineItem, Order, SupplierOrder
from integrator.domain.model import Disposition, EventKind, ItemDecision, SupplierEvent
from integrator.domain.stages import Stage, can_reroute
from integrator.domain.statuses import SupplierOrderStatus
from integrator.jobqueue.jobs import enqueue
from integrator.pipeline.decisions import apply_decision
from integrator.pipeline.job_kinds import JobKind
from integrator.pipeline.records import decision_of, order_line_from_item, spec_to_json
from integrator.pipeline.supplier_orders import assign_to_supplier_orders
from integrator.pipeline.timeline import move, refresh_order, reset
from integrator.routing.router import route_line
from integrator.suppliers.errors import SupplierError, SupplierRejected

# what a supplier says of an item it will not make (any more)
GONE_AT_SUPPLIER = frozenset({Stage.FAILED, Stage.CANCELLED})


class OperatorError(Exception):
    """The action is not allowed for this item now; the message says why."""


def _item(session: Session, line_item_id: int) -> LineItem:
    item = session.get(LineItem, line_item_id, with_for_update=True)
    if item is None:
        raise OperatorError(f"no line item {line_item_id}")
    return item


def _requeue(
    session: Session,
    container: Container,
    item: LineItem,
    decision: ItemDecision,
    note: str,
    *,
    same_order: SupplierOrder | None = None,
) -> str:
    """Route the item again; with ``same_order``, submit it under that order's reference."""
    reset(session, item, Stage.RECEIVED, source="operator", detail=note)
    item.supplier_order_id = None
    apply_decision(session, item, decision, first=False)
    order: Order = item.order
    if same_order is not None and item.stage == Stage.ROUTED.value:
        item.supplier_order_id = same_order.id
        same_order.status = SupplierOrderStatus.PENDING
        enqueue(
            session,
            JobKind.SUPPLIER_SUBMIT,
            {"supplier_order_id": same_order.id},
            unique_key=f"submit:{same_order.id}:operator:{uuid.uuid4().hex}",
        )
    assign_to_supplier_orders(session, container, order, [item])
    refresh_order(session, order)
    return item.stage


@dataclass(frozen=True)
class SentOrder:
    """The supplier order an item was last sent in, as we recorded it."""

    id: int
    supplier: str
    shop: str
    remote_id: str | None
    external_ref: str
    status: SupplierOrderStatus
    # an attempt failed in a way after which the supplier may have made the order
    maybe_created: bool

    @property
    def may_exist(self) -> bool:
        return self.status != SupplierOrderStatus.CANCELLED and (
            self.remote_id is not None or self.maybe_created
        )


def _sent_order(container: Container, line_item_id: int) -> tuple[SentOrder | None, str]:
    """(the item's supplier order, the item's Shopify line item id)."""
    with container.db.read() as session:
        item = session.get(LineItem, line_item_id)
        if item is None:
            raise OperatorError(f"no line item {line_item_id}")
        row = session.get(SupplierOrder, item.supplier_order_id) if item.supplier_order_id else None
        if row is None:
            return None, item.shopify_line_item_id
        return (
            SentOrder(
                row.id,
                row.supplier,
                row.order.shop_domain,
                row.supplier_order_id,
                row.external_ref,
                row.status,
                row.maybe_created,
            ),
            item.shopify_line_item_id,
        )


def still_making(container: Container, line_item_id: int) -> str | None:
    """Why the supplier may still make this item in the order it was sent in (None: it will
    not). Asks the supplier; call it outside any transaction."""
    sent, shopify_line_item_id = _sent_order(container, line_item_id)
    if sent is None or not sent.may_exist:
        return None
    adapter = container.adapter(sent.supplier, sent.shop)
    name = sent.remote_id or sent.external_ref
    if sent.remote_id is None and not adapter.FINDS_BY_REFERENCE:
        return (
            f"{sent.supplier} may have made order {name} (a create failed without an answer) "
            f"and cannot be asked by our reference"
        )
    try:
        if sent.remote_id is not None:
            events = adapter.fetch_status(supplier_order_id=sent.remote_id)
        else:
            events = adapter.fetch_status(external_ref=sent.external_ref)
    except SupplierRejected as error:
        if error.status == 404:
            return None
        raise OperatorError(
            f"{sent.supplier} would not say how order {name} is: {error}"
        ) from error
    except SupplierError as error:
        raise OperatorError(
            f"cannot ask {sent.supplier} how order {name} is now ({error}); try again later"
        ) from error
    stage = stage_of_item(events, shopify_line_item_id)
    if stage is None or stage in GONE_AT_SUPPLIER:
        return None
    return f"{sent.supplier} order {name} still has this item ({stage.value} there)"


def stage_of_item(events: Sequence[SupplierEvent], line_item_id: str) -> Stage | None:
    """The item's stage at the supplier by a status poll: what the events naming it say,
    else what the order-level ones say; the furthest along when they disagree."""
    naming = [
        e
        for e in events
        if e.stage is not None
        and (
            line_item_id in e.line_item_ids
            or (
                e.shipment is not None
                and line_item_id in {i.line_item_id for i in e.shipment.items}
            )
        )
    ]
    order_level = [
        e
        for e in events
        if e.stage is not None and not e.line_item_ids and e.kind is EventKind.STATUS
    ]
    stages = [e.stage for e in naming or order_level if e.stage is not None]
    if not stages:
        return None
    alive = [stage for stage in stages if stage not in GONE_AT_SUPPLIER]
    return alive[-1] if alive else stages[-1]


def _reroutable(item: LineItem) -> str | None:
    if can_reroute(Stage(item.stage)):
        return None
    return f"item is {item.stage}; only held or failed items can be re-routed"


def _releasable(item: LineItem) -> str | None:
    if item.stage in (Stage.ON_HOLD.value, Stage.FAILED.value):
        return None
    return f"item is {item.stage}; only held or failed items can be released"


def _retryable(item: LineItem) -> str | None:
    if item.stage == Stage.FAILED.value and item.supplier:
        return None
    return f"item is {item.stage}; only failed items with a supplier can be retried"


def _check(
    session: Session, line_item_id: int, allowed: Callable[[LineItem], str | None]
) -> LineItem:
    item = _item(session, line_item_id)
    refusal = allowed(item)
    if refusal:
        raise OperatorError(refusal)
    return item


def _check_now(
    container: Container, line_item_id: int, allowed: Callable[[LineItem], str | None]
) -> None:
    """Refuse at once, before asking any supplier (checked again when the action writes)."""
    with container.db.read() as session:
        _check(session, line_item_id, allowed)


def _refuse_if_still_making(container: Container, line_item_id: int, action: str) -> None:
    reason = still_making(container, line_item_id)
    if reason:
        raise OperatorError(
            f"{reason}: {action} would make it a second time; resolve it at the supplier "
            "(or cancel that order there) first"
        )


def reroute_item(container: Container, line_item_id: int, supplier: str) -> str:
    """Send a held or failed item to ``supplier`` (must be configured and have a catalog entry)."""
    _check_now(container, line_item_id, _reroutable)
    _refuse_if_still_making(container, line_item_id, f"re-routing it to {supplier}")
    with container.db.write() as session:
        item = _check(session, line_item_id, _reroutable)
        config = container.config(item.order.shop_domain)
        if supplier not in config.suppliers:
            raise OperatorError(f"supplier {supplier!r} is not configured")
        line = order_line_from_item(item)
        entry = config.catalog.find(line)
        if entry is None or supplier not in entry.listings:
            raise OperatorError(f"the catalog has no {supplier} entry for this item")
        from integrator.store_config.catalog import build_spec

        spec = build_spec(entry, supplier, line.properties, config.decoration_properties)
        decision = ItemDecision(
            item.shopify_line_item_id,
            Disposition.ROUTE,
            f"re-routed by the operator to {supplier}",
            supplier,
            "operator",
            item.decoration,
            item.decoration_source,
            entry.key,
            spec,
            (),
        )
        item.spec = spec_to_json(spec)
        return _requeue(session, container, item, decision, f"operator re-route to {supplier}")


def release_item(container: Container, line_item_id: int) -> str:
    """Route a held item again by the rules (after the operator fixed config or catalog)."""
    _check_now(container, line_item_id, _releasable)
    _refuse_if_still_making(container, line_item_id, "releasing it")
    with container.db.write() as session:
        item = _check(session, line_item_id, _releasable)
        order = item.order
        config = container.config(order.shop_domain)
        country = (order.shipping_address or {}).get("country_code") or None
        decision = route_line(order_line_from_item(item), country, config)
        if decision.disposition is Disposition.HOLD and item.stage == Stage.ON_HOLD.value:
            raise OperatorError(f"still held by the rules: {decision.reason}")
        return _requeue(session, container, item, decision, "released by the operator")


def retry_item(container: Container, line_item_id: int) -> str:
    """Submit a failed item again to the same supplier.

    An order the supplier never confirmed is sent again under the same reference, so when the
    first attempt did make it, the adapter's look-up finds it; a confirmed one that is still
    live there is left alone (refused); only one the supplier failed or cancelled is replaced."""
    _check_now(container, line_item_id, _retryable)
    sent, _ = _sent_order(container, line_item_id)
    unconfirmed = (
        sent is not None and sent.remote_id is None and sent.status != SupplierOrderStatus.CANCELLED
    )
    if not unconfirmed:
        _refuse_if_still_making(container, line_item_id, "retrying it")
    with container.db.write() as session:
        item = _check(session, line_item_id, _retryable)
        previous = session.get(SupplierOrder, sent.id) if sent is not None else None
        same_order = (
            previous if unconfirmed and previous and previous.supplier == item.supplier else None
        )
        decision = decision_of(item, f"retried by the operator at {item.supplier}")
        spec_json = item.spec
        result = _requeue(
            session,
            container,
            item,
            decision,
            f"operator retry at {item.supplier}",
            same_order=same_order,
        )
        item.spec = spec_json  # keep the catalog spec the item was routed with
        return result


def cancel_item(container: Container, line_item_id: int) -> str:
    """Cancel an item that no supplier has started (held, failed, or not yet submitted)."""
    with container.db.write() as session:
        item = _item(session, line_item_id)
        if item.stage not in (
            Stage.ON_HOLD.value,
            Stage.FAILED.value,
            Stage.ROUTED.value,
            Stage.RECEIVED.value,
        ):
            raise OperatorError(f"item is {item.stage}; cancel it at the supplier first")
        move(session, item, Stage.CANCELLED, source="operator", detail="cancelled by the operator")
        item.supplier_order_id = None
        refresh_order(session, item.order)
        return item.stage
