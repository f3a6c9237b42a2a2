"""``POST /admin/oauth/access_token``: the grants the project uses, answered like Shopify.

Request and response shapes follow Shopify's own clients (``shopifyapp`` ``exchange/*``,
``shopify-app-js`` ``lib/auth/oauth/*``): client credentials → ``{access_token, scope,
expires_in}``; token exchange with ``expiring=1`` and the refresh-token grant → an expiring
offline token with ``refresh_token``, ``expires_in`` and ``refresh_token_expires_in``.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from integrator.sandbox.shopify.throttle import Clock

if TYPE_CHECKING:
    from integrator.sandbox.shopify.sandbox import SandboxShopify
    from integrator.sandbox.shopify.store import Shop

CLIENT_CREDENTIALS = "client_credentials"
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
REFRESH_TOKEN = "refresh_token"
TokenAnswer = tuple[int, dict[str, Any]]


@dataclass(frozen=True)
class Grant:
    shop: str
    scope: str
    expires_at: float | None


class TokenIssuer:
    """Access and refresh tokens the sandbox handed out, with their expiry."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._access: dict[str, Grant] = {}
        self._refresh: dict[str, Grant] = {}
        # Shopify keeps a replaced refresh token valid until its successor is first used.
        self._replaced_by: dict[str, str] = {}
        self._lock = threading.Lock()

    def add_static(self, shop: str, token: str, scope: str) -> None:
        with self._lock:
            self._access[token] = Grant(shop, scope, None)

    def issue(self, shop: str, scope: str, lifetime: int | None) -> str:
        token = f"shpat_{secrets.token_hex(16)}"
        expires_at = None if lifetime is None else self._clock() + lifetime
        with self._lock:
            self._access[token] = Grant(shop, scope, expires_at)
        return token

    def issue_refresh(self, shop: str, scope: str, lifetime: int, replaces: str = "") -> str:
        token = f"shprt_{secrets.token_hex(16)}"
        with self._lock:
            self._refresh[token] = Grant(shop, scope, self._clock() + lifetime)
            if replaces:
                self._replaced_by[replaces] = token
        return token

    def grant_for(self, token: str) -> Grant | None:
        """Return the live grant behind an access token, or None if unknown or expired."""
        with self._lock:
            return self._live(self._access.get(token))

    def use_refresh(self, token: str) -> Grant | None:
        """Spend a refresh token; its predecessor stops working now that it is used."""
        with self._lock:
            grant = self._live(self._refresh.get(token))
            if grant is None:
                return None
            for old, new in list(self._replaced_by.items()):
                if new == token:
                    self._refresh.pop(old, None)
                    del self._replaced_by[old]
            return grant

    def revoke_shop(self, shop: str) -> None:
        with self._lock:
            for store in (self._access, self._refresh):
                for token in [t for t, grant in store.items() if grant.shop == shop]:
                    del store[token]

    def _live(self, grant: Grant | None) -> Grant | None:
        if grant is None or (grant.expires_at is not None and grant.expires_at <= self._clock()):
            return None
        return grant


def answer_token_request(
    sandbox: SandboxShopify, shop_hints: Sequence[str], body: Mapping[str, Any]
) -> TokenAnswer:
    """Answer a token request with a JSON or form ``body``.

    ``shop_hints`` name the shop the request was for: its Host, and the
    ``X-Shopify-Shop-Domain`` a proxy (the project's ``SHOPIFY_ADMIN_URL`` transport) adds.
    """
    shop = _shop_for(sandbox, shop_hints, body)
    if shop is None:
        return 400, _error("invalid_request", "Unknown shop for this client.")
    if body.get("client_id") != shop.client_id or body.get("client_secret") != shop.client_secret:
        return 400, _error("invalid_client", "Client authentication failed.")
    grant_type = str(body.get("grant_type") or "")
    if grant_type == TOKEN_EXCHANGE:
        # opening the app in the admin installs it (Shopify-managed installation)
        shop.installed = True
    elif not shop.installed:
        return 400, _error("invalid_request", "The app is not installed on this shop.")
    if grant_type == CLIENT_CREDENTIALS:
        return _client_credentials(sandbox, shop)
    if grant_type == TOKEN_EXCHANGE:
        return _token_exchange(sandbox, shop, body)
    if grant_type == REFRESH_TOKEN:
        return _refresh(sandbox, shop, str(body.get("refresh_token") or ""))
    if not grant_type and body.get("code"):
        return _expiring_or_not(sandbox, shop, _is_expiring(body))
    return 400, _error("unsupported_grant_type", f"Grant type {grant_type!r} is not supported.")


def _shop_for(
    sandbox: SandboxShopify, shop_hints: Sequence[str], body: Mapping[str, Any]
) -> Shop | None:
    for hint in [*shop_hints, str(body.get("shop") or "")]:
        if hint in sandbox.shops:
            return sandbox.shops[hint]
    # On loopback the Host names no shop; a client id used by one shop only still does.
    same_client = [s for s in sandbox.shops.values() if s.client_id == body.get("client_id")]
    return same_client[0] if len(same_client) == 1 else None


def _client_credentials(sandbox: SandboxShopify, shop: Shop) -> TokenAnswer:
    lifetime = sandbox.config.client_credentials_lifetime
    scope = ",".join(shop.scopes)
    token = sandbox.tokens.issue(shop.domain, scope, lifetime)
    return 200, {"access_token": token, "scope": scope, "expires_in": lifetime}


def _token_exchange(sandbox: SandboxShopify, shop: Shop, body: Mapping[str, Any]) -> TokenAnswer:
    subject = str(body.get("subject_token") or "")
    if subject.count(".") != 2:
        return 400, _error("invalid_subject_token", "The session token is not a valid JWT.")
    return _expiring_or_not(sandbox, shop, _is_expiring(body))


def _is_expiring(body: Mapping[str, Any]) -> bool:
    return str(body.get("expiring", "0")) in ("1", "true", "True")


def _expiring_or_not(sandbox: SandboxShopify, shop: Shop, expiring: bool) -> TokenAnswer:
    scope = ",".join(shop.scopes)
    if not expiring:
        return 200, {"access_token": sandbox.tokens.issue(shop.domain, scope, None), "scope": scope}
    return 200, _expiring_answer(sandbox, shop, scope, replaces="")


def _expiring_answer(
    sandbox: SandboxShopify, shop: Shop, scope: str, replaces: str
) -> dict[str, Any]:
    config = sandbox.config
    return {
        "access_token": sandbox.tokens.issue(shop.domain, scope, config.expiring_token_lifetime),
        "scope": scope,
        "expires_in": config.expiring_token_lifetime,
        "refresh_token": sandbox.tokens.issue_refresh(
            shop.domain, scope, config.refresh_token_lifetime, replaces
        ),
        "refresh_token_expires_in": config.refresh_token_lifetime,
    }


def _refresh(sandbox: SandboxShopify, shop: Shop, refresh_token: str) -> TokenAnswer:
    grant = sandbox.tokens.use_refresh(refresh_token)
    if grant is None or grant.shop != shop.domain:
        return 400, _error("invalid_grant", "The refresh token is invalid or expired.")
    return 200, _expiring_answer(sandbox, shop, grant.scope, replaces=refresh_token)


def _error(code: str, description: str) -> dict[str, Any]:
    return {"error": code, "error_description": description}
