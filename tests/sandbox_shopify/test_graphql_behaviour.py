"""Validation, generic resolution, pagination and search of the sandbox's GraphQL endpoint."""

from __future__ import annotations

import json
import random
from typing import Any

from integrator.sandbox.shopify import FulfillmentOrderSpec, LineSpec, Shop
from integrator.sandbox.shopify.demo_catalog import sample_lines, seed_pod_catalog
from tests.sandbox_shopify.conftest import Admin

ORDERS_PAGE = """
query Page($after: String, $q: String) {
  orders(first: 2, after: $after, query: $q, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    edges { cursor node { name } }
  }
}"""


def test_invalid_document_is_rejected_with_graphql_errors_and_no_data(
    admin: Admin, shop: Shop
) -> None:
    response = admin.post("query { order(id: \"gid://shopify/Order/1\") { noSuchField } }")

    body = response.json()
    assert response.status_code == 200  # as Shopify: a GraphQL error list, not an HTTP error
    assert "data" not in body
    assert "noSuchField" in body["errors"][0]["message"]
    assert shop.bucket.status().currently_available == shop.bucket.maximum


def test_syntax_error_is_rejected(admin: Admin) -> None:
    body = admin.post("query { order(id: ").json()

    assert "Syntax Error" in body["errors"][0]["message"]


def test_request_without_query_is_a_bad_request(admin: Admin) -> None:
    response = admin.http.post("/admin/api/2026-04/graphql.json", json={"variables": {}},
                               headers={"X-Shopify-Access-Token": admin.token})

    assert response.status_code == 400


def test_unknown_api_version_is_not_found(admin: Admin) -> None:
    response = admin.http.post("/admin/api/1999-13/graphql.json", json={"query": "{shop{name}}"},
                               headers={"X-Shopify-Access-Token": admin.token})

    assert response.status_code == 404


def test_enrichment_fields_come_from_the_seeded_catalog(admin: Admin, order: dict[str, Any]) -> None:
    query = """
    query($id: ID!) { order(id: $id) { lineItems(first: 5) { nodes {
        sku customAttributes { key value } requiresShipping
        variant { selectedOptions { name value } }
        product { productType vendor tags
                  metafield(namespace: "custom", key: "decoration_method") { value } } } } } }"""

    lines = admin.run(query, {"id": order["id"]})["data"]["order"]["lineItems"]["nodes"]

    first = lines[0]
    assert first["sku"] == "TEE-BLK-M-DTG"
    assert first["customAttributes"] == [{"key": "Decoration", "value": "dtg"}]
    assert first["variant"]["selectedOptions"] == [{"name": "Color", "value": "Black"},
                                                   {"name": "Size", "value": "M"}]
    assert first["product"]["productType"] == "T-Shirt"
    assert first["product"]["metafield"] == {"value": "dtg"}
    assert lines[2]["product"]["metafield"] is None


def test_unmodelled_fields_get_neutral_values(admin: Admin, order: dict[str, Any]) -> None:
    query = """query($id: ID!) { order(id: $id) { id riskLevel customerJourney { daysToConversion }
               totalWeight canMarkAsPaid } }"""

    data = admin.run(query, {"id": order["id"]})["data"]["order"]

    assert data["customerJourney"] is None
    assert data["canMarkAsPaid"] is False
    assert data["riskLevel"]


def test_node_resolves_the_concrete_type(admin: Admin, order: dict[str, Any]) -> None:
    query = """query($ids: [ID!]!) { nodes(ids: $ids) { __typename ... on Order { name } } }"""

    nodes = admin.run(query, {"ids": [order["id"], "gid://shopify/Order/404"]})["data"]["nodes"]

    assert nodes == [{"__typename": "Order", "name": order["name"]}, None]


def test_malformed_gid_is_an_error(admin: Admin) -> None:
    body = admin.run('query { order(id: "42") { id } }')

    assert body["data"]["order"] is None
    assert "Invalid global id" in body["errors"][0]["message"]


def test_connection_without_first_or_last_is_an_error(admin: Admin, order: dict[str, Any]) -> None:
    body = admin.run("query($id: ID!) { order(id: $id) { lineItems { nodes { id } } } }",
                     {"id": order["id"]})

    assert body["errors"][0]["message"] == "you must provide one of first or last"


def test_orders_page_by_cursor_oldest_update_first(admin: Admin, shop: Shop) -> None:
    names = [shop.create_order([LineSpec("MUG")])["name"] for _ in range(3)]
    shop.mark_paid(shop.all_of("Order")[0]["id"])  # touched last, so it comes last

    first = admin.run(ORDERS_PAGE)["data"]["orders"]
    second = admin.run(ORDERS_PAGE, {"after": first["pageInfo"]["endCursor"]})["data"]["orders"]

    seen = [edge["node"]["name"] for edge in first["edges"] + second["edges"]]
    assert seen == [names[1], names[2], names[0]]
    assert first["pageInfo"]["hasNextPage"] is True
    assert second["pageInfo"]["hasNextPage"] is False


def test_orders_query_filters_on_status_and_updated_at(admin: Admin, shop: Shop) -> None:
    shop.create_order([LineSpec("MUG")], financial_status="PENDING")
    paid = shop.create_order([LineSpec("MUG")])
    cancelled = shop.create_order([LineSpec("MUG")])
    shop.cancel_order(cancelled["id"])

    by_status = admin.run(ORDERS_PAGE, {"q": "financial_status:paid -status:cancelled"})
    in_future = admin.run(ORDERS_PAGE, {"q": "updated_at:>='2999-01-01T00:00:00Z'"})

    assert [e["node"]["name"] for e in by_status["data"]["orders"]["edges"]] == [paid["name"]]
    assert in_future["data"]["orders"]["edges"] == []


