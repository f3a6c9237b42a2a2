from __future__ import annotations

from collections.abc import Iterator

import pytest

from integrator.sandbox.stack import Stack, StackOptions


@pytest.fixture
def stack(database_url: str) -> Iterator[Stack]:
    running = Stack(StackOptions(database_url=database_url, migrate=False))
    yield running
    running.close()
