"""Cost-based throttling: a leaky bucket per shop, priced by Shopify's published rules."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import parse

from integrator.sandbox.shopify import SandboxConfig, SandboxShopify, Shop
from integrator.sandbox.shopify.admin_api import answer_graphql
from integrator.sandbox.shopify.cost import query_cost
from integrator.sandbox.shopify.schema import admin_schema
from tests.sandbox_shopify.conftest import Admin, FakeClock

TAG = 'mutation($id: ID!) { tagsAdd(id: $id, tags: ["x"]) { userErrors { message } } }'


@pytest.fixture
def sandbox(clock: FakeClock) -> SandboxShopify:
    return SandboxShopify(SandboxConfig(bucket_size=50, restore_rate=10, clock=clock))


def cost_of(document: str, variables: dict[str, Any] | None = None) -> int:
    return query_cost(admin_schema(), parse(document), None, variables)


def test_cost_follows_the_published_rules() -> None:
    nested = """{ products(first: 10) { edges { node { title
                 variants(first: 5) { edges { node { price } } } } } } }"""

    assert cost_of("{ shop { name } }") == 1
    assert cost_of(nested) == 2 + 10 * (1 + 2 + 5 * 1)
    assert cost_of("query($n: Int) { orders(first: $n) { nodes { id } } }", {"n": 20}) == 22
    assert cost_of(TAG) == 10


def test_metafields_set_costs_ten_plus_a_weight_per_distinct_owner() -> None:
    document = """mutation($m: [MetafieldsSetInput!]!) {
        metafieldsSet(metafields: $m) { userErrors { message } } }"""

    def entry(owner: str, key: str) -> dict[str, str]:
        return {"ownerId": owner, "namespace": "integrator", "key": key,
                "type": "single_line_text_field", "value": "x"}

    one_order = [entry("gid://shopify/Order/1", "a"), entry("gid://shopify/Order/1", "b")]
    mixed = [*one_order, entry("gid://shopify/Order/2", "a"), entry("gid://shopify/Product/3", "a")]

    assert cost_of(document, {"m": one_order}) == 10 + 10
    assert cost_of(document, {"m": mixed}) == 10 + 10 + 10 + 4
    assert cost_of(document, {"m": [entry("gid://shopify/Location/9", "a")]}) == 10


def test_fields_left_out_by_directives_cost_nothing() -> None:
    document = """query($with: Boolean!) { shop { name }
        orders(first: 10) @include(if: $with) { nodes { id } } }"""

    assert cost_of(document, {"with": True}) == 1 + 2 + 10
    assert cost_of(document, {"with": False}) == 1


def test_fragments_on_different_types_cost_the_dearest() -> None:
    document = """query($id: ID!) { node(id: $id) {
        ... on Order { customer { id } }
        ...ProductBits } }
      fragment ProductBits on Product { featuredImage { id } variants(first: 10) { nodes { id } } }"""

    assert cost_of(document, {"id": "gid://shopify/Product/1"}) == 1 + (1 + 2 + 10)


def test_drained_bucket_answers_throttled_then_recovers(
    admin: Admin, shop: Shop, order: dict[str, Any], clock: FakeClock
) -> None:
    answers = [admin.run(TAG, {"id": order["id"]}) for _ in range(6)]

    throttled = answers[-1]
    assert all("errors" not in answer for answer in answers[:5])
    assert throttled["errors"] == [{"message": "Throttled", "extensions": {
        "code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}]
    assert throttled["extensions"]["cost"] == {
        "requestedQueryCost": 10, "actualQueryCost": None,
        "throttleStatus": {"maximumAvailable": 50.0, "currentlyAvailable": 0.0,
                           "restoreRate": 10.0}}
    assert shop.counters.throttled == 1
    assert order["tags"] == ["x"]

    clock.advance(1.0)
    recovered = admin.run(TAG, {"id": order["id"]})

    assert "errors" not in recovered
    assert recovered["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 0.0


def test_unused_requested_cost_is_refunded(admin: Admin, shop: Shop) -> None:
    body = admin.run("{ orders(first: 20) { nodes { id } } }")

    cost = body["extensions"]["cost"]
    assert (cost["requestedQueryCost"], cost["actualQueryCost"]) == (22, 2)
    assert cost["throttleStatus"]["currentlyAvailable"] == 48.0


def test_bucket_refills_only_to_its_size(admin: Admin, clock: FakeClock) -> None:
    clock.advance(3600)

    body = admin.run("{ shop { name } }")

    assert body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 49.0


def test_each_shop_has_its_own_bucket(admin: Admin, sandbox: SandboxShopify,
                                      order: dict[str, Any]) -> None:
    other = sandbox.create_shop("other.myshopify.com", access_token="shpat_other")
    for _ in range(5):
        admin.run(TAG, {"id": order["id"]})

    assert other.bucket.status().currently_available == 50.0


def test_single_query_limit_can_be_enforced(clock: FakeClock) -> None:
    sandbox = SandboxShopify(SandboxConfig(max_single_query_cost=1000, clock=clock))
    shop = sandbox.create_shop("big.myshopify.com", access_token="t")

    status, body = answer_graphql(
        shop, shop.scopes, {"query": "{ orders(first: 250) { nodes { lineItems(first: 250) "
                                     "{ nodes { id } } } } }"}, sandbox.config)

    assert status == 200
    assert body["errors"][0]["extensions"]["code"] == "MAX_COST_EXCEEDED"
