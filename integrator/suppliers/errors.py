"""Named errors every supplier adapter raises, so callers never see ``requests`` exceptions.

    SupplierError                 anything that went wrong talking to a supplier
    ├── RetryableSupplierError    try the same call later: connection refused, timeout,
    │                             429 (``retry_after`` seconds when the supplier said),
    │                             5xx, our own circuit breaker or rate limiter saying "not now"
    ├── SupplierRejected          the supplier answered 4xx and will answer the same again:
    │                             carries its ``code`` and ``reason``, and ``reroutable`` when
    │                             another supplier could serve the item (out of stock,
    │                             region not served, discontinued)
    ├── SupplierAuthError         401/403: credentials are wrong or lack a scope
    ├── SupplierRequestIncomplete our request lacks what the supplier documents as required
    │                             (Gelato's shippingAddress.email): raised before any call,
    │                             so nothing was sent; the items wait for a person
    └── CallbackPayloadError      a callback body we cannot understand (answer 400)

The job queue retries whole submissions on ``RetryableSupplierError`` only; a rejection
goes to the fallback supplier when ``reroutable``, otherwise the item fails with the reason.
"""

from __future__ import annotations

from typing import Any


class SupplierError(Exception):
    def __init__(self, message: str, *, supplier: str = "", status: int | None = None) -> None:
        super().__init__(message)
        self.supplier = supplier
        self.status = status


class RetryableSupplierError(SupplierError):
    def __init__(
        self,
        message: str,
        *,
        supplier: str = "",
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, supplier=supplier, status=status)
        self.retry_after = retry_after


class SupplierRejected(SupplierError):
    def __init__(
        self,
        reason: str,
        *,
        supplier: str = "",
        status: int | None = None,
        code: str = "",
        reroutable: bool = False,
        body: Any = None,
    ) -> None:
        super().__init__(f"{code}: {reason}" if code else reason, supplier=supplier, status=status)
        self.code = code
        self.reason = reason
        self.reroutable = reroutable
        # the parsed error body, for answers that carry more than a reason (Printify's 409)
        self.body = body


class SupplierAuthError(SupplierError):
    pass


class SupplierRequestIncomplete(SupplierError):
    """``reason`` names each missing or invalid field, in the supplier's words."""

    def __init__(self, reason: str, *, supplier: str = "") -> None:
        super().__init__(reason, supplier=supplier)
        self.reason = reason


class CallbackPayloadError(SupplierError):
    pass
