"""One ``requests`` session wrapper shared by every supplier adapter.

Every call has connect and read timeouts, passes a client-side rate limiter sized to the
supplier's published limit and a per-supplier circuit breaker, both kept where every process
sees them (the database or Redis, ADR 0007), and turns every failure into
one of the errors in :mod:`integrator.suppliers.errors`. Only idempotent GETs are retried
here, briefly; whole submissions are retried by the job queue, never inside an adapter.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, Protocol, runtime_checkable

import requests
from limits import RateLimitItem, RateLimitItemPerSecond
from limits.errors import StorageError
from limits.storage import MemoryStorage, Storage
from limits.strategies import MovingWindowRateLimiter
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

Sleep = Callable[[float], None]
# (HTTP status, parsed JSON body or text) -> (supplier error code, human reason)
DescribeError = Callable[[int, Any], tuple[str, str]]
IsReroutable = Callable[[SupplierRejected], bool]

DEFAULT_TIMEOUT_SECONDS = 20.0
MAX_CONNECT_TIMEOUT_SECONDS = 5.0
# the longest the rate limiter blocks a caller before saying "retry later" instead
MAX_LIMITER_WAIT_SECONDS = 2.0
# a refused caller looks again no sooner than this (a place may free up at any moment)
MIN_LIMITER_WAIT_SECONDS = 0.01
LIMITER_NAMESPACE = "supplier-calls"
# our count is taken before the call leaves, the supplier's when it arrives: a window this much
# longer than the published one keeps a late call from meeting the next window's first calls
WINDOW_MARGIN = 0.05
BREAKER_NAMESPACE = "supplier-breaker"


@runtime_checkable
class ReadsCountersTogether(Protocol):
    """A storage that reads several counters in one round trip (our database's)."""

    def counters(self, keys: Sequence[str]) -> dict[str, tuple[int, float]]:
        """Live counters among ``keys``: key → (hits, expiry as epoch seconds)."""
        ...


def read_counters(storage: Storage, keys: Sequence[str]) -> dict[str, tuple[int, float]]:
    """The live counters among ``keys`` (absent: zero), in one read where the storage can."""
    if isinstance(storage, ReadsCountersTogether):
        return storage.counters(keys)
    found: dict[str, tuple[int, float]] = {}
    for key in keys:
        hits = storage.get(key)
        if hits > 0:
            found[key] = (hits, storage.get_expiry(key))
    return found


def _seconds_until(counter: tuple[int, float] | None) -> float:
    return max(0.0, counter[1] - time.time()) if counter is not None else 0.0


@dataclass(frozen=True)
class CallState:
    """What a call must know before it leaves, read in one go: how long the breaker stays
    open, how long a 429 holds the supplier, and the failures the breaker has counted (a
    success clears them)."""

    open_for: float
    held_for: float | None  # None: the limiter keeps its count in another store
    failures: int


class RateLimiter:
    """Never more than the supplier's published number of calls in any window (e.g. Printful
    120 calls in any 60 s), counted by every process that shares ``storage`` (ADR 0007).

    The ``limits`` moving-window strategy, so that however the supplier counts (a fixed minute,
    a leaky bucket) it never sees more than its limit; the window is ``WINDOW_MARGIN`` longer
    than the supplier's. A call waits for a free place when that is short; when it would wait
    longer the caller gets a RetryableSupplierError with ``retry_after``, so a worker thread
    never sleeps for long. A supplier's 429 with Retry-After (:meth:`hold`) stops every process
    for that long.
    """

    def __init__(
        self,
        per_minute: int,
        *,
        storage: Storage | None = None,
        key: str = "",
        sleep: Sleep = time.sleep,
        max_wait: float = MAX_LIMITER_WAIT_SECONDS,
        window: RateLimitItem | None = None,
    ) -> None:
        self.limit = window or RateLimitItemPerSecond(
            per_minute, math.ceil(60 * (1 + WINDOW_MARGIN))
        )
        self.storage = storage or _process_storage
        self.strategy = MovingWindowRateLimiter(self.storage)
        # a limiter made on its own (tests, explain) counts alone
        self.key = key or f"private-{id(self)}"
        self._hold_key = f"{LIMITER_NAMESPACE}/hold/{self.key}"
        self.sleep = sleep
        self.max_wait = max_wait

    def acquire(self, supplier: str = "", *, held_for: float | None = None) -> None:
        """Take a place for one call, waiting briefly for one. ``held_for``: the hold
        (:meth:`hold`) as the caller just read it, saving the first look."""
        waited = 0.0
        while True:
            try:
                wait = self._held_for() if held_for is None else held_for
                held_for = None  # a second look reads afresh
                if not wait:
                    if self.strategy.hit(self.limit, LIMITER_NAMESPACE, self.key):
                        return
                    reset = self.strategy.get_window_stats(
                        self.limit, LIMITER_NAMESPACE, self.key
                    ).reset_time
                    wait = max(MIN_LIMITER_WAIT_SECONDS, reset - time.time())
            except StorageError as error:
                # no count, no call: the supplier's limit matters more than this one call
                raise RetryableSupplierError(
                    "rate limit store unavailable", supplier=supplier, retry_after=1.0
                ) from error
            if waited + wait > self.max_wait:
                raise RetryableSupplierError(
                    "client-side rate limit reached", supplier=supplier, retry_after=wait
                )
            self.sleep(wait)
            waited += wait

    def hold(self, seconds: float) -> None:
        """The supplier said "not before ``seconds``" (a 429's Retry-After): no process
        sharing the store calls it before then."""
        with contextlib.suppress(StorageError):
            self.storage.incr(self._hold_key, max(1, math.ceil(seconds)))

    @property
    def hold_key(self) -> str:
        return self._hold_key

    def _held_for(self) -> float:
        if self.storage.get(self._hold_key) <= 0:
            return 0.0
        return max(MIN_LIMITER_WAIT_SECONDS, self.storage.get_expiry(self._hold_key) - time.time())


class CircuitBreaker:
    """Opens after ``threshold`` failures within ``open_seconds`` with no success between them,
    and stays open for ``open_seconds``: in every process that shares ``storage``, so that one
    process's finding that a supplier is down stops them all (ADR 0007).

    While open, calls fail at once with RetryableSupplierError; the pipeline asks
    :meth:`is_open` to park work for a supplier that is down instead of hammering it. When the
    store cannot be read the breaker counts as closed: the supplier's answers still decide.
    """

    def __init__(
        self,
        *,
        threshold: int = 5,
        open_seconds: int = 30,
        storage: Storage | None = None,
        key: str = "",
    ) -> None:
        self.threshold = threshold
        self.open_seconds = open_seconds
        self.storage = storage or _process_storage
        # a breaker made on its own (tests, explain) gets a key no other breaker has
        self.key = key or f"anonymous-{id(self)}"
        self._failures_key = f"{BREAKER_NAMESPACE}/failures/{self.key}"
        self._open_key = f"{BREAKER_NAMESPACE}/open/{self.key}"

    def is_open(self) -> bool:
        return self.seconds_left() > 0

    def seconds_left(self) -> float:
        try:
            if self.storage.get(self._open_key) <= 0:
                return 0.0
            return max(0.0, self.storage.get_expiry(self._open_key) - time.time())
        except StorageError:
            return 0.0

    @property
    def keys(self) -> tuple[str, str]:
        """(open, failures): what :meth:`SupplierHttp.call_state` reads."""
        return self._open_key, self._failures_key

    def record_success(self, failures: int | None = None) -> None:
        """A call succeeded: forget the failures. ``failures``: the count as read just before
        the call (:class:`CallState`), saving a read."""
        try:
            # one read on the usual path; the writes only after failures
            if failures is None:
                failures = self.storage.get(self._failures_key)
            if failures > 0:
                self.storage.clear(self._failures_key)
                self.storage.clear(self._open_key)
        except StorageError:
            pass

    def record_failure(self) -> None:
        try:
            failures = self.storage.incr(self._failures_key, self.open_seconds)
            if failures >= self.threshold:
                self.storage.incr(self._open_key, self.open_seconds)
        except StorageError:
            pass

    def close(self) -> None:
        """Forget every failure (an operator's or a test's reset)."""
        self.storage.clear(self._failures_key)
        self.storage.clear(self._open_key)


_process_storage: Storage = MemoryStorage(wrap_exceptions=True)
_breakers: dict[tuple[str, int], CircuitBreaker] = {}
_limiters: dict[tuple[str, int], RateLimiter] = {}
_registry_lock = threading.Lock()


def circuit_breaker(supplier: str, storage: Storage | None = None) -> CircuitBreaker:
    """The breaker of one configured supplier (by its config name), its state in ``storage``
    (default: this process's memory)."""
    storage = storage or _process_storage
    with _registry_lock:
        return _breakers.setdefault(
            (supplier, id(storage)), CircuitBreaker(storage=storage, key=supplier)
        )


def rate_limiter(supplier: str, per_minute: int, storage: Storage | None = None) -> RateLimiter:
    """The limiter of one configured supplier (by its config name), its count in ``storage``
    (default: this process's memory)."""
    storage = storage or _process_storage
    with _registry_lock:
        return _limiters.setdefault(
            (supplier, id(storage)), RateLimiter(per_minute, storage=storage, key=supplier)
        )


def reset_process_limits() -> None:
    """Forget every count kept in this process's memory (each test starts afresh)."""
    _process_storage.reset()


def close_breakers() -> None:
    """Close every breaker this process has made (runs and tests that must not leak into each
    other)."""
    with _registry_lock:
        breakers = list(_breakers.values())
    for breaker in breakers:
        breaker.close()


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

    def call_state(self) -> CallState | None:
        """The breaker and the limiter's hold in one read (each was a read of its own, about a
        millisecond of CPU each on the database store); None when the store cannot be read:
        the breaker and limiter then look for themselves, as they would alone."""
        open_key, failures_key = self.breaker.keys
        keys = [open_key, failures_key]
        if self.limiter is not None and self.limiter.storage is self.breaker.storage:
            keys.append(self.limiter.hold_key)
        try:
            found = read_counters(self.breaker.storage, keys)
        except StorageError:
            return None
        held = None
        if len(keys) > 2:
            hold = found.get(keys[2])
            # as RateLimiter._held_for: a live hold means a wait of at least the minimum
            held = max(MIN_LIMITER_WAIT_SECONDS, _seconds_until(hold)) if hold else 0.0
        return CallState(
            open_for=_seconds_until(found.get(open_key)),
            held_for=held,
            failures=found.get(failures_key, (0, 0.0))[0],
        )

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> HttpAnswer:
        """One call, no retries: returns a 2xx answer or raises a named supplier error."""
        state = self.call_state()
        left = self.breaker.seconds_left() if state is None else state.open_for
        if left > 0:
            raise RetryableSupplierError("circuit open", supplier=self.supplier, retry_after=left)
        if self.limiter is not None:
            self.limiter.acquire(self.supplier, held_for=None if state is None else state.held_for)
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
        return self._answer(response, None if state is None else state.failures)

    def _answer(self, response: requests.Response, failures: int | None = None) -> HttpAnswer:
        status = response.status_code
        body = _decode(response)
        if status >= 500:
            self.breaker.record_failure()
        else:
            self.breaker.record_success(failures)
        if status < 400:
            return HttpAnswer(status, body, response.headers)
        code, reason = self.describe_error(status, body)
        if status == 429 or status >= 500:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            if status == 429 and retry_after and self.limiter is not None:
                self.limiter.hold(retry_after)
            raise RetryableSupplierError(
                f"{status} {code}: {reason}",
                supplier=self.supplier,
                status=status,
                retry_after=retry_after,
            )
        if status in (401, 403):
            raise SupplierAuthError(f"{status} {reason}", supplier=self.supplier, status=status)
        rejected = SupplierRejected(
            reason, supplier=self.supplier, status=status, code=code, body=body
        )
        rejected.reroutable = self.is_reroutable(rejected)
        raise rejected
