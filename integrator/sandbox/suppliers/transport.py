"""Two ways to talk to a sandbox supplier.

In-process (what the tests use): mount :class:`WSGITransport` on a ``requests.Session`` for a
made-up base URL such as ``http://printful.sandbox``; requests then call the WSGI app directly,
no socket involved. The app runs in a helper thread so the caller's read timeout is real: a
sandbox told to be slow makes the call raise ``requests.ReadTimeout`` exactly as over TCP.
A sandbox that is "down" raises :class:`SupplierDown`, which becomes ``ConnectionError``.

Over TCP (demos, chaos runs, the real Flask app): :func:`serve` starts werkzeug's server on
127.0.0.1 in a background thread and returns the base URL and a stop function.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from werkzeug.serving import make_server
from werkzeug.test import EnvironBuilder, run_wsgi_app

IN_PROCESS_KEY = "sandbox.in_process"
# bound on how long an in-process call may wait when the caller set no timeout
DEFAULT_READ_TIMEOUT = 30.0


class SupplierDown(Exception):
    """Raised by a sandbox app that is switched off; the in-process transport makes it a
    connection error, the TCP server answers 503."""


def _read_timeout(timeout: Any) -> float:
    if isinstance(timeout, tuple):
        timeout = timeout[1]
    return float(timeout) if timeout is not None else DEFAULT_READ_TIMEOUT


class WSGITransport(BaseAdapter):
    def __init__(self, app: Callable[..., Any]) -> None:
        super().__init__()
        self.app = app

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, timeout: Any = None, **_: Any
    ) -> requests.Response:
        url = urlsplit(request.url or "")
        body = request.body.encode() if isinstance(request.body, str) else request.body
        builder = EnvironBuilder(
            method=request.method or "GET",
            base_url=f"{url.scheme}://{url.netloc}",
            path=url.path or "/",
            query_string=url.query,
            headers=list(request.headers.items()),
            data=body or b"",
        )
        environ = builder.get_environ()
        builder.close()
        environ[IN_PROCESS_KEY] = True
        outcome: dict[str, Any] = {}

        def call() -> None:
            try:
                app_iter, status, headers = run_wsgi_app(self.app, environ, buffered=True)
                outcome["answer"] = (b"".join(app_iter), status, headers)
            except Exception as error:  # handed back to the calling thread below
                outcome["error"] = error

        worker = threading.Thread(target=call, daemon=True)
        worker.start()
        worker.join(_read_timeout(timeout))
        if worker.is_alive():
            raise requests.ReadTimeout(f"sandbox did not answer {request.url} in time")
        if "error" in outcome:
            if isinstance(outcome["error"], SupplierDown):
                raise requests.ConnectionError(f"sandbox is down: {request.url}")
            raise outcome["error"]
        content, status, headers = outcome["answer"]
        return _response(request, content, status, headers)

    def close(self) -> None:
        pass


def _response(
    request: requests.PreparedRequest, content: bytes, status: str, headers: Any
) -> requests.Response:
    response = requests.Response()
    response.status_code = int(status.split(" ", 1)[0])
    response.reason = status.split(" ", 1)[1] if " " in status else ""
    response.headers = CaseInsensitiveDict(dict(headers.items()))
    response._content = content
    response.raw = io.BytesIO(content)
    response.url = request.url or ""
    response.request = request
    response.encoding = "utf-8"
    return response


def mount(session: requests.Session, base_url: str, app: Callable[..., Any]) -> requests.Session:
    """Route every request for ``base_url`` on ``session`` into ``app``."""
    session.mount(base_url.rstrip("/") + "/", WSGITransport(app))
    return session


def in_process_session(apps: Mapping[str, Callable[..., Any]]) -> requests.Session:
    session = requests.Session()
    for base_url, app in apps.items():
        mount(session, base_url, app)
    return session


def serve(app: Callable[..., Any], port: int = 0) -> tuple[str, Callable[[], None]]:
    """Serve ``app`` on 127.0.0.1 in a daemon thread; returns (base URL, stop)."""
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return f"http://127.0.0.1:{server.server_port}", stop
