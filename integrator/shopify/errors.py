"""Errors raised when talking to Shopify's Admin API.

ShopifyError
├── InvalidShopDomain        a shop name that is not ``name.myshopify.com``
├── ShopifyAuthError         401/403 or ACCESS_DENIED: the token is gone or lacks a scope
│   └── TokenUnavailable     no token could be obtained (not installed, grant refused)
├── ShopifyThrottledOut      still throttled after every retry
├── ShopifyUnavailable       429/5xx/network trouble that outlasted the retries
├── ShopifyQueryError        GraphQL errors that retrying cannot fix (a bug, or a missing object)
└── ShopifyUserErrors        a mutation answered with ``userErrors``
"""

from __future__ import annotations

from dataclasses import dataclass


class ShopifyError(Exception):
    """Base of every error this package raises."""


class InvalidShopDomain(ShopifyError, ValueError):
    """The shop is not a ``name.myshopify.com`` domain."""


class ShopifyAuthError(ShopifyError):
    """Shopify refused the token (401/403): re-authorise, do not retry blindly."""


class TokenUnavailable(ShopifyAuthError):
    """No access token could be obtained for the shop."""


class ShopifyThrottledOut(ShopifyError):
    """The shop's cost bucket stayed empty through every retry."""


class ShopifyUnavailable(ShopifyError):
    """Shopify answered 429/5xx or could not be reached, through every retry."""


class ShopifyQueryError(ShopifyError):
    """The query was answered with errors that a retry would not change."""

    def __init__(self, message: str, codes: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.codes = codes


@dataclass(frozen=True)
class UserError:
    field: tuple[str, ...]
    message: str


class ShopifyUserErrors(ShopifyError):
    """A mutation was refused with ``userErrors`` (field path and message each)."""

    def __init__(self, operation: str, errors: tuple[UserError, ...]) -> None:
        detail = "; ".join(f"{'.'.join(e.field) or '-'}: {e.message}" for e in errors)
        super().__init__(f"{operation}: {detail}")
        self.operation = operation
        self.errors = errors
