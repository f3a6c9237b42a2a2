"""Tables. Idempotency lives in the unique constraints, never in check-then-insert.

Times are naive UTC (``integrator.db.timestamps.utcnow``) so SQLite and PostgreSQL compare alike.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from integrator.db.timestamps import utcnow
from integrator.domain.statuses import (
    OrderStatus,
    ShipmentSyncStatus,
    ShopStatus,
    SupplierOrderStatus,
)
from integrator.jobqueue.status import JobStatus

# BIGINT on PostgreSQL, INTEGER (the rowid alias, so autoincrement works) on SQLite
Id = BigInteger().with_variant(Integer(), "sqlite")


S = TypeVar("S", bound=StrEnum)


class StatusColumn(TypeDecorator[S]):
    """A status column: stored as its value in a plain VARCHAR (the schema is unchanged), read
    back as a member of its StrEnum, and refused on write when it is no member, so a misspelt
    status fails where it is written instead of leaving a row no query finds."""

    impl = String
    cache_ok = True

    def __init__(self, vocabulary: type[S], length: int) -> None:
        super().__init__(length)
        self.vocabulary = vocabulary

    def process_bind_param(self, value: S | str | None, dialect: Dialect) -> str | None:
        return None if value is None else self.vocabulary(value).value

    def process_result_value(self, value: str | None, dialect: Dialect) -> S | None:
        return None if value is None else self.vocabulary(value)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Shop(Base):
    __tablename__ = "shops"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    domain: Mapped[str] = mapped_column(String(255), unique=True)
    status: Mapped[ShopStatus] = mapped_column(
        StatusColumn(ShopStatus, 20), default=ShopStatus.ACTIVE
    )
    access_token_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    refresh_token_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    token_expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    refresh_token_expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    scopes: Mapped[str] = mapped_column(Text, default="")
    installed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    uninstalled_at: Mapped[datetime | None] = mapped_column(DateTime)
    orders_checkpoint: Mapped[datetime | None] = mapped_column(DateTime)
    # where `integrator shopify setup` subscribed the webhooks (single-store mode): the
    # reconciliation recreates there any subscription Shopify deleted after failed deliveries
    webhook_callback_url: Mapped[str | None] = mapped_column(Text)
    # merchant-managed | fulfillment-service (docs/adr/0002); None: the default for the install
    fulfillment_mode: Mapped[str | None] = mapped_column(String(30))
    fulfillment_service_id: Mapped[str | None] = mapped_column(String(100))
    fulfillment_location_id: Mapped[str | None] = mapped_column(String(100))


class WebhookDelivery(Base):
    """The inbox: every delivery we acknowledged, Shopify's and the suppliers'."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("source", "dedupe_key", name="uq_delivery_source_dedupe"),
        Index("ix_delivery_received", "received_at"),
        Index("ix_delivery_order", "order_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    source: Mapped[str] = mapped_column(String(40))  # "shopify" or the supplier's config name
    topic: Mapped[str] = mapped_column(String(100))
    shop_domain: Mapped[str | None] = mapped_column(String(255))
    dedupe_key: Mapped[str] = mapped_column(String(255))
    event_id: Mapped[str | None] = mapped_column(String(255))
    triggered_at: Mapped[str | None] = mapped_column(String(64))
    api_version: Mapped[str | None] = mapped_column(String(20))
    headers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    body: Mapped[bytes | None] = mapped_column(LargeBinary)  # pruned by retention
    body_sha256: Mapped[str] = mapped_column(String(64))
    body_size: Mapped[int] = mapped_column(Integer, default=0)
    received_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    outcome: Mapped[str] = mapped_column(
        String(20), default="stored"
    )  # stored|processed|ignored|failed
    outcome_detail: Mapped[str | None] = mapped_column(Text)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"))
    processed_at: Mapped[datetime | None] = mapped_column(DateTime)
    pruned_at: Mapped[datetime | None] = mapped_column(DateTime)


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("shop_domain", "shopify_order_id", name="uq_order_shop_id"),
        Index("ix_order_name", "name"),
        Index("ix_order_customer", "shop_domain", "customer_id"),
        Index("ix_order_paid", "paid_at"),  # the console's production-time window
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_domain: Mapped[str] = mapped_column(String(255))
    shopify_order_id: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(64), default="")
    customer_id: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(320))  # personal data
    shipping_address: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # personal data
    currency: Mapped[str] = mapped_column(String(8), default="")
    financial_status: Mapped[str] = mapped_column(String(32), default="")
    status: Mapped[OrderStatus] = mapped_column(
        StatusColumn(OrderStatus, 20), default=OrderStatus.OPEN
    )
    attention: Mapped[str | None] = mapped_column(Text)  # why an operator must look
    production_stage: Mapped[str | None] = mapped_column(String(20))
    mirrored_stage: Mapped[str | None] = mapped_column(String(20))
    test: Mapped[bool] = mapped_column(Boolean, default=False)  # Shopify's Order.test
    # Shopify's updatedAt when we last read (or changed) the order: reconciliation reads it
    # again only when Shopify shows a later one
    shopify_updated_at: Mapped[datetime | None] = mapped_column(DateTime)
    paid_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime)
    redacted_at: Mapped[datetime | None] = mapped_column(DateTime)

    line_items: Mapped[list[LineItem]] = relationship(
        back_populates="order", order_by="LineItem.id", cascade="all, delete-orphan"
    )
    supplier_orders: Mapped[list[SupplierOrder]] = relationship(
        back_populates="order", order_by="SupplierOrder.id", cascade="all, delete-orphan"
    )


