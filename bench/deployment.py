"""The pipeline as deployed: the web role (``integrator serve``), worker processes
(``integrator worker``) and the sandboxes each in their own processes, on SQLite or PostgreSQL.

    python bench/deployment.py [--orders 1000] [--configs sqlite:1x1,sqlite:1x4,pg:1x1,pg:1x4,pg:2x4]
                               [--steady 0.5] [--pg-server URL]

This process is "the outside world": sandbox Shopify and the sandbox suppliers (on loopback
HTTP), the senders of signed ``orders/paid`` webhooks (4 threads) and the suppliers' staff,
who ship each supplier order as soon as it has been submitted (one thread per supplier; the
sandbox posts the ``shipped`` callback to the web role). Sandboxes answer at once and Shopify's
bucket never throttles (``bench/tracking_sync.py`` measures the rate limit).

For each configuration (database : worker processes x threads):

* **burst**: every order is sent as fast as the senders go; after a tenth of them, one order
  of a second shop. Reported: orders/min end to end (first webhook sent → last order's
  fulfillments all created at sandbox Shopify), when the first 10% of orders were complete
  (as a share of the run), how long the second shop's order took to be submitted, and the
  CPU seconds per order of each process (read from /proc), the workers' split by job kind.
* **steady** (``--steady F``): then orders arrive at F × the burst's rate, and the p50/p99 of
  webhook sent → supplier order submitted and shipped callback sent → Shopify fulfillment
  created are measured.

Each run checks the end state: one fulfillment per supplier order, none extra, no dead job.
PostgreSQL runs in a database made for the run on ``--pg-server`` and dropped after it.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections import defaultdict  # noqa: E402
from collections.abc import Iterator, Sequence  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402
from contextlib import ExitStack, contextmanager  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from typing import Any  # noqa: E402

import httpx  # noqa: E402
from sqlalchemy import func, select, text  # noqa: E402

from bench.chaos.killed_workers import worker_environment  # noqa: E402
from bench.common import (  # noqa: E402
    DEFAULT_PG_SERVER,
    account_limit,
    account_limit_argument,
    free_port,
    machine_note,
    percentile,
    print_table,
    quiet_logs,
    scratch_postgres,
)
from bench.pipeline import SKU_SUPPLIER, UNTHROTTLED, order_mix  # noqa: E402
from integrator.db.migrate import upgrade  # noqa: E402
from integrator.db.models import Job, Order, Shipment, Shop, SupplierOrder  # noqa: E402
from integrator.sandbox.shopify import LineSpec, VariantSpec, WebhookSender  # noqa: E402
from integrator.sandbox.stack import CLIENT_ID, CLIENT_SECRET, Stack, StackOptions  # noqa: E402

SECOND_SHOP = "second-store.myshopify.com"
SENDERS = 4
TICKS = os.sysconf("SC_CLK_TCK")
KIND_EXCHANGE = {
    "shopify.delivery": "none (database)",
    "order.ingest": "Shopify order query",
    "supplier.submit": "supplier create order",
    "supplier.callback": "none (database)",
    "shopify.sync_shipment": "Shopify fulfillmentCreate",
}


def legacy(order: dict[str, Any]) -> str:
    """The order's id as our database keeps it (the number at the end of the gid)."""
    return str(order["id"]).rsplit("/", 1)[-1]


def naive_utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC).replace(tzinfo=None)


