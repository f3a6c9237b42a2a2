"""Which database errors mean "the database cannot take this now" (the sender should retry).

A delivery is answered 503 only when the database is unreachable or too busy: a refused or
lost connection, a pool that hands out no connection, a lock or statement timeout, a
deadlock, a full disk. A ``DataError`` (a value the column cannot hold) or an
``IntegrityError`` belongs to the row that caused it; counting it as an outage would answer
503 to every delivery of its batch, and the sender would retry a bad delivery forever.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout


def database_unavailable(error: BaseException) -> bool:
    """True when ``error`` says the database could not take the write (retry later)."""
    if isinstance(error, PoolTimeout | DisconnectionError):
        return True
    if isinstance(error, DBAPIError):
        return error.connection_invalidated or isinstance(error, OperationalError | InterfaceError)
    return False
