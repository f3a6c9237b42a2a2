"""The clock process: APScheduler that only enqueues reconciliation jobs.

Each run enqueues ``reconcile.<pass>`` with a unique key per time slot, so a second clock
started by mistake (or a restart inside one slot) enqueues nothing more.
"""

from __future__ import annotations

import logging
import signal
from datetime import datetime
from types import FrameType

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from integrator.bootstrap import Container
from integrator.jobqueue.jobs import enqueue
from integrator.pipeline.job_kinds import reconcile_kind
from integrator.pipeline.reconcile import PASSES, slot_of

log = logging.getLogger(__name__)

MISFIRE_GRACE_SECONDS = 300


def enqueue_pass(container: Container, name: str, now: datetime | None = None) -> bool:
    """Enqueue one pass for the current slot; False when this slot already has it."""
    interval = container.config().reconcile.interval(name)
    key = f"reconcile:{name}:{slot_of(interval, now)}"
    with container.db.write() as session:
        job_id = enqueue(
            session, reconcile_kind(name), {"slot": key}, unique_key=key, max_attempts=3
        )
    log.info("clock.tick", extra={"pass": name, "enqueued": job_id is not None})
    return job_id is not None


def build_scheduler(container: Container, *, background: bool = False) -> BaseScheduler:
    """The clock's schedule: one interval job per pass (background for the demo and tests)."""
    scheduler: BaseScheduler = (
        BackgroundScheduler(timezone="UTC") if background else BlockingScheduler(timezone="UTC")
    )
    reconcile = container.config().reconcile
    for name in PASSES:
        scheduler.add_job(
            enqueue_pass,
            "interval",
            args=(container, name),
            seconds=reconcile.interval(name).total_seconds(),
            id=name,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=MISFIRE_GRACE_SECONDS,
            next_run_time=datetime.now().astimezone(),
        )
    return scheduler


def run_clock(container: Container, *, install_signal_handlers: bool = False) -> None:
    scheduler = build_scheduler(container)
    if install_signal_handlers:

        def stop(_signum: int, _frame: FrameType | None) -> None:
            if scheduler.running:
                scheduler.shutdown(wait=False)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
    log.info("clock.start", extra={"passes": list(PASSES)})
    scheduler.start()
