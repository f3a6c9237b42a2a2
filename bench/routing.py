"""Routing throughput: line items per second with 500 rules and 10,000 catalog entries,
beside a hand-written dict lookup that reaches the same supplier decisions in the same run.

Run: .venv/bin/python bench/routing.py [--items 50000] [--seed 7] [--json]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import json
import random
import time
from dataclasses import dataclass
from typing import Any

from bench.common import machine_note  # noqa: E402
from integrator.domain.model import Address, Disposition, EnrichedOrder, OrderLine
from integrator.routing import route_order
from integrator.store_config import StoreConfig, parse_store_config

PRODUCT_TYPES = [f"Type{number:03d}" for number in range(96)]
SUFFIXES = {"EMB": "embroidery", "DTG": "dtg", "SUB": "sublimation", "UV": "uv_print"}
EU = ["DE", "FR", "NL", "IT", "ES"]
COUNTRIES = [*EU, "US", "GB", "CA", "AU"]
SUPPLIERS = ["printful", "printify", "gelato", "prodigi"]
PROMO_TAGS = [f"promo-{number}" for number in range(20)]
ORDER_SIZE = 4


def routing_document() -> dict[str, Any]:
    """20 tag rules (unindexed, checked for every item) then 5 rules per product type."""
    rules: list[dict[str, Any]] = [
        {"name": f"promo {tag}", "match": {"tags": [tag]}, "supplier": "printify"}
        for tag in PROMO_TAGS
    ]
    for product_type in PRODUCT_TYPES:
        rules += [
            {
                "name": f"{product_type} embroidered EU",
                "match": {
                    "product_type": product_type,
                    "decoration": "embroidery",
                    "ship_to_country": EU,
                },
                "supplier": "gelato",
                "fallback": ["printful"],
            },
            {
                "name": f"{product_type} embroidered",
                "match": {"product_type": product_type, "decoration": "embroidery"},
                "supplier": "printful",
                "fallback": ["printify"],
            },
            {
                "name": f"{product_type} personalised print",
                "match": {
                    "product_type": product_type,
                    "decoration": ["dtg", "uv_print"],
                    "personalised": True,
                },
                "supplier": "printify",
                "fallback": ["printful"],
            },
            {
                "name": f"{product_type} print",
                "match": {"product_type": product_type, "decoration": ["dtg", "uv_print"]},
                "supplier": "printful",
                "fallback": ["prodigi"],
            },
            {
                "name": f"{product_type} other",
                "match": {"product_type": product_type},
                "supplier": "prodigi",
                "fallback": ["gelato"],
            },
        ]
    assert len(rules) == 500
    return {
        "suppliers": {
            "printful": {"adapter": "printful", "api_key": "k"},
            "printify": {"adapter": "printify", "api_key": "k", "shop_id": "1"},
            "gelato": {"adapter": "gelato", "api_key": "k"},
            "prodigi": {"adapter": "prodigi", "api_key": "k"},
        },
        "decoration": [
            {"line_item_property": "Decoration"},
            {"sku_suffix": {f"-{suffix}": method for suffix, method in SUFFIXES.items()}},
        ],
        "rules": rules,
        "unmatched": "hold",
    }


LISTING = {
    "printful": {
        "variant_id": 4017,
        "files": [{"placement": "front", "url": "https://example.com/a.png"}],
    },
    "printify": {"product_id": "p", "variant_id": 1},
    "gelato": {"product_uid": "uid"},
    "prodigi": {"sku": "GLOBAL-1"},
}


def catalog_document(rng: random.Random) -> list[dict[str, Any]]:
    entries = []
    for number in range(10_000):
        suffix = list(SUFFIXES)[number % len(SUFFIXES)]
        # three suppliers of four, so that some decisions take the fallback
        listed = rng.sample(SUPPLIERS, 3)
        entry: dict[str, Any] = {
            "sku": f"SKU{number:05d}-{suffix}",
            "product_type": PRODUCT_TYPES[number % len(PRODUCT_TYPES)],
        }
        entry.update({supplier: LISTING[supplier] for supplier in listed})
        entries.append(entry)
    return entries


def make_orders(
    rng: random.Random, catalog: list[dict[str, Any]], items: int
) -> list[EnrichedOrder]:
    orders = []
    for order_number in range(items // ORDER_SIZE):
        lines = []
        for position in range(ORDER_SIZE):
            entry = rng.choice(catalog)
            properties = {"Name": "Ada"} if rng.random() < 0.2 else {}
            tags = (rng.choice(PROMO_TAGS),) if rng.random() < 0.02 else ("apparel",)
            lines.append(
                OrderLine(
                    line_item_id=f"{order_number}-{position}",
                    quantity=1,
                    sku=entry["sku"],
                    product_type=entry["product_type"],
                    tags=tags,
                    properties=properties,
                )
            )
        orders.append(
            EnrichedOrder(
                "bench.myshopify.com",
                str(order_number),
                "#",
                tuple(lines),
                Address(country_code=rng.choice(COUNTRIES)),
            )
        )
    return orders


# --- the baseline: the same decisions, written by hand for this one configuration ----------


@dataclass(frozen=True)
class HandWritten:
    chains: dict[tuple[str, str | None, bool, bool], tuple[str, ...]]
    listings: dict[str, frozenset[str]]

    @classmethod
    def build(cls, catalog: list[dict[str, Any]]) -> HandWritten:
        chains: dict[tuple[str, str | None, bool, bool], tuple[str, ...]] = {}
        for product_type in PRODUCT_TYPES:
            for eu in (True, False):
                for personalised in (True, False):
                    key = product_type.casefold()
                    chains[(key, "embroidery", eu, personalised)] = (
                        ("gelato", "printful") if eu else ("printful", "printify")
                    )
                    for method in ("dtg", "uv_print"):
                        chains[(key, method, eu, personalised)] = (
                            ("printify", "printful") if personalised else ("printful", "prodigi")
                        )
                    chains[(key, "sublimation", eu, personalised)] = ("prodigi", "gelato")
        listings = {entry["sku"]: frozenset(set(entry) & set(SUPPLIERS)) for entry in catalog}
        return cls(chains, listings)

    def decide(self, order: EnrichedOrder) -> list[str | None]:
        country = order.shipping_address.country_code if order.shipping_address else ""
        eu = country in EU
        decided: list[str | None] = []
        for line in order.lines:
            sku = line.sku or ""
            if line.tags and line.tags[0].startswith("promo-"):
                chain: tuple[str, ...] = ("printify",)
            else:
                method = SUFFIXES[sku.rsplit("-", 1)[1]]
                chain = self.chains[
                    ((line.product_type or "").casefold(), method, eu, bool(line.properties))
                ]
            listed = self.listings.get(sku, frozenset())
            decided.append(next((supplier for supplier in chain if supplier in listed), None))
        return decided


def routed_suppliers(orders: list[EnrichedOrder], config: StoreConfig) -> list[str | None]:
    suppliers = []
    for order in orders:
        for decision in route_order(order, config):
            suppliers.append(
                decision.supplier if decision.disposition is Disposition.ROUTE else None
            )
    return suppliers


def best_of(repeats: int, run: Any) -> float:
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        timings.append(time.perf_counter() - started)
    return min(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=40_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    arguments = parser.parse_args()
    print(machine_note(sys.stderr), file=sys.stderr)  # stdout may be --json
    rng = random.Random(arguments.seed)
    routing, catalog = routing_document(), catalog_document(rng)

    started = time.perf_counter()
    config = parse_store_config(routing, catalog)
    load_seconds = time.perf_counter() - started
    orders = make_orders(rng, catalog, arguments.items)
    items = sum(len(order.lines) for order in orders)
    baseline = HandWritten.build(catalog)

    ours = routed_suppliers(orders, config)
    theirs = [supplier for order in orders for supplier in baseline.decide(order)]
    assert ours == theirs, "routing and the hand-written lookup disagree"

    routing_seconds = best_of(arguments.repeats, lambda: routed_suppliers(orders, config))
    baseline_seconds = best_of(
        arguments.repeats, lambda: [baseline.decide(order) for order in orders]
    )
    result = {
        "rules": len(config.rules),
        "catalog_entries": len(config.catalog),
        "items": items,
        "config_load_seconds": round(load_seconds, 3),
        "routing_items_per_second": round(items / routing_seconds),
        "baseline_items_per_second": round(items / baseline_seconds),
        "ratio_baseline_over_routing": round(routing_seconds / baseline_seconds, 2),
        "routed_share": round(sum(1 for s in ours if s) / items, 3),
    }
    if arguments.json:
        print(json.dumps(result, indent=2))
        return
    print(
        f"{result['rules']} rules, {result['catalog_entries']} catalog entries, "
        f"{items} line items in orders of {ORDER_SIZE} (same decisions checked)"
    )
    print(f"config load (parse + check):  {load_seconds:8.3f} s")
    print(f"routing (route_order):        {result['routing_items_per_second']:>10,} items/s")
    print(f"hand-written dict lookup:     {result['baseline_items_per_second']:>10,} items/s")
    print(f"ratio (routing time / baseline time): {result['ratio_baseline_over_routing']}x")


if __name__ == "__main__":
    main()
