"""Two real processes calling Printful at once never send it more than its published 120 calls
in any 60 s: their limiter counts in the storage every process shares (ADR 0007)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from integrator.sandbox.suppliers.printful import PrintfulSandbox
from integrator.sandbox.suppliers.transport import serve

PROCESS = Path(__file__).with_name("limits_process.py")
CALLS_EACH = 100  # two processes: 200 tries against a limit of 120


@pytest.fixture
def printful() -> Iterator[tuple[PrintfulSandbox, str]]:
    sandbox = PrintfulSandbox(api_key="limits-key")
    url, stop = serve(sandbox)
    yield sandbox, url
    stop()


def run_two(url: str, database_url: str, storage_url: str, ready: Path) -> list[dict[str, int]]:
    ready.mkdir()
    env = {
        **os.environ,
        "PYTHONPATH": str(Path(__file__).parents[2]),
        "DATABASE_URL": database_url,
        "RATE_LIMIT_STORAGE_URL": storage_url,
    }
    command = [sys.executable, str(PROCESS), url, "limits-key", str(CALLS_EACH), str(ready), "2"]
    processes = [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    outcomes = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err.decode()
        outcomes.append(json.loads(out))
    return outcomes


def test_two_processes_together_stay_within_the_published_limit(
    printful: tuple[PrintfulSandbox, str], database_url: str, tmp_path: Path
) -> None:
    sandbox, url = printful
    outcomes = run_two(url, database_url, "", tmp_path / "ready")

    assert sum(o["ok"] for o in outcomes) == 120
    assert sum(o["limited"] for o in outcomes) == 80  # told "retry later" by our limiter
    assert all(o["refused_by_supplier"] == 0 for o in outcomes)
    assert sandbox.calls.summary() == {
        "limit": 120,
        "window": 60.0,
        "answered": 120,
        "refused": 0,
        "busiest_window": 120,
    }


def test_limits_kept_per_process_would_overrun_the_supplier(
    printful: tuple[PrintfulSandbox, str], database_url: str, tmp_path: Path
) -> None:
    """The same run with each process counting alone (``memory://``): each thinks it may
    send 100, so calls go past Printful's 120 and it answers 429 (after which the process that
    got it holds off for Retry-After). This is what the shared storage prevents."""
    sandbox, url = printful
    outcomes = run_two(url, database_url, "memory://", tmp_path / "ready")

    refused = sum(o["refused_by_supplier"] for o in outcomes)
    assert sum(o["ok"] for o in outcomes) == 120
    assert refused >= 1
    assert sandbox.calls.summary()["answered"] == 120
    assert sandbox.calls.summary()["refused"] == refused
