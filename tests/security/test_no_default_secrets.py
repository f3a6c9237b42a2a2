"""Issue 11, point 1: no usable default secret anywhere.

The shipped config/ holds no credential that works; `integrator config check` and the start of
every process (web, worker, clock) refuse a supplier whose API key or callback secret is
missing, empty, a sandbox value, or (callback secrets) shorter than 32 characters, naming file,
key path and what is wrong. ENCRYPTION_KEY missing stops every process; an ADMIN_TOKEN under
32 characters keeps the console and the admin API closed.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import requests.adapters
import yaml
from click.testing import CliRunner, Result

from integrator.bootstrap import bootstrap
from integrator.cli.main import cli
from integrator.db.database import Database
from integrator.sandbox.stack import DEMO_CONFIG_DIR, Stack, StackOptions
from integrator.settings import load_settings
from integrator.store_config import ConfigError, load_store_config
from tests.credentials import ENCRYPTION_KEY, SUPPLIER_ENV
from tests.webhooks.conftest import count_deliveries, count_jobs
from webhooks.app import create_app

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "config"
SUPPLIERS = ("printful", "printify", "gelato", "prodigi")
# the values the shipped config/routing.yaml used to fall back to
OLD_SANDBOX_SECRET = "sandbox-printful-callback-secret"
CREDENTIAL_KEYS = ("api_key", "callback_secret", "webhook_secret")
REFERENCE = re.compile(r"^\$\{[A-Z][A-Z0-9_]*\}$")
PRINTFUL_SAMPLE = (
    ROOT / "tests" / "fixtures" / "suppliers" / "printful_v1_package_shipped.full.json"
)


class Started(Exception):
    """Raised where a process would begin its work: it got past its start checks."""


def shipped_routing_files() -> list[Path]:
    return sorted([*SHIPPED.rglob("routing.yaml"), DEMO_CONFIG_DIR / "routing.yaml"])


# --- the shipped files ---------------------------------------------------------------------


@pytest.mark.parametrize("path", shipped_routing_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_shipped_credential_is_a_bare_environment_reference(path: Path) -> None:
    """No literal secret and no `${VAR:-fallback}`: a credential is `${VAR}` or nothing."""
    data = yaml.safe_load(path.read_text())
    found = []
    for name, section in data["suppliers"].items():
        for key in CREDENTIAL_KEYS:
            if key in section:
                found.append((name, key, section[key]))
                assert REFERENCE.match(str(section[key])), (path, name, key, section[key])
    assert {key for _name, key, _value in found} >= {"api_key", "callback_secret"}
    assert {name for name, key, _v in found if key == "callback_secret"} == set(data["suppliers"])


def test_the_shipped_configuration_refuses_to_load_without_real_credentials() -> None:
    with pytest.raises(ConfigError) as refused:
        load_store_config(SHIPPED, {})
    named = {(Path(p.file).name, p.key_path) for p in refused.value.problems}
    assert named == {
        ("routing.yaml", f"suppliers.{name}.{key}")
        for name in SUPPLIERS
        for key in ("api_key", "callback_secret")
    } | {("routing.yaml", "suppliers.printify.shop_id")}
    printful = next(
        p for p in refused.value.problems if p.key_path == "suppliers.printful.callback_secret"
    )
    assert "PRINTFUL_CALLBACK_SECRET is not set" in printful.message
    assert printful.line is not None


# --- integrator config check -----------------------------------------------------------------


def run(*args: str, **env: str | None) -> Result:
    return CliRunner().invoke(cli, list(args), env={"INTEGRATOR_CONFIG_DIR": str(SHIPPED), **env})


def test_config_check_passes_with_real_looking_credentials() -> None:
    result = run("config", "check")
    assert result.exit_code == 0, result.output
    assert "OK shared" in result.output


@pytest.mark.parametrize(
    ("variable", "value", "words"),
    [
        ("PRINTFUL_CALLBACK_SECRET", None, "PRINTFUL_CALLBACK_SECRET is not set"),
        ("PRINTFUL_CALLBACK_SECRET", "", "PRINTFUL_CALLBACK_SECRET is empty"),
        ("PRINTFUL_CALLBACK_SECRET", OLD_SANDBOX_SECRET, "sandbox"),
        ("PRINTFUL_CALLBACK_SECRET", "x" * 31, "is 31 characters"),
        ("PRINTFUL_API_KEY", "sandbox-printful-key", "sandbox"),
        ("PRINTFUL_API_KEY", "", "PRINTFUL_API_KEY is empty"),
        ("GELATO_API_KEY", "changeme", "placeholder"),
    ],
    ids=["unset", "empty", "sandbox", "short", "sandbox-key", "empty-key", "placeholder"],
)
def test_config_check_names_each_unusable_credential(
    variable: str, value: str | None, words: str
) -> None:
    result = run("config", "check", **{variable: value})

    assert result.exit_code == 1
    key = "callback_secret" if variable.endswith("SECRET") else "api_key"
    supplier = variable.split("_")[0].lower()
    (line,) = [line for line in result.output.splitlines() if f"suppliers.{supplier}.{key}" in line]
    assert re.match(
        rf"^{re.escape(str(SHIPPED))}/routing\.yaml:\d+: suppliers\.{supplier}\.{key}: ", line
    )
    assert words in line


def test_a_generated_secret_of_32_characters_is_enough() -> None:
    assert run("config", "check", PRINTFUL_CALLBACK_SECRET="x" * 32).exit_code == 0


# --- every process refuses to start ----------------------------------------------------------


@pytest.fixture
def no_process_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where each process would start working, raise instead (so a test never hangs)."""

    def started(*_args: Any, **_kwargs: Any) -> None:
        raise Started

    monkeypatch.setattr("integrator.jobqueue.worker.Worker.run", started)
    monkeypatch.setattr("integrator.scheduler.run_clock", started)
    monkeypatch.setattr("gunicorn.app.base.BaseApplication.run", started)


