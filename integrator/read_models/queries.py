"""What the console and the admin API show: read-only queries returning plain data.

Both front ends call these, so the pages and the JSON always agree. Nothing here returns a
customer's email, address or a delivery body: only ids, stages and metadata.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from integrator.db.database import Database
from integrator.db.models import (
    FulfillmentRequestAnswer,
    ItemEvent,
    Job,
    LineItem,
    Order,
    Shipment,
    Shop,
    SupplierOrder,
    WebhookDelivery,
)
from integrator.db.timestamps import utcnow
from integrator.domain.durations import seconds_between
from integrator.domain.stages import Stage, can_reroute
from integrator.jobqueue.status import JobStatus

PROBLEMS = ("held", "failed")
PROBLEM_STAGES = {"held": Stage.ON_HOLD.value, "failed": Stage.FAILED.value}
JOB_STATUSES = tuple(JobStatus)
MAX_PER_PAGE = 100
MAX_SEARCH = 64
# PostgreSQL refuses NUL in text; no name or supplier holds any control character
CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f]")


class FilterError(ValueError):
    """A filter value the caller must correct; the message names the parameter."""


def _date(name: str, raw: str | None) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError as error:
        raise FilterError(f"{name}: {raw!r} is not a date like 2026-01-31") from error


def _positive(name: str, raw: str | None, default: int, ceiling: int) -> int:
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= ceiling:
        raise FilterError(f"{name}: must be a whole number from 1 to {ceiling}")
    return int(raw)


def _choice(name: str, raw: str | None, allowed: tuple[str, ...]) -> str | None:
    if not raw:
        return None
    if raw not in allowed:
        raise FilterError(f"{name}: must be one of {', '.join(allowed)}")
    return raw


@dataclass(frozen=True)
class OrderFilter:
    stage: str | None = None
    supplier: str | None = None
    since: date | None = None
    until: date | None = None
    problem: str | None = None  # held | failed: orders with an item in that state
    search: str | None = None  # part of the order name, e.g. "#1001"
    page: int = 1
    per_page: int = 25

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> OrderFilter:
        """Read the filter from query parameters. :raises FilterError: on a bad value."""
        supplier = (args.get("supplier") or "").strip() or None
        search = (args.get("q") or "").strip() or None
        if supplier and len(supplier) > 40:
            raise FilterError("supplier: at most 40 characters")
        if search and len(search) > MAX_SEARCH:
            raise FilterError(f"q: at most {MAX_SEARCH} characters")
        for name, text in (("supplier", supplier), ("q", search)):
            if text and CONTROL_CHARACTERS.search(text):
                raise FilterError(f"{name}: no control characters")
        return cls(
            stage=_choice("stage", args.get("stage"), tuple(s.value for s in Stage)),
            supplier=supplier,
            since=_date("since", args.get("since")),
            until=_date("until", args.get("until")),
            problem=_choice("problem", args.get("problem"), PROBLEMS),
            search=search,
            page=_positive("page", args.get("page"), 1, 1_000_000),
            per_page=_positive("per_page", args.get("per_page"), 25, MAX_PER_PAGE),
        )

    def as_args(self) -> dict[str, str]:
        """The query parameters that give this filter back (for links to other pages)."""
        values = {
            "stage": self.stage,
            "supplier": self.supplier,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "problem": self.problem,
            "q": self.search,
        }
        return {key: value for key, value in values.items() if value}


@dataclass(frozen=True)
class OrderPage:
    orders: list[dict[str, Any]]
    total: int
    page: int
    per_page: int
    filter: OrderFilter = field(default_factory=OrderFilter)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _filtered(statement: Select[Any], wanted: OrderFilter) -> Select[Any]:
    if wanted.stage:
        statement = statement.where(Order.production_stage == wanted.stage)
    if wanted.supplier:
        statement = statement.where(
            select(LineItem.id)
            .where(LineItem.order_id == Order.id, LineItem.supplier == wanted.supplier)
            .exists()
        )
    if wanted.problem:
        statement = statement.where(
            select(LineItem.id)
            .where(LineItem.order_id == Order.id)
            .where(LineItem.stage == PROBLEM_STAGES[wanted.problem])
            .exists()
        )
    if wanted.since:
        statement = statement.where(Order.created_at >= datetime.combine(wanted.since, time()))
    if wanted.until and wanted.until < date.max:
        end = datetime.combine(wanted.until, time()) + timedelta(days=1)
        statement = statement.where(Order.created_at < end)
    if wanted.search:
        pattern = f"%{_escape_like(wanted.search)}%"
        statement = statement.where(
            or_(
                Order.name.ilike(pattern, escape="\\"),
                Order.shopify_order_id == wanted.search,
            )
        )
    return statement


def _order_summary(order: Order, items: list[LineItem]) -> dict[str, Any]:
    return {
        "id": order.id,
        "name": order.name,
        "shop_domain": order.shop_domain,
        "shopify_order_id": order.shopify_order_id,
        "status": order.status,
        "production_stage": order.production_stage,
        "attention": order.attention,
        "created_at": order.created_at,
        "updated_at": order.updated_at,
        "item_count": len(items),
        "suppliers": sorted({i.supplier for i in items if i.supplier}),
        "held_items": sum(1 for i in items if i.stage == Stage.ON_HOLD.value),
        "failed_items": sum(1 for i in items if i.stage == Stage.FAILED.value),
    }


def list_orders(db: Database, wanted: OrderFilter) -> OrderPage:
    """One page of orders matching ``wanted``, newest first."""
    with db.read() as session:
        total = session.scalar(_filtered(select(func.count(Order.id)), wanted)) or 0
        orders = list(
            session.scalars(
                _filtered(select(Order), wanted)
                .order_by(Order.created_at.desc(), Order.id.desc())
                .limit(wanted.per_page)
                .offset((wanted.page - 1) * wanted.per_page)
            )
        )
        items = _items_by_order(session, [o.id for o in orders])
        rows = [_order_summary(o, items.get(o.id, [])) for o in orders]
    return OrderPage(rows, int(total), wanted.page, wanted.per_page, wanted)


def _items_by_order(session: Session, order_ids: list[int]) -> dict[int, list[LineItem]]:
    found: dict[int, list[LineItem]] = {}
    if not order_ids:
        return found
    statement = select(LineItem).where(LineItem.order_id.in_(order_ids)).order_by(LineItem.id)
    for item in session.scalars(statement):
        found.setdefault(item.order_id, []).append(item)
    return found


def timeline(events: list[ItemEvent], now: datetime) -> list[dict[str, Any]]:
    """Each stage change with how long the item stayed there (to the next change, or now).

    Suppliers date events to the whole second, so events are ordered by their whole second
    first and by when we recorded them second: a shipment dated 10:00:00 by the supplier
    stays after the production start we dated 10:00:00.3 (see integrator.domain.durations)."""
    ordered = sorted(events, key=lambda e: (e.occurred_at.replace(microsecond=0), e.id))
    rows = []
    for index, event in enumerate(ordered):
        until = ordered[index + 1].occurred_at if index + 1 < len(ordered) else now
        rows.append(
            {
                "stage": event.stage,
                "previous_stage": event.previous_stage,
                "source": event.source,
                "detail": event.detail,
                "supplier": event.supplier,
                "occurred_at": event.occurred_at,
                "duration_seconds": max(seconds_between(event.occurred_at, until), 0),
                "current": index + 1 == len(ordered),
            }
        )
    return rows


def _supplier_order(row: SupplierOrder) -> dict[str, Any]:
    return {
        "id": row.id,
        "supplier": row.supplier,
        "sequence": row.sequence,
        "external_ref": row.external_ref,
        "supplier_order_id": row.supplier_order_id,
        "status": row.status,
        "raw_status": row.raw_status,
        "last_error": row.last_error,
        "maybe_created": row.maybe_created,
        "submitted_at": row.submitted_at,
        "last_heard_at": row.last_heard_at,
    }


def _item(item: LineItem, events: list[ItemEvent], now: datetime) -> dict[str, Any]:
    return {
        "id": item.id,
        "shopify_line_item_id": item.shopify_line_item_id,
        "title": item.title,
        "sku": item.sku,
        "product_type": item.product_type,
        "quantity": item.quantity,
        "stage": item.stage,
        "reached_stage": item.reached_stage,
        "stage_changed_at": item.stage_changed_at,
        "disposition": item.disposition,
        "supplier": item.supplier,
        "rule": item.rule,
        "decoration": item.decoration,
        "decoration_source": item.decoration_source,
        "catalog_key": item.catalog_key,
        "reason": item.reason,
        "supplier_order_id": item.supplier_order_id,
        "timeline": timeline(events, now),
    }


def safe_link(url: str | None) -> str | None:
    """A tracking URL fit for an href: http(s) only, never ``javascript:`` and the like."""
    if url and url.lower().startswith(("https://", "http://")):
        return url
    return None


def _shipment(row: Shipment) -> dict[str, Any]:
    return {
        "id": row.id,
        "supplier": row.supplier,
        "supplier_order_id": row.supplier_order_id,
        "supplier_shipment_id": row.supplier_shipment_id,
        "carrier": row.carrier,
        "tracking_number": row.tracking_number,
        "tracking_url": safe_link(row.tracking_url),
        "items": row.items or [],
        "shipped_at": row.shipped_at,
        "shopify_fulfillment_id": row.shopify_fulfillment_id,
        "sync_status": row.sync_status,
        "sync_detail": row.sync_detail,
        "synced_at": row.synced_at,
    }


def _delivery(row: WebhookDelivery) -> dict[str, Any]:
    """A delivery's metadata; the body (and its headers) stay in the database."""
    return {
        "id": row.id,
        "source": row.source,
        "topic": row.topic,
        "event_id": row.event_id,
        "received_at": row.received_at,
        "outcome": row.outcome,
        "outcome_detail": row.outcome_detail,
        "body_size": row.body_size,
        "body_sha256": row.body_sha256,
        "processed_at": row.processed_at,
        "pruned": row.pruned_at is not None,
    }


