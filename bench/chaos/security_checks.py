"""Security checks shared by tests/security and this script: what a database dump and the logs
of a full run reveal, and issue 11's points 2, 3, 5 and 6 (the webhook edge).

    python bench/chaos/security_checks.py [--orders 20] [--database-url URL]

prints how many dump bytes and log lines were scanned and every secret or piece of personal
data found in them (the tests assert there is none).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import io  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import sqlite3  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from typing import Any  # noqa: E402
from urllib.parse import urlsplit  # noqa: E402

from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.chaos.common import (  # noqa: E402
    Figures,
    advance_everything,
    command_line,
    database_kind,
    scratch_url,
    start_stack,
)
from integrator.db.database import Database  # noqa: E402
from integrator.db.models import Base  # noqa: E402
from integrator.logs import configure_logging  # noqa: E402
from integrator.sandbox.shopify import AddressSpec, LineSpec  # noqa: E402
from integrator.sandbox.stack import CLIENT_SECRET, Stack  # noqa: E402

# personal data distinctive enough that any occurrence in a log is a leak
CUSTOMER = AddressSpec(
    first_name="Philippa",
    last_name="Quennell-Ostrander",
    address1="742 Zwetschgenweg",
    city="Oberammergau-Nord",
    zip="82487",
    phone="+49 170 5550199",
)
CUSTOMER_EMAIL = "philippa.quennell@private-mail.example"


def dump_database(url: str) -> str:
    """Every row of every table as text, as a backup or a stolen dump would hold it."""
    if url.startswith("sqlite"):
        path = make_url(url).database
        assert path
        connection = sqlite3.connect(path)
        try:
            dumped = "\n".join(connection.iterdump())
        finally:
            connection.close()
        raw = b"".join(
            Path(name).read_bytes() for name in (path, f"{path}-wal") if Path(name).exists()
        )
        return dumped + "\n" + raw.decode("latin-1")
    database = Database.from_url(url)
    lines: list[str] = []
    try:
        with database.engine.connect() as connection:
            for table in Base.metadata.sorted_tables:
                for row in connection.execute(text(f"SELECT * FROM {table.name}")):
                    lines.append(repr(tuple(row)))
                    lines.extend(
                        bytes(value).decode("latin-1")
                        for value in row
                        if isinstance(value, bytes | memoryview)
                    )
    finally:
        database.dispose()
    return "\n".join(lines)


def issued_access_tokens(stack: Stack) -> list[str]:
    """Access tokens the sandbox Shopify handed to the service during the run."""
    issuer = stack.shopify.tokens
    with issuer._lock:
        return list(issuer._access)


def secrets_of(stack: Stack) -> dict[str, str]:
    found = {"shopify client secret": CLIENT_SECRET}
    for name, supplier in stack.config.suppliers.items():
        for key in ("api_key", "callback_secret", "webhook_secret"):
            value = supplier.options.get(key)
            if isinstance(value, str) and len(value) >= 8:
                found[f"{name} {key}"] = value
    if stack.settings.admin_token:
        found["admin token"] = stack.settings.admin_token
    for number, token in enumerate(issued_access_tokens(stack)):
        found[f"shopify access token {number}"] = token
    return found


def personal_data() -> dict[str, str]:
    return {
        "email": CUSTOMER_EMAIL,
        "last name": CUSTOMER.last_name,
        "street": CUSTOMER.address1,
        "city": CUSTOMER.city,
        "phone": CUSTOMER.phone or "",
    }


@contextmanager
def captured_logs(level: str = "DEBUG") -> Iterator[io.StringIO]:
    """Configure logging exactly as the service processes do, into a buffer."""
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    noisy = {
        name: logging.getLogger(name).level
        for name in ("httpx", "httpcore", "urllib3", "werkzeug", "apscheduler")
    }
    buffer = io.StringIO()
    configure_logging(level, json_lines=True)
    handler = root.handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(buffer)
    try:
        yield buffer
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        for name, value in noisy.items():
            logging.getLogger(name).setLevel(value)


@dataclass
class Exposure:
    dump_bytes: int
    log_lines: int
    secrets_in_dump: list[str]
    secrets_in_logs: list[str]
    personal_data_in_logs: list[str]
    tokens_issued: int


def full_run_exposure(stack: Stack, url: str, orders: int) -> Exposure:
    """Run orders to shipped with logs captured, then look for secrets and personal data."""
    with captured_logs() as logs:
        for number in range(orders):
            order = stack.shop.create_order(
                [LineSpec("TEE-BLK-M-DTG", 1), LineSpec("MUG-11OZ-WHT", 1)]
                if number % 2
                else [LineSpec("CANVAS-30X40", 1), LineSpec("CASE-IPHONE15-CLEAR", 1)],
                email=CUSTOMER_EMAIL,
                shipping_address=CUSTOMER,
            )
            stack.send_webhook("orders/paid", order)
        stack.drain()
        for stage in ("in_production", "shipped", "delivered"):
            advance_everything(stack, stage)
            stack.drain()
    log_text = logs.getvalue()
    dump = dump_database(url)
    secrets = secrets_of(stack)
    return Exposure(
        dump_bytes=len(dump),
        log_lines=log_text.count("\n"),
        secrets_in_dump=sorted(
            name
            for name, value in secrets.items()
            if name.startswith("shopify access token") and value in dump
        ),
        secrets_in_logs=sorted(name for name, value in secrets.items() if value in log_text),
        personal_data_in_logs=sorted(
            name for name, value in personal_data().items() if value and value in log_text
        ),
        tokens_issued=sum(1 for name in secrets if name.startswith("shopify access token")),
    )


# --- issue 11, point 2: nothing unauthenticated costs more than the signature check -------------


def _mean_ms(send: Callable[[], int], times: int) -> tuple[float, set[int]]:
    statuses: set[int] = set()
    started = time.perf_counter()
    for _ in range(times):
        statuses.add(send())
    return (time.perf_counter() - started) / times * 1000, statuses


def unauthenticated_cost_figures(stack: Stack, history_rows: int = 100_000) -> dict[str, Any]:
    """What a forged request costs, what breaks the parser, what grows /metrics, and what
    /healthz and /metrics cost with a long history (through the real app, in-process)."""
    import json
    import random
    import uuid

    from prometheus_client import REGISTRY, generate_latest

    from integrator.sandbox.shopify import sign

    client = stack.app.test_client()

    def post(body: bytes, *, signed: bool, topic: str = "orders/paid") -> int:
        headers = {
            "Content-Type": "application/json",
            "X-Shopify-Topic": topic,
            "X-Shopify-Hmac-Sha256": sign(body if signed else b"forged", CLIENT_SECRET),
            "X-Shopify-Shop-Domain": stack.options.shop,
            "X-Shopify-Webhook-Id": str(uuid.uuid4()),
        }
        return int(client.post("/webhooks/shopify", data=body, headers=headers).status_code)

    big_json = json.dumps({"line_items": [{"id": n, "title": "x" * 40} for n in range(15_000)]})
    big_binary = random.Random(1).randbytes(len(big_json))
    json_ms, json_statuses = _mean_ms(lambda: post(big_json.encode(), signed=False), 20)
    binary_ms, binary_statuses = _mean_ms(lambda: post(big_binary, signed=False), 20)
    small_ms, _ = _mean_ms(lambda: post(b'{"id": 1}', signed=False), 20)
    brackets = b"[" * 100_000
    metrics_before = len(generate_latest(REGISTRY))
    for _ in range(2_000):
        post(b"{}", signed=False, topic="x/" + uuid.uuid4().hex + "t" * 2_000)
    metrics_after = len(generate_latest(REGISTRY))
    quiet_healthz = _mean_ms(lambda: int(client.get("/healthz").status_code), 10)[0]
    quiet_metrics = _mean_ms(lambda: int(client.get("/metrics").status_code), 10)[0]
    _add_history(stack, history_rows)
    busy_healthz = _mean_ms(lambda: int(client.get("/healthz").status_code), 10)[0]
    busy_metrics = _mean_ms(lambda: int(client.get("/metrics").status_code), 10)[0]
    return {
        "forged 1 MB JSON / 1 MB binary / 9-byte JSON, ms per request": (
            f"{json_ms:.2f} / {binary_ms:.2f} / {small_ms:.2f} (answers "
            f"{sorted(json_statuses | binary_statuses)}); JSON/binary {json_ms / binary_ms:.2f}"
        ),
        "forged [ x 100,000": post(brackets, signed=False),
        "signed [ x 100,000": post(brackets, signed=True),
        "/metrics bytes before / after 2,000 forged 2 KB topics": (
            f"{metrics_before} / {metrics_after}"
        ),
        f"/healthz, /metrics ms: empty vs {history_rows:,} done jobs and delivered items": (
            f"{quiet_healthz:.1f}, {quiet_metrics:.1f} vs {busy_healthz:.1f}, {busy_metrics:.1f}"
        ),
    }


def _add_history(stack: Stack, rows: int) -> None:
    """``rows`` finished jobs, and as many orders each with one delivered item."""
    from sqlalchemy import insert

    from integrator.db.models import Job, LineItem, Order
    from integrator.db.timestamps import utcnow

    long_ago = utcnow().replace(year=2020)
    with stack.db.engine.begin() as connection:
        connection.execute(
            insert(Job),
            [{"kind": "order.ingest", "payload": {}, "status": "done", "run_at": long_ago}] * rows,
        )
        connection.execute(
            insert(Order),
            [
                {
                    "shop_domain": "history.myshopify.com",
                    "shopify_order_id": str(n),
                    "paid_at": long_ago,
                }
                for n in range(rows)
            ],
        )
        first = connection.execute(
            text("SELECT min(id) FROM orders WHERE shop_domain = 'history.myshopify.com'")
        ).scalar_one()
        connection.execute(
            insert(LineItem),
            [{"order_id": first + n, "shopify_line_item_id": "1", "stage": "delivered"} for n in range(rows)],
        )  # fmt: skip
        if connection.dialect.name == "postgresql":
            connection.execute(text("ANALYZE"))


# --- issue 11, point 3: slow clients do not stall the service ------------------------------------


def slow_client_figures(url: str, clients: int = 200, seconds: float = 10.0) -> dict[str, Any]:
    """``bench/chaos/slow_clients.py`` against the Procfile's web role, in short."""
    import tempfile

    from bench.chaos.slow_clients import attack

    with tempfile.TemporaryDirectory(prefix="security-slow-") as folder:
        outcome = attack("procfile", url, clients, seconds, 1.0, Path(folder))
    during = outcome.rows[1]
    return {
        "server": outcome.command,
        "slow connections (open at the end)": f"{clients} ({outcome.slow_open_at_end})",
        "healthz p50/p99/max ms": during["healthz p50/p99/max ms"],
        "webhook p50/p99/max ms": during["webhook p50/p99/max ms"],
        "probes over 1 s / failed": f"{during['over 1 s']} / {during['failures']}",
        "webhooks answered 200 / stored": f"{outcome.webhooks_200} / {outcome.stored}",
    }