@pytest.fixture
def process_env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A process's environment: the shipped config/, a migrated database, every secret set."""
    monkeypatch.setenv("INTEGRATOR_CONFIG_DIR", str(SHIPPED))
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("LOG_JSON", "false")
    yield
    root = logging.getLogger()
    root.handlers[:] = [h for h in root.handlers if not isinstance(h, logging.StreamHandler)]


def start(process: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, bool]:
    """Start ``process`` the way the Procfile does: (exit code, what it printed, got going).
    The web app's own exit code, 3, is gunicorn's "worker failed to boot" (it stops then)."""
    if process == "web":  # gunicorn "webhooks.app:create_app()"
        try:
            create_app()
        except SystemExit as stopped:
            code = int(stopped.code or 0)
            return 1 if code == 3 else code, capsys.readouterr().err, False
        return 0, capsys.readouterr().err, True
    result = CliRunner().invoke(cli, [process])
    return result.exit_code, result.output, isinstance(result.exception, Started)


PROCESSES = ("web", "serve", "worker", "clock")


@pytest.mark.usefixtures("process_env", "no_process_runs")
@pytest.mark.parametrize("process", PROCESSES)
def test_every_process_starts_with_real_looking_secrets(
    process: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _code, output, started = start(process, capsys)
    assert started, output  # the refusals below have the right cause


@pytest.mark.usefixtures("process_env", "no_process_runs")
@pytest.mark.parametrize("process", PROCESSES)
def test_every_process_refuses_a_sandbox_callback_secret(
    process: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRINTFUL_CALLBACK_SECRET", OLD_SANDBOX_SECRET)
    monkeypatch.delenv("GELATO_API_KEY")

    code, output, started = start(process, capsys)

    assert (code, started) == (1, False)
    assert re.search(r"routing\.yaml:\d+: suppliers\.printful\.callback_secret: .*sandbox", output)
    assert re.search(r"routing\.yaml:\d+: suppliers\.gelato\.api_key: .*GELATO_API_KEY", output)


@pytest.mark.usefixtures("process_env", "no_process_runs")
@pytest.mark.parametrize("process", PROCESSES)
def test_every_process_refuses_to_start_without_encryption_key(
    process: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ENCRYPTION_KEY")

    code, output, started = start(process, capsys)

    assert (code, started) == (1, False)
    (line,) = output.strip().splitlines()  # one clear line
    assert line.startswith("ENCRYPTION_KEY is not set") and "integrator keys new" in line


# --- the attack of the issue: a forged callback with the old well-known secret ---------------


@pytest.fixture
def stack(database_url: str) -> Iterator[Stack]:
    running = Stack(StackOptions(database_url=database_url, migrate=False))
    yield running
    running.close()


def test_a_callback_with_the_old_sandbox_secret_is_refused(stack: Stack) -> None:
    client = stack.app.test_client()
    body = PRINTFUL_SAMPLE.read_bytes()

    forged = client.post(
        f"/webhooks/suppliers/printful?token={OLD_SANDBOX_SECRET}",
        data=body,
        headers={"Content-Type": "application/json"},
    )

    assert forged.status_code == 401
    assert (count_deliveries(stack.db), count_jobs(stack.db)) == (0, 0)
    assert stack.callback_secret("printful") != OLD_SANDBOX_SECRET
    assert len(stack.callback_secret("printful")) >= 32


# --- ADMIN_TOKEN shorter than 32 characters ----------------------------------------------------


def test_a_short_admin_token_keeps_console_and_api_closed_and_the_start_log_says_why(
    db: Database, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    short = "a-31-character-admin-token-1234"
    assert len(short) == 31
    settings = load_settings(
        {
            "DATABASE_URL": database_url,
            "INTEGRATOR_CONFIG_DIR": str(SHIPPED),
            "ADMIN_TOKEN": short,
            "ENCRYPTION_KEY": ENCRYPTION_KEY,
        }
    )
    with caplog.at_level(logging.WARNING):
        app = create_app(container=bootstrap(settings, db=db))
    client = app.test_client()

    page = client.get("/admin/sign-in")
    signing_in = client.post("/admin/sign-in", data={"token": short})
    api = client.get("/admin/api/orders", headers={"Authorization": f"Bearer {short}"})

    assert page.status_code == 403 and "at least 32" in page.get_data(as_text=True)
    assert signing_in.status_code == 403 and "Set-Cookie" not in signing_in.headers
    assert api.status_code == 403 and "at least 32" in api.get_json()["error"]
    (closed,) = [r for r in caplog.records if r.getMessage() == "admin.closed"]
    assert "31 characters" in closed.reason  # type: ignore[attr-defined]


def test_supplier_env_of_the_tests_is_not_shipped() -> None:
    """The tests' own secrets appear in no shipped file (they come from tests/credentials.py)."""
    shipped = "".join(p.read_text() for p in [*SHIPPED.rglob("*.yaml"), *DEMO_CONFIG_DIR.glob("*")])
    assert not [name for name, value in SUPPLIER_ENV.items() if len(value) > 8 and value in shipped]


# --- offline tools and the commands that make secrets ------------------------------------------


def without_supplier_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SUPPLIER_ENV:
        monkeypatch.delenv(name, raising=False)


def test_route_explain_works_offline_without_any_credential(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    without_supplier_credentials(monkeypatch)
    order = ROOT / "tests" / "routing" / "fixtures" / "demo_order_rest.json"

    result = run("route", "explain", str(order), "--json", SHOPIFY_SHOP=None)

    assert result.exit_code == 0, result.output
    assert '"decision"' in result.output


class NoNetwork(requests.adapters.BaseAdapter):
    def send(self, *_args: Any, **_kwargs: Any) -> requests.Response:
        raise AssertionError("suppliers setup called a supplier")

    def close(self) -> None:
        pass


def test_suppliers_setup_makes_a_strong_callback_secret_for_each_supplier_without_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    without_supplier_credentials(monkeypatch)
    monkeypatch.setenv("PRINTFUL_CALLBACK_SECRET", OLD_SANDBOX_SECRET)  # replaced too
    monkeypatch.setenv("PRINTIFY_SHOP_ID", "2002")
    session = requests.Session()
    session.mount("http://", NoNetwork())
    session.mount("https://", NoNetwork())
    monkeypatch.setattr("integrator.cli.suppliers.new_session", lambda: session)

    result = run("suppliers", "setup", "--public-url", "https://pod.example.com")

    assert result.exit_code == 1
    made = dict(re.findall(r"^    ([A-Z_]+_CALLBACK_SECRET)=(\S+)$", result.output, re.M))
    assert set(made) == {f"{name.upper()}_CALLBACK_SECRET" for name in SUPPLIERS}
    assert len(set(made.values())) == len(made)
    assert all(len(secret) >= 43 and secret.isascii() for secret in made.values())
    assert "✗ printful: no usable callback secret (PRINTFUL_CALLBACK_SECRET is a sandbox" in (
        result.output
    )
    assert "✗ gelato: no usable callback secret (GELATO_CALLBACK_SECRET is not set)" in (
        result.output
    )
    assert "set GELATO_CALLBACK_SECRET in the environment of every process" in result.output
    # what it printed is accepted once set (API keys as a store owner would set them)
    api_keys = {
        f"{name.upper()}_API_KEY": SUPPLIER_ENV[f"{name.upper()}_API_KEY"] for name in SUPPLIERS
    }
    assert run("config", "check", **made, **api_keys).exit_code == 0
