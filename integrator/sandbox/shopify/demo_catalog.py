"""A print-on-demand catalog and order mix for demos and benchmarks.

The SKUs are those of the project's example ``config/catalog.yaml``, so orders seeded here
route the way the example ``config/routing.yaml`` says; ``UNROUTABLE_SKU`` has no catalog
entry and no rule, so its items end on hold.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field

from integrator.sandbox.shopify.records import LineSpec, VariantSpec
from integrator.sandbox.shopify.store import Shop

UNROUTABLE_SKU = "SOCKS-RAINBOW-OS"


@dataclass(frozen=True)
class ProductSeed:
    title: str
    product_type: str
    variants: tuple[VariantSpec, ...]
    tags: tuple[str, ...] = ()
    metafields: Mapping[str, str] = field(default_factory=dict)
    vendor: str = "Sandbox Merch Co"


POD_CATALOG = (
    ProductSeed(
        "Logo tee",
        "T-Shirt",
        (
            VariantSpec("TEE-BLK-M-DTG", {"Color": "Black", "Size": "M"}, "24.00"),
            VariantSpec("TEE-WHT-L-DTG", {"Color": "White", "Size": "L"}, "24.00"),
        ),
        tags=("apparel",),
        metafields={"custom.decoration_method": "dtg"},
    ),
    ProductSeed(
        "Monogram tee",
        "T-Shirt",
        (VariantSpec("TEE-BLK-M-MONO", {"Color": "Black", "Size": "M"}, "32.00"),),
        tags=("apparel", "personalised"),
    ),
    ProductSeed(
        "Dad hat",
        "Hat",
        (VariantSpec("HAT-NAVY-EMB", {"Color": "Navy"}, "22.00"),),
        tags=("headwear", "decoration:embroidery"),
    ),
    ProductSeed(
        "Hoodie",
        "Hoodie",
        (VariantSpec("HOODIE-GRY-L-EMB", {"Color": "Heather grey", "Size": "L"}, "48.00"),),
        tags=("apparel",),
    ),
    ProductSeed(
        "Mountains canvas",
        "Canvas",
        (VariantSpec("CANVAS-30X40", {"Size": "30x40 cm"}, "59.00"),),
        tags=("wall-art",),
    ),
    ProductSeed(
        "City poster",
        "Poster",
        (VariantSpec("POSTER-A3", {"Size": "A3"}, "19.00"),),
        tags=("wall-art",),
    ),
    ProductSeed(
        "Mug", "Mug", (VariantSpec("MUG-11OZ-WHT", {"Size": "11oz"}, "14.00"),), tags=("drinkware",)
    ),
    ProductSeed(
        "Wave phone case",
        "Phone Case",
        (VariantSpec("CASE-IPHONE15-CLEAR", {"Model": "iPhone 15"}, "21.00"),),
        tags=("accessories",),
    ),
    ProductSeed(
        "Rainbow socks", "Socks", (VariantSpec(UNROUTABLE_SKU, {"Size": "One size"}, "9.00"),)
    ),
)
ROUTABLE_SKUS = tuple(
    v.sku for seed in POD_CATALOG for v in seed.variants if v.sku != UNROUTABLE_SKU
)


def seed_pod_catalog(shop: Shop) -> None:
    """Add every product of :data:`POD_CATALOG` to ``shop``."""
    for seed in POD_CATALOG:
        shop.add_product(
            seed.title,
            product_type=seed.product_type,
            vendor=seed.vendor,
            tags=seed.tags,
            metafields=dict(seed.metafields),
            variants=seed.variants,
        )


def sample_lines(rng: random.Random, count: int = 3) -> list[LineSpec]:
    """Pick ``count`` routable lines, with the personalisation the monogram tee needs."""
    return [_line(rng, rng.choice(ROUTABLE_SKUS)) for _ in range(count)]


def _line(rng: random.Random, sku: str) -> LineSpec:
    properties = {"Monogram": rng.choice(["AL", "GH", "KJ"])} if sku.endswith("-MONO") else {}
    return LineSpec(sku, quantity=rng.randint(1, 3), properties=properties)
