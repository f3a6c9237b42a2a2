"""Check the operational sections of routing.yaml: shopify, production, reconcile, alerts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from integrator.domain.stages import Stage
from integrator.store_config import schema
from integrator.store_config.checking import SectionChecker, check_section, is_web_url
from integrator.store_config.operations import (
    DEFAULT_EXPECTED_DAYS,
    AlertSettings,
    ProductionOverride,
    ProductionTimes,
    ReconcileSettings,
    ShopifySettings,
    TestOrders,
    TriggerTopic,
)
from integrator.store_config.problems import KeyPath

if TYPE_CHECKING:
    from integrator.store_config.routing_config import RoutingParts


def build_operations(check: SectionChecker, data: Mapping[str, Any], parts: RoutingParts) -> None:
    """Check shopify, production, reconcile and alerts, storing what is sound in ``parts``."""
    document, problems = check.document, check.problems
    shopify = check_section(
        schema.ShopifySection, data.get("shopify"), ("shopify",), document, problems
    )
    if shopify is not None:
        parts.shopify = ShopifySettings(
            TriggerTopic(shopify.trigger_topic),
            shopify.notify_customer,
            shopify.mirror_stage,
            TestOrders(shopify.test_orders),
            tuple(name.strip() for name in shopify.locations if name.strip()),
            shopify.fulfillment_service_name.strip() or ShopifySettings().fulfillment_service_name,
        )
    production = check_section(
        schema.ProductionSection, data.get("production"), ("production",), document, problems
    )
    if production is not None:
        parts.production = _build_production(check, production, parts)
    reconcile = check_section(
        schema.ReconcileSection, data.get("reconcile"), ("reconcile",), document, problems
    )
    if reconcile is not None:
        parts.reconcile = ReconcileSettings(
            dict(reconcile.intervals.model_dump()),
            reconcile.silent_supplier_after,
            reconcile.missed_orders_overlap,
            reconcile.raw_body_retention_days,
            reconcile.personal_data_retention_days,
            reconcile.not_ready_after,
        )
    alerts = check_section(
        schema.AlertsSection, data.get("alerts"), ("alerts",), document, problems
    )
    if alerts is not None:
        webhook_url = alerts.webhook_url or None
        if webhook_url is not None and not is_web_url(webhook_url):
            check.report(
                ("alerts", "webhook_url"), f"should be an http(s) URL, got {webhook_url!r}"
            )
        parts.alerts = AlertSettings(webhook_url)


def _build_production(
    check: SectionChecker, section: schema.ProductionSection, parts: RoutingParts
) -> ProductionTimes:
    defaults = dict(DEFAULT_EXPECTED_DAYS)
    defaults.update({Stage(name): days for name, days in section.expected_days.items()})
    overrides = []
    for index, override in enumerate(section.overrides):
        path: KeyPath = ("production", "overrides", index)
        if override.supplier is None and override.product_type is None:
            check.report(path, "an override names a supplier, a product_type, or both")
        if override.supplier is not None:
            check.supplier_reference(
                path + ("supplier",), override.supplier, parts.declared_suppliers
            )
        overrides.append(
            ProductionOverride(
                {Stage(name): days for name, days in override.expected_days.items()},
                override.supplier,
                override.product_type.casefold() if override.product_type else None,
            )
        )
    return ProductionTimes(defaults, tuple(overrides))
