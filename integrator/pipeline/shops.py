"""Which shops we work for: the shop's row decides (uninstalled, redacted); without one,
single-store mode's shop."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from integrator.bootstrap import Container
from integrator.db.models import Shop
from integrator.domain.statuses import ShopStatus


def shop_is_active(session: Session | Connection, container: Container, shop: str) -> bool:
    """The shop's row decides (uninstalled, redacted); without one, single-store mode's shop."""
    return shop in active_shops(session, container, {shop})


_SHOP_STATUSES = select(Shop.domain, Shop.status).where(
    Shop.domain.in_(bindparam("domains", expanding=True))
)


def active_shops(
    session: Session | Connection, container: Container, shops: Collection[str]
) -> set[str]:
    """Those of ``shops`` we work for, in one query (see :func:`shop_is_active`)."""
    statuses: dict[str, str] = {
        domain: status
        for domain, status in session.execute(_SHOP_STATUSES, {"domains": sorted(set(shops))})
    }
    single = container.settings.shopify_shop
    return {
        shop
        for shop in shops
        if statuses.get(shop) == ShopStatus.ACTIVE
        or (shop not in statuses and bool(single) and single == shop)
    }
