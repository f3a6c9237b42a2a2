"""Adapter classes by the ``adapter`` key used in config/routing.yaml."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests
from limits.storage import Storage

from integrator.suppliers.base import SupplierAdapter
from integrator.suppliers.gelato import GelatoAdapter
from integrator.suppliers.http import CircuitBreaker, RateLimiter
from integrator.suppliers.printful import PrintfulAdapter
from integrator.suppliers.printify import PrintifyAdapter
from integrator.suppliers.prodigi import ProdigiAdapter

ADAPTERS: dict[str, type[SupplierAdapter]] = {
    "printful": PrintfulAdapter,
    "printify": PrintifyAdapter,
    "gelato": GelatoAdapter,
    "prodigi": ProdigiAdapter,
}


class UnknownAdapter(KeyError):
    pass


def build_adapter(
    name: str,
    adapter: str,
    base_url: str | None,
    options: Mapping[str, Any],
    session: requests.Session | None = None,
    *,
    breaker: CircuitBreaker | None = None,
    limiter: RateLimiter | None = None,
    limits_storage: Storage | None = None,
    get_wait_seconds: float = 0.2,
) -> SupplierAdapter:
    """One adapter for one configured supplier (``name`` is the config name, ``adapter`` the
    kind). Breaker and limiter default to the ones for ``name`` kept in ``limits_storage``
    (shared by every process; default: this process's memory)."""
    try:
        cls = ADAPTERS[adapter]
    except KeyError:
        raise UnknownAdapter(
            f"unknown supplier adapter {adapter!r}; known: {sorted(ADAPTERS)}"
        ) from None
    return cls(
        name,
        options,
        base_url=base_url,
        session=session,
        breaker=breaker,
        limiter=limiter,
        limits_storage=limits_storage,
        get_wait_seconds=get_wait_seconds,
    )
