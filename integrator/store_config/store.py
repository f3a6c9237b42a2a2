"""The validated configuration of one store, as frozen values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from typing import Any

from integrator.domain.stages import Stage
from integrator.store_config.catalog import Catalog
from integrator.store_config.decoration import DecorationConfig, SourceKind
from integrator.store_config.operations import (
    AlertSettings,
    ProductionTimes,
    ReconcileSettings,
    ShopifySettings,
    expected_duration,
)
from integrator.store_config.rules import Rule, RuleIndex, UnmatchedPolicy

KNOWN_ADAPTERS: tuple[str, ...] = ("printful", "printify", "gelato", "prodigi")


@dataclass(frozen=True)
class SupplierConfig:
    """What an adapter is built from: env references already resolved."""

    name: str
    adapter: str
    base_url: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StoreConfig:
    suppliers: Mapping[str, SupplierConfig]
    decoration: DecorationConfig
    rules: tuple[Rule, ...]
    unmatched: UnmatchedPolicy
    catalog: Catalog
    shopify: ShopifySettings = field(default_factory=ShopifySettings)
    production: ProductionTimes = field(default_factory=ProductionTimes)
    reconcile: ReconcileSettings = field(default_factory=ReconcileSettings)
    alerts: AlertSettings = field(default_factory=AlertSettings)
    shop: str | None = None
    files: tuple[str, ...] = ()  # the files this was read from, for messages

    @cached_property
    def rule_index(self) -> RuleIndex:
        return RuleIndex.build(self.rules)

    @cached_property
    def decoration_properties(self) -> frozenset[str]:
        """Line item properties that name the decoration method (casefolded): not
        personalisation."""
        return frozenset(
            source.name.casefold()
            for source in self.decoration.sources
            if source.kind is SourceKind.LINE_ITEM_PROPERTY
        )

    def expected_duration(
        self, stage: Stage, supplier: str | None, product_type: str | None
    ) -> timedelta | None:
        """How long an item should stay in ``stage``; see :func:`operations.expected_duration`."""
        return expected_duration(self.production, stage, supplier, product_type)
