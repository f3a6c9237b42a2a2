"""Rule matching, precedence, unmatched policies, skips, catalog fallback and failover."""

from __future__ import annotations

from typing import Any

import pytest

from integrator.domain.model import Disposition, OrderLine, PrintFile
from integrator.routing import group_by_supplier, next_supplier, route_manually, route_order
from tests.routing.routing_builders import catalog_entry, line, make_config, order

EVERYWHERE = ("printful", "printify", "gelato", "prodigi")


def route_one(
    rules: list[dict[str, Any]],
    item: OrderLine,
    country: str | None = "US",
    unmatched: str = "hold",
    catalog: list[dict[str, Any]] | None = None,
    decoration: list[dict[str, Any]] | None = None,
) -> tuple[str, str | None, str | None]:
    sku = item.sku or "ANY"
    config = make_config(
        rules,
        catalog or [catalog_entry(sku, *EVERYWHERE)],
        decoration=decoration,
        unmatched=unmatched,
    )
    (decision,) = route_order(order(item, country=country), config)
    return decision.disposition.value, decision.supplier, decision.rule


def rule(name: str, supplier: str, **match: Any) -> dict[str, Any]:
    return {"name": name, "match": match, "supplier": supplier}


@pytest.mark.parametrize(
    ("case", "rules", "item", "country", "expected"),
    [
        (
            "product type, case-insensitive",
            [rule("hats", "printful", product_type="HAT")],
            line(sku="S", product_type="hat"),
            "US",
            ("route", "printful", "hats"),
        ),
        (
            "product type list",
            [rule("wear", "printful", product_type=["Hat", "Hoodie"])],
            line(sku="S", product_type="Hoodie"),
            "US",
            ("route", "printful", "wear"),
        ),
        (
            "product type missing",
            [rule("hats", "printful", product_type="Hat")],
            line(sku="S"),
            "US",
            ("hold", None, None),
        ),
        (
            "vendor",
            [rule("acme", "gelato", vendor="Acme Prints")],
            line(sku="S", vendor="acme prints"),
            "US",
            ("route", "gelato", "acme"),
        ),
        (
            "sku glob",
            [rule("tees", "printify", sku="TEE-*")],
            line(sku="tee-blk-m"),
            "US",
            ("route", "printify", "tees"),
        ),
        (
            "sku glob, no sku",
            [rule("tees", "printify", sku="TEE-*")],
            line(variant_id="5"),
            "US",
            ("hold", None, None),
        ),
        (
            "sku glob does not match",
            [rule("tees", "printify", sku="TEE-?")],
            line(sku="TEE-10"),
            "US",
            ("hold", None, None),
        ),
        (
            "any of the tags",
            [rule("sale", "prodigi", tags=["x", "Summer"])],
            line(sku="S", tags=("summer", "b")),
            "US",
            ("route", "prodigi", "sale"),
        ),
        (
            "no tags",
            [rule("sale", "prodigi", tags=["summer"])],
            line(sku="S"),
            "US",
            ("hold", None, None),
        ),
        (
            "decoration via alias",
            [rule("emb", "printful", decoration="Embroidered")],
            line(sku="S", properties={"Decoration": "EMB"}),
            "US",
            ("route", "printful", "emb"),
        ),
        (
            "decoration unknown",
            [rule("emb", "printful", decoration="embroidery")],
            line(sku="S"),
            "US",
            ("hold", None, None),
        ),
        (
            "country",
            [rule("eu", "gelato", ship_to_country=["de", "FR"])],
            line(sku="S"),
            "DE",
            ("route", "gelato", "eu"),
        ),
        (
            "country elsewhere",
            [rule("eu", "gelato", ship_to_country=["DE"])],
            line(sku="S"),
            "US",
            ("hold", None, None),
        ),
        (
            "no shipping address",
            [rule("eu", "gelato", ship_to_country=["DE"])],
            line(sku="S"),
            None,
            ("hold", None, None),
        ),
        (
            "personalised",
            [rule("p", "printful", personalised=True)],
            line(sku="S", properties={"Name": "Ada"}),
            "US",
            ("route", "printful", "p"),
        ),
        (
            "private property is not personalisation",
            [rule("p", "printful", personalised=True)],
            line(sku="S", properties={"_ref": "x"}),
            "US",
            ("hold", None, None),
        ),
        (
            "decoration property is not personalisation",
            [rule("p", "printful", personalised=False)],
            line(sku="S", properties={"Decoration": "dtg"}),
            "US",
            ("route", "printful", "p"),
        ),
        (
            "all conditions must hold",
            [rule("both", "printful", product_type="Hat", ship_to_country="DE")],
            line(sku="S", product_type="Hat"),
            "US",
            ("hold", None, None),
        ),
        (
            "first match wins",
            [
                rule("specific", "gelato", product_type="Canvas", ship_to_country="DE"),
                rule("general", "prodigi", product_type="Canvas"),
            ],
            line(sku="S", product_type="Canvas"),
            "DE",
            ("route", "gelato", "specific"),
        ),
        (
            "first match wins, falls through",
            [
                rule("specific", "gelato", product_type="Canvas", ship_to_country="DE"),
                rule("general", "prodigi", product_type="Canvas"),
            ],
            line(sku="S", product_type="Canvas"),
            "US",
            ("route", "prodigi", "general"),
        ),
        (
            "empty match catches all",
            [rule("all", "printify")],
            line(sku="S"),
            "US",
            ("route", "printify", "all"),
        ),
    ],
)
def test_rule_matching(
    case: str,
    rules: list[dict[str, Any]],
    item: OrderLine,
    country: str | None,
    expected: tuple[str, str | None, str | None],
) -> None:
    decoration = [{"line_item_property": "Decoration"}]
    assert route_one(rules, item, country, decoration=decoration) == expected, case


