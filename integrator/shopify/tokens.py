"""Shop access tokens: encrypted at rest, obtained and refreshed through ``shopify_app``.

Three ways a shop gets a token (``TokenProvider`` hides which one is in use):

* single store (``SHOPIFY_SHOP`` + client id/secret): the client-credentials grant, ~24 h
  tokens with no refresh token, fetched again before they expire;
* multi-shop (public app, managed install): the App Bridge ID token from the app-home request
  is exchanged for an *expiring offline* token (60 min) that is refreshed with its refresh
  token before it expires;
* a static admin token (older custom apps): used as is, never refreshed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import httpx
from cryptography.fernet import Fernet, MultiFernet
from shopify_app import IdTokenDetails, ShopifyApp

from integrator.shopify.errors import TokenUnavailable
from integrator.shopify.shop_domain import shop_domain_of, shop_handle, validate_shop_domain

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


# --- encryption at rest ---------------------------------------------------------------------


class TokenCipher:
    """Fernet encryption for tokens at rest; several keys, newest first, so keys can rotate."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ValueError("ENCRYPTION_KEY holds no key")
        self._fernet = MultiFernet([Fernet(key.encode()) for key in keys])

    @classmethod
    def from_env_value(cls, value: str) -> TokenCipher:
        """Build from ``ENCRYPTION_KEY``: comma separated, newest first."""
        return cls([key.strip() for key in value.split(",") if key.strip()])

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        """:raises cryptography.fernet.InvalidToken: when no configured key opens it."""
        return self._fernet.decrypt(ciphertext.encode()).decode()

    def rotate(self, ciphertext: str) -> str:
        """Re-encrypt with the newest key (any configured key may have encrypted it)."""
        return self._fernet.rotate(ciphertext.encode()).decode()

    def seal(self, token: ShopToken) -> SealedShopToken:
        """Return ``token`` as the encrypted columns of the ``shops`` table."""
        return SealedShopToken(
            access_token_encrypted=self.encrypt(token.access_token),
            refresh_token_encrypted=self.encrypt(token.refresh_token)
            if token.refresh_token
            else None,
            token_expires_at=token.expires_at,
            refresh_token_expires_at=token.refresh_expires_at,
            scopes=token.scopes,
        )

    def unseal(self, sealed: SealedShopToken) -> ShopToken:
        refresh = sealed.refresh_token_encrypted
        return ShopToken(
            access_token=self.decrypt(sealed.access_token_encrypted),
            expires_at=sealed.token_expires_at,
            refresh_token=self.decrypt(refresh) if refresh else None,
            refresh_expires_at=sealed.refresh_token_expires_at,
            scopes=sealed.scopes,
        )


# --- tokens and where they are kept ---------------------------------------------------------


@dataclass(frozen=True)
class ShopToken:
    access_token: str
    expires_at: datetime | None = None  # None: does not expire (static admin token)
    refresh_token: str | None = None
    refresh_expires_at: datetime | None = None
    scopes: str = ""

    def is_fresh(self, now: datetime, margin: timedelta) -> bool:
        """Say whether the token can still be used for ``margin`` from ``now``."""
        return self.expires_at is None or self.expires_at - margin > now


@dataclass(frozen=True)
class SealedShopToken:
    """A ShopToken as stored: the same names as the ``shops`` table columns."""

    access_token_encrypted: str
    refresh_token_encrypted: str | None
    token_expires_at: datetime | None
    refresh_token_expires_at: datetime | None
    scopes: str


class ShopTokenStore(Protocol):
    """Where tokens live between processes (the ``shops`` table in production)."""

    def load(self, shop: str) -> ShopToken | None: ...

    def save(
        self, shop: str, token: ShopToken, *, revive_if_uninstalled_before: datetime | None = None
    ) -> None:
        """Store the shop's token. A shop that uninstalled the app stays uninstalled (and gets
        no token) unless it uninstalled before ``revive_if_uninstalled_before``: a grant that
        began after the uninstall proves the app was installed again."""
        ...


class InMemoryShopTokenStore:
    """A ShopTokenStore for tests and the demo; keeps tokens sealed, as the database does."""

    def __init__(self, cipher: TokenCipher | None = None) -> None:
        self._cipher = cipher or TokenCipher([Fernet.generate_key().decode()])
        self.sealed: dict[str, SealedShopToken] = {}
        self.saves = 0

    def load(self, shop: str) -> ShopToken | None:
        sealed = self.sealed.get(shop)
        return self._cipher.unseal(sealed) if sealed else None

    def save(
        self, shop: str, token: ShopToken, *, revive_if_uninstalled_before: datetime | None = None
    ) -> None:
        self.sealed[shop] = self._cipher.seal(token)
        self.saves += 1


# --- how a token is obtained ----------------------------------------------------------------


@dataclass(frozen=True)
class ShopifyCredentials:
    client_id: str
    client_secret: str
    old_client_secret: str = ""

    def app(self) -> ShopifyApp:
        return ShopifyApp(
            client_id=self.client_id,
            client_secret=self.client_secret,
            old_client_secret=self.old_client_secret or None,
        )


