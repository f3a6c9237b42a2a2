"""Webhook ingest: signed ``orders/paid`` deliveries per second and latency under the web
role, beside a verify-only baseline endpoint in the same server, in the same run.

    python bench/ingest.py [--seconds 8] [--rounds 2] [--clients 16] [--pg URL]
        [--workers 2] [--threads 8] [--worker-class CLASS]

The Procfile's ``web`` command (gunicorn processes serving with waitress, 2 x 8 threads by
default; ``--worker-class gthread`` for gunicorn's own threaded worker) serves the real
app on 127.0.0.1 with a temporary SQLite database (and, with ``--pg``, a second run on that
PostgreSQL database, emptied first). 16 client threads, each on its own keep-alive
connection, post realistic 10-20 KB ``orders/paid`` bodies (sandbox orders of 6-12 lines),
each with a fresh ``X-Shopify-Webhook-Id``, alternately to the baseline endpoint
(``webhooks/bench_baseline.py``: read the body, verify the HMAC, 200) and to
``POST /webhooks/shopify`` (verify, parse, dedupe, store + enqueue in one transaction), in
alternating rounds so that both see the same machine. After the run every 200 of the real
endpoint must be a row in ``webhook_deliveries``. Each phase also reports the CPU time per
answered request of the web role's processes and (PostgreSQL) of the database backends
serving the run's database, so that a ratio measured on a loaded machine can be read
against what each request costs.

The load generator shares the machine's cores with the server; it uses the standard
library's ``http.client`` because it costs the least CPU per request of the clients at hand.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse  # noqa: E402
import http.client  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections import Counter  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402

from sqlalchemy import create_engine, func, select, text  # noqa: E402

from bench.common import (  # noqa: E402
    database_kind,
    free_port,
    machine_note,
    percentile,
    print_table,
    quiet_logs,
    scratch_database,
)
from bench.deployment import process_tree_cpu  # noqa: E402
from bench.web_role import CLIENT_SECRET as SECRET  # noqa: E402
from bench.web_role import SHOP, WebRole, procfile_web_command, web_environment  # noqa: E402
from integrator.db.database import Database  # noqa: E402
from integrator.db.models import WebhookDelivery  # noqa: E402
from integrator.sandbox.shopify import SandboxConfig, SandboxShopify  # noqa: E402
from integrator.sandbox.shopify.demo_catalog import sample_lines, seed_pod_catalog  # noqa: E402
from integrator.shopify.webhook_verification import sign_webhook  # noqa: E402

RECEIVER = "/webhooks/shopify"
BASELINE = "/bench/baseline/shopify"
AIM_RATIO = 0.60
AIM_P99_MS = 100.0


@dataclass(frozen=True)
class SignedBody:
    body: bytes
    hmac: str


@dataclass
class PhaseResult:
    endpoint: str
    seconds: float = 0.0
    web_cpu: float = 0.0  # CPU seconds of the web role's processes during the phase
    db_cpu: float = 0.0  # CPU seconds of the PostgreSQL backends serving this database
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)

    @property
    def ok(self) -> int:
        return self.statuses.get(200, 0)

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def cpu_ms(self, seconds: float) -> float:
        """CPU milliseconds per answered request."""
        return seconds * 1000 / self.ok if self.ok else float("nan")

    def merge(self, other: PhaseResult) -> None:
        self.seconds += other.seconds
        self.web_cpu += other.web_cpu
        self.db_cpu += other.db_cpu
        self.latencies += other.latencies
        self.statuses.update(other.statuses)


def realistic_bodies(count: int, seed: int = 11) -> list[SignedBody]:
    """``orders/paid`` REST bodies of sandbox orders with 6-12 lines (10-20 KB each)."""
    rng = random.Random(seed)
    sandbox = SandboxShopify(SandboxConfig())
    shop = sandbox.create_shop(SHOP, client_id="bench", client_secret=SECRET)
    seed_pod_catalog(shop)
    bodies = []
    for _ in range(count):
        order = shop.create_order(sample_lines(rng, rng.randint(6, 12)))
        body = json.dumps(shop.webhook_payload(order["id"])).encode()
        bodies.append(SignedBody(body, sign_webhook(body, SECRET)))
    return bodies


def post_loop(
    port: int, path: str, bodies: list[SignedBody], deadline: float, seed: int
) -> PhaseResult:
    """One client: keep-alive posts until ``deadline``; a fresh webhook id on every request."""
    rng = random.Random(seed)
    result = PhaseResult(path)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while time.perf_counter() < deadline:
        signed = bodies[rng.randrange(len(bodies))]
        headers = {
            "Content-Type": "application/json",
            "X-Shopify-Topic": "orders/paid",
            "X-Shopify-Hmac-Sha256": signed.hmac,
            "X-Shopify-Shop-Domain": SHOP,
            "X-Shopify-Webhook-Id": str(uuid.uuid4()),
            "X-Shopify-API-Version": "2026-04",
        }
        started = time.perf_counter()
        try:
            connection.request("POST", path, body=signed.body, headers=headers)
            response = connection.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            status = 0
        result.latencies.append(time.perf_counter() - started)
        result.statuses[status] += 1
    connection.close()
    return result


def backend_cpu(url: str) -> float:
    """CPU seconds so far of the client backends connected to ``url``'s database (0 on
    SQLite): the database's share of a delivery, which the web role's CPU leaves out (the
    WAL writer, checkpointer and autovacuum, shared with other databases, are not counted)."""
    if database_kind(url) != "postgresql":
        return 0.0
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as connection:
            pids = connection.execute(
                text(
                    "SELECT pid FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    " AND backend_type = 'client backend'"
                )
            ).scalars()
            return sum(process_cpu(pid) for pid in pids)
    finally:
        engine.dispose()


def process_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def phase(
    server: WebRole,
    url: str,
    path: str,
    bodies: list[SignedBody],
    clients: int,
    seconds: float,
) -> PhaseResult:
    """Post for ``seconds`` from ``clients`` threads; with the CPU the web role and the
    database's backends spent meanwhile."""
    web_before, db_before = process_tree_cpu(server.process.pid), backend_cpu(url)
    total = posting(server.port, path, bodies, clients, seconds)
    total.web_cpu = process_tree_cpu(server.process.pid) - web_before
    total.db_cpu = backend_cpu(url) - db_before
    return total