@pytest.mark.parametrize(
    ("unmatched", "expected"),
    [
        ("hold", ("hold", None, None)),
        ("ignore", ("ignore", None, None)),
        ("gelato", ("route", "gelato", "unmatched")),
    ],
)
def test_every_unmatched_policy(
    unmatched: str, expected: tuple[str, str | None, str | None]
) -> None:
    assert route_one([], line(sku="S"), unmatched=unmatched) == expected


def test_unmatched_supplier_without_listing_holds() -> None:
    config = make_config([], [catalog_entry("S", "printful")], unmatched="gelato")
    (decision,) = route_order(order(line(sku="S")), config)
    assert decision.disposition is Disposition.HOLD
    assert "no listing for gelato" in decision.reason


def test_unmatched_reason_says_what_was_known() -> None:
    config = make_config([rule("hats", "printful", product_type="Hat")], [])
    (decision,) = route_order(order(line(sku="NOPE", product_type="Mug")), config)
    assert decision.reason == (
        "no rule matches (product_type=Mug, decoration=unknown, "
        "ship_to=US); no catalog entry for sku NOPE; unmatched: hold"
    )


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        (line(sku="S", is_gift_card=True), "gift card: nothing to make or ship"),
        (line(sku="S", requires_shipping=False), "needs no shipping (digital or service item)"),
        (
            line(sku="S", fulfillable_quantity=0),
            "already fulfilled or removed (nothing left to fulfil)",
        ),
    ],
)
def test_items_left_alone_visibly(item: OrderLine, reason: str) -> None:
    config = make_config([rule("all", "printful")], [catalog_entry("S", "printful")])
    (decision,) = route_order(order(item), config)
    assert (decision.disposition, decision.reason) == (Disposition.SKIP, reason)


def test_catalog_hints_fill_what_the_order_lacks() -> None:
    config = make_config(
        [rule("mugs", "prodigi", product_type="Mug")],
        [catalog_entry("MUG", "prodigi", product_type="Mug")],
    )
    (decision,) = route_order(order(line(sku="MUG")), config)
    assert (decision.disposition, decision.supplier) == (Disposition.ROUTE, "prodigi")


def test_variant_id_is_looked_up_before_sku() -> None:
    config = make_config(
        [
            rule(
                "all",
                "printful",
            )
        ],
        [
            catalog_entry("S", "printful"),
            {"variant_id": "77", "printful": {"sync_variant_id": 555}},
        ],
    )
    (decision,) = route_order(order(line(sku="S", variant_id="77")), config)
    assert decision.catalog_key == "variant:77"
    assert decision.spec is not None and decision.spec.identifiers == {"sync_variant_id": "555"}


