from __future__ import annotations

from collections.abc import Iterator

import pytest

from integrator.sandbox.stack import Stack, StackOptions

MODES = ("merchant-managed", "fulfillment-service")


@pytest.fixture(params=MODES)
def stack(database_url: str, request: pytest.FixtureRequest) -> Iterator[Stack]:
    """The whole product in each fulfillment mode (docs/adr/0002): the same tests pass both."""
    running = Stack(StackOptions(database_url=database_url, migrate=False, mode=request.param))
    yield running
    running.close()