def test_tags_metafields_and_webhook_subscriptions_change_state(
    admin: Admin, shop: Shop, order: dict[str, Any]
) -> None:
    admin.run('mutation($id: ID!) { tagsAdd(id: $id, tags: ["routed, held"]) { userErrors { message } } }',
              {"id": order["id"]})
    admin.run('mutation($id: ID!) { tagsRemove(id: $id, tags: ["held"]) { userErrors { message } } }',
              {"id": order["id"]})
    subscribe = """mutation { webhookSubscriptionCreate(topic: ORDERS_PAID,
        webhookSubscription: {uri: "https://integrator.example/webhooks/shopify"}) {
        userErrors { field message } } }"""
    admin.run(subscribe)
    again = admin.run(subscribe)["data"]["webhookSubscriptionCreate"]["userErrors"]

    assert order["tags"] == ["routed"]
    assert [s["topic"] for s in shop.all_of("WebhookSubscription")] == ["ORDERS_PAID"]
    assert again == [{"field": ["webhookSubscription", "callbackUrl"],
                      "message": "Address for this topic has already been taken"}]


def test_unmodelled_mutation_is_answered_and_counted(admin: Admin, shop: Shop,
                                                     order: dict[str, Any]) -> None:
    body = admin.run('mutation($id: ID!) { orderClose(input: {id: $id}) { userErrors { message } } }',
                     {"id": order["id"]})

    assert body["data"]["orderClose"]["userErrors"] == []
    assert shop.counters.unmodelled_mutations["orderClose"] == 1


def test_several_fulfillment_orders_and_holds_are_served(admin: Admin, shop: Shop) -> None:
    order = shop.create_order([LineSpec("A"), LineSpec("B", quantity=2)], fulfillment_orders=[
        FulfillmentOrderSpec(lines=[0]),
        FulfillmentOrderSpec(lines=[1], status="ON_HOLD", location_name="Printful")])
    query = """query($id: ID!) { order(id: $id) { displayFulfillmentStatus
        fulfillmentOrders(first: 5) { nodes { status assignedLocation { name }
            fulfillmentHolds { reason } supportedActions { action }
            lineItems(first: 5) { nodes { totalQuantity lineItem { sku } } } } } } }"""

    data = admin.run(query, {"id": order["id"]})["data"]["order"]

    held = data["fulfillmentOrders"]["nodes"][1]
    assert [fo["status"] for fo in data["fulfillmentOrders"]["nodes"]] == ["OPEN", "ON_HOLD"]
    assert held["assignedLocation"]["name"] == "Printful"
    assert held["fulfillmentHolds"] == [{"reason": "AWAITING_PAYMENT"}]
    assert held["supportedActions"] == [{"action": "RELEASE_HOLD"}]
    assert held["lineItems"]["nodes"] == [{"totalQuantity": 2, "lineItem": {"sku": "B"}}]


def test_products_filter_by_search_terms(admin: Admin, order: dict[str, Any]) -> None:
    query = """query($q: String) { products(first: 10, query: $q, sortKey: TITLE) {
               nodes { title variants(first: 5) { nodes { sku } } } } }"""

    hats = admin.run(query, {"q": "product_type:Hat"})["data"]["products"]["nodes"]
    dtg = admin.run(query, {"q": "tag:decoration:dtg"})["data"]["products"]["nodes"]

    assert hats == [{"title": "Dad Hat", "variants": {"nodes": [{"sku": "HAT-NVY-EMB"}]}}]
    assert [product["title"] for product in dtg] == ["Classic Tee"]


def test_bare_graphql_body_is_accepted(admin: Admin, shop: Shop) -> None:
    response = admin.http.post("/admin/api/2026-04/graphql.json", content="{ shop { name } }",
                               headers={"X-Shopify-Access-Token": admin.token,
                                        "Content-Type": "application/graphql"})

    assert response.json()["data"] == {"shop": {"name": "pod-demo"}}
    assert shop.counters.requests == 1


def test_demo_catalog_seeds_orders_that_enrichment_can_read(admin: Admin, shop: Shop) -> None:
    seed_pod_catalog(shop)
    order = shop.create_order(sample_lines(random.Random(7), count=12))
    query = """query($id: ID!) { order(id: $id) { lineItems(first: 50) { nodes {
               sku product { productType } } } } }"""

    lines = admin.run(query, {"id": order["id"]})["data"]["order"]["lineItems"]["nodes"]

    assert len(lines) == 12
    assert all(line["product"]["productType"] for line in lines)
    assert 8_000 < len(json.dumps(shop.webhook_payload(order["id"]))) < 30_000


def test_nested_connection_pages_forwards_and_in_reverse(admin: Admin, order: dict[str, Any]) -> None:
    query = """query($id: ID!, $after: String, $reverse: Boolean) { order(id: $id) {
               lineItems(first: 2, after: $after, reverse: $reverse) {
                 pageInfo { hasNextPage endCursor } nodes { sku } } } }"""

    def page(**variables: Any) -> dict[str, Any]:
        data = admin.run(query, {"id": order["id"], **variables})["data"]
        items: dict[str, Any] = data["order"]["lineItems"]
        return items

    first = page()
    rest = page(after=first["pageInfo"]["endCursor"])
    backwards = page(reverse=True)

    assert [n["sku"] for n in first["nodes"] + rest["nodes"]] == [
        "TEE-BLK-M-DTG", "TEE-WHT-L-DTG", "HAT-NVY-EMB"]
    assert rest["pageInfo"]["hasNextPage"] is False
    assert [n["sku"] for n in backwards["nodes"]] == ["HAT-NVY-EMB", "TEE-WHT-L-DTG"]
