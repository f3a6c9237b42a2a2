"""Short versions of the chaos runs in bench/chaos/: small N, seconds each, same assertions."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bench.chaos.supplier_outage import reset_breakers


@pytest.fixture(autouse=True)
def closed_breakers() -> Iterator[None]:
    """Supplier circuit breakers are process-wide: no test inherits another's open breaker."""
    reset_breakers()
    yield
    reset_breakers()
