"""Operational settings from routing.yaml: Shopify behaviour, production times, reconciliation
and alerts. Every section is optional; the defaults here are what an absent key means."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum

from integrator.domain.stages import Stage


class TriggerTopic(StrEnum):
    ORDERS_PAID = "orders/paid"
    ORDERS_CREATE = "orders/create"


class TestOrders(StrEnum):
    """What happens to Shopify test orders (``Order.test``)."""

    __test__ = False  # not a pytest class

    HOLD = "hold"  # held for a person (the default: nothing is made by accident)
    IGNORE = "ignore"  # left alone, visibly
    ROUTE = "route"  # routed like any order (a sandbox supplier account, say)


# Financial statuses at which an order is paid: orders/paid fires for these.
PAID_STATUSES = frozenset({"PAID", "PARTIALLY_REFUNDED"})
# Statuses at which nothing should be made, whatever the trigger.
DEAD_STATUSES = frozenset({"VOIDED", "REFUNDED", "EXPIRED"})


def starts_production(trigger: TriggerTopic, financial_status: str) -> bool:
    """Whether an order at ``financial_status`` is routed: one rule for the trigger topic's
    webhook and for the reconciliation that finds orders whose webhook never came.

    ``orders/paid`` fires once an order is paid, so only paid orders start production (an
    authorised or partly paid order waits for its ``orders/paid``); ``orders/create`` stores
    ship unpaid orders, so anything not voided, refunded or expired is routed.
    """
    status = financial_status.upper()
    if trigger is TriggerTopic.ORDERS_PAID:
        return status in PAID_STATUSES
    return status not in DEAD_STATUSES


@dataclass(frozen=True)
class ShopifySettings:
    trigger_topic: TriggerTopic = TriggerTopic.ORDERS_PAID
    notify_customer: bool = True  # passed to fulfillmentCreate
    mirror_stage: bool = False  # show the pre-shipment stage as an order tag (ADR 0009)
    test_orders: TestOrders = TestOrders.HOLD
    # merchant-managed mode: the locations (names or numeric ids) whose fulfillment orders the
    # integrator fulfils; empty: every location that is not a fulfillment service's
    locations: tuple[str, ...] = ()
    # fulfillment-service mode: the name of our fulfillment service and of its location
    fulfillment_service_name: str = "Print on demand (integrator)"


# Stages an item can be stuck in; "shipped" is the time in transit until delivery.
TIMED_STAGES: tuple[Stage, ...] = (
    Stage.RECEIVED,
    Stage.ROUTED,
    Stage.SUBMITTED,
    Stage.IN_PRODUCTION,
    Stage.ON_HOLD,
    Stage.SHIPPED,
)

DEFAULT_EXPECTED_DAYS: Mapping[Stage, float] = {
    Stage.RECEIVED: 0.25,
    Stage.ROUTED: 0.25,
    Stage.SUBMITTED: 2,
    Stage.IN_PRODUCTION: 5,
    Stage.ON_HOLD: 1,
    Stage.SHIPPED: 14,
}


@dataclass(frozen=True)
class ProductionOverride:
    """Days for some stages, for one supplier, one product type, or both."""

    expected_days: Mapping[Stage, float]
    supplier: str | None = None
    product_type: str | None = None  # case-folded

    @property
    def specificity(self) -> int:
        return (2 if self.product_type else 0) + (1 if self.supplier else 0)

    def applies_to(self, supplier: str | None, product_type: str | None) -> bool:
        folded = product_type.casefold() if product_type else None
        return (self.supplier is None or self.supplier == supplier) and (
            self.product_type is None or self.product_type == folded
        )


@dataclass(frozen=True)
class ProductionTimes:
    expected_days: Mapping[Stage, float] = field(
        default_factory=lambda: dict(DEFAULT_EXPECTED_DAYS)
    )
    overrides: tuple[ProductionOverride, ...] = ()


def expected_duration(
    production: ProductionTimes, stage: Stage, supplier: str | None, product_type: str | None
) -> timedelta | None:
    """Return how long an item is expected to stay in ``stage``, or None if not bounded.

    The most specific override naming the stage wins: supplier and product type, then
    product type, then supplier, then the default; among equals, the later one in the file.
    """
    best: tuple[int, float] | None = None
    for override in production.overrides:
        days = override.expected_days.get(stage)
        if days is None or not override.applies_to(supplier, product_type):
            continue
        if best is None or override.specificity >= best[0]:
            best = (override.specificity, days)
    days = best[1] if best is not None else production.expected_days.get(stage)
    return None if days is None else timedelta(days=days)


RECONCILE_PASSES: tuple[str, ...] = (
    "missed_orders",
    "silent_suppliers",
    "failed_syncs",
    "stuck_items",
    "retention",
    "webhook_subscriptions",
)


@dataclass(frozen=True)
class ReconcileSettings:
    # seconds between runs of each pass, keyed by RECONCILE_PASSES names
    intervals: Mapping[str, int] = field(
        default_factory=lambda: {
            "missed_orders": 900,
            "silent_suppliers": 1800,
            "failed_syncs": 600,
            "stuck_items": 3600,
            "retention": 86400,
            "webhook_subscriptions": 3600,
        }
    )
    silent_supplier_after: int = 172800  # seconds without news from a supplier on an open order
    missed_orders_overlap: int = 3600  # seconds the missed-orders window reaches back
    raw_body_retention_days: int = 30
    personal_data_retention_days: int = 90
    # seconds a shipment may wait for Shopify (fulfillment orders missing, on hold, scheduled)
    # before it is flagged for a person and alerted, instead of being retried forever
    not_ready_after: int = 21600

    def interval(self, pass_name: str) -> timedelta:
        return timedelta(seconds=self.intervals[pass_name])


@dataclass(frozen=True)
class AlertSettings:
    webhook_url: str | None = None
