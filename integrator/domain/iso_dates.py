"""Reading the ISO 8601 times Shopify and the suppliers send."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def parse_iso(value: Any) -> datetime | None:
    """``2026-11-22T03:00:00Z`` (or with an offset, or naive) as a datetime; None for anything
    that is not such a string: an absent or malformed time is unknown, never an error."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
