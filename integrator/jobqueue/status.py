"""The statuses of a job in the queue; the value is what the ``jobs.status`` column stores
(and what ``integrator jobs list --status`` and the console's job filter take)."""

from __future__ import annotations

from enum import StrEnum


class JobStatus(StrEnum):
    QUEUED = "queued"  # waiting for its run_at and a worker
    RUNNING = "running"  # claimed under a lease
    DONE = "done"
    DEAD = "dead"  # out of attempts, or a terminal error: waits for a person's retry
