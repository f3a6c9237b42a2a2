"""The ``integrator`` console script run as an operator runs it: from a folder without
``config/``, with only DATABASE_URL set. Commands that read only the database work there;
every other command, and every expected failure, ends in a message and an exit code, never a
traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from integrator.db.database import Database
from integrator.jobqueue import jobs

ROOT = Path(__file__).parents[2]


def integrator(folder: Path, database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """The console script's entry point in a process of its own, in ``folder``, with no
    secret, no ENCRYPTION_KEY and no INTEGRATOR_CONFIG_DIR."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": database_url,
        "LOG_JSON": "false",
    }
    return subprocess.run(
        [sys.executable, "-c", "from integrator.cli.main import main; main()", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_jobs_list_and_stats_read_only_the_database(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    with db.write() as session:
        job_id = jobs.enqueue(session, "order.ingest", {"shop": "s", "order_id": "1"})
    assert not (tmp_path / "config").exists()

    listed = integrator(tmp_path, database_url, "jobs", "list")
    assert listed.returncode == 0, listed.stderr
    assert f"{job_id:>8}  order.ingest" in listed.stdout
    assert "totals: {'queued': 1}" in listed.stdout

    shown = integrator(tmp_path, database_url, "jobs", "show", str(job_id))
    assert shown.returncode == 0, shown.stderr
    assert '"kind": "order.ingest"' in shown.stdout

    stats = integrator(tmp_path, database_url, "stats", "--json")
    assert stats.returncode == 0, stats.stderr
    assert stats.stdout.strip() == "[]"


def test_a_database_without_tables_is_one_line_and_exit_1(tmp_path: Path) -> None:
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    for command, table in (
        (["jobs", "list"], "jobs"),
        (["stats"], "orders"),
        (["jobs", "retry", "--kind", "x"], "jobs"),
    ):
        result = integrator(tmp_path, empty, *command)
        assert result.returncode == 1, (command, result.stderr)
        assert "Traceback" not in result.stderr
        assert result.stderr.strip().splitlines() == [
            f"database (DATABASE_URL): no such table: {table}; is it running, and migrated "
            "(`integrator db upgrade`)?"
        ]


def test_an_unreachable_database_is_one_line_and_exit_1(tmp_path: Path) -> None:
    # port 1: nothing listens there, the connection is refused at once
    result = integrator(tmp_path, "postgresql://postgres@127.0.0.1:1/none", "jobs", "list")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("database (DATABASE_URL): ") and "Connection refused" in line


def test_commands_that_need_the_configuration_name_what_is_missing(
    database_url: str, tmp_path: Path
) -> None:
    for command in (["worker"], ["clock"], ["config", "check"], ["items", "release", "1"]):
        result = integrator(tmp_path, database_url, *command)
        assert result.returncode == 1, (command, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr
        assert "config/routing.yaml: (file): cannot read: No such file or directory" in (
            result.stderr + result.stdout
        ), command
