"""An item's routing decision recorded on its row, and the stage event it makes (first routing,
a later one, a failover's reassignment)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from integrator.db.models import LineItem
from integrator.db.timestamps import utcnow
from integrator.domain.model import Disposition, ItemDecision
from integrator.domain.stages import Stage
from integrator.pipeline.records import spec_to_json
from integrator.pipeline.timeline import move, record_event


def move_first(session: Session, item: LineItem) -> None:
    record_event(session, item, Stage.RECEIVED, None, source="shopify", dedupe_key="received")


def _take_decision(item: LineItem, decision: ItemDecision) -> None:
    item.disposition = decision.disposition.value
    if decision.fulfillment_order_lines:
        item.fulfillment_order_lines = [
            {
                "fulfillment_order_id": ref.fulfillment_order_id,
                "line_id": ref.line_id,
                "location_id": ref.location_id,
                "quantity": ref.quantity,
            }
            for ref in decision.fulfillment_order_lines
        ]
    item.supplier = decision.supplier
    item.rule = decision.rule
    item.decoration = decision.decoration
    item.decoration_source = decision.decoration_source
    item.catalog_key = decision.catalog_key
    item.spec = spec_to_json(decision.spec)
    item.fallbacks = list(decision.fallbacks)
    item.reason = decision.reason


def apply_decision(
    session: Session, item: LineItem, decision: ItemDecision, *, first: bool = True
) -> None:
    """Store a routing decision and move the item to routed or on hold.

    The first routing of an item carries a dedupe key (ingest may run twice); a later one
    (operator release or retry) is a new event of its own.
    """
    _take_decision(item, decision)
    if decision.disposition is Disposition.ROUTE:
        move(
            session,
            item,
            Stage.ROUTED,
            source="routing",
            detail=decision.reason,
            supplier=decision.supplier,
            dedupe_key="routed" if first else None,
        )
    elif decision.disposition is Disposition.HOLD:
        move(
            session,
            item,
            Stage.ON_HOLD,
            source="routing",
            detail=decision.reason,
            dedupe_key="routing-hold" if first else None,
        )


def reassign(
    session: Session, item: LineItem, decision: ItemDecision, *, source: str, detail: str
) -> None:
    """Failover of a routed item: record the new supplier (or the hold) as a stage event."""
    _take_decision(item, decision)
    item.supplier_order_id = None
    if decision.disposition is Disposition.ROUTE:
        record_event(
            session,
            item,
            Stage.ROUTED,
            item.stage,
            source=source,
            detail=f"{detail}; {decision.reason}",
            supplier=decision.supplier,
        )
        item.stage_changed_at = utcnow()
    else:
        move(session, item, Stage.ON_HOLD, source=source, detail=f"{detail}; {decision.reason}")
