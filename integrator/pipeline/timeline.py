"""Apply stage changes to stored line items through the forward-only state machine."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from integrator.db.models import ItemEvent, LineItem, Order
from integrator.db.timestamps import as_utc, utcnow
from integrator.db.upsert import insert_or_ignore
from integrator.domain.stages import MAIN_LINE, RANK, Stage, advance, release
from integrator.domain.statuses import OrderStatus

CLOSED_STAGES = frozenset({Stage.DELIVERED, Stage.CANCELLED, Stage.RETURNED})


def record_event(
    session: Session,
    item: LineItem,
    stage: Stage,
    previous: str | None,
    *,
    source: str,
    detail: str | None = None,
    supplier: str | None = None,
    dedupe_key: str | None = None,
    occurred_at: datetime | None = None,
) -> bool:
    """Insert one timeline row; False when this (item, dedupe key) is already there."""
    values = {
        "line_item_id": item.id,
        "stage": stage.value,
        "previous_stage": previous,
        "source": source,
        "detail": detail,
        "supplier": supplier,
        "dedupe_key": dedupe_key,
        "occurred_at": as_utc(occurred_at) if occurred_at else utcnow(),
        "recorded_at": utcnow(),
    }
    # on the session's connection: the ORM's execute would build its compile state and
    # autoflush for a plain insert that needs neither (the item's row is already flushed)
    return insert_or_ignore(session.connection(), ItemEvent, values) is not None


def move(
    session: Session,
    item: LineItem,
    new: Stage,
    *,
    source: str,
    detail: str | None = None,
    supplier: str | None = None,
    dedupe_key: str | None = None,
    occurred_at: datetime | None = None,
) -> bool:
    """Move ``item`` to ``new`` if the state machine allows; record the event. True if moved."""
    result = advance(Stage(item.stage), Stage(item.reached_stage), new)
    if result is None:
        return False
    previous = item.stage
    if not record_event(
        session,
        item,
        new,
        previous,
        source=source,
        detail=detail,
        supplier=supplier,
        dedupe_key=dedupe_key,
        occurred_at=occurred_at,
    ):
        return False
    item.stage, reached = result[0].value, result[1]
    item.reached_stage = reached.value
    item.stage_changed_at = utcnow()
    item.alerted_stage = None
    if new in (Stage.ON_HOLD, Stage.FAILED, Stage.CANCELLED) and detail:
        item.reason = detail
    return True


def release_hold(
    session: Session,
    item: LineItem,
    *,
    source: str,
    detail: str,
    supplier: str | None = None,
    dedupe_key: str | None = None,
    occurred_at: datetime | None = None,
) -> bool:
    """The supplier lifted its hold: an on-hold item goes back to the main stage it had
    reached before the hold. True if it moved (False: not on hold, or already recorded)."""
    result = release(Stage(item.stage), Stage(item.reached_stage))
    if result is None:
        return False
    previous = item.stage
    if not record_event(
        session,
        item,
        result[0],
        previous,
        source=source,
        detail=detail,
        supplier=supplier,
        dedupe_key=dedupe_key,
        occurred_at=occurred_at,
    ):
        return False
    item.stage, item.reached_stage = result[0].value, result[1].value
    item.stage_changed_at = utcnow()
    item.alerted_stage = None
    item.reason = detail
    return True


def reset(session: Session, item: LineItem, to: Stage, *, source: str, detail: str) -> None:
    """Operator override: put a held or failed item back on the main line at ``to``."""
    previous = item.stage
    item.stage = to.value
    item.reached_stage = to.value
    item.stage_changed_at = utcnow()
    item.alerted_stage = None
    item.reason = detail
    record_event(session, item, to, previous, source=source, detail=detail)


def order_stage(items: list[LineItem]) -> Stage | None:
    """The order's production stage: the least advanced of its open items (what is still owed)."""
    active = [Stage(i.stage) for i in items if i.disposition == "route" or i.stage == "on_hold"]
    if not active:
        return None
    for side in (Stage.ON_HOLD, Stage.FAILED):
        if side in active:
            return side
    main = [s for s in active if s in RANK]
    if not main:
        return active[0]
    return MAIN_LINE[min(RANK[s] for s in main)]


def refresh_order(session: Session, order: Order) -> bool:
    """Recompute the order's production stage and whether it is closed; True if the stage changed."""
    items = list(session.scalars(select(LineItem).where(LineItem.order_id == order.id)))
    stage = order_stage(items)
    changed = (stage.value if stage else None) != order.production_stage
    order.production_stage = stage.value if stage else None
    routed = [i for i in items if i.disposition == "route" or i.stage == "on_hold"]
    if (
        order.status == OrderStatus.OPEN
        and routed
        and all(Stage(i.stage) in CLOSED_STAGES for i in routed)
    ):
        order.status = OrderStatus.CLOSED
        order.closed_at = utcnow()
    return changed
