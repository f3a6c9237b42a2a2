"""What every reconciliation pass shares: its report, its time slot, the shops it serves."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from integrator.bootstrap import Container
from integrator.db.models import Shop
from integrator.db.timestamps import utcnow
from integrator.domain.statuses import ShopStatus


@dataclass
class PassReport:
    name: str
    found: int = 0
    enqueued: int = 0
    notes: list[str] = field(default_factory=list)


def slot_of(interval: timedelta, now: datetime | None = None) -> int:
    """The time slot of a periodic job: every clock computes the same number for one period."""
    moment = now or utcnow()
    return int(moment.timestamp() // max(interval.total_seconds(), 1))


def served_shops(container: Container) -> list[str]:
    with container.db.read() as session:
        shops = set(session.scalars(select(Shop.domain).where(Shop.status == ShopStatus.ACTIVE)))
    if container.settings.shopify_shop:
        shops.add(container.settings.shopify_shop)
    return sorted(shops)
