"""``integrator shopify stock-catalog``: stock every catalog variant at our fulfillment-service
location, so that Shopify assigns exactly those lines to us (fulfillment-service mode).

Only variants whose SKU a ``catalog.yaml`` entry names are read or changed; every other
variant of the shop is left alone. A variant stocked only at other locations is reported (the
support problem merchants of POD apps meet most: it never reaches the service), and activated.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from integrator.shopify.client import AdminClient


class StockState(StrEnum):
    STOCKED = "already stocked at our location"
    ACTIVATE = "to be stocked at our location"
    NOT_IN_SHOP = "no variant with this SKU in the shop"


@dataclass(frozen=True)
class VariantStock:
    sku: str
    state: StockState
    variant_id: str = ""
    title: str = ""
    inventory_item_id: str = ""
    elsewhere: tuple[str, ...] = ()  # other locations stocking it (names)

    @property
    def elsewhere_only(self) -> bool:
        return self.state is StockState.ACTIVATE and bool(self.elsewhere)


@dataclass
class StockingReport:
    location_name: str
    variants: list[VariantStock] = field(default_factory=list)
    activated: list[str] = field(default_factory=list)  # skus

    def lines(self, dry_run: bool) -> list[str]:
        verb = "would stock" if dry_run else "stocked"
        out = []
        for each in self.variants:
            if each.state is StockState.ACTIVATE:
                where = f" (stocked only at {', '.join(each.elsewhere)})" if each.elsewhere else ""
                out.append(f"{verb} {each.sku} {each.title} at {self.location_name}{where}")
            elif each.state is StockState.STOCKED:
                out.append(f"ok {each.sku}: {each.state.value}")
            else:
                out.append(f"missing {each.sku}: {each.state.value}")
        return out


def plan_stocking(
    client: AdminClient, shop: str, skus: Iterable[str], location_id: str, location_name: str
) -> StockingReport:
    """Read where each catalog SKU's variants are stocked; change nothing."""
    report = StockingReport(location_name)
    for sku in sorted(set(skus)):
        report.variants += _variants(client, shop, sku, location_id)
    return report


def _variants(client: AdminClient, shop: str, sku: str, location_id: str) -> list[VariantStock]:
    query = f'sku:"{sku}"'
    nodes = client.execute(shop, "catalog_variants", {"query": query})["productVariants"]["nodes"]
    found = [node for node in nodes if node.get("sku") == sku]  # search is a prefix match
    if not found:
        return [VariantStock(sku, StockState.NOT_IN_SHOP)]
    return [_variant_stock(sku, node, location_id) for node in found]


def _variant_stock(sku: str, node: dict[str, object], location_id: str) -> VariantStock:
    item = node["inventoryItem"]
    assert isinstance(item, dict)
    locations = [level["location"] for level in item["inventoryLevels"]["nodes"]]
    stocked_here = any(location["id"] == location_id for location in locations)
    elsewhere = tuple(location["name"] for location in locations if location["id"] != location_id)
    return VariantStock(
        sku,
        StockState.STOCKED if stocked_here else StockState.ACTIVATE,
        variant_id=str(node["id"]),
        title=str(node.get("displayName") or ""),
        inventory_item_id=str(item["id"]),
        elsewhere=elsewhere,
    )


def stock(client: AdminClient, shop: str, report: StockingReport, location_id: str) -> None:
    """Activate the variants the report says are not stocked at our location yet.

    :raises ShopifyUserErrors: when Shopify refuses one (the ones before it stay stocked; a
        second run continues where this one stopped).
    """
    for each in report.variants:
        if each.state is not StockState.ACTIVATE:
            continue
        client.mutate(
            shop,
            "inventory_activate",
            {"inventoryItemId": each.inventory_item_id, "locationId": location_id},
            "inventoryActivate",
        )
        report.activated.append(each.sku)
