"""Engines and transactions for SQLite (WAL, BEGIN IMMEDIATE) and PostgreSQL.

Every write transaction on SQLite starts with ``BEGIN IMMEDIATE``: a deferred transaction that
reads and then writes gets SQLITE_BUSY at once, ignoring the busy timeout, when another writer
committed in between (https://sqlite.org/lang_transaction.html). Read-only work uses
:meth:`Database.read`, which begins deferred so that readers never wait for writers.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, exc, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 30_000
# a pooled PostgreSQL connection unused for this long is pinged before it is handed out
IDLE_PING_SECONDS = 2.0
# set in a session's or connection's ``info`` by an enqueue (integrator/jobqueue/jobs.py)
ENQUEUED_IN = "integrator.jobs_enqueued_in"


class SqliteWriteLock:
    """SQLite has one writer. Threads of this process queue on a re-entrant lock, and the
    outermost holder then queues with the writers of every other process (web role, other
    workers) on an ``flock`` of ``<database>.writelock``: the kernel hands the lock over the
    moment it is released. Without it, processes met only at ``BEGIN IMMEDIATE``, whose busy
    handler sleeps in steps of up to 100 ms while the database may already be free, holding
    up this process's other threads meanwhile. SQLite's own locking stays the authority; the
    busy timeout still covers writers that bypass this lock."""

    def __init__(self, path: str | None) -> None:
        self._threads = threading.RLock()
        self._path = path
        self._fd: int | None = None
        self._pid = 0
        self._depth = 0
        self._locked = False

    def __enter__(self) -> None:
        self._threads.acquire()
        self._depth += 1
        if self._depth > 1:
            return
        try:
            descriptor = self._file()
            if descriptor is not None:
                fcntl.flock(descriptor, fcntl.LOCK_EX)
                self._locked = True
        except BaseException:
            self._depth -= 1
            self._threads.release()
            raise

    def __exit__(self, *_exc: object) -> None:
        self._depth -= 1
        if self._depth == 0 and self._locked and self._fd is not None:
            self._locked = False
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._threads.release()

    def _file(self) -> int | None:
        """The lock file, opened once per process (a descriptor inherited through fork would
        share its lock); None when it cannot be made: SQLite then reports the real problem
        (a missing folder is "database unavailable", not a crash here)."""
        if self._path is None:
            return None
        if self._fd is None or self._pid != os.getpid():
            try:
                self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError:
                return None
            self._pid = os.getpid()
        return self._fd


_SQLITE_WRITE_LOCKS: dict[str, SqliteWriteLock] = {}
_SQLITE_WRITE_LOCKS_GUARD = threading.Lock()


def sqlite_write_lock(database: str | None) -> SqliteWriteLock:
    """One lock per database file in this process, shared by every Database object on it
    (so a thread nesting writes through two of them re-enters instead of deadlocking)."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return SqliteWriteLock(None)
    path = f"{Path(database).resolve()}.writelock"
    with _SQLITE_WRITE_LOCKS_GUARD:
        if path not in _SQLITE_WRITE_LOCKS:
            _SQLITE_WRITE_LOCKS[path] = SqliteWriteLock(path)
        return _SQLITE_WRITE_LOCKS[path]


class CommitSignal:
    """Calls its listeners after a transaction of this process that enqueued a job committed:
    the worker's wake-up within a process (docs/adr/0008)."""

    def __init__(self) -> None:
        self._listeners: list[Callable[[], None]] = []
        self._lock = threading.Lock()

    def subscribe(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Add ``listener``; return what removes it."""
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def fire(self) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener()


def normalise_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL whatever spelling the operator gave."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # let us issue BEGIN ourselves instead of pysqlite's implicit deferred BEGIN
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        # FULL: an acknowledged webhook must survive a power loss, not only a crash
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        readonly = connection.get_execution_options().get("readonly", False)
        connection.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")


def _ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    """Ping a pooled connection before handing it out only if it sat unused for
    ``idle_seconds``: what a quiet pool loses to a database restart or an idle timeout.

    Instead of ``pool_pre_ping``, whose ``SELECT 1`` on every checkout cost the worker about
    0.5 ms of CPU per transaction, a third of a short transaction's own cost
    (bench/deployment.py). A connection in steady use that the server dropped fails its next
    statement instead: SQLAlchemy then invalidates the whole pool, and that one transaction
    fails as any transaction caught by an outage does (the job is retried, the webhook gets
    its 503)."""

    @event.listens_for(engine.pool, "checkin")
    def on_checkin(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.pool, "checkout")
    def on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < idle_seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:  # noqa: BLE001 - any failure means a dead connection
            # the pool replaces this connection and every one made before it, then retries
            raise exc.InvalidatePoolError() from error


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        )
        _configure_sqlite(engine)
        return engine
    engine = create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        # the most recently used connection first: the busy ones stay warm (no ping), the
        # spare ones go idle and are pinged when next needed
        pool_use_lifo=True,
        connect_args={"connect_timeout": 5},
    )
    _ping_when_idle(engine, IDLE_PING_SECONDS)
    return engine


class Database:
    """The engine plus session factories; the only way code gets a transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.is_sqlite = engine.dialect.name == "sqlite"
        # SQLite has one writer: writers queue for it here instead of polling SQLite's busy
        # handler (see SqliteWriteLock). Re-entrant, so a nested write cannot deadlock itself.
        self._write_lock: SqliteWriteLock | nullcontext[None] = (
            sqlite_write_lock(engine.url.database) if self.is_sqlite else nullcontext()
        )
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._read_engine = engine.execution_options(readonly=True)
        self._read_sessions = sessionmaker(self._read_engine, expire_on_commit=False)
        self.jobs_committed = CommitSignal()
        self._before_dispose: list[Callable[[], None]] = []

    @classmethod
    def from_url(cls, url: str) -> Database:
        return cls(make_engine(url))

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction: committed on exit, rolled back on error."""
        with self._write_lock, self._sessions.begin() as session:
            yield session
        if session.info.pop(ENQUEUED_IN, None) is not None:
            self.jobs_committed.fire()

    @contextmanager
    def write_connection(self) -> Iterator[Connection]:
        """A Core write transaction (no ORM): for the hot paths, the queue and the inbox."""
        with self._write_lock, self.engine.begin() as connection:
            try:
                yield connection
            finally:
                # the DBAPI connection's info outlives this checkout: never leave the mark
                enqueued = connection.info.pop(ENQUEUED_IN, None) is not None
        if enqueued:
            self.jobs_committed.fire()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only transaction (deferred on SQLite, so it never waits for writers)."""
        with self._read_sessions.begin() as session:
            yield session

    @contextmanager
    def read_connection(self) -> Iterator[Connection]:
        """A Core read-only transaction (no ORM session to build): for hot reads."""
        with self._read_engine.begin() as connection:
            yield connection

    def ping(self) -> bool:
        """Say whether the database answers."""
        try:
            with self.engine.execution_options(readonly=True).connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception:  # noqa: BLE001 - any failure means "not reachable"
            return False
        return True

    def before_dispose(self, release: Callable[[], None]) -> None:
        """Call ``release`` when this database is disposed: for a connection kept checked out
        between uses (the inbox writer's), which the pool's dispose would not close."""
        self._before_dispose.append(release)

    def dispose(self) -> None:
        for release in self._before_dispose:
            release()
        self.engine.dispose()
