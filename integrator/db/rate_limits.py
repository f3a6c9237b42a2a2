"""A ``limits`` storage in our own database, so that every web process shares one count.

``limits`` (https://limits.readthedocs.io) brings the rate-limiting strategies and storages for
Redis, Memcached and others; it has none for SQL. This is the small piece it needs for its
fixed-window strategy: an atomic "add to this counter unless its window is over" as one
``INSERT … ON CONFLICT DO UPDATE … RETURNING`` on SQLite and PostgreSQL alike (ADR 0007).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from limits.storage import Storage
from sqlalchemy import Float, Insert, bindparam, case, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from integrator.db.database import Database
from integrator.db.models import RateLimitCounter

# every this many increments a process deletes counters whose window is over
PRUNE_EVERY = 200


class SqlRateLimitStorage(Storage):
    """Counters in ``rate_limit_counters``: key, hits, and when the window ends (epoch s)."""

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
        return int(removed)

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

    def _maybe_prune(self, now: float) -> None:
        with self._lock:
            self._increments += 1
            if self._increments % PRUNE_EVERY:
                return
        with self._db.write() as session:
            session.execute(delete(RateLimitCounter).where(RateLimitCounter.expires_at <= now))
