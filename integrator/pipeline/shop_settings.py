"""What `integrator shopify setup` (and the first token exchange) records per shop: where the
webhooks go, how the shop is connected (its fulfillment mode), our fulfillment service."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from integrator.db.database import Database
from integrator.db.models import Shop
from integrator.db.timestamps import utcnow
from integrator.domain.statuses import ShopStatus


@dataclass(frozen=True)
class ShopConnection:
    domain: str
    fulfillment_mode: str | None = None
    fulfillment_service_id: str | None = None
    fulfillment_location_id: str | None = None
    webhook_callback_url: str | None = None


def remember_setup(db: Database, shop: str, *, webhook_callback_url: str | None) -> None:
    """Setup ran for the shop: it is served (again, after an uninstall), and its webhooks go to
    ``webhook_callback_url`` (None: declared by the app's TOML, nothing to watch)."""
    with db.write() as session:
        row = session.scalar(select(Shop).where(Shop.domain == shop).with_for_update())
        if row is None:
            row = Shop(domain=shop, installed_at=utcnow())
            session.add(row)
        row.status = ShopStatus.ACTIVE
        row.uninstalled_at = None
        if webhook_callback_url:
            row.webhook_callback_url = webhook_callback_url


def remember_mode(
    db: Database,
    shop: str,
    mode: str,
    *,
    service_id: str | None = None,
    location_id: str | None = None,
) -> None:
    """The shop is connected in ``mode``; in fulfillment-service mode, through our service and
    its location (their Shopify ids). Merchant-managed forgets neither: switching back keeps
    the service, so its FOs are named, not silently dropped."""
    with db.write() as session:
        row = session.scalar(select(Shop).where(Shop.domain == shop).with_for_update())
        if row is None:
            row = Shop(domain=shop, installed_at=utcnow())
            session.add(row)
        row.fulfillment_mode = mode
        if service_id:
            row.fulfillment_service_id = service_id
        if location_id:
            row.fulfillment_location_id = location_id


def connection_of(db: Database, shop: str) -> ShopConnection:
    with db.read() as session:
        return connection_in(session, shop)


def connection_in(session: Session, shop: str) -> ShopConnection:
    """:func:`connection_of` within a transaction the caller has open."""
    row = session.scalar(select(Shop).where(Shop.domain == shop))
    if row is None:
        return ShopConnection(shop)
    return ShopConnection(
        shop,
        row.fulfillment_mode,
        row.fulfillment_service_id,
        row.fulfillment_location_id,
        row.webhook_callback_url,
    )
