"""AdminClient: pacing from throttleStatus, retries, named errors, the admin URL override."""

from __future__ import annotations

import httpx
import pytest

from integrator.shopify.client import AdminClient, RetryPolicy
from integrator.shopify.errors import (
    ShopifyAuthError,
    ShopifyQueryError,
    ShopifyThrottledOut,
    ShopifyUnavailable,
    ShopifyUserErrors,
)
from integrator.shopify.tokens import (
    ClientCredentialsGrant,
    InMemoryShopTokenStore,
    StaticAdminToken,
    TokenProvider,
)
from integrator.shopify.transport import build_shopify_http_client
from tests.shopify.conftest import CREDENTIALS, SHOP
from tests.shopify.fake_shopify import FakeClock, FakeOrder, FakeShopify


def test_paces_itself_against_a_50_point_bucket_and_never_gets_throttled(
    client: AdminClient, shopify: FakeShopify, clock: FakeClock
) -> None:
    shopify.bucket_size, shopify.restore_rate, shopify.query_cost = 50.0, 10.0, 20.0
    shopify._available = 50.0

    answers = [client.execute(SHOP, "shop_credentials") for _ in range(10)]

    assert all(a["shop"]["myshopifyDomain"] == SHOP for a in answers)
    assert shopify.throttled_answers == 0  # it waited instead of being refused
    assert client.throttle_waits >= 7
    # 10 queries of 20 points from a 50-point bucket restoring 10/s: at least 15 s of waiting
    assert client.throttle_wait_seconds == pytest.approx(sum(clock.slept), rel=1e-9)
    assert sum(clock.slept) >= 15.0


def test_throttled_answer_is_retried(client: AdminClient, shopify: FakeShopify) -> None:
    shopify.force_throttled = 2

    data = client.execute(SHOP, "shop_credentials")

    assert data["shop"]["name"] == "Demo"
    assert client.throttled_responses == 2
    assert client.retries == 2
    assert len(shopify.calls) == 1


def test_throttled_until_attempts_run_out_raises_throttled_out(
    client: AdminClient, shopify: FakeShopify
) -> None:
    shopify.force_throttled = 100
    with pytest.raises(ShopifyThrottledOut):
        client.execute(SHOP, "shop_credentials")
    assert client.throttled_responses == 4  # the policy's max_attempts
    assert shopify.calls == []


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_transient_http_errors_are_retried(
    client: AdminClient, shopify: FakeShopify, status: int
) -> None:
    shopify.fail_with_status = [status, status]
    assert client.execute(SHOP, "shop_credentials")["shop"]["name"] == "Demo"
    assert client.retries == 2


def test_lasting_outage_raises_unavailable(client: AdminClient, shopify: FakeShopify) -> None:
    shopify.fail_with_status = [503] * 10
    with pytest.raises(ShopifyUnavailable):
        client.execute(SHOP, "shop_credentials")


def test_connection_errors_are_retried_then_named(clock: FakeClock) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    http = build_shopify_http_client(transport=httpx.MockTransport(refuse))
    tokens = TokenProvider(StaticAdminToken("shpat_x"), InMemoryShopTokenStore())
    client = AdminClient(
        tokens, http, retry_policy=RetryPolicy(max_attempts=3), sleep=clock.sleep, clock=clock
    )
    with pytest.raises(ShopifyUnavailable):
        client.execute(SHOP, "shop_credentials")
    assert client.retries == 2


def test_refused_token_is_an_auth_error_and_is_forgotten(
    clock: FakeClock, shopify: FakeShopify, http: httpx.Client
) -> None:
    tokens = TokenProvider(StaticAdminToken("shpat_revoked"), InMemoryShopTokenStore())
    client = AdminClient(tokens, http, sleep=clock.sleep, clock=clock)
    with pytest.raises(ShopifyAuthError, match="401"):
        client.execute(SHOP, "shop_credentials")
    assert client.retries == 0


def test_403_is_an_auth_error(client: AdminClient, shopify: FakeShopify) -> None:
    shopify.fail_with_status = [403]
    with pytest.raises(ShopifyAuthError, match="scope"):
        client.execute(SHOP, "shop_credentials")