def order_detail(db: Database, order_id: int) -> dict[str, Any] | None:
    """Everything the order page shows, or None for an unknown order."""
    now = utcnow()
    with db.read() as session:
        order = session.get(Order, order_id)
        if order is None:
            return None
        items = list(
            session.scalars(
                select(LineItem).where(LineItem.order_id == order_id).order_by(LineItem.id)
            )
        )
        events: dict[int, list[ItemEvent]] = {}
        item_ids = [i.id for i in items]
        if item_ids:
            for event in session.scalars(
                select(ItemEvent).where(ItemEvent.line_item_id.in_(item_ids))
            ):
                events.setdefault(event.line_item_id, []).append(event)
        supplier_orders = session.scalars(
            select(SupplierOrder)
            .where(SupplierOrder.order_id == order_id)
            .order_by(SupplierOrder.id)
        )
        shipments = session.scalars(
            select(Shipment).where(Shipment.order_id == order_id).order_by(Shipment.id)
        )
        deliveries = session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.order_id == order_id)
            .order_by(WebhookDelivery.received_at, WebhookDelivery.id)
        )
        shop = session.scalar(select(Shop).where(Shop.domain == order.shop_domain))
        answers = session.scalars(
            select(FulfillmentRequestAnswer)
            .where(
                FulfillmentRequestAnswer.shop_domain == order.shop_domain,
                FulfillmentRequestAnswer.shopify_order_id == order.shopify_order_id,
            )
            .order_by(FulfillmentRequestAnswer.answered_at, FulfillmentRequestAnswer.id)
        )
        detail = _order_summary(order, items)
        detail |= {
            # docs/adr/0002: a shop without a stored mode is merchant-managed
            "fulfillment_mode": (shop.fulfillment_mode if shop else None) or "merchant-managed",
            "request_answers": [
                {
                    "kind": a.kind,
                    "accepted": a.accepted,
                    "reason": a.reason,
                    "message": a.message,
                    "answered_at": a.answered_at,
                    "fulfillment_order_id": a.fulfillment_order_id,
                }
                for a in answers
            ],
            "financial_status": order.financial_status,
            "paid_at": order.paid_at,
            "closed_at": order.closed_at,
            "cancelled_at": order.cancelled_at,
            "line_items": [_item(i, events.get(i.id, []), now) for i in items],
            "supplier_orders": [_supplier_order(s) for s in supplier_orders],
            "shipments": [_shipment(s) for s in shipments],
            "deliveries": [_delivery(d) for d in deliveries],
        }
    return detail


