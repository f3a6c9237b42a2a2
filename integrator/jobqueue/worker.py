"""The worker: one dispatcher claims jobs in batches and hands them to a pool of threads.

Why (docs/adr/0008): when each of N threads claimed its own job, every claim and every ack
was a write transaction of its own, the threads queued for the write lock and, when idle,
polled; 4 threads ran fewer jobs than 1. Here one dispatcher thread per process

* claims as many jobs as there are free threads (plus as many again to keep them busy) in one
  transaction, and in that same transaction marks done the jobs finished since its last turn;
* sleeps when nothing is due until it is woken: by this process's own enqueues (after their
  commit), by PostgreSQL ``NOTIFY`` or, on SQLite, by ``PRAGMA data_version`` moving (another
  process committed), by a handler finishing, or at the next job's ``run_at``.

The handlers run in the pool, outside any transaction. A failure, retry or snooze is recorded
at once by the thread that ran the job. A heartbeat extends the lease of every job this
worker holds (claimed, running or awaiting its ack); a rescuer requeues the jobs of dead
workers. Every write about a job is fenced on the claim (id, owner, attempts), so a claim
that lost its lease changes nothing. On SIGTERM the worker stops claiming, gives back the
jobs it claimed but never started, lets running handlers finish (up to a grace period) and
acks them; a job still running when the process exits keeps its lease until it is rescued.
"""

from __future__ import annotations

import itertools
import logging
import os
import queue
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from integrator.db.database import Database
from integrator.db.timestamps import utcnow
from integrator.jobqueue import jobs
from integrator.jobqueue.errors import RetryableJobError, RetryLater, TerminalJobError
from integrator.jobqueue.status import JobStatus

log = logging.getLogger(__name__)

SQLITE_WATCH_SECONDS = 0.02  # how often an idle SQLite worker looks at PRAGMA data_version
LISTEN_TIMEOUT_SECONDS = 1.0


@dataclass
class JobContext:
    job: jobs.ClaimedJob
    db: Database

    @property
    def payload(self) -> dict[str, object]:
        return self.job.payload


Handler = Callable[[JobContext], None]
JobObserver = Callable[[str, str, float, float], None]  # (kind, outcome, seconds, cpu seconds)


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class _Finished:
    job: jobs.ClaimedJob
    seconds: float
    cpu_seconds: float


