"""Tokens: encryption at rest with key rotation, the three grants, refresh before expiry."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from cryptography.fernet import Fernet, InvalidToken
from shopify_app import IdTokenDetails

from integrator.shopify.errors import InvalidShopDomain, TokenUnavailable
from integrator.shopify.shop_domain import validate_shop_domain
from integrator.shopify.tokens import (
    ClientCredentialsGrant,
    ExpiringOfflineTokens,
    InMemoryShopTokenStore,
    ShopToken,
    StaticAdminToken,
    TokenCipher,
    TokenProvider,
)
from tests.shopify.conftest import CREDENTIALS, SHOP
from tests.shopify.fake_shopify import FakeShopify


class WallClock:
    """Starts at the real time (shopify_app stamps expiries from it) and moves on demand."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def new_key() -> str:
    return Fernet.generate_key().decode()


# --- encryption -----------------------------------------------------------------------------


def test_cipher_round_trips_and_hides_the_token() -> None:
    cipher = TokenCipher([new_key()])
    sealed = cipher.encrypt("shpat_secret")
    assert "shpat_secret" not in sealed
    assert cipher.decrypt(sealed) == "shpat_secret"


def test_old_key_still_decrypts_and_rotate_moves_to_the_new_key() -> None:
    old, new = new_key(), new_key()
    sealed_with_old = TokenCipher([old]).encrypt("shpat_secret")
    both = TokenCipher.from_env_value(f"{new}, {old}")

    assert both.decrypt(sealed_with_old) == "shpat_secret"
    rotated = both.rotate(sealed_with_old)
    assert TokenCipher([new]).decrypt(rotated) == "shpat_secret"
    with pytest.raises(InvalidToken):
        TokenCipher([old]).decrypt(rotated)


def test_sealed_token_keeps_every_column() -> None:
    cipher = TokenCipher([new_key()])
    token = ShopToken(
        "shpat_a",
        datetime(2026, 1, 1, tzinfo=UTC),
        "shprt_b",
        datetime(2026, 3, 1, tzinfo=UTC),
        "x",
    )
    sealed = cipher.seal(token)
    assert sealed.refresh_token_encrypted and "shprt_b" not in sealed.refresh_token_encrypted
    assert cipher.unseal(sealed) == token


def test_no_key_is_refused() -> None:
    with pytest.raises(ValueError, match="ENCRYPTION_KEY"):
        TokenCipher.from_env_value(" , ")


# --- shop domains ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        "demo.myshopify.com.evil.com",
        "https://demo.myshopify.com",
        "-demo.myshopify.com",
        "demo.myshopify.com/admin",
        "demo.shopify.com",
        "",
    ],
)
def test_shop_domains_are_validated(bad: str) -> None:
    with pytest.raises(InvalidShopDomain):
        validate_shop_domain(bad)


def test_provider_refuses_a_bad_shop(http: httpx.Client) -> None:
    provider = TokenProvider(StaticAdminToken("shpat_x"), InMemoryShopTokenStore())
    with pytest.raises(InvalidShopDomain):
        provider.access_token("evil.com")


# --- client credentials ---------------------------------------------------------------------


def test_client_credentials_token_is_fetched_once_then_renewed_before_expiry(
    http: httpx.Client, shopify: FakeShopify
) -> None:
    clock = WallClock()
    store = InMemoryShopTokenStore()
    provider = TokenProvider(
        ClientCredentialsGrant(CREDENTIALS, http),
        store,
        refresh_margin=timedelta(minutes=5),
        clock=clock,
    )
    first = provider.access_token(SHOP)
    assert provider.access_token(SHOP) == first
    assert [r["grant_type"] for r in shopify.token_requests] == ["client_credentials"]
    assert "shpat" not in str(store.sealed[SHOP])  # encrypted at rest

    clock.now += timedelta(hours=23, minutes=56)  # inside the 5-minute margin of ~24 h
    second = provider.access_token(SHOP)
    assert second != first
    assert len(shopify.token_requests) == 2


def test_refused_client_credentials_raise_token_unavailable(http: httpx.Client) -> None:
    refusing = httpx.Client(
        transport=httpx.MockTransport(
            lambda r: httpx.Response(400, json={"error": "invalid_client"})
        )
    )
    provider = TokenProvider(
        ClientCredentialsGrant(CREDENTIALS, refusing), InMemoryShopTokenStore()
    )
    with pytest.raises(TokenUnavailable, match="invalid_client"):
        provider.access_token(SHOP)


# --- token exchange and refresh -------------------------------------------------------------


