"""What an operator can do to a line item: retry, re-route, release, cancel (CLI and console)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from integrator.bootstrap import Container
from integrator.db.models import LineItem, Order
from integrator.domain.model import Disposition, ItemDecision
from integrator.domain.stages import Stage, can_reroute
from integrator.pipeline.ingest import apply_decision, assign_to_supplier_orders
from integrator.pipeline.records import decision_of, order_line_from_item, spec_to_json
from integrator.pipeline.timeline import move, refresh_order, reset
from integrator.routing.router import route_line


class OperatorError(Exception):
    """The action is not allowed for this item now; the message says why."""


def _item(session: Session, line_item_id: int) -> LineItem:
    item = session.get(LineItem, line_item_id, with_for_update=True)
    if item is None:
        raise OperatorError(f"no line item {line_item_id}")
    return item


def _requeue(
    session: Session, container: Container, item: LineItem, decision: ItemDecision, note: str
) -> str:
    reset(session, item, Stage.RECEIVED, source="operator", detail=note)
    item.supplier_order_id = None
    apply_decision(session, item, decision, first=False)
    order: Order = item.order
    assign_to_supplier_orders(session, container, order, [item])
    refresh_order(session, order)
    return item.stage


def reroute_item(container: Container, line_item_id: int, supplier: str) -> str:
    """Send a held or failed item to ``supplier`` (must be configured and have a catalog entry)."""
    with container.db.write() as session:
        item = _item(session, line_item_id)
        if not can_reroute(Stage(item.stage)):
            raise OperatorError(f"item is {item.stage}; only held or failed items can be re-routed")
        config = container.config(item.order.shop_domain)
        if supplier not in config.suppliers:
            raise OperatorError(f"supplier {supplier!r} is not configured")
        line = order_line_from_item(item)
        entry = config.catalog.find(line)
        if entry is None or supplier not in entry.listings:
            raise OperatorError(f"the catalog has no {supplier} entry for this item")
        from integrator.routing.catalog import build_spec

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
    with container.db.write() as session:
        item = _item(session, line_item_id)
        if item.stage not in (Stage.ON_HOLD.value, Stage.FAILED.value):
            raise OperatorError(f"item is {item.stage}; only held or failed items can be released")
        order = item.order
        config = container.config(order.shop_domain)
        country = (order.shipping_address or {}).get("country_code") or None
        decision = route_line(order_line_from_item(item), country, config)
        if decision.disposition is Disposition.HOLD and item.stage == Stage.ON_HOLD.value:
            raise OperatorError(f"still held by the rules: {decision.reason}")
        return _requeue(session, container, item, decision, "released by the operator")


def retry_item(container: Container, line_item_id: int) -> str:
    """Submit a failed item again to the same supplier."""
    with container.db.write() as session:
        item = _item(session, line_item_id)
        if item.stage != Stage.FAILED.value or not item.supplier:
            raise OperatorError(
                f"item is {item.stage}; only failed items with a supplier can be retried"
            )
        decision = decision_of(item, f"retried by the operator at {item.supplier}")
        spec_json = item.spec
        result = _requeue(session, container, item, decision, f"operator retry at {item.supplier}")
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