@dataclass
class Worker:
    db: Database
    handlers: Mapping[str, Handler]
    threads: int = 1
    lease_seconds: float = 60.0
    # the longest an idle worker sleeps without a wake-up (a safety net: wake-ups do the work)
    poll_interval: float = 1.0
    worker_id: str = field(default_factory=new_worker_id)
    kinds: Sequence[str] | None = None
    observe: JobObserver | None = None
    shutdown_grace: float = 30.0
    prefetch: int | None = None  # jobs claimed beyond the free threads (default: threads)

    def __post_init__(self) -> None:
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._maybe_due = True  # claim at the next turn
        self._look = True  # read when the next job is due before sleeping
        self._next_due: datetime | None = None
        self._lock = threading.Lock()
        # keyed by claim, not job id: a job rescued and claimed again by this same worker is
        # a second claim, and the first one finishing must not stop the second's heartbeat
        self._in_flight: dict[tuple[int, int], jobs.ClaimedJob] = {}
        self._ready: queue.PriorityQueue[tuple[int, int, jobs.ClaimedJob | None]] = (
            queue.PriorityQueue()
        )
        self._finished: list[_Finished] = []
        self._running = 0
        self._order = itertools.count()

    # --- one job ------------------------------------------------------------------------

    def process(self, job: jobs.ClaimedJob) -> str:
        """Run one claimed job and record its outcome (ack included); return its new status."""
        started, cpu = time.monotonic(), time.thread_time()
        self._hold(job)
        try:
            outcome = self._run_handler(job)
            if outcome is None:
                outcome = JobStatus.DONE if jobs.ack(self.db, job) else "lost"
        finally:
            self._let_go(job)
        self._observe(job, outcome, time.monotonic() - started, time.thread_time() - cpu)
        return outcome

    def _run_handler(self, job: jobs.ClaimedJob) -> str | None:
        """Run the handler; record a failure or snooze at once. None: succeeded, ack due."""
        handler = self.handlers.get(job.kind)
        try:
            if handler is None:
                raise TerminalJobError(f"no handler for job kind {job.kind!r}")
            handler(JobContext(job=job, db=self.db))
        except RetryLater as wait:
            return "snoozed" if jobs.snooze(self.db, job, wait.seconds, wait.reason) else "lost"
        except TerminalJobError as error:
            log.warning(
                "job.dead", extra={"job_id": job.id, "kind": job.kind, "reason": str(error)}
            )
            return jobs.fail(self.db, job, str(error), retryable=False)
        except RetryableJobError as error:
            outcome = jobs.fail(
                self.db, job, str(error), retryable=True, retry_after=error.retry_after
            )
            log.info("job.retry", extra={"job_id": job.id, "kind": job.kind, "outcome": outcome})
            return outcome
        except Exception as error:  # noqa: BLE001 - a bug gets its attempts, then dead
            log.exception("job.error", extra={"job_id": job.id, "kind": job.kind})
            return jobs.fail(self.db, job, f"{type(error).__name__}: {error}", retryable=True)
        return None

    def _hold(self, job: jobs.ClaimedJob) -> None:
        with self._lock:
            self._in_flight[job.claim_key] = job

    def _let_go(self, job: jobs.ClaimedJob) -> None:
        with self._lock:
            self._in_flight.pop(job.claim_key, None)

    def _observe(self, job: jobs.ClaimedJob, outcome: str, seconds: float, cpu: float) -> None:
        if self.observe is not None:
            self.observe(job.kind, outcome, seconds, cpu)

    def run_once(self) -> int:
        """Claim and run at most one job in this thread; return how many ran (0 or 1)."""
        claimed = jobs.claim(
            self.db, self.worker_id, limit=1, lease_seconds=self.lease_seconds, kinds=self.kinds
        )
        for job in claimed:
            self.process(job)
        return len(claimed)

    def drain(self, *, max_jobs: int = 100_000, idle_rounds: int = 1) -> int:
        """Run due jobs until none is left (tests, demo, reconcile); return how many ran."""
        ran, idle = 0, 0
        while ran < max_jobs and idle < idle_rounds:
            if self.run_once():
                ran, idle = ran + 1, 0
            else:
                idle += 1
        return ran

    # --- the long-running process -----------------------------------------------------

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def wake(self) -> None:
        """A job was enqueued or requeued: claim at the dispatcher's next turn."""
        self._maybe_due = True
        self._wake.set()

    def _hint(self) -> None:
        """Something changed in the database (maybe a job): look with a read before claiming."""
        self._look = True
        self._wake.set()

    def _execute(self) -> None:
        """A pool thread: run the jobs the dispatcher hands over, most urgent first."""
        while True:
            _, _, job = self._ready.get()
            if job is None:
                return
            with self._lock:
                self._running += 1
            started, cpu = time.monotonic(), time.thread_time()
            try:
                outcome = self._run_handler(job)
            except Exception:  # noqa: BLE001 - recording the outcome failed (database down)
                # the job keeps its lease until it expires; the rescuer then runs it again
                log.exception("worker.outcome_failed", extra={"job_id": job.id, "kind": job.kind})
                outcome = "unrecorded"
            seconds, cpu = time.monotonic() - started, time.thread_time() - cpu
            with self._lock:
                self._running -= 1
                if outcome is None:
                    self._finished.append(_Finished(job, seconds, cpu))
                else:
                    self._in_flight.pop(job.claim_key, None)
            if outcome is not None:
                self._look = self._look or outcome in (
                    JobStatus.QUEUED,
                    "snoozed",
                )  # a later run_at
                self._observe(job, outcome, seconds, cpu)
            self._wake.set()

    def _turn(self, *, claiming: bool) -> None:
        """One transaction: ack what finished, claim what the pool has room for."""
        with self._lock:
            finished, self._finished = self._finished, []
            holding = len(self._in_flight) - len(finished)
        limit = 0
        if claiming and self._maybe_due and self._ready.qsize() < self.threads:
            limit = max(self._capacity - holding, 0)
        if not finished and not limit:
            return
        if limit:
            self._maybe_due = False  # a wake-up during this turn sets it again
        try:
            acked, claimed = jobs.ack_and_claim(
                self.db,
                [done.job for done in finished],
                self.worker_id,
                limit=limit,
                lease_seconds=self.lease_seconds,
                kinds=self.kinds,
            )
        except Exception:  # noqa: BLE001 - database hiccup: keep the acks, try again
            log.exception("worker.claim_failed")
            with self._lock:
                self._finished[:0] = finished
            self._maybe_due = self._maybe_due or bool(limit)
            self._stopping.wait(0.5)
            return
        if limit and len(claimed) == limit:
            self._maybe_due = True  # there may be more
        elif limit:
            self._look = True  # none due now: find when the next one is
        with self._lock:
            for done in finished:
                self._in_flight.pop(done.job.claim_key, None)
            for job in claimed:
                self._in_flight[job.claim_key] = job
        for job in claimed:
            self._ready.put((job.priority, next(self._order), job))
        for done, held in zip(finished, acked, strict=True):
            self._observe(
                done.job, JobStatus.DONE if held else "lost", done.seconds, done.cpu_seconds
            )

    @property
    def _capacity(self) -> int:
        return self.threads + (self.threads if self.prefetch is None else self.prefetch)

    def _has_room(self) -> bool:
        with self._lock:
            holding = len(self._in_flight)
        return self._ready.qsize() < self.threads and holding < self._capacity

    def _look_at_the_queue(self) -> None:
        """A read (no write lock): is a job due, and if not, when is the next one?"""
        self._look = False
        try:
            self._next_due = jobs.next_run_at(self.db, self.kinds)
        except Exception:  # noqa: BLE001 - the safety-net timer covers it
            self._next_due = None
        if self._next_due is not None and self._next_due <= utcnow():
            self._maybe_due = True

    def _sleep_until_woken(self) -> None:
        if self._look and not self._maybe_due:
            self._look_at_the_queue()
        if self._maybe_due and self._has_room():
            return
        timeout = self.poll_interval
        if self._next_due is not None:
            timeout = max(min(timeout, (self._next_due - utcnow()).total_seconds()), 0.001)
        if not self._wake.wait(timeout):
            self._look = True  # a quiet interval, or a job's run_at came: look again
            self._next_due = None

    def _dispatch(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()
            self._turn(claiming=True)
            self._sleep_until_woken()

    def _give_back_unstarted(self) -> None:
        unstarted: list[jobs.ClaimedJob] = []
        while True:
            try:
                _, _, job = self._ready.get_nowait()
            except queue.Empty:
                break
            if job is not None:
                unstarted.append(job)
        try:
            jobs.release_many(self.db, unstarted)
        except Exception:  # noqa: BLE001 - their leases expire and the rescuer requeues them
            log.warning("worker.release_failed", extra={"jobs": len(unstarted)})
        for job in unstarted:
            self._let_go(job)

    def _heartbeat(self) -> None:
        interval = self.lease_seconds / 3
        while True:
            if self._stopping.wait(interval):
                time.sleep(min(interval, 1.0))  # draining: keep beating for running handlers
            with self._lock:
                current = list(self._in_flight.values())
            if self._stopping.is_set() and not current:
                return
            if not current:
                continue
            try:
                jobs.extend_leases(self.db, current, self.lease_seconds)
            except Exception:  # noqa: BLE001 - next beat tries again
                log.warning("worker.heartbeat_failed", extra={"jobs": len(current)})

    def _rescuer(self) -> None:
        while not self._stopping.wait(max(self.lease_seconds / 2, 0.5)):
            try:
                requeued, dead = jobs.rescue_expired(self.db)
            except Exception:  # noqa: BLE001
                log.warning("worker.rescue_failed")
                continue
            if requeued or dead:
                log.info("jobs.rescued", extra={"requeued": requeued, "dead": dead})
                self.wake()

    def _listen_postgres(self) -> None:
        """Wake on every NOTIFY of an enqueue (sent by PostgreSQL when its transaction commits)."""
        while not self._stopping.is_set():
            try:
                raw = self.db.engine.raw_connection()
                connection: Any = raw.driver_connection
                raw.detach()  # a connection of its own, never handed back to the pool
                connection.autocommit = True
                try:
                    connection.execute(f"LISTEN {jobs.NOTIFY_CHANNEL}")
                    self.wake()  # anything enqueued before LISTEN
                    while not self._stopping.is_set():
                        for _ in connection.notifies(timeout=LISTEN_TIMEOUT_SECONDS, stop_after=1):
                            self.wake()
                finally:
                    connection.close()
            except Exception:  # noqa: BLE001 - the safety-net timer covers the gap
                log.warning("worker.listen_failed")
                self._stopping.wait(1.0)

    def _watch_sqlite(self) -> None:
        """Wake when another connection committed: ``PRAGMA data_version`` is a counter in
        shared memory, so reading it often costs microseconds and takes no lock."""
        raw = self.db.engine.raw_connection()
        connection: Any = raw.driver_connection
        raw.detach()  # a connection of its own, never handed back to the pool
        try:
            last = connection.execute("PRAGMA data_version").fetchone()[0]
            while not self._stopping.wait(SQLITE_WATCH_SECONDS):
                version = connection.execute("PRAGMA data_version").fetchone()[0]
                if version != last:
                    last = version
                    self._hint()
        except Exception:  # noqa: BLE001 - the safety-net timer covers the rest
            log.warning("worker.watch_failed")
        finally:
            connection.close()

    def run(self) -> None:
        """Run until :meth:`stop`; then let running handlers finish for ``shutdown_grace``."""
        log.info("worker.start", extra={"worker_id": self.worker_id, "threads": self.threads})
        unsubscribe = self.db.jobs_committed.subscribe(self.wake)
        pool = [
            threading.Thread(target=self._execute, name=f"worker-{n}", daemon=True)
            for n in range(self.threads)
        ]
        watcher = self._watch_sqlite if self.db.is_sqlite else self._listen_postgres
        waker = threading.Thread(target=watcher, name="wake-up", daemon=True)
        helpers = [
            threading.Thread(target=self._heartbeat, name="heartbeat", daemon=True),
            threading.Thread(target=self._rescuer, name="rescuer", daemon=True),
            waker,
        ]
        for thread in pool + helpers:
            thread.start()
        try:
            self._dispatch()
        finally:
            unsubscribe()
            self._shut_down(pool)
            waker.join(LISTEN_TIMEOUT_SECONDS + 1)  # its connection closed before we return
        log.info(
            "worker.stop", extra={"worker_id": self.worker_id, "unfinished": len(self._in_flight)}
        )

    def _shut_down(self, pool: list[threading.Thread]) -> None:
        self._give_back_unstarted()
        for _ in pool:
            self._ready.put((1 << 30, next(self._order), None))
        deadline = time.monotonic() + self.shutdown_grace
        while any(thread.is_alive() for thread in pool) and time.monotonic() < deadline:
            self._wake.wait(0.05)
            self._wake.clear()
            self._turn(claiming=False)
        self._turn(claiming=False)
