"""`integrator demo` runs from any folder with no variable set: its configuration ships inside
the package and it makes its own secrets (issue 11: it failed outside the repository with
`config/routing.yaml: cannot read`)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from click.testing import CliRunner

from integrator.cli.main import cli
from tests.credentials import TEST_ENV

DEMO_LOGGERS = ("", "werkzeug", "integrator", "apscheduler")


@pytest.mark.slow
def test_the_demo_runs_from_any_folder_with_no_secret_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in TEST_ENV:
        monkeypatch.delenv(name)
    levels = {name: logging.getLogger(name).level for name in DEMO_LOGGERS}
    try:
        result = CliRunner().invoke(cli, ["demo"])
    finally:
        for name, level in levels.items():  # the demo quiets logging for its own output
            logging.getLogger(name).setLevel(level)

    assert result.exit_code == 0, result.output
    assert "✓ every item reached its supplier and came back with tracking" in result.output
    assert list(tmp_path.iterdir()) == []  # nothing written where it was started
