"""The worker: claims jobs, runs their handlers outside any transaction, records the outcome.

Each thread claims one job at a time. A heartbeat thread extends the lease of every job in
flight; a rescuer requeues jobs whose worker died. On SIGTERM the worker stops claiming,
lets running handlers finish (up to a grace period) and releases nothing half-done: a job
still running when the process exits keeps its lease until it expires and is rescued.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from integrator.db.database import Database
from integrator.jobqueue import jobs
from integrator.jobqueue.errors import RetryableJobError, RetryLater, TerminalJobError

log = logging.getLogger(__name__)


@dataclass
class JobContext:
    job: jobs.ClaimedJob
    db: Database

    @property
    def payload(self) -> dict[str, object]:
        return self.job.payload


Handler = Callable[[JobContext], None]
JobObserver = Callable[[str, str, float], None]  # (kind, outcome, seconds)


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class Worker:
    db: Database
    handlers: Mapping[str, Handler]
    threads: int = 1
    lease_seconds: float = 60.0
    poll_interval: float = 0.5
    worker_id: str = field(default_factory=new_worker_id)
    kinds: Sequence[str] | None = None
    observe: JobObserver | None = None
    shutdown_grace: float = 30.0

    def __post_init__(self) -> None:
        self._stopping = threading.Event()
        self._in_flight: dict[int, jobs.ClaimedJob] = {}
        self._lock = threading.Lock()

    # --- one job ------------------------------------------------------------------------

    def process(self, job: jobs.ClaimedJob) -> str:
        """Run one claimed job and record its outcome; return the job's new status."""
        handler = self.handlers.get(job.kind)
        started = time.monotonic()
        with self._lock:
            self._in_flight[job.id] = job
        try:
            if handler is None:
                raise TerminalJobError(f"no handler for job kind {job.kind!r}")
            handler(JobContext(job=job, db=self.db))
        except RetryLater as wait:
            outcome = "snoozed" if jobs.snooze(self.db, job, wait.seconds, wait.reason) else "lost"
        except TerminalJobError as error:
            log.warning(
                "job.dead", extra={"job_id": job.id, "kind": job.kind, "reason": str(error)}
            )
            outcome = jobs.fail(self.db, job, str(error), retryable=False)
        except RetryableJobError as error:
            outcome = jobs.fail(
                self.db, job, str(error), retryable=True, retry_after=error.retry_after
            )
            log.info("job.retry", extra={"job_id": job.id, "kind": job.kind, "outcome": outcome})
        except Exception as error:  # noqa: BLE001 - a bug gets its attempts, then dead
            log.exception("job.error", extra={"job_id": job.id, "kind": job.kind})
            outcome = jobs.fail(self.db, job, f"{type(error).__name__}: {error}", retryable=True)
        else:
            outcome = "done" if jobs.ack(self.db, job) else "lost"
        finally:
            with self._lock:
                self._in_flight.pop(job.id, None)
        if self.observe is not None:
            self.observe(job.kind, outcome, time.monotonic() - started)
        return outcome

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

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def _loop(self) -> None:
        idle_sleep = 0.01
        while not self._stopping.is_set():
            try:
                ran = self.run_once()
            except Exception:  # noqa: BLE001 - database hiccup: wait and try again
                log.exception("worker.claim_failed")
                ran = 0
            if ran:
                idle_sleep = 0.01
                continue
            self._stopping.wait(idle_sleep)
            idle_sleep = min(idle_sleep * 2, self.poll_interval)

    def _heartbeat(self) -> None:
        interval = self.lease_seconds / 3
        while True:
            if self._stopping.wait(interval):
                time.sleep(min(interval, 1.0))  # draining: keep beating for running handlers
            with self._lock:
                current = list(self._in_flight.values())
            if self._stopping.is_set() and not current:
                return
            for job in current:
                try:
                    jobs.extend_lease(self.db, job, self.lease_seconds)
                except Exception:  # noqa: BLE001 - next beat tries again
                    log.warning("worker.heartbeat_failed", extra={"job_id": job.id})

    def _rescuer(self) -> None:
        while not self._stopping.wait(max(self.lease_seconds / 2, 0.5)):
            try:
                requeued, dead = jobs.rescue_expired(self.db)
            except Exception:  # noqa: BLE001
                log.warning("worker.rescue_failed")
                continue
            if requeued or dead:
                log.info("jobs.rescued", extra={"requeued": requeued, "dead": dead})

    def run(self) -> None:
        """Run until :meth:`stop`; then let running handlers finish for ``shutdown_grace``."""
        log.info("worker.start", extra={"worker_id": self.worker_id, "threads": self.threads})
        workers = [
            threading.Thread(target=self._loop, name=f"worker-{n}", daemon=True)
            for n in range(self.threads)
        ]
        helpers = [
            threading.Thread(target=self._heartbeat, name="heartbeat", daemon=True),
            threading.Thread(target=self._rescuer, name="rescuer", daemon=True),
        ]
        for thread in workers + helpers:
            thread.start()
        self._stopping.wait()
        deadline = time.monotonic() + self.shutdown_grace
        for thread in workers:
            thread.join(max(deadline - time.monotonic(), 0))
        log.info(
            "worker.stop", extra={"worker_id": self.worker_id, "unfinished": len(self._in_flight)}
        )
