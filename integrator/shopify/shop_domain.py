"""Shop domains: the only shop names the integrator accepts."""

from __future__ import annotations

import re

from integrator.shopify.errors import InvalidShopDomain

# Anchored, as Shopify's security checks require:
# https://shopify.dev/docs/apps/build/security/app-security-checks/weak-shop-validation
SHOP_DOMAIN = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9-]*\.myshopify\.com$")
SUFFIX = ".myshopify.com"


def validate_shop_domain(shop: str) -> str:
    """Return ``shop`` lower-cased if it is ``name.myshopify.com``.

    :raises InvalidShopDomain: for anything else (URLs, paths, other hosts).
    """
    if not SHOP_DOMAIN.fullmatch(shop):
        raise InvalidShopDomain(f"{shop!r} is not a shop domain like name.myshopify.com")
    return shop.lower()


def shop_handle(shop: str) -> str:
    """Return the ``name`` part of ``name.myshopify.com``; shopify_app takes this form."""
    return validate_shop_domain(shop)[: -len(SUFFIX)]


def shop_domain_of(handle: str) -> str:
    """Return ``name.myshopify.com`` for the ``name`` that shopify_app hands back."""
    return validate_shop_domain(handle if handle.endswith(SUFFIX) else handle + SUFFIX)
