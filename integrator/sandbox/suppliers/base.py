"""What every sandbox supplier shares: in-memory orders, fault injection, a control API,
callbacks posted to a URL, and a count of orders created per external reference.

Control from Python (tests) or over HTTP (chaos runs against a served sandbox)::

    sandbox.faults.fail_next("5xx", times=2)      # or "timeout", "429", "down"
    sandbox.faults.fail_next("timeout", method="POST", path="/orders")
    sandbox.faults.error_rate = 0.1               # 10 % of calls answer 5xx
    sandbox.advance(order_id, to="shipped", items=["111"])
    sandbox.created_count("1001-ab12cd34ef")      # proves no order was doubled

Every request body of an endpoint named in ``REQUEST_SCHEMAS`` is validated against the
supplier's published schema before its handler runs, and refused with ``invalid_request``
(the supplier's own status and error body): see ``validation.py``.

    POST /_sandbox/faults   {"error_rate": 0.1, "timeout_rate": 0, "rate_limit_rate": 0,
                             "latency_seconds": 0, "down": false, "fail_next": ["429"]}
    POST /_sandbox/advance  {"order_id": "...", "to": "shipped", "items": ["111"]}
    GET  /_sandbox/counts   {"<external ref>": <orders created>}
    GET  /_sandbox/calls    {"limit": 120, "window": 60, "answered": 130, "refused": 0,
                             "busiest_window": 120}

A supplier that publishes a rate limit (``PUBLISHED_RATE_LIMIT``) refuses every API call past
it with its own 429 answer, before anything else looks at the request, as the real one does.
"""

from __future__ import annotations

import abc
import json
import math
import random
import threading
import time
from collections import Counter, deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import requests
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from integrator.sandbox.suppliers.transport import IN_PROCESS_KEY, SupplierDown
from integrator.sandbox.suppliers.validation import Problem, RequestSchema

FAULT_KINDS = ("5xx", "timeout", "429", "down")
MAX_SLEEP_SECONDS = 5.0
CONTROL_PREFIX = "/_sandbox/"
ADVANCE_TARGETS = ("in_production", "on_hold", "shipped", "delivered", "failed", "cancelled")


