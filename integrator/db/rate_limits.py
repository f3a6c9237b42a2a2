"""A ``limits`` storage in our own database, so that every process shares one count.

``limits`` (https://limits.readthedocs.io) brings the rate-limiting strategies and storages for
Redis, Memcached and others; it has none for SQL. This is the small piece it needs for two of
its strategies (ADR 0007):

- fixed window (the console's failed sign-ins, the supplier circuit breakers): an atomic "add to
  this counter unless its window is over" as one ``INSERT … ON CONFLICT DO UPDATE … RETURNING``
  on SQLite and PostgreSQL alike;
- moving window (the supplier rate limiters: never more than N calls in any window, which no
  supplier's own counting can find fault with): one row per call in ``rate_limit_hits``,
  counted and added in one transaction that every process takes in turn for that key
  (``BEGIN IMMEDIATE`` on SQLite, a transaction-scoped advisory lock on PostgreSQL).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from limits.errors import StorageError
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.storage.base import MovingWindowSupport
from sqlalchemy import Connection, Float, Insert, bindparam, case, delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from integrator.db.database import Database
from integrator.db.models import RateLimitCounter, RateLimitHit

# every this many increments a process deletes counters whose window is over
PRUNE_EVERY = 200
_COUNTERS = select(RateLimitCounter.key, RateLimitCounter.hits, RateLimitCounter.expires_at).where(
    RateLimitCounter.key.in_(bindparam("keys", expanding=True))
)


class SqlRateLimitStorage(Storage, MovingWindowSupport):
    """Counters in ``rate_limit_counters``: key, hits, and when the window ends (epoch s);
    moving-window entries in ``rate_limit_hits``: key and time of each call (epoch s)."""

    STORAGE_SCHEME = None  # built directly, never from a URI

    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        super().__init__(wrap_exceptions=True)  # callers see limits.errors.StorageError
        self._db = db
        self._clock = clock
        self._increments = 0
        self._lock = threading.Lock()

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = self._clock()
        with self._db.write_connection() as connection:
            hits = connection.execute(
                self._increment(connection.dialect.name),
                {"key": key, "hits": amount, "expires_at": now + expiry, "now": now},
            )
            count = int(hits.scalar_one())
        self._maybe_prune(now)
        return count

    def get(self, key: str) -> int:
        with self._db.read() as session:
            row = session.execute(
                select(RateLimitCounter.hits, RateLimitCounter.expires_at).where(
                    RateLimitCounter.key == key
                )
            ).one_or_none()
        if row is None or row.expires_at <= self._clock():
            return 0
        return int(row.hits)

    def counters(self, keys: Sequence[str]) -> dict[str, tuple[int, float]]:
        """Live counters among ``keys`` in one read: key → (hits, expiry in epoch seconds).
        A supplier call needs three (breaker open, breaker failures, 429 hold): one query
        instead of three, each a transaction of its own (integrator/suppliers/http.py)."""
        try:
            with self._db.read_connection() as connection:
                rows = connection.execute(_COUNTERS, {"keys": list(keys)}).all()
        except SQLAlchemyError as error:  # as limits wraps the errors of its own methods
            raise StorageError(error) from error
        now = self._clock()
        return {
            str(row.key): (int(row.hits), float(row.expires_at))
            for row in rows
            if row.expires_at > now and row.hits > 0
        }

    def get_expiry(self, key: str) -> float:
        with self._db.read() as session:
            expires = session.scalar(
                select(RateLimitCounter.expires_at).where(RateLimitCounter.key == key)
            )
        now = self._clock()
        return float(expires) if expires is not None and expires > now else now

    def check(self) -> bool:
        try:
            self.get("__check__")
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        with self._db.write_connection() as connection:
            removed = connection.execute(delete(RateLimitCounter)).rowcount
            removed += connection.execute(delete(RateLimitHit)).rowcount
        return int(removed)

    # --- moving window --------------------------------------------------------------------

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        """Count ``amount`` calls now unless that makes more than ``limit`` in the last
        ``expiry`` seconds."""
        now = self._clock()
        with self._db.write_connection() as connection:
            self._serialise(connection, key)
            since = now - expiry
            counted = connection.execute(
                select(func.count())
                .select_from(RateLimitHit)
                .where(RateLimitHit.key == key, RateLimitHit.at > since)
            ).scalar_one()
            if counted + amount > limit:
                return False
            connection.execute(insert(RateLimitHit), [{"key": key, "at": now}] * amount)
            if self._due_for_pruning():
                connection.execute(
                    delete(RateLimitHit).where(RateLimitHit.key == key, RateLimitHit.at <= since)
                )
        return True

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        """(time of the oldest call still in the window, calls in the window)."""
        now = self._clock()
        with self._db.read() as session:
            oldest, counted = session.execute(
                select(func.min(RateLimitHit.at), func.count()).where(
                    RateLimitHit.key == key, RateLimitHit.at > now - expiry
                )
            ).one()
        return (float(oldest) if oldest is not None else now), int(counted)

    @staticmethod
    def _serialise(connection: Connection, key: str) -> None:
        # PostgreSQL: two processes must not both count 119 and both add one; SQLite's
        # BEGIN IMMEDIATE already lets one writer in at a time
        if connection.dialect.name == "postgresql":
            connection.execute(select(func.pg_advisory_xact_lock(func.hashtext(key))))

    def clear(self, key: str) -> None:
        with self._db.write() as session:
            session.execute(delete(RateLimitCounter).where(RateLimitCounter.key == key))

    def _increment(self, dialect: str) -> Insert:
        table: Any = RateLimitCounter.__table__
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = insert(table)
        new = statement.excluded
        # a window that is over starts again with this try; a live one only counts it
        over = table.c.expires_at <= bindparam("now", type_=Float)
        return statement.on_conflict_do_update(
            index_elements=[table.c.key],
            set_={
                "hits": case((over, new.hits), else_=table.c.hits + new.hits),
                "expires_at": case((over, new.expires_at), else_=table.c.expires_at),
            },
        ).returning(table.c.hits)

    def _due_for_pruning(self) -> bool:
        with self._lock:
            self._increments += 1
            return self._increments % PRUNE_EVERY == 0

    def _maybe_prune(self, now: float) -> None:
        if not self._due_for_pruning():
            return
        with self._db.write() as session:
            session.execute(delete(RateLimitCounter).where(RateLimitCounter.expires_at <= now))


def shared_storage(url: str, db: Database) -> Storage:
    """Where every process keeps its limits: the ``limits`` storage ``url`` names
    (``redis://…``; ``memory://`` keeps them per process, for comparisons), else our database.

    :raises ValueError: for a storage that cannot serve synchronous callers.
    """
    if not url:
        return SqlRateLimitStorage(db)
    storage = storage_from_string(url, wrap_exceptions=True)
    if not isinstance(storage, Storage):
        raise ValueError("RATE_LIMIT_STORAGE_URL: an async+ storage cannot serve this service")
    return storage


def process_storage() -> Storage:
    """Limits kept in this process only: tools that work offline, and tests."""
    return MemoryStorage(wrap_exceptions=True)