def process_tree_cpu(root: int) -> float:
    """User + system CPU seconds of ``root`` and its live descendants (gunicorn's workers)."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        times[int(entry.name)] = (int(fields[11]) + int(fields[12])) / TICKS
    family, grew = {root}, True
    while grew:
        more = {pid for pid, parent in parents.items() if parent in family} - family
        family |= more
        grew = bool(more)
    return sum(times.get(pid, 0.0) for pid in family)


def metric_values(text: str, name: str) -> dict[str, float]:
    found: dict[str, float] = {}
    for match in re.finditer(rf'^{name}\{{kind="([^"]+)"[^}}]*\}} (\S+)$', text, re.M):
        found[match.group(1)] = found.get(match.group(1), 0.0) + float(match.group(2))
    return found


@dataclass
class Config:
    database: str
    workers: int
    threads: int

    @classmethod
    def parse(cls, text: str) -> Config:
        database, shape = text.split(":")
        workers, threads = shape.split("x")
        return cls("postgresql" if database == "pg" else "sqlite", int(workers), int(threads))

    @property
    def label(self) -> str:
        return f"{self.database} {self.workers}x{self.threads}"


@dataclass
class Run:
    config: Config
    phase: str
    orders: int
    completed: int = 0
    seconds: float = 0.0
    first_tenth_share: float = float("nan")
    second_shop_seconds: float = float("nan")
    submit_latencies: list[float] = field(default_factory=list)
    fulfil_latencies: list[float] = field(default_factory=list)
    cpu: dict[str, float] = field(default_factory=dict)
    cpu_by_kind: dict[str, float] = field(default_factory=dict)
    tables: str = ""
    jobs_by_kind: dict[str, float] = field(default_factory=dict)
    check: str = ""

    @property
    def per_minute(self) -> float:
        return self.completed / self.seconds * 60 if self.seconds else 0.0


class Deployment:
    """The sandboxes here; the web role and the workers as ``integrator`` processes."""

    def __init__(self, url: str, config: Config, log: Any, account_calls_per_minute: int) -> None:
        self.config = config
        self.stack = Stack(
            StackOptions(
                database_url=url,
                loopback=True,
                bucket_size=UNTHROTTLED,
                restore_rate=UNTHROTTLED,
                migrate=False,
                account_calls_per_minute=account_limit(account_calls_per_minute),
            )
        )
        env = worker_environment(self.stack, url)
        env["ADMIN_TOKEN"] = self.stack.admin_token
        executable = str(Path(sys.executable).with_name("integrator"))
        port = free_port()
        self.web_url = f"http://127.0.0.1:{port}"
        web_processes = "1" if config.database == "sqlite" else "2"
        self.web = subprocess.Popen(
            [executable, "serve", "--port", str(port), "--workers", web_processes],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.metrics_ports = [free_port() for _ in range(config.workers)]
        self.workers = [
            subprocess.Popen(
                [executable, "worker", "--threads", str(config.threads)]
                + ["--metrics-port", str(metrics_port)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            for metrics_port in self.metrics_ports
        ]
        self._wait_for_web()
        for name, sandbox in self.stack.suppliers.items():
            secret = self.stack.callback_secret(name)
            sandbox.callback_url = f"{self.web_url}/webhooks/suppliers/{name}?token={secret}"
        self.second_shop = self._second_shop()
        self.senders = [WebhookSender(CLIENT_SECRET) for _ in range(SENDERS)]

    def _wait_for_web(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.web_url}/healthz", timeout=2).status_code < 500:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise SystemExit("the web role did not start (see the log)")

    def _second_shop(self) -> Any:
        shop = self.stack.shopify.create_shop(
            SECOND_SHOP, client_id=CLIENT_ID, client_secret=CLIENT_SECRET
        )
        for entry in self.stack.config.catalog.entries:
            if entry.sku:
                shop.add_product(
                    entry.title or entry.sku,
                    product_type=entry.product_type or "",
                    vendor=entry.vendor or "Sandbox",
                    tags=list(entry.tags),
                    variants=[VariantSpec(entry.sku)],
                )
        with self.stack.db.write() as session:  # installed, as the app's install would do
            session.add(Shop(domain=SECOND_SHOP, status="active"))
        return shop

    def send(self, sender: int, shop: Any, order: dict[str, Any]) -> None:
        outcome = self.senders[sender].send(
            f"{self.web_url}/webhooks/shopify",
            "orders/paid",
            shop.webhook_payload(order["id"]),
            shop.domain,
        )
        if not outcome.delivered:
            raise RuntimeError(f"webhook not delivered: {outcome}")

    def cpu(self) -> dict[str, float]:
        return {
            "web": process_tree_cpu(self.web.pid),
            "workers": sum(process_tree_cpu(worker.pid) for worker in self.workers),
            "sandboxes+driver": time.process_time(),
        }

    def worker_metrics(self) -> tuple[dict[str, float], dict[str, float]]:
        cpu: dict[str, float] = defaultdict(float)
        count: dict[str, float] = defaultdict(float)
        for port in self.metrics_ports:
            text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
            for kind, value in metric_values(text, "integrator_job_cpu_seconds_total").items():
                cpu[kind] += value
            for kind, value in metric_values(text, "integrator_jobs_total").items():
                count[kind] += value
        return dict(cpu), dict(count)

    def close(self) -> None:
        for process in [*self.workers, self.web]:
            process.terminate()
        for process in [*self.workers, self.web]:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        for sender in self.senders:
            sender.close()
        self.stack.close()


class Shipper:
    """The suppliers' staff: ship every submitted supplier order at once, one thread per
    supplier (a sandbox posts its callback before ``advance`` returns)."""

    def __init__(self, deployment: Deployment) -> None:
        self.deployment = deployment
        self.shipped_at: dict[int, float] = {}
        self.stopping = threading.Event()
        self.pool = ThreadPoolExecutor(max_workers=len(deployment.stack.suppliers))
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        stack = self.deployment.stack
        while not self.stopping.is_set():
            with stack.db.read() as session:
                rows = session.execute(
                    select(
                        SupplierOrder.id, SupplierOrder.supplier, SupplierOrder.supplier_order_id
                    )
                    .where(SupplierOrder.status == "submitted")
                    .where(SupplierOrder.supplier_order_id.is_not(None))
                ).all()
            fresh: dict[str, list[tuple[int, str]]] = defaultdict(list)
            for row in rows:
                if row.id not in self.shipped_at:
                    self.shipped_at[row.id] = float("nan")
                    fresh[row.supplier].append((row.id, str(row.supplier_order_id)))
            list(self.pool.map(self._ship, fresh.items()))
            if not fresh:
                self.stopping.wait(0.05)

    def _ship(self, work: tuple[str, list[tuple[int, str]]]) -> None:
        supplier, orders = work
        sandbox = self.deployment.stack.suppliers[supplier]
        for row_id, remote_id in orders:
            self.shipped_at[row_id] = time.time()
            sandbox.advance(remote_id, "shipped")

    def __enter__(self) -> Shipper:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stopping.set()
        self.thread.join(30)
        self.pool.shutdown()


def expected_fulfillments(mix: Sequence[Sequence[LineSpec]]) -> list[int]:
    return [len({SKU_SUPPLIER[line.sku] for line in lines}) for lines in mix]


def wait_done(
    shop: Any, orders: Sequence[dict[str, Any]], wanted: Sequence[int], timeout: float
) -> tuple[float, list[float]]:
    """Poll sandbox Shopify until every order has its fulfillments; return the end and each
    order's completion time (monotonic)."""
    done_at: list[float] = [float("nan")] * len(orders)
    left = set(range(len(orders)))
    deadline = time.monotonic() + timeout
    while left and time.monotonic() < deadline:
        counts = shop.counters.fulfillments_by_order
        now = time.monotonic()
        for index in list(left):
            if counts.get(str(orders[index]["id"]), 0) >= wanted[index]:
                done_at[index] = now
                left.discard(index)
        time.sleep(0.02)
    return time.monotonic(), done_at