@dataclass
class FaultPlan:
    """Faults drawn per request: forced ones first (``fail_next``), then by rate."""

    error_rate: float = 0.0
    timeout_rate: float = 0.0
    rate_limit_rate: float = 0.0
    latency_seconds: float = 0.0
    down: bool = False
    # how long a "timeout" request sleeps before answering (the work still happens)
    timeout_sleep_seconds: float = 1.0
    retry_after_seconds: int = 7
    # (fault, HTTP method, path) it waits for; None matches any
    forced: deque[tuple[str, str | None, str | None]] = field(default_factory=deque)

    def fail_next(
        self, kind: str, times: int = 1, method: str | None = None, path: str | None = None
    ) -> None:
        """Force the next ``times`` requests (of ``method`` to ``path``, when given) to fail
        with ``kind``."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; one of {FAULT_KINDS}")
        self.forced.extend([(kind, method, path)] * times)

    def clear(self) -> None:
        self.error_rate = self.timeout_rate = self.rate_limit_rate = 0.0
        self.latency_seconds = 0.0
        self.down = False
        self.forced.clear()

    def draw(self, rng: random.Random, method: str, path: str) -> str | None:
        if self.down:
            return "down"
        for index, (kind, wanted_method, wanted_path) in enumerate(self.forced):
            if wanted_method in (None, method) and wanted_path in (None, path):
                del self.forced[index]
                return kind
        roll = rng.random()
        for kind, rate in (
            ("5xx", self.error_rate),
            ("timeout", self.timeout_rate),
            ("429", self.rate_limit_rate),
        ):
            if roll < rate:
                return kind
            roll -= rate
        return None

    def update(self, settings: Mapping[str, Any]) -> None:
        for name in (
            "error_rate",
            "timeout_rate",
            "rate_limit_rate",
            "latency_seconds",
            "timeout_sleep_seconds",
        ):
            if name in settings:
                setattr(self, name, float(settings[name]))
        if "retry_after_seconds" in settings:
            self.retry_after_seconds = int(settings["retry_after_seconds"])
        if "down" in settings:
            self.down = bool(settings["down"])
        for kind in settings.get("fail_next", ()):
            self.fail_next(str(kind), method=settings.get("method"), path=settings.get("path"))


@dataclass(frozen=True)
class PublishedRateLimit:
    """A supplier's published limit: ``calls`` in any ``window`` seconds, and ``lockout``
    seconds of refusals once a call went past it (Printful: "A 60 seconds lockout is applied
    if request count is exceeded").

    Counted over a moving window, the strictest reading of "N calls per minute": a client the
    sandbox accepts is accepted by a supplier that counts per clock minute or with a leaky
    bucket of N. Refused calls are not counted (v1 Printful: the limit "hits 0", it does not
    go below)."""

    calls: int
    window: float = 60.0
    lockout: float = 0.0


class CallLog:
    """Every API call a sandbox answered or refused for its rate limit, and the limit."""

    def __init__(self, limit: PublishedRateLimit | None) -> None:
        self.limit = limit
        self.answered: list[float] = []
        self.refused = 0
        self.locked_until = 0.0
        self._lock = threading.Lock()
        self._recent: deque[float] = deque()

    def admit(self, now: float) -> float | None:
        """Count a call at ``now``: None when it may go on, else the seconds until the next
        call would be admitted (the call is refused)."""
        with self._lock:
            limit = self.limit
            if limit is None:
                self.answered.append(now)
                return None
            while self._recent and self._recent[0] <= now - limit.window:
                self._recent.popleft()
            if now < self.locked_until:
                self.refused += 1
                return self.locked_until - now
            if len(self._recent) >= limit.calls:
                self.refused += 1
                if limit.lockout:
                    self.locked_until = now + limit.lockout
                    return limit.lockout
                return self._recent[0] + limit.window - now
            self._recent.append(now)
            self.answered.append(now)
            return None

    def remaining(self, now: float) -> tuple[int, float]:
        """(calls left in the window, seconds until every counted call has left it)."""
        with self._lock:
            if self.limit is None:
                return 0, 0.0
            window = self.limit.window
            live = [at for at in self._recent if at > now - window]
            reset = (live[-1] + window - now) if live else 0.0
            return max(0, self.limit.calls - len(live)), max(0.0, reset)

    def busiest_window(self, window: float | None = None) -> int:
        """The most calls answered in any ``window`` seconds (default: the limit's)."""
        span = window or (self.limit.window if self.limit else 60.0)
        with self._lock:
            times = sorted(self.answered)
        most = start = 0
        for end, at in enumerate(times):
            while times[start] <= at - span:
                start += 1
            most = max(most, end - start + 1)
        return most

    def summary(self) -> dict[str, Any]:
        return {
            "limit": self.limit.calls if self.limit else None,
            "window": self.limit.window if self.limit else None,
            "answered": len(self.answered),
            "refused": self.refused,
            "busiest_window": self.busiest_window(),
        }


def json_response(
    data: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    return Response(
        json.dumps(data),
        status=status,
        headers=dict(headers or {}),
        content_type="application/json",
    )


class SandboxError(Exception):
    """Raised inside a handler to answer with the supplier's own error body."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(status)
        self.status = status
        self.body = body


class SandboxSupplier(abc.ABC):
    """A WSGI app standing in for one supplier. Subclasses declare ``rules`` (werkzeug
    routes to handler method names), the published schema of each request body
    (``REQUEST_SCHEMAS``, by handler name), their error bodies and their callback payloads.

    Sandboxes are built from the suppliers' published documents only: they never import
    adapter code (``integrator.suppliers``), and sign callbacks with code written from the
    supplier's documentation (a test enforces both)."""

    NAME: str
    API_KEY_HEADER = "Authorization"
    # the limit the supplier publishes for an account; None: it publishes none
    PUBLISHED_RATE_LIMIT: ClassVar[PublishedRateLimit | None] = None
    # handler name -> the published schema its JSON body must satisfy
    REQUEST_SCHEMAS: ClassVar[Mapping[str, RequestSchema]] = {}

    def __init__(
        self,
        *,
        api_key: str = "sandbox-key",
        callback_url: str | None = None,
        callback_secret: str = "",
        callback_session: requests.Session | None = None,
        seed: int = 0,
        unavailable: Iterable[str] = (),
        rate_limit: PublishedRateLimit | None | str = "published",
    ) -> None:
        """``rate_limit``: the account's limit; by default the one the supplier publishes (an
        account the supplier allows more gets its own; None: no limit)."""
        self.api_key = api_key
        self.calls = CallLog(
            self.PUBLISHED_RATE_LIMIT if isinstance(rate_limit, str) else rate_limit
        )
        self.callback_url = callback_url
        self.callback_secret = callback_secret
        self.callback_session = callback_session or requests.Session()
        self.faults = FaultPlan()
        self.rng = random.Random(seed)
        self.lock = threading.RLock()
        self.idle = threading.Condition(self.lock)
        self.in_flight = 0
        self.orders: dict[str, dict[str, Any]] = {}
        self.created_per_ref: Counter[str] = Counter()
        # catalog identifiers this supplier answers "out of stock / unavailable" for
        self.unavailable: set[str] = set(unavailable)
        self.delivered_callbacks: deque[tuple[str, int]] = deque(maxlen=1000)
        self.next_id = 1000
        self.url_map = Map(
            [Rule(path, endpoint=name, methods=[method]) for method, path, name in self.rules()]
        )

    # --- what subclasses provide --------------------------------------------------------------

    @abc.abstractmethod
    def rules(self) -> Sequence[tuple[str, str, str]]:
        """(method, path, handler method name) for each supplier endpoint."""

    @abc.abstractmethod
    def error_body(self, status: int, message: str) -> Any:
        """The supplier's own error envelope."""

    @abc.abstractmethod
    def callbacks_for(
        self, order: dict[str, Any], to: str, items: Sequence[str] | None
    ) -> list[dict[str, Any]]:
        """Move ``order`` to ``to`` (in place) and return the callback payloads to post."""

    def rate_limited(self, retry_after: float) -> Response:
        """The supplier's answer to a call past its limit. Default: 429, its error body and
        ``Retry-After``; suppliers whose documents say otherwise override this."""
        return json_response(
            self.error_body(429, "Too Many Requests"),
            429,
            {"Retry-After": str(max(1, math.ceil(retry_after)))},
        )

    def rate_limit_headers(self, remaining: int, reset: float) -> dict[str, str]:
        """Headers the supplier puts on every answer about its limit (default: none)."""
        return {}

    def sign(self, body: bytes) -> dict[str, str]:
        """Headers proving the callback is genuine (suppliers that sign override this)."""
        return {}

    def invalid_request(self, problems: Sequence[Problem]) -> SandboxError:
        """The supplier's answer to a body its schema refuses. Default: 400 with
        ``error_body``; override where the supplier answers validation failures its own way."""
        return self.fail(400, "; ".join(str(problem) for problem in problems))

    def validate_body(self, endpoint: str, request: Request) -> None:
        """Refuse the request (SandboxError) when ``endpoint`` has a schema its body breaks."""
        schema = self.REQUEST_SCHEMAS.get(endpoint)
        if schema is None:
            return
        try:
            data = json.loads(request.get_data() or b"null")
        except ValueError as error:
            raise self.fail(400, "Invalid JSON") from error
        problems = schema.problems(data)
        if problems:
            raise self.invalid_request(problems)

    # --- the control surface ------------------------------------------------------------------

    def created_count(self, external_ref: str) -> int:
        with self.lock:
            return self.created_per_ref[external_ref]

    def wait_idle(self, timeout: float = MAX_SLEEP_SECONDS + 1) -> bool:
        """Wait for requests still running (e.g. one that 'timed out' for its caller)."""
        deadline = time.monotonic() + timeout
        with self.idle:
            while self.in_flight:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.idle.wait(left)
        return True

    def advance(
        self, order_id: str, to: str, items: Sequence[str] | None = None
    ) -> list[dict[str, Any]]:
        """Move an order through production and post the callbacks it causes.

        ``items`` are our line item ids (the supplier's item references): shipping only some
        of them makes a partial shipment. Returns the payloads posted."""
        if to not in ADVANCE_TARGETS:
            raise ValueError(f"unknown target {to!r}; one of {ADVANCE_TARGETS}")
        with self.lock:
            order = self.orders[order_id]
            payloads = self.callbacks_for(order, to, items)
        for payload in payloads:
            self.post_callback(payload)
        return payloads

    def post_callback(self, payload: Mapping[str, Any]) -> int:
        if not self.callback_url:
            return 0
        body = json.dumps(payload).encode()
        headers = {"Content-Type": "application/json", **self.sign(body)}
        response = self.callback_session.post(
            self.callback_url, data=body, headers=headers, timeout=10
        )
        self.delivered_callbacks.append((self.callback_url, response.status_code))
        return response.status_code

    def new_id(self, prefix: str = "") -> str:
        with self.lock:
            self.next_id += 1
            return f"{prefix}{self.next_id}"

    def remember(self, order_id: str, order: dict[str, Any], external_ref: str) -> None:
        with self.lock:
            self.orders[order_id] = order
            self.created_per_ref[external_ref] += 1

    def fail(self, status: int, message: str) -> SandboxError:
        return SandboxError(status, self.error_body(status, message))

    # --- WSGI ---------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        if request.path.startswith(CONTROL_PREFIX):
            return self.control(request)(environ, start_response)
        with self.idle:
            self.in_flight += 1
        try:
            response = self.answer(request, in_process=bool(environ.get(IN_PROCESS_KEY)))
        finally:
            with self.idle:
                self.in_flight -= 1
                self.idle.notify_all()
        return response(environ, start_response)

    def answer(self, request: Request, *, in_process: bool) -> Response:
        now = time.time()
        wait = self.calls.admit(now)
        if wait is not None:
            response = self.rate_limited(wait)
        else:
            response = self.answer_admitted(request, in_process=in_process)
        if self.calls.limit is not None:
            response.headers.update(self.rate_limit_headers(*self.calls.remaining(time.time())))
        return response

    def answer_admitted(self, request: Request, *, in_process: bool) -> Response:
        fault = self.faults.draw(self.rng, request.method, request.path)
        if self.faults.latency_seconds:
            time.sleep(min(self.faults.latency_seconds, MAX_SLEEP_SECONDS))
        if fault == "down":
            if in_process:
                raise SupplierDown(self.NAME)
            return Response("Service Unavailable", status=503)
        if fault == "5xx":
            return json_response(self.error_body(503, "Service temporarily unavailable"), 503)
        if fault == "429":
            return json_response(
                self.error_body(429, "Too Many Requests"),
                429,
                {"Retry-After": str(self.faults.retry_after_seconds)},
            )
        if fault == "timeout":
            time.sleep(min(self.faults.timeout_sleep_seconds, MAX_SLEEP_SECONDS))
        return self.dispatch(request)

    def dispatch(self, request: Request) -> Response:
        if not self.authorised(request):
            return json_response(self.error_body(401, "Unauthorized"), 401)
        adapter = self.url_map.bind_to_environ(request.environ)
        try:
            endpoint, args = adapter.match()
        except HTTPException as error:
            status = error.code or 404
            return json_response(self.error_body(status, error.name), status)
        try:
            self.validate_body(str(endpoint), request)
            # one request at a time inside the store: handlers read-modify-write orders
            with self.lock:
                return getattr(self, str(endpoint))(request, **args)  # type: ignore[no-any-return]
        except SandboxError as error:
            return json_response(error.body, error.status)

    def authorised(self, request: Request) -> bool:
        return request.headers.get(self.API_KEY_HEADER, "") in (
            self.api_key,
            f"Bearer {self.api_key}",
        )

    def body(self, request: Request) -> dict[str, Any]:
        try:
            data = json.loads(request.get_data() or b"null")
        except ValueError as error:
            raise self.fail(400, "Invalid JSON") from error
        if not isinstance(data, dict):
            raise self.fail(400, "Invalid request body")
        return data

    def control(self, request: Request) -> Response:
        action = request.path[len(CONTROL_PREFIX) :]
        if action == "counts":
            with self.lock:
                return json_response(dict(self.created_per_ref))
        if action == "calls":
            return json_response(self.calls.summary())
        data = json.loads(request.get_data() or b"{}")
        if action == "faults":
            self.faults.update(data)
            return json_response({"ok": True})
        if action == "advance":
            posted = self.advance(str(data["order_id"]), str(data["to"]), data.get("items"))
            return json_response({"posted": len(posted)})
        return json_response({"error": f"unknown control {action}"}, 404)
