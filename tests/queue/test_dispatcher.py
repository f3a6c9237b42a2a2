"""The worker's dispatcher: batch claims in priority order, acks in the claim's transaction,
wake-ups instead of polling, a clean stop, and a heartbeat that follows each claim."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import select, update

from integrator.db.database import Database
from integrator.db.models import Job
from integrator.db.timestamps import utcnow
from integrator.jobqueue import jobs
from integrator.jobqueue.errors import RetryableJobError
from integrator.jobqueue.worker import JobContext, Worker

PATIENCE = 20.0  # seconds a test waits for what should take milliseconds
NEVER_POLL = 600.0  # an idle worker's safety-net timer, longer than any test


def wait_for(condition: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + PATIENCE
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


@contextmanager
def running(worker: Worker) -> Iterator[Worker]:
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        yield worker
    finally:
        worker.stop()
        thread.join(PATIENCE)
        assert not thread.is_alive()


def statuses(db: Database) -> dict[int, tuple[str, int]]:
    with db.read() as session:
        rows = session.execute(select(Job.id, Job.status, Job.attempts)).all()
    return {row.id: (row.status, row.attempts) for row in rows}


def test_later_steps_of_started_work_are_claimed_before_new_deliveries(db: Database) -> None:
    with db.write() as session:
        delivery = jobs.enqueue(session, "shopify.delivery", {"delivery_id": 1})
        ingest = jobs.enqueue(session, "order.ingest", {"shop": "a", "order_id": "1"})
        submit = jobs.enqueue(session, "supplier.submit", {"supplier_order_id": 1})
        sync = jobs.enqueue(session, "shopify.sync_shipment", {"shipment_id": 1})
        reconcile = jobs.enqueue(session, "reconcile.stuck_items")

    claimed = [job.id for job in jobs.claim(db, "w", limit=5)]

    assert claimed == [sync, submit, ingest, delivery, reconcile]


def test_acks_and_the_next_claim_share_one_transaction_and_the_fence(db: Database) -> None:
    with db.write() as session:
        first, second, third = (jobs.enqueue(session, "noop") for _ in range(3))
    (a, b) = jobs.claim(db, "w", limit=2)
    stale = jobs.ClaimedJob(b.id, b.kind, b.payload, b.attempts - 1, b.max_attempts, "w")

    acked, claimed = jobs.ack_and_claim(db, [a, stale], "w", limit=5)

    assert acked == [True, False]
    assert [job.id for job in claimed] == [third]
    assert statuses(db) == {first: ("done", 1), second: ("running", 1), third: ("running", 1)}


def test_a_pool_runs_every_job_once_with_batched_claims(db: Database) -> None:
    seen: list[int] = []
    lock = threading.Lock()

    def record(context: JobContext) -> None:
        with lock:
            seen.append(context.job.id)

    with db.write() as session:
        ids = [job_id for _ in range(200) if (job_id := jobs.enqueue(session, "rec"))]
    with running(Worker(db, {"rec": record}, threads=4, poll_interval=NEVER_POLL)):
        assert wait_for(lambda: len(seen) >= 200)
    assert sorted(seen) == sorted(ids)
    assert set(statuses(db).values()) == {("done", 1)}


def test_an_idle_worker_wakes_for_a_job_enqueued_in_its_process(db: Database) -> None:
    ran = threading.Event()
    worker = Worker(db, {"ping": lambda _c: ran.set()}, threads=2, poll_interval=NEVER_POLL)
    with running(worker):
        time.sleep(0.2)  # the worker has claimed nothing and sleeps
        with db.write() as session:
            jobs.enqueue(session, "ping")
        assert ran.wait(PATIENCE)


def test_an_idle_worker_wakes_for_a_job_another_process_enqueued(database_url: str) -> None:
    """Another Database (its own engine and connections) stands for the web process: the
    worker hears of its commit through NOTIFY (PostgreSQL) or PRAGMA data_version (SQLite)."""
    ran = threading.Event()
    worker_db, web_db = Database.from_url(database_url), Database.from_url(database_url)
    worker = Worker(worker_db, {"ping": lambda _c: ran.set()}, poll_interval=NEVER_POLL)
    try:
        with running(worker):
            time.sleep(0.5)
            with web_db.write() as session:
                jobs.enqueue(session, "ping")
            assert ran.wait(PATIENCE)
    finally:
        worker_db.dispose()
        web_db.dispose()


def test_a_retry_runs_at_its_run_at_without_a_wake_up(db: Database) -> None:
    runs: list[int] = []

    def flaky(context: JobContext) -> None:
        runs.append(context.job.attempts)
        if len(runs) == 1:
            raise RetryableJobError("supplier timed out")

    with db.write() as session:
        jobs.enqueue(session, "flaky")
    worker = Worker(db, {"flaky": flaky}, poll_interval=NEVER_POLL)
    with running(worker):
        assert wait_for(lambda: len(runs) == 2)  # backoff of attempt 1: 1-2 s
    assert runs == [1, 2]
    assert set(statuses(db).values()) == {("done", 2)}


def test_stop_gives_back_claimed_jobs_that_never_started(db: Database) -> None:
    started = threading.Event()
    release = threading.Event()

    def slow(_context: JobContext) -> None:
        started.set()
        release.wait(PATIENCE)

    with db.write() as session:
        ids = [job_id for _ in range(4) if (job_id := jobs.enqueue(session, "slow"))]
    worker = Worker(db, {"slow": slow}, threads=1, prefetch=3, poll_interval=NEVER_POLL)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    assert started.wait(PATIENCE)
    worker.stop()
    queued = [("queued", 0)] * 3
    given_back = wait_for(lambda: [statuses(db)[i] for i in ids[1:]] == queued)
    release.set()
    thread.join(PATIENCE)

    assert given_back

    final = statuses(db)
    assert final[ids[0]] == ("done", 1)  # the running one finished and was acked
    assert [final[i] for i in ids[1:]] == [("queued", 0)] * 3  # no attempt spent


def test_the_heartbeat_keeps_the_new_claim_of_a_job_rescued_from_a_stalled_thread(
    db: Database,
) -> None:
    """Thread A's claim expires and is rescued; thread B of the same worker claims the job
    again (attempt 2) and runs long. A then finishes: B's lease must still be extended."""
    lease = 1.5
    second_claim_ran = threading.Event()
    extended = threading.Event()

    def handler(context: JobContext) -> None:
        job_id = context.job.id
        if context.job.attempts == 1:
            with db.write() as session:
                session.execute(
                    update(Job)
                    .where(Job.id == job_id)
                    .values(lease_until=utcnow() - timedelta(seconds=1))
                )
            assert jobs.rescue_expired(db) == (1, 0)
            worker.wake()
            assert second_claim_ran.wait(PATIENCE)
            return  # A finishes while B holds the job
        second_claim_ran.set()
        claimed_until = lease_until(db, job_id)
        if wait_for(lambda: lease_until(db, job_id) > claimed_until):
            extended.set()

    with db.write() as session:
        jobs.enqueue(session, "stall")
    worker = Worker(db, {"stall": handler}, threads=2, lease_seconds=lease)
    with running(worker):
        assert wait_for(lambda: set(statuses(db).values()) == {("done", 2)})
    assert extended.is_set()