# --- issue 11, point 5: replayed compliance webhooks ---------------------------------------------


def replay_figures(stack: Stack) -> dict[str, Any]:
    """Genuinely signed bodies replayed under another shop's header or long after."""
    import dataclasses
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import func, select

    from integrator.db.models import Order, Shop, WebhookDelivery

    other = "other-store.myshopify.com"
    with stack.db.write() as session:
        session.add(Shop(domain=other, status="active"))
        session.add_all(
            Order(shop_domain=other, shopify_order_id=str(n), email=f"o{n}@example.com")
            for n in range(5)
        )
    own = stack.options.shop
    url = f"{stack.integrator_url}/webhooks/shopify"
    old = (datetime.now(UTC) - timedelta(hours=49)).isoformat().replace("+00:00", "Z")
    replays = [
        ("shop/redact", {"shop_id": 1, "shop_domain": own}, other, None),
        ("customers/redact", {"shop_id": 1, "shop_domain": own, "customer": {"id": 1},
                              "orders_to_redact": [0, 1]}, other, None),
        ("app/uninstalled", stack.shop.shop_payload(), other, None),
        ("shop/redact", {"shop_id": 1, "shop_domain": own}, own, old),
    ]  # fmt: skip
    answers = []
    for topic, body, header_shop, triggered_at in replays:
        delivery = stack.sender.prepare(topic, body, header_shop)
        if triggered_at:
            delivery = dataclasses.replace(delivery, triggered_at=triggered_at)
        answers += stack.sender.deliver(url, delivery).statuses
    stack.drain()
    with stack.db.read() as session:
        outcomes = dict(
            session.execute(
                select(WebhookDelivery.outcome, func.count())
                .where(WebhookDelivery.topic.in_(("shop/redact", "customers/redact", "app/uninstalled")))
                .group_by(WebhookDelivery.outcome)
            ).all()
        )  # fmt: skip
        kept = session.scalar(
            select(func.count()).select_from(Order).where(
                Order.shop_domain == other, Order.email.is_not(None))
        )  # fmt: skip
        other_status = session.scalar(select(Shop.status).where(Shop.domain == other))
        own_orders = session.scalar(
            select(func.count()).select_from(Order).where(Order.shop_domain == own)
        )
    return {
        "replays (3 under another shop's header, 1 triggered 49 h ago)": len(replays),
        "answers": answers,
        "delivery outcomes": outcomes,
        "other shop: status, orders with personal data kept": f"{other_status}, {kept} of 5",
        "own orders kept after the 49 h old shop/redact": own_orders,
    }


