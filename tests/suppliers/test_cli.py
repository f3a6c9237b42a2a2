"""`integrator suppliers check|setup` against sandboxes, with the config loader faked."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
import requests
from click.testing import CliRunner

from integrator.cli import suppliers as cli
from integrator.sandbox.suppliers import SANDBOXES, SandboxSupplier
from integrator.sandbox.suppliers.transport import mount
from integrator.store_config.store import SupplierConfig
from tests.suppliers.conftest import API_KEY, OPTIONS, SECRET

PUBLIC = "https://pod.example.com"


@pytest.fixture
def sandboxes(monkeypatch: pytest.MonkeyPatch) -> dict[str, SandboxSupplier]:
    made = {key: cls(api_key=API_KEY) for key, cls in SANDBOXES.items()}
    configs = {
        key: SupplierConfig(name=key, adapter=key, base_url=f"http://{key}.sandbox",
                            options={**OPTIONS[key], "api_key": API_KEY,
                                     "callback_secret": SECRET})
        for key in made
    }

    def load_store_config(*_: Any, **__: Any) -> Any:
        return SimpleNamespace(suppliers=configs)

    def new_session() -> requests.Session:
        session = requests.Session()
        for key, sandbox in made.items():
            mount(session, f"http://{key}.sandbox", sandbox)
        return session

    monkeypatch.setattr("integrator.store_config.loading.load_store_config", load_store_config)
    monkeypatch.setattr(cli, "new_session", new_session)
    return made


def test_check_reports_each_supplier(sandboxes: dict[str, SandboxSupplier]) -> None:
    sandboxes["gelato"].api_key = "revoked"

    result = CliRunner().invoke(cli.suppliers, ["check"])

    assert result.exit_code == 1
    lines = sorted(result.output.splitlines(), key=lambda line: line.split()[1])
    assert [line.split()[:2] for line in lines] == [
        ["✗", "gelato"], ["✓", "printful"], ["✓", "printify"], ["✓", "prodigi"]]


def test_setup_registers_where_it_can_and_explains_the_rest(
    sandboxes: dict[str, SandboxSupplier],
) -> None:
    result = CliRunner().invoke(cli.suppliers, ["setup", "--public-url", PUBLIC + "/"])

    assert result.exit_code == 0, result.output
    for key in ("printful", "printify"):
        assert sandboxes[key].callback_url == f"{PUBLIC}/webhooks/suppliers/{key}?token={SECRET}"
    assert "→ gelato: by hand" in result.output
    assert "→ prodigi: by hand" in result.output
    assert SECRET not in result.output  # the token is never printed


def test_callback_url_escapes_the_secret() -> None:
    assert cli.callback_url(PUBLIC, "printful", "a&b=c") == (
        f"{PUBLIC}/webhooks/suppliers/printful?token=a%26b%3Dc")
