"""``app/uninstalled``: the shop's tokens are dropped and its row marked, so no more work is
done for it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from integrator.bootstrap import Container
from integrator.db.models import Shop, WebhookDelivery
from integrator.db.timestamps import utcnow
from integrator.domain.statuses import ShopStatus


def on_app_uninstalled(
    container: Container, session: Session, delivery: WebhookDelivery, body: dict[str, Any]
) -> str:
    shop = delivery.shop_domain or ""
    row = session.scalar(select(Shop).where(Shop.domain == shop))
    if row is None:
        row = Shop(domain=shop)
        session.add(row)
    row.status = ShopStatus.UNINSTALLED
    row.uninstalled_at = row.uninstalled_at or utcnow()
    row.access_token_encrypted = None
    row.refresh_token_encrypted = None
    row.token_expires_at = None
    if container.shopify_client is not None:
        container.shopify_client.tokens.drop(shop)
    return "uninstalled"