class TestFallbackChain:
    RULES = [
        {"name": "chain", "match": {}, "supplier": "printful", "fallback": ["printify", "gelato"]}
    ]

    def test_first_supplier_with_a_listing_wins(self) -> None:
        config = make_config(self.RULES, [catalog_entry("S", "printify", "gelato")])
        (decision,) = route_order(order(line(sku="S")), config)
        assert (decision.supplier, decision.fallbacks) == ("printify", ("gelato",))
        assert decision.reason == (
            "rule 'chain' → printful; no catalog listing at printful, so fallback printify"
        )
        assert decision.spec is not None
        assert decision.spec.identifiers == {"product_id": "p1", "variant_id": "33719"}

    def test_no_listing_anywhere_holds_with_reason(self) -> None:
        config = make_config(self.RULES, [catalog_entry("S", "prodigi")])
        (decision,) = route_order(order(line(sku="S")), config)
        assert decision.disposition is Disposition.HOLD
        assert decision.reason == (
            "rule 'chain' → printful, but catalog entry sku:S has no "
            "listing for printful, printify, gelato"
        )
        assert decision.rule == "chain"

    def test_no_catalog_entry_holds_with_reason(self) -> None:
        config = make_config(self.RULES, [])
        (decision,) = route_order(order(line(sku="S", variant_id="8")), config)
        assert decision.disposition is Disposition.HOLD
        assert decision.reason == (
            "rule 'chain' → printful, but there is no catalog entry for sku S / variant 8"
        )


class TestFailover:
    RULES = [
        {
            "name": "chain",
            "match": {},
            "supplier": "printful",
            "fallback": ["printify", "gelato", "prodigi"],
        }
    ]

    def test_moves_to_next_supplier_with_a_listing(self) -> None:
        config = make_config(self.RULES, [catalog_entry("S", "printful", "gelato", "prodigi")])
        item = line(sku="S")
        (decision,) = route_order(order(item), config)
        moved = next_supplier(decision, item, config, "printful")
        assert (moved.disposition, moved.supplier, moved.fallbacks) == (
            Disposition.ROUTE,
            "gelato",
            ("prodigi",),
        )
        assert moved.rule == "chain"
        assert moved.reason == (
            "printful cannot make it; failover to gelato; no catalog "
            "listing at printify, so fallback gelato"
        )
        again = next_supplier(moved, item, config, "gelato")
        assert (again.supplier, again.fallbacks) == ("prodigi", ())

    def test_end_of_chain_holds_naming_why(self) -> None:
        config = make_config(self.RULES, [catalog_entry("S", "prodigi")])
        item = line(sku="S")
        (decision,) = route_order(order(item), config)
        held = next_supplier(decision, item, config, "prodigi")
        assert held.disposition is Disposition.HOLD
        assert held.reason == "prodigi cannot make it; no fallback supplier left"
        assert held.supplier is None

    def test_remaining_fallbacks_without_listing_hold(self) -> None:
        config = make_config(
            [{"name": "c", "match": {}, "supplier": "printful", "fallback": ["printify"]}],
            [catalog_entry("S", "printful")],
        )
        item = line(sku="S")
        (decision,) = route_order(order(item), config)
        held = next_supplier(decision, item, config, "printful")
        assert held.reason == (
            "printful cannot make it; no catalog entry at the remaining fallbacks (printify)"
        )


