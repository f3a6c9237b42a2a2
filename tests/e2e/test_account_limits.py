"""A stack whose supplier accounts allow more than the published limits (throughput benchmarks):
the sandboxes accept the raised limit and the integrator, told through its configuration, uses
it; by default both keep to the published limit."""

from __future__ import annotations

import pytest

from integrator.sandbox.stack import Stack, StackOptions
from integrator.suppliers.errors import RetryableSupplierError

CALLS = 130  # past Printful's published 120 a minute


def _call_printful(stack: Stack, calls: int) -> int:
    """GET /store through the integrator's own adapter until refused; the calls answered."""
    http = stack.container.adapter("printful", stack.options.shop).http
    for answered in range(calls):
        try:
            http.get("/store")
        except RetryableSupplierError:
            return answered
    return calls


def test_a_raised_account_limit_reaches_the_sandbox_and_the_integrator(database_url: str) -> None:
    stack = Stack(
        StackOptions(database_url=database_url, migrate=False, account_calls_per_minute=1000)
    )
    try:
        assert _call_printful(stack, CALLS) == CALLS
        summary = stack.suppliers["printful"].calls.summary()
        assert (summary["limit"], summary["answered"], summary["refused"]) == (1000, CALLS, 0)
        assert stack.config.suppliers["printful"].options["rate_limit_per_minute"] == 1000
    finally:
        stack.close()


def test_by_default_the_published_limit_holds(database_url: str) -> None:
    stack = Stack(StackOptions(database_url=database_url, migrate=False))
    try:
        assert _call_printful(stack, CALLS) == 120
        assert stack.suppliers["printful"].calls.summary()["limit"] == 120
        assert stack.config.suppliers["printful"].options.get("rate_limit_per_minute") is None
    finally:
        stack.close()


@pytest.mark.parametrize("written", ["", None])
def test_an_empty_rate_limit_means_the_published_one(written: str | None) -> None:
    from integrator.store_config.schema import PrintfulOptions

    options = PrintfulOptions(api_key="k", rate_limit_per_minute=written)
    assert options.rate_limit_per_minute is None
