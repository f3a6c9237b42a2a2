"""The ``integrator`` console script run as an operator runs it: from a folder without
``config/``, with only DATABASE_URL set. Commands that read only the database work there;
every other command, and every expected failure, ends in a message and an exit code, never a
traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click

from integrator.cli.main import cli
from integrator.db.database import Database
from integrator.jobqueue import jobs

ROOT = Path(__file__).parents[2]
SAMPLES = ROOT / "tests" / "fixtures" / "shopify"


def integrator(folder: Path, database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """The console script's entry point in a process of its own, in ``folder``, with no
    secret, no ENCRYPTION_KEY and no INTEGRATOR_CONFIG_DIR."""
    entry_point = "from integrator.cli.main import main; main()"
    return integrator_process(folder, database_url, "-c", entry_point, *args)


def integrator_process(
    folder: Path, database_url: str, *python_args: str
) -> subprocess.CompletedProcess[str]:
    """Python with ``python_args`` in ``folder``, with only DATABASE_URL set."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": database_url,
        "LOG_JSON": "false",
    }
    return subprocess.run(
        [sys.executable, *python_args],
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


# Every command of the console script, and how it is expected to fail in an empty folder with
# an empty database: (arguments, exit code, a line of what it prints). A database the command
# cannot read, a configuration it cannot find, a missing setting, a payload it cannot use, a
# usage error: each is a message and an exit code.
UNREACHABLE = "postgresql://postgres@127.0.0.1:1/none"
NO_CONFIG = "config/routing.yaml: (file): cannot read: No such file or directory"
NO_JOBS_TABLE = (
    "database (DATABASE_URL): no such table: jobs; is it running, and migrated "
    "(`integrator db upgrade`)?"
)
EXPECTED_FAILURES: dict[str, tuple[tuple[str, ...], int, str]] = {
    "serve": ((), 1, NO_CONFIG),
    "worker": ((), 1, NO_CONFIG),
    "clock": ((), 1, NO_CONFIG),
    "db upgrade": ((), 1, "Connection refused"),  # migrating an empty SQLite file works
    "jobs list": ((), 1, NO_JOBS_TABLE),
    "jobs show": (("1",), 1, NO_JOBS_TABLE),
    "jobs retry": (("1",), 1, NO_JOBS_TABLE),
    "config check": ((), 1, NO_CONFIG),
    "route explain": (("order.json",), 1, "Error: the configuration has 2 problem(s)"),
    "reconcile": (("--dry-run",), 1, NO_CONFIG),
    "stats": ((), 1, "database (DATABASE_URL): no such table: orders;"),
    "shopify setup": ((), 1, "Error: SHOPIFY_SHOP is not set (single-store setup needs it)"),
    "shopify stock-catalog": ((), 1, "Error: SHOPIFY_SHOP is not set"),
    "suppliers check": ((), 1, NO_CONFIG),
    "suppliers setup": (("--public-url", "https://example.com"), 1, NO_CONFIG),
    "suppliers explain": (("printful", "order.json"), 1, "Error: order.json: not a printful"),
    "demo": (("--no-such-option",), 2, "Error: No such option '--no-such-option'."),
    "keys new": (("surplus",), 2, "Error: Got unexpected extra argument (surplus)"),
    "items reroute": (("1", "printful"), 1, NO_CONFIG),
    "items release": (("1",), 1, NO_CONFIG),
    "items retry": (("1",), 1, NO_CONFIG),
    "items cancel": (("1",), 1, NO_CONFIG),
}


def leaf_commands(group: click.Group, prefix: str = "") -> Iterator[str]:
    context = click.Context(group)
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        assert command is not None, name
        if isinstance(command, click.Group):
            yield from leaf_commands(command, f"{prefix}{name} ")
        else:
            yield f"{prefix}{name}"


def test_the_table_names_every_command() -> None:
    assert sorted(leaf_commands(cli)) == sorted(EXPECTED_FAILURES)


# Runs each command line through the console script's entry point in one process of its own
# (one start instead of one per command), capturing what each prints and how it exits; an
# exception that escapes ``main`` is recorded with its traceback, as the operator would see it.
DRIVER = """
import contextlib, io, json, sys, traceback
from integrator.cli.main import main

results = {}
for command, arguments in json.loads(sys.argv[1]).items():
    out, err, code = io.StringIO(), io.StringIO(), 0
    sys.argv = ["integrator", *arguments]
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main()
        except SystemExit as exit:
            code = exit.code if isinstance(exit.code, int) else 1
        except BaseException:
            traceback.print_exc()
            code = -1
    results[command] = [code, out.getvalue(), err.getvalue()]
print(json.dumps(results))
"""


def test_every_command_fails_with_a_message_and_an_exit_code_never_a_traceback(
    tmp_path: Path,
) -> None:
    (tmp_path / "order.json").write_bytes((SAMPLES / "orders_paid.json").read_bytes())
    command_lines = {
        command: [*command.split(), *arguments]
        for command, (arguments, _code, _line) in EXPECTED_FAILURES.items()
        if command != "db upgrade"
    }
    results = _run_in_one_process(tmp_path, f"sqlite:///{tmp_path / 'empty.db'}", command_lines)
    # migrating an empty SQLite file works: db upgrade fails on a database it cannot reach
    results |= _run_in_one_process(tmp_path, UNREACHABLE, {"db upgrade": ["db", "upgrade"]})
    assert sorted(results) == sorted(EXPECTED_FAILURES)
    for command, (code, stdout, stderr) in results.items():
        _arguments, expected_code, line = EXPECTED_FAILURES[command]
        printed = (stderr + stdout).strip().splitlines()
        assert "Traceback" not in stderr, (command, stderr)
        assert code == expected_code, (command, printed)
        assert any(line in printed_line for printed_line in printed), (command, printed)
        # one line per problem (the environment, each file), never more
        assert 1 <= len(printed) <= 4, (command, printed)


def _run_in_one_process(
    folder: Path, database_url: str, command_lines: dict[str, list[str]]
) -> dict[str, tuple[int, str, str]]:
    result = integrator_process(folder, database_url, "-c", DRIVER, json.dumps(command_lines))
    assert result.returncode == 0, result.stderr
    return {command: tuple(answer) for command, answer in json.loads(result.stdout).items()}


def test_a_bad_setting_is_its_own_line_for_every_command_that_reads_the_settings(
    tmp_path: Path,
) -> None:
    readers = ("serve", "worker", "clock", "db", "jobs", "reconcile", "stats", "shopify", "items")
    command_lines = {
        command: [*command.split(), *arguments]
        for command, (arguments, _code, _line) in EXPECTED_FAILURES.items()
        if command.split()[0] in readers
    }
    results = _run_in_one_process(tmp_path, "not-a-url", command_lines)
    assert len(results) == 15
    for command, (code, stdout, stderr) in results.items():
        assert (code, stdout, stderr) == (
            1,
            "",
            "DATABASE_URL: 'not-a-url' is not a SQLAlchemy URL\n",
        ), command
