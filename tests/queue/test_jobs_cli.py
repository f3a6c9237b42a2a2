"""``integrator jobs list|show|retry`` against a real database."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from integrator.cli.main import cli
from integrator.db.database import Database
from integrator.jobqueue import jobs
from integrator.jobqueue.worker import Worker


@pytest.fixture
def runner(database_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("LOG_JSON", "false")
    return CliRunner()


def test_retry_revives_a_dead_job_and_list_shows_it(db: Database, runner: CliRunner) -> None:
    with db.write() as session:
        job_id = jobs.enqueue(session, "sync", max_attempts=1)
    Worker(db, {}).drain()  # no handler: dead at once, with the reason
    listed = runner.invoke(cli, ["jobs", "list", "--status", "dead"])
    assert listed.exit_code == 0, listed.output
    assert f"{job_id:>8}  sync" in listed.output and "no handler" in listed.output
    shown = runner.invoke(cli, ["jobs", "show", str(job_id)])
    assert '"status": "dead"' in shown.output
    retried = runner.invoke(cli, ["jobs", "retry", str(job_id)])
    assert retried.exit_code == 0 and "requeued 1 job(s)" in retried.output
    assert jobs.queue_stats(db)["counts"] == {"queued": 1}
    again = runner.invoke(cli, ["jobs", "retry", str(job_id)])
    assert again.exit_code == 1 and "no dead job matched" in again.output


def test_retry_needs_an_id_or_a_kind(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["jobs", "retry"])
    assert result.exit_code == 2


def test_every_public_command_exists() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    for command in (
        "serve",
        "worker",
        "clock",
        "db",
        "config",
        "route",
        "reconcile",
        "jobs",
        "stats",
        "shopify",
        "suppliers",
        "demo",
    ):
        assert f"  {command}" in result.output