# --- issue 11, point 6: print-file URLs ----------------------------------------------------------

ISSUE_URLS = (
    "http://127.1/a.png",
    "http://0177.0.0.1/a.png",
    "http://0x7f.0.0.1/a.png",
    "http://127.0.0.1\\@example.com/a.png",
    "http://127.0.0.1.nip.io/a.png",
    "http://localtest.me/a.png",
    "http://kubernetes.default.svc/a.png",
    "http://foo.lan/a.png",
    "http://[::127.0.0.1]/a.png",
    "http://[64:ff9b::a9fe:a9fe]/a.png",
    "http://[2002:a9fe:a9fe::1]/a.png",
    "http://１２７．０．０．１/a.png",
)


def print_file_url_figures() -> dict[str, Any]:
    """Every URL the issue lists, through the check with a resolver answering as public DNS
    does for nip.io and localtest.me; and public URLs that must still pass."""
    from integrator.domain.public_urls import NotPublicUrl, public_url
    from integrator.sandbox.dns import SandboxResolver

    resolver = SandboxResolver()
    resolver.add("127.0.0.1.nip.io", ["127.0.0.1"])
    resolver.add("localtest.me", ["127.0.0.1"])
    verdicts: dict[str, str] = {}
    for url in (*ISSUE_URLS, "https://art.example.com/a.png", "http://8.8.8.8/a.png"):
        try:
            verdicts[url] = "passed on as " + public_url(url, resolver)
        except NotPublicUrl as refusal:
            verdicts[url] = f"refused: {refusal}"
    refused = sum(1 for url in ISSUE_URLS if verdicts[url].startswith("refused"))
    return {"issue's URLs refused": f"{refused} of {len(ISSUE_URLS)}", "verdicts": verdicts}


