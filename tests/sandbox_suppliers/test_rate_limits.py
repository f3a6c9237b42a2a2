"""Sandbox suppliers refuse calls past their published rate limit with their real 429 answer."""

from __future__ import annotations

import requests

from integrator.sandbox.suppliers.base import PublishedRateLimit
from integrator.sandbox.suppliers.gelato import GelatoSandbox
from integrator.sandbox.suppliers.printful import PrintfulSandbox
from integrator.sandbox.suppliers.printify import PrintifySandbox
from integrator.sandbox.suppliers.transport import in_process_session

KEY = "sandbox-key"


def calls(sandbox: object, base: str, path: str, count: int) -> list[requests.Response]:
    session = in_process_session({base: sandbox})
    headers = {"Authorization": f"Bearer {KEY}", "X-API-KEY": KEY}
    return [session.get(f"{base}{path}", headers=headers, timeout=5) for _ in range(count)]


def test_printful_answers_120_calls_a_minute_then_429_with_retry_after() -> None:
    sandbox = PrintfulSandbox(api_key=KEY)
    answers = calls(sandbox, "http://printful.sandbox", "/store", 122)

    assert [a.status_code for a in answers[:120]] == [200] * 120
    first, last_allowed, refused = answers[0], answers[119], answers[120]
    assert first.headers["X-Ratelimit-Policy"] == "120;w=60;"
    assert first.headers["X-Ratelimit-Limit"] == "120"
    assert first.headers["X-Ratelimit-Remaining"] == "119"
    assert last_allowed.headers["X-Ratelimit-Remaining"] == "0"
    assert refused.status_code == 429 and answers[121].status_code == 429
    assert 55 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.json() == {
        "code": 429,
        "result": "Too Many Requests",
        "error": {"reason": "TooManyRequests", "message": "Too Many Requests"},
    }
    assert sandbox.calls.summary() == {
        "limit": 120,
        "window": 60.0,
        "answered": 120,
        "refused": 2,
        "busiest_window": 120,
    }


def test_printify_answers_600_a_minute_then_429_without_retry_after() -> None:
    sandbox = PrintifySandbox(api_key=KEY)
    answers = calls(sandbox, "http://printify.sandbox", "/v1/shops.json", 601)

    assert {a.status_code for a in answers[:600]} == {200}
    refused = answers[600]
    assert refused.status_code == 429
    assert "Retry-After" not in refused.headers  # Printify documents none
    assert refused.json() == {"status": "error", "code": 429, "message": "Too Many Requests"}


def test_a_supplier_without_a_published_limit_refuses_nothing_for_rate() -> None:
    sandbox = GelatoSandbox(api_key=KEY)
    assert sandbox.calls.limit is None
    sandbox.calls.admit(0.0)
    assert sandbox.calls.summary()["refused"] == 0


def test_an_account_with_its_own_limit() -> None:
    sandbox = PrintfulSandbox(api_key=KEY, rate_limit=PublishedRateLimit(calls=3, window=60))
    answers = calls(sandbox, "http://printful.sandbox", "/store", 4)
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[0].headers["X-Ratelimit-Policy"] == "3;w=60;"
    unlimited = PrintfulSandbox(api_key=KEY, rate_limit=None)
    assert (
        "X-Ratelimit-Limit"
        not in calls(unlimited, "http://printful.sandbox", "/store", 1)[0].headers
    )


def test_busiest_window_counts_any_span_not_clock_minutes() -> None:
    log = PrintfulSandbox(api_key=KEY, rate_limit=None).calls
    for at in (10.0, 50.0, 69.0, 70.0, 109.0, 200.0):
        log.admit(at)
    assert log.busiest_window(60.0) == 4  # 50, 69, 70, 109 lie within 60 s
