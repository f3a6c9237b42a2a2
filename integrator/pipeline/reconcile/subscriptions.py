"""``webhook_subscriptions``: single-store mode's subscriptions made again when Shopify
deleted them."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select

from integrator.bootstrap import Container
from integrator.db.models import Shop
from integrator.pipeline.reconcile.passes import PassReport
from integrator.pipeline.shopify_errors import as_job_error

log = logging.getLogger(__name__)


def webhook_subscriptions(
    container: Container, *, dry_run: bool = False, since: datetime | None = None
) -> PassReport:
    """Single-store mode: recreate the webhook subscriptions Shopify deleted.

    Shopify deletes an API-made subscription after its deliveries failed for hours
    (api-notes §1.5). ``integrator shopify setup`` remembers where it subscribed; this pass
    checks that every topic is still subscribed there and subscribes the missing ones again.
    """
    from integrator.pipeline.shops import shop_is_active
    from integrator.shopify.setup import ensure_webhook_subscriptions, missing_subscriptions
    from integrator.shopify.topics import subscription_topics

    report = PassReport("webhook_subscriptions")
    shop = container.settings.shopify_shop
    if not shop or container.shopify_client is None:
        report.notes.append("not in single-store mode: the app's TOML declares subscriptions")
        return report
    with container.db.read() as session:
        row = session.scalar(select(Shop).where(Shop.domain == shop))
        active = shop_is_active(session, container, shop)
        callback_url = row.webhook_callback_url if row is not None else None
        mode = row.fulfillment_mode if row is not None else None
    if not active or not callback_url:
        report.notes.append(f"{shop}: no subscriptions made by `integrator shopify setup`")
        return report
    topics = subscription_topics(mode)
    with as_job_error():
        missing = missing_subscriptions(container.shopify, shop, callback_url, topics)
        report.found = len(missing)
        report.notes += [f"{shop}: {topic} was not subscribed" for topic in missing]
        if missing and not dry_run:
            ensure_webhook_subscriptions(container.shopify, shop, callback_url, missing)
            report.enqueued = len(missing)
            log.warning("webhooks.resubscribed", extra={"shop": shop, "topics": missing})
    return report
