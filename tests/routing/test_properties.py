"""Property tests: routing is total and deterministic, the rule index agrees with a linear
scan, and a rule reported as shadowed really can never match."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from integrator.domain.model import Address, Disposition, EnrichedOrder, OrderLine
from integrator.routing import group_by_supplier, next_supplier, route_order
from integrator.routing.router import learn_line
from integrator.store_config import ConfigError
from integrator.store_config.rules import Rule, RuleIndex, RuleMatch, covers
from tests.routing.routing_builders import SUPPLIERS, catalog_entry, make_config

PRODUCT_TYPES = ["Hat", "Hoodie", "T-Shirt", "Mug", "Canvas"]
VENDORS = ["Acme", "Beta"]
SKUS = ["HAT-1-EMB", "TEE-2-DTG", "MUG-3", "CAN-4", "ODD"]
TAGS = ["sale", "summer", "gift"]
METHODS = ["dtg", "embroidery", "sublimation", "none"]
COUNTRIES = ["US", "DE", "FR", "GB"]
NAMES = list(SUPPLIERS)


def optional_list(values: list[str]) -> st.SearchStrategy[list[str] | None]:
    return st.none() | st.lists(st.sampled_from(values), min_size=1, max_size=2, unique=True)


# strategies are built once: building them inside @composite draws is what makes tests slow
MATCH_SECTIONS = st.fixed_dictionaries(
    {},
    optional={
        "product_type": st.lists(
            st.sampled_from(PRODUCT_TYPES), min_size=1, max_size=2, unique=True
        ),
        "vendor": st.lists(st.sampled_from(VENDORS), min_size=1, max_size=2, unique=True),
        "sku": st.lists(
            st.sampled_from(["HAT-*", "*-DTG", "MUG-?", "*"]), min_size=1, max_size=2, unique=True
        ),
        "tags": st.lists(st.sampled_from(TAGS), min_size=1, max_size=2, unique=True),
        "decoration": st.lists(st.sampled_from(METHODS), min_size=1, max_size=2, unique=True),
        "ship_to_country": st.lists(
            st.sampled_from(COUNTRIES), min_size=1, max_size=2, unique=True
        ),
        "personalised": st.booleans(),
    },
)
CHAINS = st.lists(st.sampled_from(NAMES), min_size=1, max_size=3, unique=True)
RULE_SECTIONS = st.lists(st.tuples(MATCH_SECTIONS, CHAINS), max_size=8).map(
    lambda drawn: [
        {"name": f"r{position}", "match": match, "supplier": chain[0], "fallback": chain[1:]}
        for position, (match, chain) in enumerate(drawn)
    ]
)
ORDER_LINES = st.builds(
    OrderLine,
    line_item_id=st.integers(1, 10**6).map(str),
    quantity=st.integers(1, 3),
    sku=st.none() | st.sampled_from(SKUS),
    product_type=st.none() | st.sampled_from(PRODUCT_TYPES + ["hat", "MUG"]),
    vendor=st.none() | st.sampled_from(VENDORS),
    tags=st.lists(st.sampled_from(TAGS), max_size=2).map(tuple),
    properties=st.dictionaries(
        st.sampled_from(["Decoration", "Name", "_ref", "Photo"]),
        st.sampled_from(["EMB", "dtg", "Ada", "", "https://example.com/p.png"]),
        max_size=2,
    ),
    requires_shipping=st.sampled_from([True] * 9 + [False]),
    is_gift_card=st.sampled_from([False] * 9 + [True]),
    fulfillable_quantity=st.none() | st.integers(0, 2),
)


def rule_sections() -> st.SearchStrategy[list[dict[str, Any]]]:
    return RULE_SECTIONS


def order_lines() -> st.SearchStrategy[OrderLine]:
    return ORDER_LINES


def catalogs() -> st.SearchStrategy[list[dict[str, Any]]]:
    listings = st.lists(st.sampled_from(NAMES), min_size=1, unique=True)
    return st.dictionaries(st.sampled_from(SKUS), listings).map(
        lambda drawn: [
            catalog_entry(
                sku,
                *names,
                personalisation=[{"property": "Photo", "as": "file", "placement": "back"}],
            )
            for sku, names in sorted(drawn.items())
        ]
    )


def config_or_none(
    rules: list[dict[str, Any]], catalog: list[dict[str, Any]], unmatched: str
) -> Any:
    try:
        return make_config(
            rules,
            catalog,
            decoration=[
                {"line_item_property": "Decoration"},
                {"sku_suffix": {"-EMB": "embroidery"}},
            ],
            unmatched=unmatched,
        )
    except ConfigError as error:
        # only shadowed rules may be refused by these generators
        assert all("can never match" in problem.message for problem in error.problems)
        return None


@settings(max_examples=200, deadline=None)
@given(
    rules=rule_sections(),
    catalog=catalogs(),
    unmatched=st.sampled_from(["hold", "ignore", *NAMES]),
    lines=st.lists(order_lines(), max_size=6),
    country=st.none() | st.sampled_from(COUNTRIES),
)
def test_routing_is_total_and_deterministic(
    rules: list[dict[str, Any]],
    catalog: list[dict[str, Any]],
    unmatched: str,
    lines: list[OrderLine],
    country: str | None,
) -> None:
    config = config_or_none(rules, catalog, unmatched)
    if config is None:
        return
    order = EnrichedOrder(
        "s.myshopify.com",
        "1",
        "#1",
        tuple(lines),
        Address(country_code=country) if country else None,
    )
    decisions = route_order(order, config)
    assert [d.line_item_id for d in decisions] == [line.line_item_id for line in lines]
    assert route_order(order, config) == decisions
    for line, decision in zip(lines, decisions, strict=True):
        assert decision.reason
        if decision.disposition is Disposition.ROUTE:
            entry = config.catalog.find(line)
            assert entry is not None and decision.supplier in entry.listings
            assert decision.spec is not None
            moved = next_supplier(decision, line, config, decision.supplier)
            assert moved.disposition in (Disposition.ROUTE, Disposition.HOLD) and moved.reason
            assert moved.supplier != decision.supplier
    routed = [d for d in decisions if d.disposition is Disposition.ROUTE]
    assert sum(len(group) for group in group_by_supplier(decisions).values()) == len(routed)


@settings(max_examples=200, deadline=None)
@given(
    rules=rule_sections(),
    lines=st.lists(order_lines(), min_size=1, max_size=5),
    country=st.none() | st.sampled_from(COUNTRIES),
)
def test_rule_index_agrees_with_linear_scan(
    rules: list[dict[str, Any]], lines: list[OrderLine], country: str | None
) -> None:
    config = config_or_none(rules, [], "hold")
    if config is None:
        return
    for line in lines:
        facts = learn_line(line, country, config).facts
        linear = next((rule for rule in config.rules if rule.match.matches(facts)), None)
        assert config.rule_index.first_match(facts) == linear


def to_rule_match(section: dict[str, Any]) -> RuleMatch:
    folded = {
        key: frozenset(v.casefold() for v in value) if isinstance(value, list) else value
        for key, value in section.items()
    }
    if "sku" in folded:
        folded["sku"] = tuple(sorted(folded["sku"]))
    if "ship_to_country" in folded:
        folded["ship_to_country"] = frozenset(c.upper() for c in section["ship_to_country"])
    return RuleMatch(**folded)


SHADOW_CONFIG = make_config([], [], decoration=[{"line_item_property": "Decoration"}])


def narrower(first: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """A match that keeps every condition of ``first`` (narrowed) and adds some of ``extra``."""
    return {
        **extra,
        **{key: value[:1] if isinstance(value, list) else value for key, value in first.items()},
    }


@settings(max_examples=300, deadline=None)
@given(
    first=MATCH_SECTIONS,
    extra=MATCH_SECTIONS,
    other=MATCH_SECTIONS,
    use_narrower=st.booleans(),
    lines=st.lists(order_lines(), min_size=1, max_size=8),
    country=st.none() | st.sampled_from(COUNTRIES),
)
def test_a_shadowed_rule_never_matches_first(
    first: dict[str, Any],
    extra: dict[str, Any],
    other: dict[str, Any],
    use_narrower: bool,
    lines: list[OrderLine],
    country: str | None,
) -> None:
    outer = to_rule_match(first)
    later = to_rule_match(narrower(first, extra) if use_narrower else other)
    if not covers(outer, later):
        return  # only pairs reported as shadowing are under test
    index = RuleIndex.build([Rule("first", outer, "printful"), Rule("later", later, "gelato")])
    for line in lines:
        facts = learn_line(line, country, SHADOW_CONFIG).facts
        found = index.first_match(facts)
        assert found is None or found.name == "first"
