"""Replayed deliveries of the topics that erase or disconnect: refuse to act on them.

Shopify's HMAC covers the body only. A captured signed ``shop/redact`` body can be posted
again later, or with another shop's ``X-Shopify-Shop-Domain`` header, and it still verifies.
Before a compliance or uninstall handler runs, the delivery must therefore:

* name the same shop in its body as in its header (``shop_domain`` for the compliance topics,
  ``myshopify_domain`` for ``app/uninstalled``), and
* have been triggered (``X-Shopify-Triggered-At``) no longer than the window before we
  received it (``WEBHOOK_MAX_AGE_HOURS``, default 48; Shopify retries for hours, not days).

A delivery that fails either check stays stored, is marked ``flagged`` with the reason, and
nothing is done with it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from integrator.pipeline.topics import COMPLIANCE_TOPICS

GUARDED_TOPICS = COMPLIANCE_TOPICS | {"app/uninstalled"}
# where each guarded topic names its shop in the body
_SHOP_KEY = {topic: "shop_domain" for topic in COMPLIANCE_TOPICS} | {
    "app/uninstalled": "myshopify_domain"
}


def _triggered_at(raw: str | None) -> datetime | None:
    """``X-Shopify-Triggered-At`` (ISO 8601, e.g. ``2026-11-22T03:00:00.000000Z``) as naive UTC."""
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def _age_refusal(triggered_raw: str | None, received_at: datetime, window: timedelta) -> str | None:
    triggered = _triggered_at(triggered_raw)
    if triggered is None:
        return "no readable X-Shopify-Triggered-At: cannot tell a replay from a delivery"
    age = received_at - triggered
    if age > window:
        hours = window.total_seconds() / 3600
        return (
            f"triggered at {triggered.isoformat()}Z, {age.total_seconds() / 3600:.1f} h before "
            f"it was received (window {hours:g} h): a replay, not acted on"
        )
    return None


def _shop_refusal(topic: str, header_shop: str | None, body: dict[str, Any]) -> str | None:
    key = _SHOP_KEY[topic]
    named = body.get(key)
    if not isinstance(named, str) or not named:
        return f"the body names no shop ({key}): not acted on"
    if named.strip().lower() != (header_shop or "").strip().lower():
        return f"the body's {key} {named!r} is not the header's shop {header_shop!r}: not acted on"
    return None


def replay_refusal(
    topic: str,
    header_shop: str | None,
    triggered_at: str | None,
    received_at: datetime,
    body: dict[str, Any],
    window: timedelta,
) -> str | None:
    """Why a delivery of a guarded topic must not be acted on, or None (also for other topics)."""
    if topic not in GUARDED_TOPICS:
        return None
    return _shop_refusal(topic, header_shop, body) or _age_refusal(
        triggered_at, received_at, window
    )
