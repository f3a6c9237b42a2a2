"""The one interface every supplier adapter implements.

Adapters translate between our value objects (integrator.domain.model) and one supplier's
HTTP API and callbacks. They hold no state beyond their HTTP client; the contract test suite in
tests/suppliers/test_contract.py runs every adapter against its sandbox.

One parse path for every supplier payload: :meth:`SupplierAdapter.parse_payload` reads a
callback body *or* an order as the supplier's GET-order endpoint answers it (it tells which)
and returns :class:`ParsedPayload` (its kind and its events). The callback endpoint and job
(``parse_callback``), status polls (``fetch_status`` → ``order_events``) and
``integrator suppliers explain`` all go through it, so what explain prints is what production
does. Adapters implement four small methods: ``is_callback``, ``callback_events``,
``unwrap_order`` and ``order_events``; ``complete_events`` (supplier calls an event needs
before it can be applied, e.g. fetching a shipment's items) runs outside any transaction.
"""

from __future__ import annotations

import abc
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar

import requests
from limits.storage import Storage

from integrator.domain.model import (
    EventKind,
    SupplierEvent,
    SupplierLine,
    SupplierOrderRequest,
    SupplierOrderResult,
)
from integrator.domain.stages import Stage
from integrator.suppliers.errors import CallbackPayloadError, SupplierRejected
from integrator.suppliers.http import (
    DEFAULT_TIMEOUT_SECONDS,
    CircuitBreaker,
    RateLimiter,
    SupplierHttp,
    circuit_breaker,
    rate_limiter,
)
from integrator.suppliers.reference import SAFE_CHARACTERS, external_reference

TOKEN_QUERY_PARAM = "token"
TOKEN_HEADER = "X-Integrator-Token"

# words suppliers use when an item cannot be made or sent by them but maybe by someone else
REROUTABLE_WORDS = (
    "out of stock",
    "out_of_stock",
    "outofstock",
    "discontinued",
    "not available",
    "unavailable",
    "restricted",
    "does not ship",
    "cannot be shipped",
    "not shippable",
    "not supported for",
    "not served",
    "not available in",
)


class PayloadKind(StrEnum):
    CALLBACK = "callback"  # a body the supplier posts to our callback URL
    ORDER = "order"  # an order as the supplier's GET-order endpoint answers it


@dataclass(frozen=True)
class ParsedPayload:
    """What one supplier payload means, in our vocabulary."""

    kind: PayloadKind
    events: tuple[SupplierEvent, ...]

    @property
    def reference(self) -> str | None:
        """Our external reference, as the first event that names one gives it."""
        return next((e.external_ref for e in self.events if e.external_ref), None)

    @property
    def supplier_order_id(self) -> str | None:
        return next((e.supplier_order_id for e in self.events if e.supplier_order_id), None)


class CancelResult(StrEnum):
    CANCELLED = "cancelled"
    TOO_LATE = "too_late"  # already in production or shipped
    NOT_FOUND = "not_found"


@dataclass(frozen=True)
class CancelOutcome:
    result: CancelResult
    reason: str = ""


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    detail: str


@dataclass(frozen=True)
class RegistrationResult:
    registered: bool
    # what a person must do by hand when the API cannot register the callback
    manual_steps: str = ""
    detail: str = ""


@dataclass(frozen=True)
class CallbackResponse:
    status: int = 200
    body: str = ""
    content_type: str = "text/plain"