def holds(db: Database) -> list[dict[str, Any]]:
    """Items that need a person (held or failed), oldest first, with what may be done."""
    statement = (
        select(LineItem, Order, SupplierOrder.maybe_created)
        .join(Order, Order.id == LineItem.order_id)
        .outerjoin(SupplierOrder, SupplierOrder.id == LineItem.supplier_order_id)
        .where(LineItem.stage.in_([Stage.ON_HOLD.value, Stage.FAILED.value]))
        .order_by(LineItem.stage_changed_at, LineItem.id)
        .limit(500)
    )
    rows = []
    with db.read() as session:
        for item, order, maybe_created in session.execute(statement):
            failed = item.stage == Stage.FAILED.value
            rows.append(
                {
                    "line_item_id": item.id,
                    "order_id": order.id,
                    "order_name": order.name,
                    "shop_domain": order.shop_domain,
                    "title": item.title,
                    "sku": item.sku,
                    "product_type": item.product_type,
                    "stage": item.stage,
                    "since": item.stage_changed_at,
                    "supplier": item.supplier,
                    "rule": item.rule,
                    "reason": item.reason,
                    "maybe_created": bool(maybe_created),
                    "actions": {
                        "retry": failed and bool(item.supplier),
                        "reroute": can_reroute(Stage(item.stage)),
                        "release": True,
                        "cancel": True,
                    },
                }
            )
    return rows


def line_item_exists(db: Database, line_item_id: int) -> bool:
    with db.read() as session:
        return session.get(LineItem, line_item_id) is not None


def line_item_order(db: Database, line_item_id: int) -> int | None:
    with db.read() as session:
        return session.scalar(select(LineItem.order_id).where(LineItem.id == line_item_id))


def _job(row: Job) -> dict[str, Any]:
    return {
        "id": row.id,
        "kind": row.kind,
        "status": row.status,
        "attempts": row.attempts,
        "max_attempts": row.max_attempts,
        "priority": row.priority,
        "run_at": row.run_at,
        "created_at": row.created_at,
        "started_at": row.started_at,
        "finished_at": row.finished_at,
        "locked_by": row.locked_by,
        "last_error": row.last_error,
    }


def jobs(db: Database, status: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """Jobs not yet done (or of one status), the ones due first; payloads are not shown."""
    statement = select(Job).order_by(Job.run_at, Job.id).limit(limit)
    if status:
        statement = statement.where(Job.status == status)
    else:
        statement = statement.where(Job.status != JobStatus.DONE)
    with db.read() as session:
        return [_job(row) for row in session.scalars(statement)]


def job_status(db: Database, job_id: int) -> JobStatus | None:
    with db.read() as session:
        return session.scalar(select(Job.status).where(Job.id == job_id))