def _parse_expiry(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _iso(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value else ""


def _from_package_token(token: Any) -> ShopToken:
    """Convert shopify_app's access-token dataclass (either grant) to a ShopToken."""
    return ShopToken(
        access_token=token.token,
        expires_at=_parse_expiry(token.expires),
        refresh_token=getattr(token, "refresh_token", None) or None,
        refresh_expires_at=_parse_expiry(getattr(token, "refresh_token_expires", None)),
        scopes=token.scope or "",
    )


class TokenSource(Protocol):
    """One way of getting a new token for a shop when the stored one is missing or stale."""

    def renew(self, shop: str, current: ShopToken | None) -> ShopToken: ...


class ClientCredentialsGrant:
    """Single-store mode: ask for a fresh token with the app's own client id and secret."""

    def __init__(self, credentials: ShopifyCredentials, http: httpx.Client) -> None:
        self._app = credentials.app()
        self._http = http

    def renew(self, shop: str, current: ShopToken | None) -> ShopToken:
        result = self._app.exchange_using_client_credentials(
            shop_handle(shop), http_client=self._http
        )
        if not result.ok or result.access_token is None:
            raise TokenUnavailable(f"{shop}: client credentials grant failed ({result.log.code})")
        return _from_package_token(result.access_token)


class ExpiringOfflineTokens:
    """Multi-shop mode: tokens come from token exchange and are renewed with the refresh token."""

    def __init__(self, credentials: ShopifyCredentials, http: httpx.Client) -> None:
        self._app = credentials.app()
        self._http = http

    def exchange(self, id_token: IdTokenDetails | dict[str, Any]) -> tuple[str, ShopToken]:
        """Exchange a verified App Bridge ID token (``result.id_token``) for an offline token."""
        result = self._app.exchange_using_token_exchange(
            "offline", id_token=id_token, expiring=True, http_client=self._http
        )
        if not result.ok or result.access_token is None or not result.shop:
            raise TokenUnavailable(f"token exchange failed ({result.log.code})")
        return shop_domain_of(result.shop), _from_package_token(result.access_token)

    def renew(self, shop: str, current: ShopToken | None) -> ShopToken:
        if current is None or not current.refresh_token:
            raise TokenUnavailable(f"{shop}: no token yet; open the app in the Shopify admin")
        # The provider has already decided (with its own, larger margin) that a refresh is due,
        # so "expires" is left empty: shopify_app would otherwise skip the refresh while more
        # than its fixed 60 s remain.
        stored = {
            "shop": shop_handle(shop),
            "access_mode": "offline",
            "refresh_token": current.refresh_token,
            "expires": "",
            "refresh_token_expires": _iso(current.refresh_expires_at),
            "user": None,
        }
        result = self._app.refresh_token_exchanged_access_token(stored, http_client=self._http)
        if not result.ok or result.access_token is None:
            raise TokenUnavailable(f"{shop}: token refresh failed ({result.log.code})")
        return _from_package_token(result.access_token)


class StaticAdminToken:
    """Older custom apps: one admin API token that never expires."""

    def __init__(self, access_token: str) -> None:
        self._token = ShopToken(access_token=access_token)

    def renew(self, shop: str, current: ShopToken | None) -> ShopToken:
        return self._token


# --- the provider ---------------------------------------------------------------------------


class TokenProvider:
    """Hand out a usable access token per shop, renewing it ``refresh_margin`` before expiry.

    Renewal is serialised per shop: Shopify replaces the refresh token on every use, so two
    threads refreshing at once would race each other.
    """

    def __init__(
        self,
        source: TokenSource,
        store: ShopTokenStore,
        *,
        refresh_margin: timedelta = timedelta(minutes=5),
        clock: Clock = utc_now,
    ) -> None:
        self.source = source
        self._store = store
        self._margin = refresh_margin
        self._clock = clock
        self._cache: dict[str, ShopToken] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self.renewals = 0

    @property
    def store(self) -> ShopTokenStore:
        return self._store

    def access_token(self, shop: str) -> str:
        """Return a token for ``shop`` valid for at least the refresh margin.

        :raises TokenUnavailable: when none can be obtained (not installed, grant refused).
        """
        shop = validate_shop_domain(shop)
        cached = self._cache.get(shop)
        if cached is not None and cached.is_fresh(self._clock(), self._margin):
            return cached.access_token
        with self._lock_for(shop):
            return self._load_or_renew(shop).access_token

    def forget(self, shop: str) -> bool:
        """Mark the shop's token as spent after Shopify refused it; say if it can be renewed.

        A static admin token cannot be renewed, so it is left as it is (False).
        """
        shop = validate_shop_domain(shop)
        with self._lock_for(shop):
            token = self._cache.pop(shop, None) or self._store.load(shop)
            if token is None or token.expires_at is None:
                return False
            # never revives the shop: a 401 after app/uninstalled is the uninstall, not news
            self._store.save(shop, replace(token, expires_at=self._clock()))
            return True

    def drop(self, shop: str) -> None:
        """Forget the cached token (app/uninstalled: the store's row is deleted by the caller)."""
        shop = validate_shop_domain(shop)
        with self._lock_for(shop):
            self._cache.pop(shop, None)

    def install(self, shop: str, token: ShopToken) -> None:
        """Store a token obtained elsewhere (token exchange from the app-home request)."""
        shop = validate_shop_domain(shop)
        with self._lock_for(shop):
            # Shopify just opened the app for this shop: installed, whatever came before
            self._store.save(
                shop, token, revive_if_uninstalled_before=datetime.max.replace(tzinfo=UTC)
            )
            self._cache[shop] = token

    def _load_or_renew(self, shop: str) -> ShopToken:
        now = self._clock()
        # another thread or process may have renewed it while we waited
        stored = self._store.load(shop)
        if stored is not None and stored.is_fresh(now, self._margin):
            self._cache[shop] = stored
            return stored
        token = self.source.renew(shop, stored)
        self.renewals += 1
        if token.expires_at is not None or stored != token:
            # a grant asked for after an uninstall means the app is installed again; one asked
            # for before it (a race with app/uninstalled) must not bring the shop back
            self._store.save(shop, token, revive_if_uninstalled_before=now)
        self._cache[shop] = token
        return token

    def _lock_for(self, shop: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(shop, threading.Lock())