class TestPersonalisation:
    ENTRY = {
        "sku": "MONO",
        "personalisation": [
            {
                "property": "Monogram",
                "as": "file",
                "placement": "chest",
                "url_template": "https://r.example.com/m.png?t={value}",
            },
            {"property": "Photo", "as": "file", "placement": "back"},
            {"property": "Colour", "as": "option", "option": "thread"},
            {"property": "Gift message", "as": "packing_note", "label": "Gift"},
            {"property": "_font", "as": "option", "option": "font"},
        ],
        "printful": {
            "variant_id": 1,
            "files": [{"placement": "front", "url": "https://example.com/base.png"}],
        },
        "prodigi": {"sku": "P", "personalisation": [{"property": "Monogram", "as": "option"}]},
    }

    def decide(self, properties: dict[str, str], supplier: str = "printful") -> Any:
        config = make_config([rule("all", supplier)], [self.ENTRY])
        (decision,) = route_order(order(line(sku="MONO", properties=properties)), config)
        return decision

    def test_properties_follow_the_mapping(self) -> None:
        decision = self.decide(
            {
                "Monogram": "A&L",
                "Photo": "https://cdn.example.com/u.jpg",
                "colour": "gold",
                "Gift message": "Hi",
                "_font": "serif",
                "_secret": "x",
                "Note": "left side",
            }
        )
        spec = decision.spec
        assert decision.disposition is Disposition.ROUTE
        assert spec.files == (
            PrintFile("front", "https://example.com/base.png"),
            PrintFile("chest", "https://r.example.com/m.png?t=A%26L"),
            PrintFile("back", "https://cdn.example.com/u.jpg"),
        )
        assert spec.options == {"thread": "gold", "font": "serif"}
        # unmapped public properties are never dropped: they go to the packing note
        assert spec.packing_note == "Gift: Hi\nNote: left side"

    def test_private_property_not_named_is_dropped(self) -> None:
        decision = self.decide({"_secret": "x"})
        assert decision.spec.options == {} and decision.spec.packing_note is None

    def test_supplier_mapping_overrides_entry_mapping(self) -> None:
        decision = self.decide({"Monogram": "AL", "_font": "serif"}, supplier="prodigi")
        assert decision.spec.options == {"Monogram": "AL"}
        assert decision.spec.files == ()

    def test_file_that_is_not_a_url_holds(self) -> None:
        decision = self.decide({"Photo": "my cat"})
        assert decision.disposition is Disposition.HOLD
        assert "property 'Photo' should be a file URL, got 'my cat'" in decision.reason

    def test_no_properties_shares_the_base_spec(self) -> None:
        first, second = self.decide({}), self.decide({})
        assert first.spec == second.spec


def test_group_by_supplier_splits_routed_items_only() -> None:
    config = make_config(
        [rule("hats", "printful", product_type="Hat"), rule("art", "gelato", product_type="Art")],
        [catalog_entry("H", "printful"), catalog_entry("A", "gelato")],
    )
    decisions = route_order(
        order(
            line("1", sku="H", product_type="Hat"),
            line("2", sku="A", product_type="Art"),
            line("3", sku="H", product_type="Hat"),
            line("4", sku="X"),
            line("5", sku="H", is_gift_card=True),
        ),
        config,
    )
    groups = group_by_supplier(decisions)
    assert {name: [d.line_item_id for d in group] for name, group in groups.items()} == {
        "gelato": ["2"],
        "printful": ["1", "3"],
    }
    assert [d.disposition.value for d in decisions] == ["route", "route", "route", "hold", "skip"]


class TestManualRoute:
    def test_operator_sends_a_held_item_to_a_listed_supplier(self) -> None:
        config = make_config([], [catalog_entry("S", "gelato", "prodigi")])
        item = line(sku="S", properties={"Note": "rush"})
        (held,) = route_order(order(item), config)
        assert held.disposition is Disposition.HOLD
        moved = route_manually(item, config, "prodigi", who="ops@example.com")
        assert (moved.disposition, moved.supplier, moved.rule, moved.reason) == (
            Disposition.ROUTE,
            "prodigi",
            "manual:ops@example.com",
            "ops@example.com chose prodigi",
        )
        assert moved.spec is not None and moved.spec.packing_note == "Note: rush"

    @pytest.mark.parametrize(
        ("supplier", "reason"),
        [
            ("printful", "operator chose printful, but it has no catalog listing for sku S"),
            ("spod", "operator chose 'spod', which is not a configured supplier"),
        ],
    )
    def test_unlisted_or_unknown_supplier_keeps_it_held(self, supplier: str, reason: str) -> None:
        config = make_config([], [catalog_entry("S", "gelato")])
        moved = route_manually(line(sku="S"), config, supplier)
        assert (moved.disposition, moved.reason) == (Disposition.HOLD, reason)