def test_mutation_user_errors_are_raised_with_field_and_message(
    client: AdminClient, shopify: FakeShopify
) -> None:
    variables = {
        "fulfillmentId": "gid://shopify/Fulfillment/1",
        "trackingInfoInput": {"number": "1Z"},
        "notifyCustomer": False,
    }
    with pytest.raises(ShopifyUserErrors) as raised:
        client.mutate(
            SHOP, "fulfillment_tracking_info_update", variables, "fulfillmentTrackingInfoUpdate"
        )
    assert raised.value.errors[0].field == ("fulfillmentId",)
    assert raised.value.errors[0].message == "Fulfillment does not exist."


def test_other_graphql_errors_are_query_errors(clock: FakeClock) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        error = {"message": "Field 'nope' doesn't exist", "extensions": {"code": "undefinedField"}}
        return httpx.Response(200, json={"errors": [error]})

    http = build_shopify_http_client(transport=httpx.MockTransport(answer))
    tokens = TokenProvider(StaticAdminToken("shpat_x"), InMemoryShopTokenStore())
    client = AdminClient(tokens, http, sleep=clock.sleep, clock=clock)
    with pytest.raises(ShopifyQueryError) as raised:
        client.execute(SHOP, "shop_credentials")
    assert raised.value.codes == ("undefinedField",)
    assert clock.slept == []


def test_admin_url_sends_token_and_graphql_calls_to_the_sandbox(
    shopify: FakeShopify, clock: FakeClock
) -> None:
    http = build_shopify_http_client(
        "http://127.0.0.1:8765/", transport=httpx.MockTransport(shopify)
    )
    tokens = TokenProvider(ClientCredentialsGrant(CREDENTIALS, http), InMemoryShopTokenStore())
    client = AdminClient(tokens, http, api_version="2026-07", sleep=clock.sleep, clock=clock)

    client.execute(SHOP, "shop_credentials")

    urls = [str(r.url) for r in shopify.requests]
    assert urls == [
        "http://127.0.0.1:8765/admin/oauth/access_token",
        "http://127.0.0.1:8765/admin/api/2026-07/graphql.json",
    ]
    assert {r.headers["X-Shopify-Shop-Domain"] for r in shopify.requests} == {SHOP}
    assert {r.headers["Host"] for r in shopify.requests} == {SHOP}


def test_revoked_renewable_token_is_renewed_once(client: AdminClient, shopify: FakeShopify) -> None:
    client.execute(SHOP, "shop_credentials")
    shopify.valid_tokens.clear()  # Shopify revoked the token early

    assert client.execute(SHOP, "shop_credentials")["shop"]["name"] == "Demo"
    assert [r["grant_type"] for r in shopify.token_requests] == ["client_credentials"] * 2


def test_token_refused_twice_is_an_auth_error(client: AdminClient, shopify: FakeShopify) -> None:
    client.execute(SHOP, "shop_credentials")
    shopify.valid_tokens.clear()
    shopify.scopes = []  # and every new token is refused too
    original = shopify._token

    def refused_token(body: dict) -> httpx.Response:  # type: ignore[type-arg]
        answer = original(body)
        shopify.valid_tokens.clear()
        return answer

    shopify._token = refused_token  # type: ignore[method-assign]
    with pytest.raises(ShopifyAuthError, match="401"):
        client.execute(SHOP, "shop_credentials")
    assert len(shopify.token_requests) == 2


def test_a_mutation_is_resent_after_throttling_but_not_after_an_ambiguous_failure(
    client: AdminClient, shopify: FakeShopify
) -> None:
    variables = {"id": "gid://shopify/Order/1", "tags": ["x"]}
    shopify.add_order(FakeOrder(1, [], []))
    shopify.fail_with_status = [429]
    client.mutate(SHOP, "tags_add", variables, "tagsAdd")
    assert client.retries == 1

    shopify.fail_with_status = [503]
    with pytest.raises(ShopifyUnavailable):
        client.mutate(SHOP, "tags_add", variables, "tagsAdd")
    assert client.retries == 1
