"""Long-running processes: ``integrator serve``, ``integrator worker``, ``integrator clock``."""

from __future__ import annotations

import signal
from types import FrameType
from typing import Any

import click

from integrator.cli.common import container_or_exit, preflight_or_exit, settings_or_exit


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
@click.option("--workers", default=2, show_default=True, help="gunicorn processes")
@click.option("--threads", default=8, show_default=True, help="request threads per process")
@click.option("--connections", default=1000, show_default=True, help="open connections per process")
def serve(host: str, port: int, workers: int, threads: int, connections: int) -> None:
    """Run the web app (all HTTP endpoints): gunicorn processes serving with waitress, which
    reads each request whole before a thread takes it (slow clients hold no thread)."""
    from gunicorn.app.base import BaseApplication

    settings = settings_or_exit()
    preflight_or_exit(settings)  # refuse here, not in every gunicorn worker

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("threads", threads)
            self.cfg.set("worker_connections", connections)
            self.cfg.set("worker_class", "webhooks.server.WaitressWorker")
            self.cfg.set("accesslog", None)
            self.cfg.set("graceful_timeout", 20)

        def load(self) -> Any:
            from webhooks.app import create_app

            return create_app(settings)

    Server().run()


def _stop_on_signals(stop: Any) -> None:
    def handle(_signum: int, _frame: FrameType | None) -> None:
        stop()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)


@click.command()
@click.option("--threads", default=4, show_default=True)
@click.option("--lease", "lease_seconds", default=60.0, show_default=True, help="lease seconds")
@click.option("--kind", "kinds", multiple=True, help="only run these job kinds")
@click.option("--metrics-port", default=0, help="serve this worker's Prometheus metrics (0: off)")
def worker(threads: int, lease_seconds: float, kinds: tuple[str, ...], metrics_port: int) -> None:
    """Run a job worker until SIGTERM."""
    from prometheus_client import start_http_server

    from integrator.jobqueue.worker import Worker
    from integrator.metrics import observe_job
    from integrator.pipeline.handlers import build_handlers

    container = container_or_exit()
    if metrics_port:
        start_http_server(metrics_port, addr="127.0.0.1")
    runner = Worker(
        container.db,
        build_handlers(container),
        threads=threads,
        lease_seconds=lease_seconds,
        kinds=kinds or None,
        observe=observe_job,
    )
    _stop_on_signals(runner.stop)
    runner.run()
    container.close()


@click.command()
def clock() -> None:
    """Run the scheduler process that enqueues periodic jobs."""
    from integrator.scheduler import run_clock

    container = container_or_exit()
    run_clock(container, install_signal_handlers=True)