def constant_time_equal(given: str | None, expected: str | None) -> bool:
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def header(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive header lookup on a plain mapping."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


class SupplierAdapter(abc.ABC):
    """One supplier's API behind our vocabulary.

    Class attributes each adapter sets: ``KEY`` (registry key), ``STATUS_MAP`` (every status
    word the supplier uses → our Stage), ``MAX_REFERENCE_LENGTH`` and ``REFERENCE_CHARACTERS``
    (limits on our external reference), ``RATE_LIMIT_PER_MINUTE`` (published limit; the
    ``rate_limit_per_minute`` option overrides it for an account the supplier allows more).
    """

    KEY: ClassVar[str]
    DEFAULT_BASE_URL: ClassVar[str]
    STATUS_MAP: ClassVar[Mapping[str, Stage]]
    MAX_REFERENCE_LENGTH: ClassVar[int] = 32
    REFERENCE_CHARACTERS: ClassVar[str] = SAFE_CHARACTERS
    RATE_LIMIT_PER_MINUTE: ClassVar[int] = 120
    REROUTABLE_CODES: ClassVar[frozenset[str]] = frozenset()
    # False when the supplier's API offers no way to find an order by our reference
    # (Printify): ``fetch_status(external_ref=...)`` then finds nothing
    FINDS_BY_REFERENCE: ClassVar[bool] = True
    # True when ``submit`` looks our reference up and creates when nothing is found, with
    # nothing at the supplier refusing a second order for the same reference (Gelato): a
    # look-up made while the supplier is still making a lost create's order finds nothing
    LOOKUP_CAN_MISS_A_CREATE_IN_PROGRESS: ClassVar[bool] = False

    def __init__(
        self,
        name: str,
        options: Mapping[str, Any],
        *,
        base_url: str | None = None,
        session: requests.Session | None = None,
        breaker: CircuitBreaker | None = None,
        limiter: RateLimiter | None = None,
        limits_storage: Storage | None = None,
        get_wait_seconds: float = 0.2,
    ) -> None:
        self.name = name
        self.options = options
        per_minute = int(options.get("rate_limit_per_minute") or self.RATE_LIMIT_PER_MINUTE)
        self.http = SupplierHttp(
            name,
            base_url or self.DEFAULT_BASE_URL,
            session=session or requests.Session(),
            headers=self.auth_headers(),
            describe_error=self.describe_error,
            is_reroutable=self.rejection_is_reroutable,
            limiter=limiter or rate_limiter(name, per_minute, limits_storage),
            breaker=breaker or circuit_breaker(name, limits_storage),
            timeout_seconds=float(options.get("timeout_seconds") or DEFAULT_TIMEOUT_SECONDS),
            get_wait_seconds=get_wait_seconds,
        )

    @property
    def breaker(self) -> CircuitBreaker:
        return self.http.breaker

    @property
    def create_settle_seconds(self) -> float:
        """How long after sending a create that got no definite answer the supplier may still
        be making the order: our read timeout, then ``lookup_delay_seconds`` more (default:
        the timeout again). 0 where the supplier itself refuses a second order for our
        reference, so that a retry can never double it whenever it runs."""
        if not self.LOOKUP_CAN_MISS_A_CREATE_IN_PROGRESS:
            return 0.0
        timeout = float(self.options.get("timeout_seconds") or DEFAULT_TIMEOUT_SECONDS)
        delay = self.options.get("lookup_delay_seconds")
        return timeout + (float(delay) if delay is not None else timeout)

    def can_take_work(self) -> bool:
        """False while the supplier's circuit is open after repeated outages: a call now would
        be refused here without reaching the supplier."""
        return not self.http.breaker.is_open()

    # --- HTTP details -------------------------------------------------------------------------

    @abc.abstractmethod
    def auth_headers(self) -> dict[str, str]: ...

    def describe_error(self, status: int, body: Any) -> tuple[str, str]:
        """(code, reason) from an error body; adapters override for their envelope."""
        if isinstance(body, dict):
            message = body.get("message") or body.get("error") or body
            return str(body.get("code", status)), str(message)
        return str(status), str(body or "")

    # --- orders -------------------------------------------------------------------------------

    @abc.abstractmethod
    def submit(self, request: SupplierOrderRequest) -> SupplierOrderResult:
        """Create the order, or find the one already made for ``request.external_ref``."""

    @abc.abstractmethod
    def cancel(self, supplier_order_id: str) -> CancelOutcome: ...

    @abc.abstractmethod
    def fetch_status(
        self, *, supplier_order_id: str | None = None, external_ref: str | None = None
    ) -> list[SupplierEvent]:
        """Current stage of the order (and items) plus every shipment, for reconciliation."""

    def locate_order(
        self,
        supplier_order_id: str | None,
        external_ref: str | None,
        by_id: Callable[[str], dict[str, Any]],
        by_reference: Callable[[str], dict[str, Any] | None],
    ) -> dict[str, Any] | None:
        """The supplier's order for a status poll: by its id, else by our reference."""
        if supplier_order_id:
            return by_id(supplier_order_id)
        if external_ref:
            return by_reference(external_ref)
        raise ValueError("need supplier_order_id or external_ref")

    def status_event(self, order: Mapping[str, Any]) -> SupplierEvent:
        """The order-level stage a poll found (``id``, ``status``, ``external_id`` keys)."""
        status = text(order.get("status"))
        return SupplierEvent(
            kind=EventKind.STATUS,
            event_id=f"poll:{order['id']}:{status}",
            supplier_order_id=text(order["id"]),
            external_ref=order.get("external_id"),
            stage=self.stage_for(status),
            raw_status=status,
        )

    # --- payloads: callbacks and GET-order answers ---------------------------------------------

    def verify_callback(
        self, headers: Mapping[str, str], body: bytes, query: Mapping[str, str]
    ) -> bool:
        """Default: our secret token in the ``token`` query parameter or X-Integrator-Token.
        Each supplier's rule is in docs/adding-a-supplier.md ("What proves a callback")."""
        return self.token_matches(headers, query)

    def parse_payload(self, body: bytes) -> ParsedPayload:
        """A callback body or a GET-order answer (detected) → its kind and events.

        Raise CallbackPayloadError when the body is neither, or lacks what it needs."""
        payload = json_object(body)
        if self.is_callback(payload):
            return ParsedPayload(PayloadKind.CALLBACK, tuple(self.callback_events(payload)))
        order = self.unwrap_order(payload)
        if order is None:
            raise CallbackPayloadError(
                f"neither a {self.KEY} callback nor a {self.KEY} order as its API returns it"
            )
        return ParsedPayload(PayloadKind.ORDER, tuple(self.order_events(order)))

    def parse_callback(self, body: bytes) -> list[SupplierEvent]:
        """The events of a callback body; CallbackPayloadError for anything else."""
        parsed = self.parse_payload(body)
        if parsed.kind is not PayloadKind.CALLBACK:
            raise CallbackPayloadError("an order as the supplier's API returns it, not a callback")
        return list(parsed.events)

    @abc.abstractmethod
    def is_callback(self, payload: Mapping[str, Any]) -> bool:
        """True when ``payload`` has the supplier's callback envelope."""

    @abc.abstractmethod
    def callback_events(self, payload: Mapping[str, Any]) -> list[SupplierEvent]:
        """Events of one callback; CallbackPayloadError when a field it needs is missing."""

    @abc.abstractmethod
    def unwrap_order(self, payload: Mapping[str, Any]) -> Mapping[str, Any] | None:
        """The order inside a GET-order answer (its envelope removed), or None if it is none."""

    @abc.abstractmethod
    def order_events(self, order: Mapping[str, Any]) -> list[SupplierEvent]:
        """The order's current stage (per item where the supplier says) and every shipment,
        with stable poll event ids so reconciliation can run any number of times."""

    def complete_events(self, events: Sequence[SupplierEvent]) -> list[SupplierEvent]:
        """Supplier calls events need before they can be applied (fetch a shipment's items,
        confirm a draft that came back from cost calculation; name the lines behind Printify's
        SKUs; every item of a Gelato parcel). The pipeline runs this outside any database
        transaction; a RetryableSupplierError retries the job. Default: none."""
        return list(events)

    def callback_response(self) -> CallbackResponse:
        return CallbackResponse()

    def resolve_shipment_items(
        self, event: SupplierEvent, lines: Sequence[SupplierLine]
    ) -> SupplierEvent:
        """Complete a shipment's items from the lines we submitted.

        The pipeline calls this before applying a shipment event. Quantity 0 means the
        supplier named the item but not how many (Gelato): the line's quantity is used.
        Suppliers that name items their own way (Printify SKUs) override this."""
        shipment = event.shipment
        if shipment is None or all(item.quantity for item in shipment.items):
            return event
        quantities = {line.line_item_id: line.quantity for line in lines}
        items = tuple(
            replace(item, quantity=item.quantity or quantities.get(item.line_item_id, 0))
            for item in shipment.items
        )
        return replace(event, shipment=replace(shipment, items=items))

    # --- setup --------------------------------------------------------------------------------

    @abc.abstractmethod
    def check_credentials(self) -> CheckResult: ...

    @abc.abstractmethod
    def register_callback(self, url: str) -> RegistrationResult: ...

    def registration_warning(self, url: str) -> str | None:
        """What registering ``url`` would replace or break, said before it is done (None:
        nothing). ``integrator suppliers setup`` asks before going on."""
        return None

    # --- classification -----------------------------------------------------------------------

    def rejection_is_reroutable(self, error: SupplierRejected) -> bool:
        """True when another supplier could serve the item (stock, region, discontinued)."""
        if error.code in self.REROUTABLE_CODES:
            return True
        reason = error.reason.lower()
        return any(word in reason for word in REROUTABLE_WORDS)

    def stage_for(self, raw_status: str) -> Stage:
        """Unknown words are logged upstream and treated as 'submitted', which never moves an
        item backwards through the forward-only state machine."""
        return self.STATUS_MAP.get(raw_status, Stage.SUBMITTED)

    def reference_for(self, shop: str, order_id: str) -> str:
        return external_reference(
            shop, order_id, self.name, self.MAX_REFERENCE_LENGTH, self.REFERENCE_CHARACTERS
        )

    # --- helpers for subclasses ---------------------------------------------------------------

    @property
    def callback_secret(self) -> str:
        return str(self.options.get("callback_secret") or "")

    def token_matches(self, headers: Mapping[str, str], query: Mapping[str, str]) -> bool:
        secret = self.callback_secret
        given = query.get(TOKEN_QUERY_PARAM) or header(headers, TOKEN_HEADER)
        return constant_time_equal(given, secret)


def hmac_sha256_hex(key: bytes, body: bytes) -> str:
    """Hex HMAC-SHA256 of the raw body (Printful v2, Printify)."""
    return hmac.new(key, body, hashlib.sha256).hexdigest()


def json_object(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise CallbackPayloadError(f"callback body is not JSON: {error}") from error
    if not isinstance(data, dict):
        raise CallbackPayloadError("callback body is not a JSON object")
    return data


def require(data: Mapping[str, Any], key: str, kind: type[Any] = dict) -> Any:
    """Fetch a field a callback cannot do without, or raise CallbackPayloadError."""
    value = data.get(key)
    if not isinstance(value, kind):
        raise CallbackPayloadError(f"callback field {key!r} missing or not {kind.__name__}")
    return value


def from_unix(value: Any) -> datetime | None:
    """Unix seconds, as a number or as a string of digits (Printful's v1 document types
    ``shipped_at`` as a string "in unix timestamp" and gives an integer example)."""
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return datetime.fromtimestamp(value, tz=UTC)
    return None


def text(value: Any) -> str:
    """Supplier ids and tracking numbers arrive as ints or strings; we keep strings."""
    return "" if value is None else str(value)


def mapping(data: Mapping[str, Any], key: str) -> dict[str, Any]:
    """An optional nested object of a payload, or an empty one."""
    value = data.get(key)
    return value if isinstance(value, dict) else {}
