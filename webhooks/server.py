"""The web role's HTTP server: gunicorn's processes, each serving with waitress.

gunicorn's threaded worker hands a connection to a request thread as soon as it is readable,
and the thread then blocks while the body trickles in: twenty clients that declare
``Content-Length: 1000`` and send a byte a second hold twenty threads, and ``/healthz`` waits.
waitress reads every request, body included, in its I/O loop (one thread, non-blocking
sockets, bodies buffered) and hands it to a request thread only when it is complete, so slow
clients cost a buffer each, never a thread. gunicorn stays the process manager (pre-fork, a
restart for a dead process, graceful stop on SIGTERM, the Procfile's command); each of its
processes runs waitress on the shared listening sockets. See docs/adr/0006-web-server.md.

    gunicorn --worker-class webhooks.server.WaitressWorker --workers 2 --threads 8 \\
        "webhooks.app:create_app()"
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

from gunicorn.workers.base import Worker
from waitress.server import create_server

# a connection with no complete request and no traffic for this long is closed (a slow client
# that still sends a byte now and then is kept, at the cost of its buffer only)
CHANNEL_TIMEOUT_SECONDS = 60
# the largest body waitress buffers; the views refuse more than WEBHOOK_MAX_BYTES (413) anyway
MAX_BODY_BYTES = 8 * 1024 * 1024


class WaitressWorker(Worker):  # type: ignore[misc]
    """A gunicorn worker process that serves with waitress (``--threads`` request threads,
    ``--worker-connections`` open connections, ``--graceful-timeout`` to finish on SIGTERM)."""

    alive: bool  # gunicorn's flag, cleared by its SIGTERM handler

    def run(self) -> None:
        self.map: dict[int, Any] = {}  # waitress's socket map: listeners, channels, triggers
        self.server: Any = create_server(
            self.wsgi,
            map=self.map,
            sockets=[listener.sock for listener in self.sockets],
            threads=self.cfg.threads,
            connection_limit=self.cfg.worker_connections,
            channel_timeout=CHANNEL_TIMEOUT_SECONDS,
            max_request_body_size=MAX_BODY_BYTES,
            expose_tracebacks=False,
            # X-Forwarded-For reaches the app, which trusts TRUSTED_PROXIES hops of it
            # (ProxyFix in webhooks.app); waitress would drop it before the app sees it
            clear_untrusted_proxy_headers=False,
            ident="integrator",
            asyncore_use_poll=True,  # select() cannot watch more than 1024 descriptors
        )
        watcher = threading.Thread(target=self._watch, name="gunicorn-heartbeat", daemon=True)
        watcher.start()
        self.server.run()  # returns once _watch has closed every channel
        self.server.task_dispatcher.shutdown(cancel_pending=False, timeout=5)

    def _watch(self) -> None:
        """Tell the arbiter we are alive; on SIGTERM (or a lost parent) stop gracefully."""
        parent = os.getppid()
        while self.alive and os.getppid() == parent:
            self.notify()
            time.sleep(1.0)
        self.alive = False
        self._in_loop(self._stop_accepting)
        deadline = time.monotonic() + self.cfg.graceful_timeout
        while self._busy() and time.monotonic() < deadline:
            self.notify()
            time.sleep(0.1)
        self._in_loop(self._close_everything)

    def _in_loop(self, action: Any) -> None:
        # waitress's loop owns its sockets: run the change inside it, through a trigger
        trigger = next(d for d in list(self.map.values()) if hasattr(d, "pull_trigger"))
        trigger.pull_trigger(action)

    def _listeners(self) -> list[Any]:
        return [d for d in list(self.map.values()) if getattr(d, "accepting", False)]

    def _stop_accepting(self) -> None:
        for listener in self._listeners():
            listener.accepting = False
            listener.del_channel()  # our copy of the shared socket stays open for the others

    def _busy(self) -> bool:
        dispatcher = self.server.task_dispatcher
        channels = [d for d in list(self.map.values()) if hasattr(d, "requests")]
        return bool(
            dispatcher.active_count
            or dispatcher.queue
            or any(channel.requests or channel.total_outbufs_len for channel in channels)
        )

    def _close_everything(self) -> None:
        for dispatcher in list(self.map.values()):
            dispatcher.close()  # an empty map ends waitress's loop
