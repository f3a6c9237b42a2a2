"""Decoration method: source precedence, aliases, case and missing data."""

from __future__ import annotations

import pytest

from integrator.domain.model import OrderLine
from integrator.store_config.decoration import canonical_method, resolve_decoration
from tests.routing.routing_builders import line, make_config

ALL_SOURCES = [
    {"line_item_property": "Decoration"},
    {"variant_option": "Decoration"},
    {"product_metafield": "custom.decoration_method"},
    {"product_tag_prefix": "decoration:"},
    {"sku_suffix": {"-EMB": "embroidery", "-DTG": "dtg", "-EMB-XL": "screen_print"}},
    {"sku_pattern": {"^AOP-": "all_over_print"}},
    {"product_type_default": {"Mug": "sublimation"}},
]
CONFIG = make_config(
    decoration=ALL_SOURCES, decoration_aliases={"stitched": "embroidery", "Hand Made": "none"}
)


@pytest.mark.parametrize(
    ("case", "item", "method", "source"),
    [
        (
            "property beats everything",
            line(
                properties={"Decoration": "DTF"},
                variant_options={"Decoration": "dtg"},
                metafields={"custom.decoration_method": "engraving"},
                tags=("decoration:uv",),
                sku="X-EMB",
                product_type="Mug",
            ),
            "dtf",
            "line_item_property:Decoration",
        ),
        (
            "variant option beats metafield",
            line(
                variant_options={"Decoration": "Embroidered"},
                metafields={"custom.decoration_method": "dtg"},
            ),
            "embroidery",
            "variant_option:Decoration",
        ),
        (
            "metafield beats tag",
            line(metafields={"custom.decoration_method": "UV Print"}, tags=("decoration:dtg",)),
            "uv_print",
            "product_metafield:custom.decoration_method",
        ),
        (
            "tag prefix beats sku",
            line(tags=("summer", "Decoration:Screen-Print"), sku="T-DTG"),
            "screen_print",
            "product_tag_prefix:decoration:",
        ),
        ("sku suffix beats pattern", line(sku="AOP-1-DTG"), "dtg", "sku_suffix:-DTG"),
        ("longest suffix wins", line(sku="CAP-EMB-XL"), "screen_print", "sku_suffix:-EMB-XL"),
        ("suffix is case-insensitive", line(sku="cap-emb"), "embroidery", "sku_suffix:-EMB"),
        (
            "pattern beats type default",
            line(sku="aop-9", product_type="Mug"),
            "all_over_print",
            "sku_pattern:^AOP-",
        ),
        (
            "type default last",
            line(sku="M-1", product_type="mug"),
            "sublimation",
            "product_type_default:Mug",
        ),
        (
            "property name is case-insensitive",
            line(properties={"decoration": "emb"}),
            "embroidery",
            "line_item_property:Decoration",
        ),
        (
            "store alias",
            line(properties={"Decoration": "STITCHED"}),
            "embroidery",
            "line_item_property:Decoration",
        ),
        (
            "store alias with spaces",
            line(properties={"Decoration": "hand-made"}),
            "none",
            "line_item_property:Decoration",
        ),
        (
            "empty value is no value",
            line(properties={"Decoration": "  "}, sku="A-DTG"),
            "dtg",
            "sku_suffix:-DTG",
        ),
        ("nothing known", line(sku="PLAIN", product_type="Poster"), None, None),
        ("no data at all", line(), None, None),
    ],
)
def test_resolution(case: str, item: OrderLine, method: str | None, source: str | None) -> None:
    found = resolve_decoration(item, CONFIG.decoration)
    assert (found.method, found.source) == (method, source), case


def test_unknown_value_is_passed_over_visibly() -> None:
    found = resolve_decoration(
        line(properties={"Decoration": "Glitter"}, sku="T-DTG"), CONFIG.decoration
    )
    assert (found.method, found.source) == ("dtg", "sku_suffix:-DTG")
    assert found.ignored == (
        "line_item_property:Decoration = 'Glitter' is not a known decoration method",
    )


def test_product_type_from_catalog_hint_feeds_the_default() -> None:
    found = resolve_decoration(line(sku="M-1"), CONFIG.decoration, product_type="Mug")
    assert found.method == "sublimation"


@pytest.mark.parametrize(
    ("spelling", "canonical"),
    [
        ("DTG", "dtg"),
        ("Direct to Garment", "dtg"),
        ("EMB", "embroidery"),
        ("Embroidered", "embroidery"),
        ("screen print", "screen_print"),
        ("AOP", "all_over_print"),
        ("all-over-print", "all_over_print"),
        ("Sublimated", "sublimation"),
        ("uv", "uv_print"),
        ("Engraved", "engraving"),
        ("NONE", "none"),
        ("dtf", "dtf"),
        ("sparkles", None),
    ],
)
def test_built_in_spellings(spelling: str, canonical: str | None) -> None:
    assert canonical_method(spelling, {}) == canonical
