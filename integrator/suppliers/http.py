"""One ``requests`` session wrapper shared by every supplier adapter.

Every call has connect and read timeouts, passes a client-side rate limiter sized to the
supplier's published limit and a per-supplier circuit breaker, and turns every failure into
one of the errors in :mod:`integrator.suppliers.errors`. Only idempotent GETs are retried
here, briefly; whole submissions are retried by the job queue, never inside an adapter.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from tenacity import (
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

from integrator.suppliers.errors import (
    RetryableSupplierError,
    SupplierAuthError,
    SupplierRejected,
)

Clock = Callable[[], float]
Sleep = Callable[[float], None]
# (HTTP status, parsed JSON body or text) -> (supplier error code, human reason)
DescribeError = Callable[[int, Any], tuple[str, str]]
IsReroutable = Callable[[SupplierRejected], bool]

DEFAULT_TIMEOUT_SECONDS = 20.0
MAX_CONNECT_TIMEOUT_SECONDS = 5.0
# the longest the rate limiter blocks a caller before saying "retry later" instead
MAX_LIMITER_WAIT_SECONDS = 2.0


class RateLimiter:
    """Token bucket at the supplier's published rate (e.g. Printful 120 calls per minute).

    A call waits for a token when that is short; when it would wait longer the caller gets a
    RetryableSupplierError with ``retry_after``, so a worker thread never sleeps for long.
    """

    def __init__(
        self,
        per_minute: int,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
        max_wait: float = MAX_LIMITER_WAIT_SECONDS,
    ) -> None:
        self.capacity = float(per_minute)
        self.refill_per_second = per_minute / 60.0
        self.tokens = self.capacity
        self.clock = clock
        self.sleep = sleep
        self.max_wait = max_wait
        self.updated = clock()
        self.lock = threading.Lock()

    def acquire(self, supplier: str = "") -> None:
        with self.lock:
            now = self.clock()
            elapsed = now - self.updated
            self.tokens = min(self.capacity, self.tokens + elapsed * self.refill_per_second)
            self.updated = now
            self.tokens -= 1.0
            wait = 0.0 if self.tokens >= 0 else -self.tokens / self.refill_per_second
            if wait > self.max_wait:
                self.tokens += 1.0  # this call does not happen, give its token back
                raise RetryableSupplierError(
                    "client-side rate limit reached", supplier=supplier, retry_after=wait
                )
        if wait > 0:
            self.sleep(wait)


class CircuitBreaker:
    """Opens after ``threshold`` consecutive failures and stays open for ``open_seconds``.

    While open, calls fail at once with RetryableSupplierError; the pipeline asks
    :meth:`is_open` to park work for a supplier that is down instead of hammering it.
    """

    def __init__(
        self, *, threshold: int = 5, open_seconds: float = 30.0, clock: Clock = time.monotonic
    ) -> None:
        self.threshold = threshold
        self.open_seconds = open_seconds
        self.clock = clock
        self.failures = 0
        self.opened_at: float | None = None
        self.lock = threading.Lock()

    def is_open(self) -> bool:
        return self.seconds_left() > 0

    def seconds_left(self) -> float:
        with self.lock:
            if self.opened_at is None:
                return 0.0
            return max(0.0, self.opened_at + self.open_seconds - self.clock())

    def record_success(self) -> None:
        with self.lock:
            self.failures = 0
            self.opened_at = None

    def record_failure(self) -> None:
        with self.lock:
            self.failures += 1
            if self.failures >= self.threshold:
                self.opened_at = self.clock()


_breakers: dict[str, CircuitBreaker] = {}
_limiters: dict[str, RateLimiter] = {}
_registry_lock = threading.Lock()


def circuit_breaker(supplier: str) -> CircuitBreaker:
    """The process-wide breaker of one configured supplier (by its config name)."""
    with _registry_lock:
        return _breakers.setdefault(supplier, CircuitBreaker())


def rate_limiter(supplier: str, per_minute: int) -> RateLimiter:
    """The process-wide limiter of one configured supplier (by its config name)."""
    with _registry_lock:
        return _limiters.setdefault(supplier, RateLimiter(per_minute))


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    body: Any
    headers: Mapping[str, str]


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After is either delay-seconds or an HTTP date."""
    if not value:
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(text).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _decode(response: requests.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text


def _is_retryable_get_failure(error: BaseException) -> bool:
    # a 429 or an open breaker means "not now": retrying at once would not help
    return isinstance(error, RetryableSupplierError) and error.status not in (429, None)


class SupplierHttp:
    def __init__(
        self,
        supplier: str,
        base_url: str,
        *,
        session: requests.Session,
        headers: Mapping[str, str],
        describe_error: DescribeError,
        is_reroutable: IsReroutable,
        limiter: RateLimiter | None = None,
        breaker: CircuitBreaker | None = None,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        get_attempts: int = 3,
        get_wait_seconds: float = 0.2,
    ) -> None:
        self.supplier = supplier
        self.base_url = base_url.rstrip("/")
        self.session = session
        self.headers = dict(headers)
        self.describe_error = describe_error
        self.is_reroutable = is_reroutable
        self.limiter = limiter
        self.breaker = breaker or CircuitBreaker()
        self.timeout = (min(MAX_CONNECT_TIMEOUT_SECONDS, timeout_seconds), timeout_seconds)
        self.get_attempts = get_attempts
        self.get_wait_seconds = get_wait_seconds

    def get(self, path: str, *, params: Mapping[str, Any] | None = None) -> HttpAnswer:
        retrying = Retrying(
            retry=retry_if_exception(_is_retryable_get_failure),
            stop=stop_after_attempt(self.get_attempts),
            wait=wait_exponential(multiplier=self.get_wait_seconds, max=2.0),
            reraise=True,
        )
        return retrying(self.request, "GET", path, params=params)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> HttpAnswer:
        """One call, no retries: returns a 2xx answer or raises a named supplier error."""
        left = self.breaker.seconds_left()
        if left > 0:
            raise RetryableSupplierError("circuit open", supplier=self.supplier, retry_after=left)
        if self.limiter is not None:
            self.limiter.acquire(self.supplier)
        try:
            response = self.session.request(
                method,
                f"{self.base_url}{path}",
                params=params,
                json=json,
                headers=self.headers,
                timeout=self.timeout,
            )
        except requests.Timeout as error:
            self.breaker.record_failure()
            raise RetryableSupplierError(
                f"timeout: {error}", supplier=self.supplier, status=0
            ) from error
        except requests.RequestException as error:
            self.breaker.record_failure()
            raise RetryableSupplierError(
                f"connection failed: {error}", supplier=self.supplier, status=0
            ) from error
        return self._answer(response)

    def _answer(self, response: requests.Response) -> HttpAnswer:
        status = response.status_code
        body = _decode(response)
        if status >= 500:
            self.breaker.record_failure()
        else:
            self.breaker.record_success()
        if status < 400:
            return HttpAnswer(status, body, response.headers)
        code, reason = self.describe_error(status, body)
        if status == 429 or status >= 500:
            raise RetryableSupplierError(
                f"{status} {code}: {reason}",
                supplier=self.supplier,
                status=status,
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
            )
        if status in (401, 403):
            raise SupplierAuthError(f"{status} {reason}", supplier=self.supplier, status=status)
        rejected = SupplierRejected(
            reason, supplier=self.supplier, status=status, code=code, body=body
        )
        rejected.reroutable = self.is_reroutable(rejected)
        raise rejected