class LineItem(Base):
    """Some quantity of one Shopify line item, made (or held, or waiting) as one unit.

    Usually one row per line item (``part`` 0). A quantity that becomes ours later (a split
    hold released, an order edit adding units) after the first part went to a supplier is a
    further part, submitted in a supplier order of its own.
    """

    __tablename__ = "line_items"
    __table_args__ = (
        UniqueConstraint("order_id", "shopify_line_item_id", "part", name="uq_line_item_part"),
        Index("ix_line_item_stage", "stage"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    shopify_line_item_id: Mapped[str] = mapped_column(String(32))
    part: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(String(255), default="")
    sku: Mapped[str | None] = mapped_column(String(255))
    variant_id: Mapped[str | None] = mapped_column(String(32))
    product_type: Mapped[str | None] = mapped_column(String(255))
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    properties: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # may hold personal data
    stage: Mapped[str] = mapped_column(String(20), default="received")
    reached_stage: Mapped[str] = mapped_column(String(20), default="received")
    stage_changed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    disposition: Mapped[str | None] = mapped_column(String(10))
    supplier: Mapped[str | None] = mapped_column(String(40))
    rule: Mapped[str | None] = mapped_column(String(255))
    decoration: Mapped[str | None] = mapped_column(String(40))
    decoration_source: Mapped[str | None] = mapped_column(String(100))
    catalog_key: Mapped[str | None] = mapped_column(String(255))
    spec: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    fallbacks: Mapped[list[Any]] = mapped_column(JSON, default=list)
    reason: Mapped[str | None] = mapped_column(Text)  # routing reason, hold or failure reason
    supplier_order_id: Mapped[int | None] = mapped_column(
        ForeignKey("supplier_orders.id", ondelete="SET NULL")
    )
    alerted_stage: Mapped[str | None] = mapped_column(String(20))
    # the open fulfillment-order lines the quantity sat in when it was routed:
    # [{fulfillment_order_id, line_id, location_id, quantity}] (hints for the tracking sync)
    fulfillment_order_lines: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # how many of this part Shopify counts fulfilled by our fulfillments
    fulfilled_quantity: Mapped[int] = mapped_column(Integer, default=0)
    # (part 0) units of the line fulfilled outside the integrator that were already noticed
    outside_fulfilled: Mapped[int] = mapped_column(Integer, default=0)

    order: Mapped[Order] = relationship(back_populates="line_items")
    events: Mapped[list[ItemEvent]] = relationship(
        back_populates="line_item", order_by="ItemEvent.id", cascade="all, delete-orphan"
    )


class SupplierOrder(Base):
    """One per (order, supplier, attempt); ``external_ref`` is what makes submission idempotent."""

    __tablename__ = "supplier_orders"
    __table_args__ = (
        UniqueConstraint("order_id", "supplier", "sequence", name="uq_supplier_order_per_order"),
        UniqueConstraint("supplier", "external_ref", name="uq_supplier_order_ref"),
        Index("ix_supplier_order_remote", "supplier", "supplier_order_id"),
        Index("ix_supplier_order_status", "status"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    supplier: Mapped[str] = mapped_column(String(40))
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    external_ref: Mapped[str] = mapped_column(String(100))
    supplier_order_id: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[SupplierOrderStatus] = mapped_column(
        StatusColumn(SupplierOrderStatus, 20), default=SupplierOrderStatus.PENDING
    )
    raw_status: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(Text)
    request_copy: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # personal data
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_heard_at: Mapped[datetime | None] = mapped_column(DateTime)
    # a create was sent then and has no definite answer yet (in flight, timed out, 5xx, the
    # worker died): the supplier may still be making the order (submission.claim_create)
    create_sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    # a create got no definite answer (timeout, 5xx): the supplier may have made the order. True
    # until the supplier answers for it with an order; an operator retry looks it up first,
    # and a release or re-route asks the supplier before making the item anywhere else
    maybe_created: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    order: Mapped[Order] = relationship(back_populates="supplier_orders")


class ItemEvent(Base):
    """The timeline: one row per stage change of a line item."""

    __tablename__ = "item_events"
    __table_args__ = (
        UniqueConstraint("line_item_id", "dedupe_key", name="uq_item_event_dedupe"),
        Index("ix_item_event_item", "line_item_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    line_item_id: Mapped[int] = mapped_column(ForeignKey("line_items.id", ondelete="CASCADE"))
    stage: Mapped[str] = mapped_column(String(20))
    previous_stage: Mapped[str | None] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(
        String(60)
    )  # routing|supplier:<name>|shopify|operator|reconcile
    detail: Mapped[str | None] = mapped_column(Text)
    supplier: Mapped[str | None] = mapped_column(String(40))
    dedupe_key: Mapped[str | None] = mapped_column(String(255))
    occurred_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    recorded_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    line_item: Mapped[LineItem] = relationship(back_populates="events")


class Shipment(Base):
    __tablename__ = "shipments"
    __table_args__ = (
        UniqueConstraint("supplier_order_id", "supplier_shipment_id", name="uq_shipment_supplier"),
        Index("ix_shipment_sync", "sync_status"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    supplier_order_id: Mapped[int] = mapped_column(
        ForeignKey("supplier_orders.id", ondelete="CASCADE")
    )
    supplier: Mapped[str] = mapped_column(String(40))
    supplier_shipment_id: Mapped[str] = mapped_column(String(100))
    carrier: Mapped[str] = mapped_column(String(100), default="")
    tracking_number: Mapped[str] = mapped_column(String(100), default="")
    tracking_url: Mapped[str] = mapped_column(Text, default="")
    items: Mapped[list[Any]] = mapped_column(JSON, default=list)  # [{line_item_id, quantity}]
    shipped_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    shopify_fulfillment_id: Mapped[str | None] = mapped_column(String(100))
    sync_status: Mapped[ShipmentSyncStatus] = mapped_column(
        StatusColumn(ShipmentSyncStatus, 20), default=ShipmentSyncStatus.PENDING
    )
    sync_detail: Mapped[str | None] = mapped_column(Text)
    synced_at: Mapped[datetime | None] = mapped_column(DateTime)
    tracking_synced: Mapped[str | None] = mapped_column(String(100))
    # every Shopify fulfillment made for this shipment (one per location):
    # [{id, items: [{line_item_id, quantity}]}]; what they hold is what is done
    fulfillments: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # fulfillment orders of a fulfillmentCreate whose answer never came: it may have happened
    uncertain_fulfillment_orders: Mapped[list[Any]] = mapped_column(JSON, default=list)
    not_ready_since: Mapped[datetime | None] = mapped_column(DateTime)


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (
        UniqueConstraint("unique_key", name="uq_job_unique_key"),
        Index("ix_job_claim", "status", "run_at", "priority"),
        Index("ix_job_kind_status", "kind", "status"),
        # the claim's order (integrator/jobqueue/jobs.py), so a claim reads the index in order
        Index("ix_job_claim_order", "status", "priority", "fair_rank", "run_at", "id"),
        Index("ix_job_fair_key", "fair_key", "status", "fair_rank"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    kind: Mapped[str] = mapped_column(String(60))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    unique_key: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[JobStatus] = mapped_column(StatusColumn(JobStatus, 10), default=JobStatus.QUEUED)
    priority: Mapped[int] = mapped_column(Integer, default=100)
    # fairness: a job's place among the queued jobs of its key (the shop), so that a shop's
    # burst of 1,000 orders does not queue another shop's one order behind it
    fair_key: Mapped[str | None] = mapped_column(String(255))
    fair_rank: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=10)
    run_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    locked_by: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)


class Alert(Base):
    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("kind", "subject", name="uq_alert_kind_subject"),
        Index("ix_alert_open", "kind", "resolved_at", "created_at"),  # newest open alerts
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))  # stuck_item|flagged_order|...
    subject: Mapped[str] = mapped_column(String(255))  # e.g. "line_item:42:in_production"
    line_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("line_items.id", ondelete="CASCADE")
    )
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    posted: Mapped[bool] = mapped_column(Boolean, default=False)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)


class DataExport(Base):
    """Answers to customers/data_request, for the operator to hand over."""

    __tablename__ = "data_exports"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_domain: Mapped[str] = mapped_column(String(255))
    customer_id: Mapped[str | None] = mapped_column(String(32))
    request_id: Mapped[str] = mapped_column(String(64), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class AdminConsoleState(Base):
    """One row (id 1): what makes console sessions valid, kept by the server.

    ``signing_key_encrypted`` signs session cookies: random, made once, encrypted with
    ENCRYPTION_KEY, never derived from ADMIN_TOKEN (a cookie must not be an offline oracle for
    the token). A cookie is valid only for the current ``epoch``, which sign-out and a new
    ADMIN_TOKEN (a new ``token_fingerprint``) move on, so every earlier cookie is revoked.
    """

    __tablename__ = "admin_console_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    signing_key_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    epoch: Mapped[int] = mapped_column(Integer, default=1)
    token_fingerprint: Mapped[str] = mapped_column(String(64), default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class RateLimitCounter(Base):
    """Fixed-window counters of the ``limits`` library, shared by every web process
    (ADR 0007): failed sign-ins and admin API bearer failures per client address."""

    __tablename__ = "rate_limit_counters"
    __table_args__ = (Index("ix_rate_limit_expires", "expires_at"),)

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    hits: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[float] = mapped_column(Float)  # seconds since the epoch


class FulfillmentRequestAnswer(Base):
    """An answer we gave Shopify to a merchant's request in fulfillment-service mode: the
    operator sees what the merchant saw (docs/adr/0002)."""

    __tablename__ = "fulfillment_request_answers"
    __table_args__ = (
        Index("ix_request_answer_order", "shop_domain", "shopify_order_id", "answered_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_domain: Mapped[str] = mapped_column(String(255))
    shopify_order_id: Mapped[str] = mapped_column(String(64))
    fulfillment_order_id: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))  # fulfillment | cancellation
    accepted: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str | None] = mapped_column(String(40))  # FulfillmentOrderRejectionReason
    message: Mapped[str] = mapped_column(Text)
    answered_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class RateLimitHit(Base):
    """One call counted by the ``limits`` moving-window strategy (ADR 0007): the supplier
    limiters keep here the time of every call of the last window, shared by every process."""

    __tablename__ = "rate_limit_hits"
    __table_args__ = (Index("ix_rate_limit_hits_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    key: Mapped[str] = mapped_column(String(255))
    at: Mapped[float] = mapped_column(Float)  # seconds since the epoch
