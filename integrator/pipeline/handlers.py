"""The registry of job kinds → handlers, built from the container."""

from __future__ import annotations

from integrator.bootstrap import Container
from integrator.queue.worker import Handler, JobContext


def noop(_context: JobContext) -> None:
    """Do nothing: used by the queue's tests and benchmarks."""


def build_handlers(container: Container) -> dict[str, Handler]:
    return {"noop": noop}
