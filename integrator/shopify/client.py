"""Admin GraphQL client: shopify_app's request function, paced per shop, retried with tenacity.

``shopify_app.admin_graphql_request`` does the HTTP call (URL, token header, user agent) on the
long-lived injected ``httpx.Client``. It is called with ``max_retries=0`` because its own
retries sleep for real and treat ``THROTTLED`` (HTTP 200 with that error code) as final; the
retry policy here covers THROTTLED, 429, 5xx and connection errors, with exponential backoff
and jitter, a bounded number of attempts, and an injectable ``sleep`` so tests never wait.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from shopify_app.graphql.admin_graphql import admin_graphql_request
from shopify_app.types import GQLResult
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt
from tenacity.wait import wait_exponential_jitter

from integrator.shopify.errors import (
    ShopifyAuthError,
    ShopifyQueryError,
    ShopifyThrottledOut,
    ShopifyUnavailable,
    ShopifyUserErrors,
    UserError,
)
from integrator.shopify.operations import load_operation
from integrator.shopify.shop_domain import shop_handle, validate_shop_domain
from integrator.shopify.throttle import ShopThrottles
from integrator.shopify.tokens import TokenProvider

log = logging.getLogger(__name__)

DEFAULT_API_VERSION = "2026-04"
TRANSIENT_QUERY_CODES = frozenset({"INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE"})
AUTH_QUERY_CODES = frozenset({"ACCESS_DENIED", "UNAUTHORIZED", "FORBIDDEN"})
MAX_PACING_PAUSES = 2000  # a bound on the pacing loop, far above any real wait


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    initial_wait: float = 0.5
    max_wait: float = 30.0
    jitter: float = 0.5
    # pacing sleeps at most this long before looking at the bucket again, so an answer
    # received meanwhile by another thread (with Shopify's refund) can cut the wait short
    max_pause: float = 0.25


class _Transient(Exception):
    """Worth another attempt; never leaves this module."""

    def __init__(self, reason: str, retry_after: float = 0.0) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class _Throttled(_Transient):
    """Shopify refused to run the request (THROTTLED, 429): always safe to send again."""


class _Ambiguous(_Transient):
    """5xx or network trouble: the request may or may not have been carried out."""


class AdminClient:
    """Send the package's GraphQL operations for any shop and return their ``data``.

    Counters for the metrics layer: ``throttle_waits`` / ``throttle_wait_seconds`` (queries
    that waited before sending because the shop's bucket was short, and the total wait),
    ``throttled_responses`` (THROTTLED or 429 answers received anyway) and ``retries``.
    """

    def __init__(
        self,
        tokens: TokenProvider,
        http: httpx.Client,
        *,
        api_version: str = DEFAULT_API_VERSION,
        retry_policy: RetryPolicy | None = None,
        throttles: ShopThrottles | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.tokens = tokens
        self.api_version = api_version
        self._http = http
        self._policy = retry_policy or RetryPolicy()
        self._backoff = wait_exponential_jitter(
            multiplier=self._policy.initial_wait,
            max=self._policy.max_wait,
            jitter=self._policy.jitter,
        )
        self.throttles = throttles or ShopThrottles()
        self._sleep = sleep
        self._clock = clock
        self._counter_lock = threading.Lock()
        self.throttle_waits = 0
        self.throttle_wait_seconds = 0.0
        self.throttled_responses = 0
        self.retries = 0

    def execute(
        self, shop: str, operation: str, variables: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Run the named operation for ``shop`` and return its ``data``.

        :raises ShopifyAuthError: the token was refused (401/403, ACCESS_DENIED).
        :raises ShopifyThrottledOut: still throttled after every attempt.
        :raises ShopifyUnavailable: 429/5xx/network trouble after every attempt.
        :raises ShopifyQueryError: any other GraphQL or HTTP error.
        """
        shop = validate_shop_domain(shop)
        document = load_operation(operation)
        # A mutation that may have been carried out is not sent again here: the caller's
        # retry re-reads what Shopify has first (create_fulfillment looks for its tracking).
        retryable = _Throttled if is_mutation(document) else _Transient
        retrying = Retrying(
            stop=stop_after_attempt(self._policy.max_attempts),
            wait=self._wait,
            retry=retry_if_exception_type(retryable),
            sleep=self._sleep,
            before_sleep=self._count_retry,
            reraise=True,
        )
        try:
            data: dict[str, Any] = retrying(self._attempt, shop, operation, document, variables)
        except _Throttled as exc:
            raise ShopifyThrottledOut(f"{shop} {operation}: {exc}") from exc
        except _Transient as exc:
            raise ShopifyUnavailable(f"{shop} {operation}: {exc}") from exc
        return data

    def mutate(
        self, shop: str, operation: str, variables: Mapping[str, Any], payload_field: str
    ) -> dict[str, Any]:
        """Run a mutation and return its payload object.

        :raises ShopifyUserErrors: when the payload carries ``userErrors``.
        """
        data = self.execute(shop, operation, variables)
        payload: dict[str, Any] = data.get(payload_field) or {}
        errors = tuple(
            UserError(
                field=tuple(str(part) for part in (error.get("field") or ())),
                message=error["message"],
            )
            for error in payload.get("userErrors") or ()
        )
        if errors:
            raise ShopifyUserErrors(operation, errors)
        return payload

    # --- one attempt ------------------------------------------------------------------------

    def _attempt(
        self, shop: str, operation: str, document: str, variables: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        self._pace(shop, operation)
        result = self._send(shop, document, variables)
        if result.log.code == "unauthorized" and self.tokens.forget(shop):
            # a renewable token was refused (revoked, or replaced by another process): renew
            # it and try once more before calling the shop's authorisation lost
            result = self._send(shop, document, variables)
        body = _json_body(result)
        extensions = result.extensions or body.get("extensions")
        self.throttles.observe(shop, operation, extensions, self._clock())
        if result.ok and result.data is not None:
            return result.data
        raise self._failure(shop, operation, result, body)

    def _send(self, shop: str, document: str, variables: Mapping[str, Any] | None) -> GQLResult:
        return admin_graphql_request(
            document,
            shop=shop_handle(shop),
            access_token=self.tokens.access_token(shop),
            api_version=self.api_version,
            variables=dict(variables) if variables else None,
            max_retries=0,
            http_client=self._http,
        )

    def _pace(self, shop: str, operation: str) -> None:
        """Wait until the shop's bucket holds the operation's cost (bounded: then just send)."""
        for pause_number in range(MAX_PACING_PAUSES):
            wait = self.throttles.try_take(shop, operation, self._clock())
            if wait <= 0:
                return
            pause = min(wait, self._policy.max_pause)
            with self._counter_lock:
                self.throttle_waits += 1 if pause_number == 0 else 0
                self.throttle_wait_seconds += pause
            log.debug("pacing %s %s for %.2fs", shop, operation, pause, extra={"shop": shop})
            self._sleep(pause)

    def _failure(
        self, shop: str, operation: str, result: GQLResult, body: Mapping[str, Any]
    ) -> Exception:
        code = result.log.code
        if code == "graphql_errors":
            return self._graphql_failure(shop, body)
        if code == "unauthorized":
            return ShopifyAuthError(f"{shop}: access token refused (401)")
        if code == "http_error_403":
            return ShopifyAuthError(f"{shop}: access token lacks a required scope (403)")
        if code == "rate_limited":
            self._count_throttled()
            return _Throttled("HTTP 429", retry_after=_retry_after(result))
        if code == "network_error" or code.startswith("http_error_5") or result.ok:
            return _Ambiguous(f"{code} (HTTP {result.response.status})")
        return ShopifyQueryError(f"{shop} {operation}: {code}", (code,))

    def _graphql_failure(self, shop: str, body: Mapping[str, Any]) -> Exception:
        errors = body.get("errors") or []
        codes = tuple(str((e.get("extensions") or {}).get("code", "")) for e in errors)
        messages = "; ".join(str(e.get("message", "")) for e in errors)
        if "THROTTLED" in codes:
            self._count_throttled()
            return _Throttled("THROTTLED")
        if AUTH_QUERY_CODES.intersection(codes):
            return ShopifyAuthError(f"{shop}: {messages}")
        if TRANSIENT_QUERY_CODES.intersection(codes):
            return _Ambiguous(messages)
        return ShopifyQueryError(messages, codes)

    # --- retry bookkeeping ------------------------------------------------------------------

    def _wait(self, state: RetryCallState) -> float:
        backoff = self._backoff(state)
        error = state.outcome.exception() if state.outcome else None
        retry_after = error.retry_after if isinstance(error, _Transient) else 0.0
        return max(backoff, retry_after)

    def _count_retry(self, state: RetryCallState) -> None:
        with self._counter_lock:
            self.retries += 1
        error = state.outcome.exception() if state.outcome else None
        log.info("retrying Shopify call after %s (attempt %d)", error, state.attempt_number)

    def _count_throttled(self) -> None:
        with self._counter_lock:
            self.throttled_responses += 1


def is_mutation(document: str) -> bool:
    """Say whether the document's first statement (after comments) is a mutation."""
    for line in document.splitlines():
        text = line.strip()
        if text and not text.startswith("#"):
            return text.startswith("mutation")
    return False


def _json_body(result: GQLResult) -> dict[str, Any]:
    try:
        body = json.loads(result.response.body or "{}")
    except (ValueError, TypeError):
        return {}
    return body if isinstance(body, dict) else {}


def _retry_after(result: GQLResult) -> float:
    headers = result.http_logs[-1].res.headers if result.http_logs else {}
    value = {k.lower(): v for k, v in headers.items()}.get("retry-after", "")
    try:
        return float(value)
    except ValueError:
        return 0.0