def posting(
    port: int, path: str, bodies: list[SignedBody], clients: int, seconds: float
) -> PhaseResult:
    results: list[PhaseResult] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def client(number: int) -> None:
        outcome = post_loop(port, path, bodies, deadline, seed=number)
        with lock:
            results.append(outcome)

    started = time.perf_counter()
    pool = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    total = PhaseResult(path, seconds=time.perf_counter() - started)
    for outcome in results:
        total.latencies += outcome.latencies
        total.statuses.update(outcome.statuses)
    return total


def stored_deliveries(url: str) -> int:
    database = Database.from_url(url)
    with database.read() as session:
        count = session.scalar(select(func.count()).select_from(WebhookDelivery))
    database.dispose()
    return int(count or 0)


def run_database(
    url: str, args: argparse.Namespace, bodies: list[SignedBody]
) -> list[list[object]]:
    kind = database_kind(url)
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as folder:
        port = free_port()
        command = procfile_web_command(
            port,
            {
                "--workers": str(args.workers),
                "--threads": str(args.threads),
                "--worker-class": args.worker_class,
            },
        )
        environment = web_environment(url, {"INTEGRATOR_BENCH_BASELINE": "1"})
        server = WebRole(command, environment, port, Path(folder) / "gunicorn.log")
        try:
            server.wait_ready()
            warm_real = posting(server.port, RECEIVER, bodies, args.clients, 1.0)
            posting(server.port, BASELINE, bodies, args.clients, 1.0)
            baseline, real = PhaseResult(BASELINE), PhaseResult(RECEIVER)
            for _ in range(args.rounds):
                baseline.merge(phase(server, url, BASELINE, bodies, args.clients, args.seconds))
                real.merge(phase(server, url, RECEIVER, bodies, args.clients, args.seconds))
        finally:
            server.stop()
        stored = stored_deliveries(url)
        answered_200 = warm_real.ok + real.ok
        if stored != answered_200:
            log_tail = (Path(folder) / "gunicorn.log").read_text(errors="replace")[-3000:]
            print(log_tail, file=sys.stderr)
    ratio = real.rate / baseline.rate if baseline.rate else float("nan")
    p99_ms = percentile(real.latencies, 99) * 1000
    rows: list[list[object]] = []
    for result in (baseline, real):
        others = {s: n for s, n in result.statuses.items() if s != 200}
        rows.append(
            [
                kind,
                "baseline (verify only)" if result is baseline else "POST /webhooks/shopify",
                result.ok,
                result.rate,
                percentile(result.latencies, 50) * 1000,
                percentile(result.latencies, 99) * 1000,
                json.dumps(others) if others else "none",
                "1.00" if result is baseline else f"{ratio:.2f}",
                result.cpu_ms(result.web_cpu),
                result.cpu_ms(result.db_cpu) if kind == "postgresql" else "-",
            ]
        )
    met = ratio >= AIM_RATIO and p99_ms < AIM_P99_MS and stored == answered_200
    print(
        f"{kind}: {answered_200} deliveries answered 200, {stored} stored in webhook_deliveries"
        f" ({'all stored' if stored == answered_200 else 'MISMATCH'}); ratio {ratio:.2f},"
        f" p99 {p99_ms:.1f} ms → aim {'met' if met else 'NOT met'}",
        flush=True,
    )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each phase")
    parser.add_argument("--rounds", type=int, default=2, help="baseline/real pairs per database")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument(
        "--worker-class",
        default="webhooks.server.WaitressWorker",
        help="gunicorn worker class (the Procfile's; gthread to compare)",
    )
    parser.add_argument("--bodies", type=int, default=200, help="distinct order bodies")
    parser.add_argument("--pg", help="also run on this PostgreSQL URL (emptied first)")
    parser.add_argument("--no-sqlite", action="store_true", help="only the --pg run")
    args = parser.parse_args()
    quiet_logs()
    bodies = realistic_bodies(args.bodies)
    sizes = sorted(len(b.body) for b in bodies)
    print(machine_note())
    print(
        f"bodies: {len(bodies)} orders/paid payloads, {sizes[0] / 1024:.1f}-"
        f"{sizes[-1] / 1024:.1f} KB (median {sizes[len(sizes) // 2] / 1024:.1f} KB); "
        f"gunicorn {args.worker_class} {args.workers}x{args.threads}; {args.clients} clients; "
        f"{args.rounds} x {args.seconds:.0f} s per endpoint",
        flush=True,
    )
    rows: list[list[object]] = []
    if not args.no_sqlite:
        with scratch_database() as url:
            rows += run_database(url, args, bodies)
    if args.pg:
        with scratch_database(args.pg) as url:
            rows += run_database(url, args, bodies)
    print_table(
        [
            "db",
            "endpoint",
            "200s",
            "webhooks/s",
            "p50 ms",
            "p99 ms",
            "other statuses",
            "ratio",
            "web CPU ms/200",
            "db CPU ms/200",
        ],  # fmt: skip
        rows,
    )


if __name__ == "__main__":
    main()
