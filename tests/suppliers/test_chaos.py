"""A small chaos run per supplier: random 5xx, 429, timeouts-after-acting and latency, every
submission retried the way the job queue does, and still no order is doubled."""

from __future__ import annotations

import pytest

from integrator.sandbox.suppliers import SANDBOXES
from integrator.suppliers.errors import RetryableSupplierError
from integrator.suppliers.http import reset_process_limits
from tests.suppliers.conftest import make_harness

ORDERS = 12
MAX_ATTEMPTS = 25


@pytest.mark.parametrize("key", sorted(SANDBOXES))
def test_no_order_doubled_under_random_faults(key: str) -> None:
    harness = make_harness(key)
    harness.adapter.breaker.threshold = 10_000  # the breaker is tested elsewhere
    faults = harness.sandbox.faults
    faults.error_rate, faults.rate_limit_rate, faults.timeout_rate = 0.2, 0.1, 0.04
    faults.latency_seconds = 0.001
    harness.sandbox.rng.seed(7)
    refs = []

    for number in range(ORDERS):
        request = harness.request(f"10{number:02d}")
        refs.append(request.external_ref)
        for _ in range(MAX_ATTEMPTS):
            try:
                harness.adapter.submit(request)
                break
            except RetryableSupplierError:
                # the queue's backoff: by the next attempt the supplier has finished, and a
                # 429's Retry-After (which holds our limiter) has passed
                harness.sandbox.wait_idle()
                reset_process_limits()
        else:
            pytest.fail(f"{request.external_ref} never went through")

    assert [harness.sandbox.created_count(ref) for ref in refs] == [1] * ORDERS
    assert len(harness.sandbox.orders) == ORDERS