# --- issue 11, point 1: no usable default secret ------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
OLD_SANDBOX_SECRET = "sandbox-printful-callback-secret"
SUPPLIERS = ("printful", "printify", "gelato", "prodigi")
PROCESS_TIMEOUT = 60.0


def strong_process_env(url: str, **overrides: str | None) -> dict[str, str]:
    """A process's environment with the shipped config/ and strong random credentials; an
    override of None removes the variable."""
    import secrets

    from cryptography.fernet import Fernet

    env = {
        key: value
        for key, value in os.environ.items()
        if key in ("PATH", "HOME", "LANG", "TMPDIR", "PGHOST", "PGUSER")
    }
    env.update(
        {
            "DATABASE_URL": url,
            "INTEGRATOR_CONFIG_DIR": str(ROOT / "config"),
            "ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "PRINTIFY_SHOP_ID": "2002",
            "LOG_JSON": "false",
        }
    )
    for name in SUPPLIERS:
        env[f"{name.upper()}_API_KEY"] = secrets.token_urlsafe(24)
        env[f"{name.upper()}_CALLBACK_SECRET"] = secrets.token_urlsafe(32)
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def process_commands() -> dict[str, list[str]]:
    """Each process role as a deployment starts it (the web role: the Procfile's own line)."""
    from bench.web_role import procfile_web_command

    return {
        "web (Procfile)": procfile_web_command(free_port()),
        "web (integrator serve)": [str(BIN / "integrator"), "serve", "--port", "0"],
        "worker": [str(BIN / "integrator"), "worker"],
        "clock": [str(BIN / "integrator"), "clock"],
    }


