"""Shopify topics the service acts on."""

from __future__ import annotations

ORDER_TOPICS = frozenset({"orders/paid", "orders/create", "orders/updated", "orders/cancelled"})
COMPLIANCE_TOPICS = frozenset({"customers/data_request", "customers/redact", "shop/redact"})
HANDLED_TOPICS = ORDER_TOPICS | COMPLIANCE_TOPICS | {"app/uninstalled", "products/update"}
