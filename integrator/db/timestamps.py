"""One notion of "now" for rows: naive UTC, identical on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def as_utc(moment: datetime) -> datetime:
    """A time from outside (a supplier, Shopify) in the form rows store: naive UTC.

    An aware time is converted (``12:00+02:00`` is stored as ``10:00``); a naive one is
    taken as UTC already. Storing an aware time as it is would keep its wall clock on SQLite
    and shift it by the session's time zone on PostgreSQL."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)
