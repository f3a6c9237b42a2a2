"""Token grants of POST /admin/oauth/access_token, and the access-token check on GraphQL."""

from __future__ import annotations

from typing import Any

import httpx
from shopify_app.exchange import exchange_using_client_credentials

from integrator.sandbox.shopify import SandboxApp, SandboxShopify, Shop
from tests.sandbox_shopify.conftest import API, SHOP, Admin, FakeClock

TOKEN_URL = "/admin/oauth/access_token"
CREDENTIALS = {"client_id": "sandbox-client-id", "client_secret": "sandbox-client-secret"}
ID_TOKEN = "header.payload.signature"


def grant(http: httpx.Client, **body: Any) -> httpx.Response:
    return http.post(TOKEN_URL, json={**CREDENTIALS, **body})


def shop_name(admin: Admin, token: str) -> httpx.Response:
    return admin.post("{ shop { myshopifyDomain } }", token=token)


def test_client_credentials_token_works(admin: Admin, http: httpx.Client) -> None:
    answer = grant(http, grant_type="client_credentials").json()

    response = shop_name(admin, answer["access_token"])

    assert set(answer) == {"access_token", "scope", "expires_in"}
    assert response.status_code == 200
    assert response.json()["data"]["shop"]["myshopifyDomain"] == SHOP


def test_shopify_app_client_credentials_exchange_against_the_sandbox(
    admin: Admin, http: httpx.Client
) -> None:
    result = exchange_using_client_credentials(
        SHOP.removesuffix(".myshopify.com"),
        {"client_id": CREDENTIALS["client_id"], "client_secret": CREDENTIALS["client_secret"],
         "old_client_secret": None},
        http_client=http)

    assert result.ok
    assert shop_name(admin, result.access_token.token).status_code == 200


def test_bad_or_missing_token_is_unauthorized(admin: Admin) -> None:
    assert shop_name(admin, "shpat_forged").status_code == 401
    assert admin.http.post(API, json={"query": "{ shop { name } }"}).status_code == 401


def test_wrong_client_secret_is_refused(http: httpx.Client, shop: Shop) -> None:
    response = http.post(TOKEN_URL, json={**CREDENTIALS, "client_secret": "nope",
                                          "grant_type": "client_credentials"})

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_client"


def test_token_expires_with_the_clock(admin: Admin, http: httpx.Client, clock: FakeClock) -> None:
    token = grant(http, grant_type="client_credentials").json()["access_token"]

    clock.advance(86400)

    assert shop_name(admin, token).status_code == 401


def test_token_of_another_shop_is_unauthorized(sandbox: SandboxShopify, admin: Admin) -> None:
    sandbox.create_shop("other.myshopify.com", access_token="shpat_other")

    assert shop_name(admin, "shpat_other").status_code == 401


def test_token_exchange_gives_an_expiring_offline_token_that_refreshes(
    admin: Admin, http: httpx.Client, clock: FakeClock
) -> None:
    first = grant(http, grant_type="urn:ietf:params:oauth:grant-type:token-exchange",
                  subject_token=ID_TOKEN, expiring=1,
                  subject_token_type="urn:ietf:params:oauth:token-type:id_token",
                  requested_token_type="urn:shopify:params:oauth:token-type:offline-access-token"
                  ).json()
    clock.advance(first["expires_in"])
    refreshed = grant(http, grant_type="refresh_token", refresh_token=first["refresh_token"]).json()
    reused = grant(http, grant_type="refresh_token", refresh_token=refreshed["refresh_token"])
    replaced = grant(http, grant_type="refresh_token", refresh_token=first["refresh_token"])

    assert set(first) == {"access_token", "scope", "expires_in", "refresh_token",
                          "refresh_token_expires_in"}
    assert shop_name(admin, first["access_token"]).status_code == 401
    assert shop_name(admin, refreshed["access_token"]).status_code == 200
    assert reused.status_code == 200
    assert replaced.json()["error"] == "invalid_grant"


def test_token_exchange_without_a_jwt_is_refused(http: httpx.Client, shop: Shop) -> None:
    response = grant(http, grant_type="urn:ietf:params:oauth:grant-type:token-exchange",
                     subject_token="not-a-jwt")

    assert response.status_code == 400


def test_on_loopback_the_proxy_header_names_the_shop(sandbox: SandboxShopify,
                                                     shop: Shop) -> None:
    sandbox.create_shop("second.myshopify.com", client_id="other-client")
    transport = httpx.WSGITransport(app=SandboxApp(sandbox))
    with httpx.Client(transport=transport, base_url="http://127.0.0.1:9") as loopback:
        response = loopback.post(TOKEN_URL, json={**CREDENTIALS, "grant_type": "client_credentials"},
                                 headers={"X-Shopify-Shop-Domain": SHOP})

    assert response.status_code == 200
    issued = sandbox.tokens.grant_for(response.json()["access_token"])
    assert issued is not None
    assert issued.shop == SHOP


def test_uninstall_revokes_every_token(sandbox: SandboxShopify, admin: Admin,
                                       http: httpx.Client) -> None:
    issued = grant(http, grant_type="client_credentials").json()["access_token"]

    sandbox.uninstall(SHOP)

    assert shop_name(admin, issued).status_code == 401
    assert shop_name(admin, admin.token).status_code == 401


def test_missing_scope_is_access_denied(sandbox: SandboxShopify, http: httpx.Client) -> None:
    sandbox.create_shop("readonly.myshopify.com", access_token="shpat_ro", scopes=("read_orders",))
    admin = Admin(http, token="shpat_ro")
    mutation = """mutation { fulfillmentCreate(fulfillment: {lineItemsByFulfillmentOrder: [
                  {fulfillmentOrderId: "gid://shopify/FulfillmentOrder/1"}]}) { userErrors { message } } }"""

    readable = admin.http.post(API, json={"query": "{ orders(first: 1) { nodes { id } } }"},
                               headers={"X-Shopify-Access-Token": "shpat_ro",
                                        "Host": "readonly.myshopify.com"}).json()
    denied = admin.http.post(API, json={"query": mutation},
                             headers={"X-Shopify-Access-Token": "shpat_ro",
                                      "Host": "readonly.myshopify.com"}).json()

    assert "errors" not in readable
    assert denied["data"] == {"fulfillmentCreate": None}
    assert denied["errors"][0]["extensions"]["code"] == "ACCESS_DENIED"
