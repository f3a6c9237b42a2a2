"""Slow clients: the web role keeps answering while hundreds of bodies trickle in.

    python bench/chaos/slow_clients.py [--clients 200] [--seconds 20] [--server procfile|serve|both]
        [--interval 1.0] [--database-url postgresql://…] [--worker-class gthread]

Starts the web role as a deployment does (the ``Procfile``'s ``web`` line, and/or
``integrator serve``) on a free loopback port with a migrated database. Then ``--clients``
connections each send the headers of ``POST /webhooks/shopify`` declaring
``Content-Length: 1000`` and trickle the body one byte per ``--interval`` seconds (a
slowloris). Meanwhile a prober sends ``GET /healthz`` and signed ``orders/paid`` webhooks, one
every 0.1 s, each on a new connection with a 10 s timeout. It reports the probes' latencies
before and during the attack, how many slow connections were still open at the end, and
that every webhook answered 200 is stored.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import argparse  # noqa: E402
import http.client  # noqa: E402
import json  # noqa: E402
import socket  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402

from sqlalchemy import func, select  # noqa: E402

from bench.chaos.common import database_kind, scratch_url  # noqa: E402
from bench.common import machine_note  # noqa: E402
from bench.web_role import (  # noqa: E402
    CLIENT_SECRET,
    SERVERS,
    SHOP,
    WebRole,
    procfile_web_command,
    serve_command,
    web_environment,
)
from integrator.db.database import Database  # noqa: E402
from integrator.db.models import WebhookDelivery  # noqa: E402
from integrator.shopify.webhook_verification import sign_webhook  # noqa: E402

PROBE_TIMEOUT = 10.0
PROBE_EVERY = 0.1
DECLARED_LENGTH = 1000


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Probes:
    healthz: list[float] = field(default_factory=list)
    webhooks: list[float] = field(default_factory=list)
    failures: dict[str, int] = field(default_factory=dict)
    webhooks_200: int = 0

    def fail(self, what: str) -> None:
        self.failures[what] = self.failures.get(what, 0) + 1


def _timed_request(port: int, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> tuple[int, float]:  # fmt: skip
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=PROBE_TIMEOUT)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status, time.perf_counter() - started
    finally:
        connection.close()


def signed_order() -> tuple[bytes, dict[str, str]]:
    body = json.dumps({"id": int(time.time() * 1000), "line_items": []}).encode()
    return body, {
        "Content-Type": "application/json",
        "X-Shopify-Topic": "orders/paid",
        "X-Shopify-Hmac-Sha256": sign_webhook(body, CLIENT_SECRET),
        "X-Shopify-Shop-Domain": SHOP,
        "X-Shopify-Webhook-Id": str(uuid.uuid4()),
        "X-Shopify-Triggered-At": "2026-11-27T00:00:00Z",
        "X-Shopify-API-Version": "2026-04",
    }


def probe(port: int, seconds: float) -> Probes:
    """Alternate /healthz and a signed webhook every PROBE_EVERY seconds for ``seconds``."""
    found = Probes()
    deadline = time.monotonic() + seconds
    turn = 0
    while time.monotonic() < deadline:
        turn += 1
        try:
            if turn % 2:
                status, elapsed = _timed_request(port, "GET", "/healthz", None, {})
                found.healthz.append(elapsed)
                if status != 200:
                    found.fail(f"healthz {status}")
            else:
                body, headers = signed_order()
                status, elapsed = _timed_request(port, "POST", "/webhooks/shopify", body, headers)
                found.webhooks.append(elapsed)
                found.webhooks_200 += status == 200
                if status != 200:
                    found.fail(f"webhook {status}")
        except (OSError, http.client.HTTPException) as error:
            found.fail(f"{'healthz' if turn % 2 else 'webhook'} {type(error).__name__}")
        time.sleep(PROBE_EVERY)
    return found


class SlowClients:
    """``count`` connections that declared a 1000-byte body and send it a byte at a time."""

    def __init__(self, port: int, count: int, interval: float) -> None:
        self.port, self.count, self.interval = port, count, interval
        self.sockets: list[socket.socket] = []
        self.refused = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._trickle, name="slowloris", daemon=True)

    def start(self) -> None:
        head = (
            "POST /webhooks/shopify HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: application/json\r\nContent-Length: {DECLARED_LENGTH}\r\n"
            "X-Shopify-Topic: orders/paid\r\nX-Shopify-Hmac-Sha256: AAAA\r\n"
            f"X-Shopify-Shop-Domain: {SHOP}\r\nX-Shopify-Webhook-Id: slow\r\n\r\n"
        ).encode()
        for _ in range(self.count):
            try:
                connection = socket.create_connection(("127.0.0.1", self.port), timeout=5)
            except OSError:
                self.refused += 1
                continue
            self.sockets.append(connection)
            try:
                connection.sendall(head)
                connection.setblocking(False)
            except OSError:
                self.refused += 1
        self._thread.start()

    def _trickle(self) -> None:
        sent = 0
        while not self._stop.is_set() and sent < DECLARED_LENGTH - 1:  # never complete a body
            for connection in list(self.sockets):
                try:
                    connection.send(b"{" if sent == 0 else b" ")
                except BlockingIOError:
                    pass
                except OSError:
                    pass  # the server closed it: still_open() will not count it
            sent += 1
            self._stop.wait(self.interval)

    def still_open(self) -> int:
        """Connections the server has not closed (a closed one reads EOF or fails)."""
        alive = 0
        for connection in self.sockets:
            try:
                connection.recv(1, socket.MSG_PEEK)  # an answer or EOF: the server let go
            except BlockingIOError:
                alive += 1  # nothing to read: still waiting for the rest of our body
            except OSError:
                pass
        return alive

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        for connection in self.sockets:
            connection.close()


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def summary(phase: str, probes: Probes, open_slow: int | None) -> dict[str, object]:
    every = probes.healthz + probes.webhooks
    return {
        "phase": phase,
        "probes": len(every) + sum(probes.failures.values()),
        "healthz p50/p99/max ms": " / ".join(
            f"{percentile(probes.healthz, q) * 1000:.0f}" for q in (0.5, 0.99, 1.0)
        ),
        "webhook p50/p99/max ms": " / ".join(
            f"{percentile(probes.webhooks, q) * 1000:.0f}" for q in (0.5, 0.99, 1.0)
        ),
        "over 1 s": sum(1 for value in every if value > 1.0),
        "failures": probes.failures or "none",
        "slow connections open at the end": "–" if open_slow is None else open_slow,
    }


@dataclass
class Outcome:
    server: str
    command: str
    rows: list[dict[str, object]]
    slow_clients: int
    slow_open_at_end: int
    webhooks_200: int
    stored: int
    during: Probes


def attack(
    server: str,
    url: str,
    clients: int,
    seconds: float,
    interval: float,
    folder: Path,
    worker_class: str | None = None,
) -> Outcome:
    """Probe the web role before and while ``clients`` slow connections are open.

    ``worker_class`` replaces the Procfile's gunicorn worker class (to compare servers).
    """
    port = free_port()
    overrides = {"--worker-class": worker_class} if worker_class else {}
    command = procfile_web_command(port, overrides) if server == "procfile" else serve_command(port)
    role = WebRole(command, web_environment(url), port, folder / f"{server}.log")
    try:
        role.wait_ready()
        calm = probe(port, min(3.0, seconds))
        slow = SlowClients(port, clients, interval)
        slow.start()
        time.sleep(min(2.0, interval * 2))  # every slow connection is accepted and trickling
        during = probe(port, seconds)
        open_at_end = slow.still_open()
        slow.stop()
    finally:
        role.stop()
    database = Database.from_url(url)
    with database.read() as session:
        stored = int(
            session.scalar(select(func.count()).select_from(WebhookDelivery).where(
                WebhookDelivery.shop_domain == SHOP)) or 0
        )  # fmt: skip
    database.dispose()
    rows = [
        {"server": server, **summary("no slow clients", calm, None)},
        {"server": server, **summary(f"{clients} slow clients", during, open_at_end)},
    ]
    return Outcome(
        server,
        " ".join(Path(word).name if i == 0 else word for i, word in enumerate(command)),
        rows,
        clients,
        open_at_end,
        calm.webhooks_200 + during.webhooks_200,
        stored,
        during,
    )


def run(
    database_url: str | None,
    clients: int,
    seconds: float,
    interval: float,
    servers: list[str],
    worker_class: str | None = None,
) -> list[Outcome]:
    outcomes = []
    with tempfile.TemporaryDirectory(prefix="slow-clients-") as folder:
        for server in servers:
            with scratch_url(database_url) as url:
                outcomes.append(
                    attack(server, url, clients, seconds, interval, Path(folder), worker_class)
                )
    return outcomes


def print_report(outcomes: list[Outcome], kind: str) -> None:
    rows = [row for outcome in outcomes for row in outcome.rows]
    headers = list(rows[0])
    print("| database | " + " | ".join(headers) + " |")
    print("|---|" + "---|" * len(headers))
    for row in rows:
        print(f"| {kind} | " + " | ".join(str(row[h]) for h in headers) + " |")
    for outcome in outcomes:
        print(
            f"{outcome.server}: `{outcome.command}`; webhooks answered 200: "
            f"{outcome.webhooks_200}, stored: {outcome.stored}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between bytes")
    parser.add_argument("--server", choices=[*SERVERS, "both"], default="both")
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (emptied first)")
    parser.add_argument(
        "--worker-class", default=None, help="replace the Procfile's worker class (e.g. gthread)"
    )
    args = parser.parse_args()
    servers = list(SERVERS) if args.server == "both" else [args.server]
    print(machine_note(), flush=True)
    outcomes = run(
        args.database_url, args.clients, args.seconds, args.interval, servers, args.worker_class
    )
    kind = database_kind(args.database_url or "sqlite")
    print_report(outcomes, kind)


if __name__ == "__main__":
    main()
