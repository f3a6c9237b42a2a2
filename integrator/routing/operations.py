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


@dataclass(frozen=True)
class ShopifySettings:
    trigger_topic: TriggerTopic = TriggerTopic.ORDERS_PAID
    notify_customer: bool = True  # passed to fulfillmentCreate
    mirror_stage: bool = False  # write the item stage to a metafield and an order tag


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
        }
    )
    silent_supplier_after: int = 172800  # seconds without news from a supplier on an open order
    missed_orders_overlap: int = 3600  # seconds the missed-orders window reaches back
    raw_body_retention_days: int = 30
    personal_data_retention_days: int = 90

    def interval(self, pass_name: str) -> timedelta:
        return timedelta(seconds=self.intervals[pass_name])


@dataclass(frozen=True)
class AlertSettings:
    webhook_url: str | None = None