def id_token() -> IdTokenDetails:
    claims = {"dest": "https://demo.myshopify.com", "aud": "client-id", "sub": "1"}
    return IdTokenDetails(exchangeable=True, token="header.payload.sig", claims=claims)


def test_token_exchange_gets_an_expiring_offline_token(
    http: httpx.Client, shopify: FakeShopify
) -> None:
    shop, token = ExpiringOfflineTokens(CREDENTIALS, http).exchange(id_token())
    assert shop == SHOP
    assert token.refresh_token and token.expires_at and token.refresh_expires_at
    sent = shopify.token_requests[0]
    assert sent["grant_type"] == "urn:ietf:params:oauth:grant-type:token-exchange"
    assert sent["requested_token_type"].endswith("offline-access-token")
    assert sent["expiring"] == 1


def stored_token(clock: WallClock, minutes_left: int) -> ShopToken:
    return ShopToken(
        access_token="shpat_old",
        expires_at=clock.now + timedelta(minutes=minutes_left),
        refresh_token="shprt_old",
        refresh_expires_at=clock.now + timedelta(days=90),
        scopes="write_orders",
    )


def test_expiring_token_is_refreshed_before_it_expires(
    http: httpx.Client, shopify: FakeShopify
) -> None:
    clock = WallClock()
    provider = TokenProvider(
        ExpiringOfflineTokens(CREDENTIALS, http),
        InMemoryShopTokenStore(),
        refresh_margin=timedelta(minutes=5),
        clock=clock,
    )
    provider.install(SHOP, stored_token(clock, minutes_left=10))
    assert provider.access_token(SHOP) == "shpat_old"  # 10 minutes left: no refresh
    assert shopify.token_requests == []

    clock.now += timedelta(minutes=6)  # 4 minutes left, inside the margin
    refreshed = provider.access_token(SHOP)

    assert refreshed != "shpat_old"
    assert [r["grant_type"] for r in shopify.token_requests] == ["refresh_token"]
    assert shopify.token_requests[0]["refresh_token"] == "shprt_old"
    assert provider.access_token(SHOP) == refreshed
    assert provider.renewals == 1


def test_concurrent_callers_refresh_once(http: httpx.Client, shopify: FakeShopify) -> None:
    clock = WallClock()
    provider = TokenProvider(
        ExpiringOfflineTokens(CREDENTIALS, http), InMemoryShopTokenStore(), clock=clock
    )
    provider.install(SHOP, stored_token(clock, minutes_left=1))
    results: list[str] = []
    threads = [
        threading.Thread(target=lambda: results.append(provider.access_token(SHOP)))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(results) == 8 and len(set(results)) == 1
    assert [r["grant_type"] for r in shopify.token_requests] == ["refresh_token"]


def test_expired_refresh_token_is_unavailable(http: httpx.Client, shopify: FakeShopify) -> None:
    clock = WallClock()
    provider = TokenProvider(
        ExpiringOfflineTokens(CREDENTIALS, http), InMemoryShopTokenStore(), clock=clock
    )
    token = stored_token(clock, minutes_left=1)
    provider.install(
        SHOP,
        ShopToken(token.access_token, token.expires_at, "shprt_old", clock.now - timedelta(days=1)),
    )
    with pytest.raises(TokenUnavailable, match="refresh_token_expired"):
        provider.access_token(SHOP)
    assert shopify.token_requests == []


def test_no_stored_token_in_multi_shop_mode_is_unavailable(http: httpx.Client) -> None:
    provider = TokenProvider(ExpiringOfflineTokens(CREDENTIALS, http), InMemoryShopTokenStore())
    with pytest.raises(TokenUnavailable, match="open the app"):
        provider.access_token(SHOP)


def test_static_admin_token_is_used_as_is(shopify: FakeShopify) -> None:
    provider = TokenProvider(StaticAdminToken("shpat_static"), InMemoryShopTokenStore())
    assert provider.access_token(SHOP) == "shpat_static"
    assert provider.access_token(SHOP) == "shpat_static"
    assert shopify.token_requests == []


def test_dropped_token_is_read_again_from_the_store(http: httpx.Client) -> None:
    store = InMemoryShopTokenStore()
    provider = TokenProvider(StaticAdminToken("shpat_static"), store)
    assert provider.access_token(SHOP) == "shpat_static"
    store.sealed.clear()  # the uninstall handler deleted the row
    provider.drop(SHOP)
    provider.source = StaticAdminToken("shpat_new")
    assert provider.access_token(SHOP) == "shpat_new"
