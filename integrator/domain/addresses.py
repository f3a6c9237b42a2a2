"""Shopify's two address shapes (REST webhook, GraphQL) read into one Address. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from integrator.domain.model import Address

# Address field → (REST key, GraphQL keys in order of preference)
_KEYS: dict[str, tuple[str, tuple[str, ...]]] = {
    "company": ("company", ("company",)),
    "address1": ("address1", ("address1",)),
    "address2": ("address2", ("address2",)),
    "city": ("city", ("city",)),
    "province_code": ("province_code", ("provinceCode",)),
    "zip": ("zip", ("zip",)),
    "country_code": ("country_code", ("countryCodeV2", "countryCode")),
    "phone": ("phone", ("phone",)),
}


def _first(node: Mapping[str, Any], keys: tuple[str, ...]) -> str:
    return next((str(node[key]) for key in keys if node.get(key)), "")


def _read(node: Any, graphql: bool, email: str) -> Address | None:
    if not isinstance(node, Mapping) or not node:
        return None
    first, last = ("firstName", "lastName") if graphql else ("first_name", "last_name")
    name = node.get("name") or " ".join(str(p) for p in (node.get(first), node.get(last)) if p)
    fields = {
        field: _first(node, graphql_keys if graphql else (rest_key,))
        for field, (rest_key, graphql_keys) in _KEYS.items()
    }
    fields["country_code"] = fields["country_code"].upper()
    return Address(name=str(name or ""), email=email, **fields)


def address_from_rest(node: Any, email: str = "") -> Address | None:
    """An address of a webhook body (``shipping_address``), or None when there is none."""
    return _read(node, graphql=False, email=email)


def address_from_graphql(node: Any, email: str = "") -> Address | None:
    """A ``MailingAddress`` of the Admin GraphQL API, or None when there is none."""
    return _read(node, graphql=True, email=email)