def lease_until(db: Database, job_id: int) -> datetime:
    with db.read() as session:
        value = session.scalar(select(Job.lease_until).where(Job.id == job_id))
    return value or utcnow() - timedelta(days=1)


def test_a_shop_that_bursts_takes_turns_with_a_shop_that_does_not(db: Database) -> None:
    with db.write() as session:
        burst = [
            jobs.enqueue(session, "shopify.delivery", fair_key="a.myshopify.com") for _ in range(5)
        ]
        single = jobs.enqueue(session, "shopify.delivery", fair_key="b.myshopify.com")
    with db.write() as session:  # a batch, as the web role's group commit writes deliveries
        batch = jobs.enqueue_many(
            session,
            [("shopify.delivery", {}, "a-late"), ("shopify.delivery", {}, "c-first")],
            fair_keys=["a.myshopify.com", "c.myshopify.com"],
        )

    order = [job.id for job in jobs.claim(db, "w", limit=10)]

    assert order[:3] == [burst[0], single, batch["c-first"]]
    assert order[3:] == [*burst[1:], batch["a-late"]]


def test_a_shop_whose_queue_emptied_starts_again_at_the_front(db: Database) -> None:
    with db.write() as session:
        first = jobs.enqueue(session, "shopify.delivery", fair_key="a.myshopify.com")
    (claimed,) = jobs.claim(db, "w", limit=5)
    assert claimed.id == first and jobs.ack(db, claimed)
    with db.write() as session:
        other = [
            jobs.enqueue(session, "shopify.delivery", fair_key="b.myshopify.com") for _ in range(2)
        ]
        again = jobs.enqueue(session, "shopify.delivery", fair_key="a.myshopify.com")

    assert [job.id for job in jobs.claim(db, "w", limit=5)] == [other[0], again, other[1]]
