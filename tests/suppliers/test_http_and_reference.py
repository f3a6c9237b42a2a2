"""The shared HTTP client's limiter, breaker and error mapping, and our external reference."""

from __future__ import annotations

import string
import time

import pytest
import requests
import responses
from hypothesis import given
from hypothesis import strategies as st
from limits import parse

from integrator.db.rate_limits import process_storage
from integrator.sandbox.suppliers.base import PublishedRateLimit
from integrator.sandbox.suppliers.printful import PrintfulSandbox
from integrator.sandbox.suppliers.transport import in_process_session, serve
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


def test_rate_limiter_waits_briefly_then_says_retry_later() -> None:
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        time.sleep(seconds)

    per_second = RateLimiter(
        0, storage=process_storage(), key="printful", sleep=sleep, window=parse("3/second")
    )
    for _ in range(3):
        per_second.acquire()
    assert slept == []
    per_second.acquire()  # the 4th call in the same second waits for the first to leave
    assert len(slept) == 1 and 0 < slept[0] <= 1.0

    per_minute = RateLimiter(120, storage=process_storage(), key="printful", sleep=sleep)
    for _ in range(120):
        per_minute.acquire()
    with pytest.raises(RetryableSupplierError) as caught:
        per_minute.acquire()  # the 121st would wait most of a minute: "retry later" instead
    assert caught.value.retry_after is not None and caught.value.retry_after > 50
    assert len(slept) == 1


def test_limiters_sharing_a_store_share_the_supplier_limit() -> None:
    """Two processes' limiters for one supplier: together never more than its limit."""
    store = process_storage()
    first, second = (
        RateLimiter(120, storage=store, key="printful", sleep=lambda _: None) for _ in range(2)
    )
    allowed = 0
    for limiter in (first, second) * 100:
        try:
            limiter.acquire()
            allowed += 1
        except RetryableSupplierError:
            pass
    assert allowed == 120
    other = RateLimiter(600, storage=store, key="printify", sleep=lambda _: None)
    other.acquire()  # another supplier's count is its own


def test_breaker_opened_by_one_process_is_open_in_all() -> None:
    store = process_storage()
    here, there = (
        CircuitBreaker(threshold=3, open_seconds=30, storage=store, key="gelato") for _ in range(2)
    )
    here.record_failure()
    there.record_failure()
    assert not here.is_open()
    here.record_failure()
    assert here.is_open() and there.is_open()
    assert 0 < there.seconds_left() <= 30

    there.record_success()
    assert not here.is_open()
    here.record_failure()
    assert not there.is_open()  # a success forgot the earlier failures


def test_breaker_of_another_supplier_or_store_stays_closed() -> None:
    store = process_storage()
    gelato = CircuitBreaker(threshold=1, storage=store, key="gelato")
    gelato.record_failure()
    assert gelato.is_open()
    assert not CircuitBreaker(threshold=1, storage=store, key="prodigi").is_open()
    assert not CircuitBreaker(threshold=1, storage=process_storage(), key="gelato").is_open()


@pytest.mark.parametrize(
    ("value", "seconds"), [("7", 7.0), ("0", 0.0), (None, None), ("soon", None)]
)
def test_retry_after_header(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value) == seconds


def test_retry_after_as_http_date_is_in_the_future() -> None:
    delay = parse_retry_after("Wed, 21 Oct 2099 07:28:00 GMT")
    assert delay is not None and delay > 0


def http(session: requests.Session) -> SupplierHttp:
    return SupplierHttp(
        "x",
        "https://api.example.test",
        session=session,
        headers={},
        describe_error=lambda status, body: (str(status), str(body)),
        is_reroutable=lambda error: "stock" in error.reason,
        timeout_seconds=1,
        get_wait_seconds=0,
    )


@responses.activate
def test_status_codes_become_named_errors() -> None:
    for status, error in [
        (500, RetryableSupplierError),
        (429, RetryableSupplierError),
        (401, SupplierAuthError),
        (403, SupplierAuthError),
        (409, SupplierRejected),
    ]:
        responses.add(
            responses.POST,
            f"https://api.example.test/{status}",
            status=status,
            json={"message": "out of stock"},
            headers={"Retry-After": "3"},
        )
        client = http(requests.Session())
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
    responses.add(
        responses.GET, "https://api.example.test/x", body=requests.ConnectionError("refused")
    )
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
        adapter = PrintfulAdapter(
            "printful-tcp",
            {"api_key": "k", "timeout_seconds": 5},
            base_url=base_url,
            breaker=CircuitBreaker(),
        )
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
    allowed=st.sampled_from(
        [SAFE_CHARACTERS, string.ascii_letters + string.digits, string.digits + "abcdef_"]
    ),
)
def test_reference_always_fits_the_supplier_limits(
    shop: str, order_id: str, supplier: str, max_length: int, allowed: str
) -> None:
    ref = external_reference(shop, order_id, supplier, max_length, allowed)

    assert 0 < len(ref) <= max_length
    assert set(ref) <= set(allowed)


def test_a_429_holds_every_process_sharing_the_store_for_its_retry_after() -> None:
    """An account whose limit is lower than we were told: the supplier's 429 and Retry-After
    stop this process and every other one at once, without another call. The breaker stays
    closed: a 429 says "slower", not "down" (no work fails over to another supplier)."""
    store = process_storage()
    sandbox = PrintfulSandbox(api_key="k", rate_limit=PublishedRateLimit(calls=1, window=60))
    session = in_process_session({"http://printful.sandbox": sandbox})

    def process_adapter() -> PrintfulAdapter:
        return PrintfulAdapter(
            "printful",
            {"api_key": "k", "rate_limit_per_minute": 100},
            base_url="http://printful.sandbox",
            session=session,
            limits_storage=store,
        )

    here, there = process_adapter(), process_adapter()
    assert here.http.get("/store").status == 200
    with pytest.raises(RetryableSupplierError) as refused:
        here.http.get("/store")
    assert refused.value.status == 429
    assert refused.value.retry_after is not None and 55 <= refused.value.retry_after <= 60

    with pytest.raises(RetryableSupplierError, match="rate limit") as held:
        there.http.get("/store")
    assert held.value.retry_after is not None and 55 <= held.value.retry_after <= 60
    assert not here.breaker.is_open() and not there.breaker.is_open()
    assert sandbox.calls.summary()["refused"] == 1  # the second process never called