def start_refusal(command: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Start a real process with ``env``: its exit code, how fast it refused, what it said."""
    started = time.monotonic()
    try:
        done = subprocess.run(
            command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=PROCESS_TIMEOUT
        )
    except subprocess.TimeoutExpired:
        return {"exit": "still running", "seconds": PROCESS_TIMEOUT, "problems": []}
    lines = [
        line
        for line in done.stderr.splitlines()
        if "routing.yaml:" in line or "ENCRYPTION_KEY" in line
    ]
    return {
        "exit": done.returncode,
        "seconds": round(time.monotonic() - started, 2),
        "problems": sorted(
            {
                line.split(": ", 2)[1] if "routing.yaml:" in line else line.split(":")[0]
                for line in lines
            }
        ),
    }


def default_secret_figures(url: str) -> dict[str, Any]:
    """Point 1: the shipped configuration works with no default; every process refuses an
    unusable credential or a missing ENCRYPTION_KEY; the old sandbox secret opens nothing."""
    from integrator.store_config import ConfigError, load_store_config

    figures: dict[str, Any] = {}
    try:
        load_store_config(ROOT / "config", {})
        figures["shipped config loads with no credential set"] = True
    except ConfigError as error:
        figures["shipped config loads with no credential set"] = False
        figures["shipped config: problems named with no credential set"] = len(error.problems)
    weak = strong_process_env(url, PRINTFUL_CALLBACK_SECRET=OLD_SANDBOX_SECRET, GELATO_API_KEY="")
    no_key = strong_process_env(url, ENCRYPTION_KEY=None)
    for name, command in process_commands().items():
        figures[f"{name} with a sandbox callback secret and an empty API key"] = start_refusal(
            command, weak
        )
        figures[f"{name} without ENCRYPTION_KEY"] = start_refusal(command, no_key)
    stack = start_stack(url, loopback=True)
    try:
        body = (
            ROOT / "tests" / "fixtures" / "suppliers" / "printful_v1_package_shipped.full.json"
        ).read_bytes()
        before = db_row_count(stack)
        answer = http_request(
            urlsplit(stack.integrator_url).port or 80,
            "POST",
            f"/webhooks/suppliers/printful?token={OLD_SANDBOX_SECRET}",
            {"Content-Type": "application/json"},
            body,
        )
        figures["forged callback with the old sandbox secret"] = {
            "status": answer.status,
            "rows stored": db_row_count(stack) - before,
        }
    finally:
        stack.close()
    return figures


def db_row_count(stack: Stack) -> int:
    from sqlalchemy import func, select

    from integrator.db.models import WebhookDelivery

    with stack.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(WebhookDelivery)) or 0)


# --- issue 11, point 4: admin sessions and the auth throttle --------------------------------------

ADMIN_TOKEN = "security-checks-admin-token-0123456789-abcdef"


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]]

    def header(self, name: str) -> str:
        return next((v for k, v in self.headers if k.lower() == name.lower()), "")

    def cookies(self) -> list[str]:
        return [v for k, v in self.headers if k.lower() == "set-cookie"]


def http_request(
    port: int,
    method: str,
    path: str,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    source: str = "127.0.0.1",
) -> Answer:
    """One request on a new connection (so gunicorn may hand it to any worker process), from
    ``source`` (a loopback address standing for a client)."""
    import http.client

    connection = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=10, source_address=(source, 0)
    )
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        response.read()
        return Answer(response.status, response.getheaders())
    finally:
        connection.close()


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def web_processes(url: str, workers: int, **env: str) -> Iterator[int]:
    """``integrator serve`` with ``workers`` gunicorn processes on a free loopback port."""
    port = free_port()
    process = subprocess.Popen(
        [
            str(BIN / "integrator"),
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--threads",
            "2",
        ],
        env=strong_process_env(url, ADMIN_TOKEN=ADMIN_TOKEN, **env),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + PROCESS_TIMEOUT
        while time.monotonic() < deadline:
            try:
                if http_request(port, "GET", "/healthz").status in (200, 503):
                    break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError("the web processes did not start")
        yield port
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)


def session_cookie(answer: Answer) -> str:
    cookie = next(c for c in answer.cookies() if c.startswith("integrator_admin="))
    return cookie.split(";", 1)[0]


def sign_in(
    port: int, token: str = ADMIN_TOKEN, source: str = "127.0.0.1", next_page: str | None = None
) -> tuple[int, str]:
    """Sign in like a browser: (status, session cookie)."""
    import http.client
    import re
    from urllib.parse import urlencode

    connection = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=10, source_address=(source, 0)
    )
    try:
        connection.request("GET", "/admin/sign-in")
        page = connection.getresponse()
        html = page.read().decode()
        cookie = session_cookie(Answer(page.status, page.getheaders()))
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', html)
        assert csrf, "no CSRF field"
        fields = {"token": token, "csrf_token": csrf.group(1)}
        if next_page is not None:
            fields["next"] = next_page
        form = urlencode(fields).encode()
        connection.request(
            "POST",
            "/admin/sign-in",
            body=form,
            headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
        )
        answer = connection.getresponse()
        answer.read()
        cookies = [v for k, v in answer.getheaders() if k.lower() == "set-cookie"]
        return answer.status, (cookies[0].split(";", 1)[0] if cookies else cookie)
    finally:
        connection.close()


def cookie_opens_console(port: int, cookie: str) -> bool:
    return http_request(port, "GET", "/admin/orders", {"Cookie": cookie}).status == 200


def cookie_verifies_with_a_key_from_the_token(cookie: str) -> bool:
    """Could the cookie anyone gets be used to test guesses of ADMIN_TOKEN offline?"""
    import hashlib
    import hmac

    from flask.sessions import SecureCookieSessionInterface
    from itsdangerous import BadSignature, URLSafeTimedSerializer

    value = cookie.split("=", 1)[1]
    derived = hmac.new(
        ADMIN_TOKEN.encode(), b"integrator admin console session v1", hashlib.sha256
    ).hexdigest()
    for digest in (hashlib.sha1, hashlib.sha256):
        serializer = URLSafeTimedSerializer(
            derived,
            salt=SecureCookieSessionInterface.salt,
            signer_kwargs={"key_derivation": "hmac", "digest_method": digest},
        )
        try:
            serializer.loads(value)
        except BadSignature:
            continue
        return True
    return False


def bearer_statuses(
    port: int, tokens: list[str], source: str = "127.0.0.1", **headers: str
) -> Counter[int]:
    return Counter(
        http_request(
            port,
            "GET",
            "/admin/api/holds",
            {"Authorization": f"Bearer {t}", **headers},
            source=source,
        ).status
        for t in tokens
    )


def admin_session_figures(url: str, workers: int = 4) -> dict[str, Any]:
    """Point 4 against real web processes: a random server-kept cookie key, revocation,
    https headers, and failed tokens throttled per client across every process."""
    figures: dict[str, Any] = {}
    guesses = [f"guess-{n}" for n in range(100)]
    with web_processes(url, workers, PUBLIC_URL="https://pod.example.com") as port:
        page = http_request(port, "GET", "/admin/sign-in")
        anyones_cookie = session_cookie(page)
        figures["cookie from the sign-in page verifies under a key from ADMIN_TOKEN"] = (
            cookie_verifies_with_a_key_from_the_token(anyones_cookie)
        )
        figures["https: HSTS header"] = page.header("Strict-Transport-Security")
        figures["https: session cookie Secure"] = "Secure" in page.cookies()[0].split("; ")
        statuses = bearer_statuses(port, guesses, source="127.0.0.2")
        figures[f"100 wrong bearer tokens from one client, {workers} web processes"] = dict(
            statuses
        )
        figures["then the right token from that client"] = bearer_statuses(
            port, [ADMIN_TOKEN], source="127.0.0.2"
        ).most_common(1)[0][0]
        figures["the right token from another client"] = bearer_statuses(
            port, [ADMIN_TOKEN], source="127.0.0.3"
        ).most_common(1)[0][0]
        rotating = bearer_statuses(
            port, guesses[:30], source="127.0.0.4", **{"X-Forwarded-For": "192.0.2.1"}
        )
        figures["30 wrong tokens with a forged X-Forwarded-For (TRUSTED_PROXIES=0)"] = dict(
            rotating
        )
        successes = [sign_in(port, source="127.0.0.5")[0] for _ in range(30)]
        figures["30 right sign-ins from one client"] = dict(Counter(successes))
        mine, theirs = sign_in(port, source="127.0.0.6")[1], sign_in(port, source="127.0.0.7")[1]
        csrf_page = http_request(port, "GET", "/admin/orders", {"Cookie": mine})
        figures["sessions open before sign-out"] = sum(
            cookie_opens_console(port, c) for c in (mine, theirs)
        )
        figures["sessions open after one sign-out"] = (
            sign_out_and_count(port, mine, theirs)
            if csrf_page.status == 200
            else "could not sign in"
        )
        crlf = http_request(port, "GET", "/admin/sign-in?next=/admin/orders%0D%0ASet-Cookie:%20x=1")
        posted = sign_in(port, source="127.0.0.8", next_page="/admin/orders\r\nSet-Cookie: x=1")
        figures["CR/LF in next: sign-in page, sign-in post"] = [crlf.status, posted[0]]
    with web_processes(url, workers, TRUSTED_PROXIES="1") as port:
        behind = {
            client: bearer_statuses(port, guesses[:20], **{"X-Forwarded-For": client})
            for client in ("198.51.100.7", "198.51.100.8")
        }
        figures["behind 1 trusted proxy: 20 wrong tokens from each of 2 real clients"] = {
            client: dict(counts) for client, counts in behind.items()
        }
    return figures


def sign_out_and_count(port: int, mine: str, theirs: str) -> int:
    import http.client
    import re
    from urllib.parse import urlencode

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", "/admin/orders", headers={"Cookie": mine})
        page = connection.getresponse()
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.read().decode())
        assert csrf, "no CSRF field on the console page"
        connection.request(
            "POST",
            "/admin/sign-out",
            body=urlencode({"csrf_token": csrf.group(1)}).encode(),
            headers={"Cookie": mine, "Content-Type": "application/x-www-form-urlencoded"},
        )
        connection.getresponse().read()
    finally:
        connection.close()
    return sum(cookie_opens_console(port, c) for c in (mine, theirs))


def run(database_url: str | None, orders: int) -> Figures:
    with scratch_url(database_url) as url:
        stack = start_stack(url)
        try:
            started = time.monotonic()
            exposure = full_run_exposure(stack, url, orders)
            extra = vars(exposure)
            extra["5. replayed compliance webhooks"] = replay_figures(stack)
            extra["2. unauthenticated cost"] = unauthenticated_cost_figures(stack)
        finally:
            stack.close()
        extra["3. slow clients"] = slow_client_figures(url)
        extra["6. print-file URLs"] = print_file_url_figures()
        extra["1. no default secret"] = default_secret_figures(url)
        extra["4. admin sessions and throttle"] = admin_session_figures(url)
    return Figures(
        scenario="security checks",
        database=database_kind(url),
        orders=orders,
        duration_seconds=time.monotonic() - started,
        extra=extra,
    )


if __name__ == "__main__":
    command_line(__doc__ or "", 20, run)
