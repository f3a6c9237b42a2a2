"""Group commit for the inbox: many deliveries, one durable commit, each answered after it.

A webhook must not be acknowledged before it is stored, and with ``synchronous=FULL`` (SQLite)
or ``fsync`` (PostgreSQL) one commit per delivery caps a process at one delivery per disk
flush. Requests hand their write to one thread per process, which writes everything waiting
in a single transaction and then wakes each request with its own result.

One bad delivery never fails the others: when a batch's transaction fails for a reason other
than the database being unavailable (a value a column cannot hold, a constraint), each of its
items is written again in a transaction of its own, so only the item at fault gets the error.
When the database is unavailable, every waiter of the batch gets that error (and its 503).

The committer does not open the transaction itself: ``commit`` does, so that a writer may keep
a connection of its own between batches (:mod:`integrator.pipeline.postgres_inbox`) and give it
back through ``on_idle`` when no batch came for :data:`IDLE_SECONDS`.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy.engine import Connection

from integrator.db.database import Database
from integrator.db.errors import database_unavailable

Item = TypeVar("Item")
Result = TypeVar("Result")

MAX_BATCH = 64
# Shopify counts a delivery failed after 5 s (api-notes §1.3): answer 503 well before that, so
# that Shopify retries it, rather than let it time out on its side
ANSWER_TIMEOUT_SECONDS: float | None = 3.0  # None: wait for the commit (tests)
# a writer's connection is given back after this long without a batch
IDLE_SECONDS = 1.0


@dataclass
class _Pending(Generic[Item, Result]):
    item: Item
    future: Future[Result]


def in_transaction(
    db: Database, write: Callable[[Connection, Sequence[Item]], list[Result]]
) -> Callable[[Sequence[Item]], list[Result]]:
    """A batch commit that runs ``write`` in a write transaction of ``db`` of its own.

    ``write`` takes the whole batch (one result per item, in order), so that it can read
    what the items share once (e.g. each shop's status) instead of once per item.
    """

    def commit(items: Sequence[Item]) -> list[Result]:
        with db.write_connection() as connection:
            return write(connection, items)

    return commit


class GroupCommitter(Generic[Item, Result]):
    def __init__(
        self,
        commit: Callable[[Sequence[Item]], list[Result]],
        *,
        on_idle: Callable[[], None] | None = None,
        max_batch: int = MAX_BATCH,
    ) -> None:
        """``commit`` writes a batch in one transaction and returns one result per item, in
        order; it must have committed when it returns."""
        self._commit_items = commit
        self._on_idle = on_idle
        self._max_batch = max_batch
        self._waiting: queue.SimpleQueue[_Pending[Item, Result]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def submit(self, item: Item) -> Result:
        """Write ``item`` in the next batch; return its result once the batch is committed.

        :raises: whatever the batch's transaction raised (e.g. the database is down).
        """
        self._ensure_thread()
        pending: _Pending[Item, Result] = _Pending(item, Future())
        self._waiting.put(pending)
        return pending.future.result(timeout=ANSWER_TIMEOUT_SECONDS)

    def _ensure_thread(self) -> None:
        # started on first use, so that it lives in the process that serves (after a fork)
        if self._thread is not None and self._thread.is_alive():
            return
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="inbox-writer", daemon=True)
                self._thread.start()

    def _next_batch(self) -> list[_Pending[Item, Result]]:
        try:
            first = self._waiting.get(timeout=IDLE_SECONDS)
        except queue.Empty:
            if self._on_idle is not None:
                self._on_idle()
            first = self._waiting.get()
        batch = [first]
        while len(batch) < self._max_batch:
            try:
                batch.append(self._waiting.get_nowait())
            except queue.Empty:
                break
        return batch

    def _run(self) -> None:
        while True:
            batch = self._next_batch()
            try:
                self._commit(batch)
            except BaseException as error:  # noqa: BLE001 - every waiter must hear of it
                if len(batch) == 1 or database_unavailable(error):
                    for pending in batch:
                        pending.future.set_exception(error)
                    continue
                for pending in batch:  # find the item at fault: each alone, the others commit
                    try:
                        self._commit([pending])
                    except BaseException as alone:  # noqa: BLE001 - its waiter must hear of it
                        pending.future.set_exception(alone)

    def _commit(self, batch: list[_Pending[Item, Result]]) -> None:
        """Write ``batch`` in one transaction; results are handed out only after the commit."""
        results = self._commit_items([pending.item for pending in batch])
        for pending, result in zip(batch, results, strict=True):
            pending.future.set_result(result)
