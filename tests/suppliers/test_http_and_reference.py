"""The shared HTTP client's limiter, breaker and error mapping, and our external reference."""

from __future__ import annotations

import string

import pytest
import requests
import responses
from hypothesis import given
from hypothesis import strategies as st

from integrator.sandbox.suppliers.printful import PrintfulSandbox
from integrator.sandbox.suppliers.transport import serve
from integrator.suppliers.errors import (
    RetryableSupplierError,
    SupplierAuthError,
    SupplierRejected,
)
from integrator.suppliers.http import (
    CircuitBreaker,
    RateLimiter,
    SupplierHttp,
    parse_retry_after,
)
from integrator.suppliers.printful import PrintfulAdapter
from integrator.suppliers.reference import SAFE_CHARACTERS, external_reference
from integrator.suppliers.registry import UnknownAdapter, build_adapter


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_rate_limiter_waits_briefly_then_says_retry_later() -> None:
    clock = FakeClock()
    slept: list[float] = []
    # many callers at the same instant: sleeping does not move this clock
    limiter = RateLimiter(120, clock=clock, sleep=slept.append, max_wait=1.0)
    for _ in range(120):
        limiter.acquire()
    assert slept == []

    limiter.acquire()  # 121st call within the minute waits half a second
    limiter.acquire()  # 122nd a whole second, still within max_wait
    assert slept == [pytest.approx(0.5), pytest.approx(1.0)]
    with pytest.raises(RetryableSupplierError) as caught:
        limiter.acquire()
    assert caught.value.retry_after is not None and caught.value.retry_after > 1.0


def test_breaker_opens_for_its_period_and_closes_on_success() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(threshold=3, open_seconds=30, clock=clock)
    for _ in range(3):
        breaker.record_failure()
    assert breaker.is_open()

    clock.now += 31
    assert not breaker.is_open()
    breaker.record_success()
    breaker.record_failure()
    assert not breaker.is_open()


@pytest.mark.parametrize(("value", "seconds"), [("7", 7.0), ("0", 0.0), (None, None),
                                                ("soon", None)])
def test_retry_after_header(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value) == seconds


def test_retry_after_as_http_date_is_in_the_future() -> None:
    delay = parse_retry_after("Wed, 21 Oct 2099 07:28:00 GMT")
    assert delay is not None and delay > 0


def http(session: requests.Session) -> SupplierHttp:
    return SupplierHttp("x", "https://api.example.test", session=session, headers={},
                         describe_error=lambda status, body: (str(status), str(body)),
                         is_reroutable=lambda error: "stock" in error.reason,
                         timeout_seconds=1, get_wait_seconds=0)


@responses.activate
def test_status_codes_become_named_errors() -> None:
    client = http(requests.Session())
    for status, error in [(500, RetryableSupplierError), (429, RetryableSupplierError),
                          (401, SupplierAuthError), (403, SupplierAuthError),
                          (409, SupplierRejected)]:
        responses.add(responses.POST, f"https://api.example.test/{status}", status=status,
                      json={"message": "out of stock"}, headers={"Retry-After": "3"})
        with pytest.raises(error) as caught:
            client.request("POST", f"/{status}")
        if status == 429:
            assert isinstance(caught.value, RetryableSupplierError)
            assert caught.value.retry_after == 3.0
        if status == 409:
            assert isinstance(caught.value, SupplierRejected)
            assert caught.value.reroutable is True


@responses.activate
def test_connection_errors_are_retryable() -> None:
    responses.add(responses.GET, "https://api.example.test/x",
                  body=requests.ConnectionError("refused"))
    with pytest.raises(RetryableSupplierError):
        http(requests.Session()).get("/x")
    assert len(responses.calls) == 3  # a short, bounded retry for idempotent reads


def test_unknown_adapter_is_named() -> None:
    with pytest.raises(UnknownAdapter, match="teespring"):
        build_adapter("t", "teespring", None, {})


def test_sandbox_served_over_tcp_on_localhost() -> None:
    sandbox = PrintfulSandbox(api_key="k")
    base_url, stop = serve(sandbox)
    try:
        adapter = PrintfulAdapter("printful-tcp", {"api_key": "k", "timeout_seconds": 5},
                                  base_url=base_url, breaker=CircuitBreaker())
        assert base_url.startswith("http://127.0.0.1:")
        assert adapter.check_credentials().ok
    finally:
        adapter.http.session.close()
        stop()


# --- external reference --------------------------------------------------------------------


def test_reference_is_deterministic_readable_and_distinct() -> None:
    ref = external_reference("shop.myshopify.com", "820982911946154508", "printful")

    assert ref == external_reference("shop.myshopify.com", "820982911946154508", "printful")
    assert ref.startswith("820982911946154508-")
    assert ref != external_reference("shop.myshopify.com", "820982911946154508", "gelato")
    assert ref != external_reference("other.myshopify.com", "820982911946154508", "printful")


@given(
    shop=st.text(min_size=1, max_size=60),
    order_id=st.text(min_size=1, max_size=80),
    supplier=st.sampled_from(["printful", "printify", "gelato", "prodigi"]),
    max_length=st.integers(min_value=12, max_value=64),
    allowed=st.sampled_from([SAFE_CHARACTERS, string.ascii_letters + string.digits,
                             string.digits + "abcdef_"]),
)
def test_reference_always_fits_the_supplier_limits(
    shop: str, order_id: str, supplier: str, max_length: int, allowed: str
) -> None:
    ref = external_reference(shop, order_id, supplier, max_length, allowed)

    assert 0 < len(ref) <= max_length
    assert set(ref) <= set(allowed)