def send_all(
    deployment: Deployment,
    orders: Sequence[dict[str, Any]],
    sent_at: dict[str, float],
    rate: float | None = None,
    interject: tuple[int, dict[str, Any]] | None = None,
) -> None:
    """Send every order from SENDERS threads, as fast as they go or at ``rate`` per second."""
    started = time.monotonic()
    cursor = iter(range(len(orders)))
    lock = threading.Lock()

    def sender(number: int) -> None:
        while True:
            with lock:
                index = next(cursor, None)
            if index is None:
                return
            if rate:
                time.sleep(max(0.0, started + index / rate - time.monotonic()))
            if interject is not None and index == interject[0]:
                second = interject[1]
                sent_at[f"{SECOND_SHOP}/{legacy(second)}"] = time.time()
                deployment.send(number, deployment.second_shop, second)
            sent_at[f"{deployment.stack.shop.domain}/{legacy(orders[index])}"] = time.time()
            deployment.send(number, deployment.stack.shop, orders[index])

    threads = [threading.Thread(target=sender, args=(n,)) for n in range(SENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def latencies(
    deployment: Deployment, sent_at: dict[str, float], shipped_at: dict[int, float]
) -> tuple[list[float], list[float], dict[str, list[float]]]:
    """Webhook sent → supplier order submitted, shipped → fulfillment synced (seconds)."""
    submit: list[float] = []
    by_shop: dict[str, list[float]] = defaultdict(list)
    fulfil: list[float] = []
    with deployment.stack.db.read() as session:
        rows = session.execute(
            select(
                SupplierOrder.id,
                SupplierOrder.submitted_at,
                Order.shopify_order_id,
                Order.shop_domain,
            ).join(Order, Order.id == SupplierOrder.order_id)
        ).all()
        synced = dict(
            session.execute(
                select(Shipment.supplier_order_id, func.min(Shipment.synced_at)).group_by(
                    Shipment.supplier_order_id
                )
            ).all()
        )
    for row in rows:
        sent = sent_at.get(f"{row.shop_domain}/{row.shopify_order_id}")
        if sent is not None and row.submitted_at is not None:
            value = (row.submitted_at - naive_utc(sent)).total_seconds()
            submit.append(value)
            by_shop[row.shop_domain].append(value)
        shipped = shipped_at.get(row.id)
        if shipped is not None and synced.get(row.id) is not None:
            fulfil.append((synced[row.id] - naive_utc(shipped)).total_seconds())
    return submit, fulfil, by_shop


SIZED_TABLES = ("jobs", "webhook_deliveries", "orders", "line_items", "item_events")


def table_sizes(deployment: Deployment) -> str:
    """Rows (and on PostgreSQL total size with indexes) of the tables that grow per order."""
    parts = []
    with deployment.stack.db.read() as session:
        for table in SIZED_TABLES:
            rows = session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            size = ""
            if deployment.config.database == "postgresql":
                found = session.execute(
                    text(f"SELECT pg_total_relation_size('{table}')")
                ).scalar_one()
                size = f" {found / 1e6:.1f} MB"
            parts.append(f"{table} {rows}{size}")
    return ", ".join(parts)


def end_state(deployment: Deployment, orders: int, expected: int) -> str:
    with deployment.stack.db.read() as session:
        supplier_orders = session.scalar(select(func.count()).select_from(SupplierOrder)) or 0
        dead = session.scalar(select(func.count()).where(Job.status == "dead")) or 0
    fulfillments = sum(deployment.stack.shop.counters.fulfillments_by_order.values()) + sum(
        deployment.second_shop.counters.fulfillments_by_order.values()
    )
    extra = fulfillments - expected
    return f"{supplier_orders}/{fulfillments}/{extra}/{dead}"


def burst(deployment: Deployment, config: Config, count: int, timeout: float) -> Run:
    stack = deployment.stack
    mix = order_mix(count)
    orders = [stack.place_order(lines) for lines in mix]
    second = deployment.second_shop.create_order([LineSpec("TEE-BLK-M-DTG", 1)])
    wanted = expected_fulfillments(mix)
    run = Run(config, "burst", count)
    sent_at: dict[str, float] = {}
    cpu_before = deployment.cpu()
    with Shipper(deployment) as shipper:
        started = time.monotonic()
        sending = threading.Thread(
            target=send_all, args=(deployment, orders, sent_at, None, (count // 10, second))
        )
        sending.start()
        ended, done_at = wait_done(stack.shop, orders, wanted, timeout)
        sending.join()
        wait_done(deployment.second_shop, [second], [1], 30)
    finished = [at - started for at in done_at if at == at]
    run.completed = len(finished)
    run.seconds = max(finished) if len(finished) == count else ended - started
    if len(finished) >= count // 10 and count >= 10:
        run.first_tenth_share = sorted(finished)[count // 10 - 1] / run.seconds
    cpu_after = deployment.cpu()
    run.cpu = {name: cpu_after[name] - cpu_before[name] for name in cpu_after}
    run.cpu_by_kind, run.jobs_by_kind = deployment.worker_metrics()
    submit, fulfil, by_shop = latencies(deployment, sent_at, shipper.shipped_at)
    run.submit_latencies, run.fulfil_latencies = submit, fulfil
    run.second_shop_seconds = min(by_shop.get(SECOND_SHOP, [float("nan")]))
    run.check = end_state(deployment, count, sum(wanted) + 1)
    run.tables = table_sizes(deployment)
    return run


def steady(deployment: Deployment, config: Config, count: int, rate: float) -> Run:
    stack = deployment.stack
    mix = order_mix(count, seed=11)
    orders = [stack.place_order(lines) for lines in mix]
    wanted = expected_fulfillments(mix)
    run = Run(config, f"steady {rate * 60:.0f}/min", count)
    sent_at: dict[str, float] = {}
    with deployment.stack.db.read() as session:
        known = set(session.scalars(select(SupplierOrder.id)).all())
    with Shipper(deployment) as shipper:
        started = time.monotonic()
        send_all(deployment, orders, sent_at, rate)
        ended, done_at = wait_done(stack.shop, orders, wanted, 600)
    run.completed = sum(1 for at in done_at if at == at)
    run.seconds = ended - started
    fresh = {k: v for k, v in shipper.shipped_at.items() if k not in known}
    submit, fulfil, _ = latencies(deployment, sent_at, fresh)
    run.submit_latencies, run.fulfil_latencies = submit, fulfil
    return run


@contextmanager
def database(config: Config, pg_server: str) -> Iterator[str]:
    if config.database == "postgresql":
        with scratch_postgres(pg_server, "bench_deployment") as url:
            yield url
        return
    with tempfile.TemporaryDirectory(prefix="integrator-bench-") as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        upgrade(url)
        yield url


def run_config(config: Config, args: argparse.Namespace, log: Any) -> list[Run]:
    with ExitStack() as stack:
        url = stack.enter_context(database(config, args.pg_server))
        deployment = Deployment(url, config, log, args.account_calls_per_minute)
        stack.callback(deployment.close)
        runs = [burst(deployment, config, args.orders, args.timeout)]
        if args.steady and runs[0].per_minute:
            rate = runs[0].per_minute / 60 * args.steady
            runs.append(steady(deployment, config, args.steady_orders, rate))
        return runs


def report(runs: Sequence[Run]) -> None:
    baseline = runs[0]
    rows: list[list[Any]] = []
    for r in runs:
        rows.append(
            [
                r.config.label,
                r.phase,
                f"{r.completed}/{r.orders}",
                r.seconds,
                r.per_minute,
                f"{r.per_minute / baseline.per_minute:.2f}" if baseline.per_minute else "–",
                f"{r.first_tenth_share:.0%}" if r.first_tenth_share == r.first_tenth_share else "–",
                r.second_shop_seconds,
                percentile(r.submit_latencies, 50),
                percentile(r.submit_latencies, 99),
                percentile(r.fulfil_latencies, 50),
                percentile(r.fulfil_latencies, 99),
                r.check or "–",
            ]
        )
    print_table(
        [
            "config (db workers x threads)",
            "phase",
            "orders done",
            "seconds",
            "orders/min",
            "ratio to first row",
            "first 10% done at",
            "2nd shop submitted s",
            "submit p50 s",
            "submit p99 s",
            "fulfil p50 s",
            "fulfil p99 s",
            "supplier orders/fulfillments/extra/dead",
        ],
        rows,
    )
    cpu_rows: list[list[Any]] = []
    for r in runs:
        if not r.cpu or not r.completed:
            continue
        per_order = {name: seconds / r.completed * 1000 for name, seconds in r.cpu.items()}
        handlers = sum(r.cpu_by_kind.values()) / r.completed * 1000
        cpu_rows.append(
            [r.config.label, *[per_order[name] for name in sorted(per_order)], handlers]
        )
    if cpu_rows:
        names = sorted(runs[0].cpu)
        print_table(
            ["config", *[f"{name} CPU ms/order" for name in names], "job handlers ms/order"],
            cpu_rows,
        )
    kind_rows: list[list[Any]] = []
    for r in runs:
        for kind in sorted(r.cpu_by_kind, key=lambda k: -r.cpu_by_kind[k]):
            jobs = r.jobs_by_kind.get(kind, 0.0)
            kind_rows.append(
                [
                    r.config.label,
                    kind,
                    KIND_EXCHANGE.get(kind, "–"),
                    int(jobs),
                    r.cpu_by_kind[kind] / jobs * 1000 if jobs else float("nan"),
                    r.cpu_by_kind[kind] / max(r.completed, 1) * 1000,
                ]
            )
    if kind_rows:
        print_table(
            ["config", "job kind", "HTTP exchange", "jobs", "CPU ms/job", "CPU ms/order"],
            kind_rows,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--configs", default="sqlite:1x1,sqlite:1x4,pg:1x1,pg:1x4,pg:2x4")
    parser.add_argument("--steady", type=float, default=0.5, help="share of the burst rate")
    parser.add_argument("--steady-orders", type=int, default=300)
    parser.add_argument("--pg-server", default=DEFAULT_PG_SERVER)
    parser.add_argument("--timeout", type=float, default=1800.0)
    parser.add_argument("--log", default=os.devnull, help="where the processes' output goes")
    account_limit_argument(parser)
    args = parser.parse_args()
    quiet_logs()
    print(machine_note(), flush=True)
    print(
        f"supplier accounts: {account_limit(args.account_calls_per_minute) or 'published'} calls/min"
    )
    configs = [Config.parse(text) for text in args.configs.split(",") if text]
    runs: list[Run] = []
    with open(args.log, "ab") as log:
        for config in configs:
            found = run_config(config, args, log)
            for r in found:
                print(
                    f"  {r.config.label} {r.phase}: {r.completed}/{r.orders} in {r.seconds:.1f}s"
                    f" ({r.per_minute:.0f}/min) check {r.check or '-'}",
                    flush=True,
                )
                if r.tables:
                    print(f"    tables after the burst: {r.tables}", flush=True)
            runs += found
    report(runs)


if __name__ == "__main__":
    main()
