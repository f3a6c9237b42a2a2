"""Small builders for routing tests: a config from Python data, lines and orders."""

from __future__ import annotations

from typing import Any

from integrator.domain.model import Address, EnrichedOrder, OrderLine
from integrator.store_config import StoreConfig, parse_store_config

# a callback secret long enough for the credential checks (a test value, used nowhere else)
CALLBACK_SECRET = "routing-test-callback-secret-0123456789"
SUPPLIERS: dict[str, Any] = {
    "printful": {"adapter": "printful", "api_key": "k1", "callback_secret": CALLBACK_SECRET},
    "printify": {
        "adapter": "printify",
        "api_key": "k2",
        "shop_id": "9",
        "callback_secret": CALLBACK_SECRET,
    },
    "gelato": {"adapter": "gelato", "api_key": "k3", "callback_secret": CALLBACK_SECRET},
    "prodigi": {"adapter": "prodigi", "api_key": "k4", "callback_secret": CALLBACK_SECRET},
}

LISTINGS: dict[str, Any] = {
    "printful": {
        "variant_id": 4017,
        "files": [{"placement": "front", "url": "https://example.com/f.png"}],
    },
    "printify": {"product_id": "p1", "variant_id": 33719},
    "gelato": {"product_uid": "canvas_uid"},
    "prodigi": {"sku": "GLOBAL-X"},
}


def catalog_entry(sku: str, *suppliers: str, **extra: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"sku": sku, **extra}
    for supplier in suppliers:
        entry[supplier] = LISTINGS[supplier]
    return entry


def make_config(
    rules: list[dict[str, Any]] | None = None,
    catalog: list[dict[str, Any]] | None = None,
    decoration: list[dict[str, Any]] | None = None,
    unmatched: str = "hold",
    **sections: Any,
) -> StoreConfig:
    routing = {"suppliers": SUPPLIERS, "rules": rules or [], "unmatched": unmatched, **sections}
    if decoration is not None:
        routing["decoration"] = decoration
    return parse_store_config(routing, catalog or [])


def line(line_item_id: str = "1", **fields: Any) -> OrderLine:
    fields.setdefault("quantity", 1)
    return OrderLine(line_item_id=line_item_id, **fields)


def order(*lines: OrderLine, country: str | None = "US") -> EnrichedOrder:
    address = Address(country_code=country) if country else None
    return EnrichedOrder(
        shop="demo.myshopify.com",
        order_id="1001",
        name="#1001",
        lines=tuple(lines),
        shipping_address=address,
    )
