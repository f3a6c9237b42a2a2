"""Our external reference for a supplier order: deterministic from shop, order and supplier.

The same inputs always give the same reference, so a submission retried after a crash finds
the order it may already have created instead of making a second one. The reference keeps the
Shopify order id readable for people searching a supplier dashboard and ends with a short hash
of all three inputs, so two shops or two suppliers never share a reference.
"""

from __future__ import annotations

import hashlib
import string

# digits, Latin letters, dash and underscore: what Printful allows, and safe everywhere else
SAFE_CHARACTERS = string.ascii_letters + string.digits + "-_"
HASH_LENGTH = 10
MIN_LENGTH = HASH_LENGTH + 2


def external_reference(
    shop: str,
    order_id: str,
    supplier: str,
    max_length: int = 32,
    allowed: str = SAFE_CHARACTERS,
) -> str:
    if max_length < MIN_LENGTH:
        raise ValueError(f"max_length must be at least {MIN_LENGTH}")
    digest = hashlib.sha256(f"{shop}\n{order_id}\n{supplier}".encode()).hexdigest()
    suffix = "".join(c for c in digest if c in allowed)[:HASH_LENGTH]
    if len(suffix) < HASH_LENGTH:
        raise ValueError("allowed characters must include lowercase hex digits")
    separator = "-" if "-" in allowed else ("_" if "_" in allowed else "")
    readable = "".join(c for c in order_id if c in allowed)
    room = max_length - len(suffix) - len(separator)
    # keep the end of the order id: Shopify ids differ in their last digits
    readable = readable[-room:] if room > 0 else ""
    return f"{readable}{separator}{suffix}" if readable else suffix
