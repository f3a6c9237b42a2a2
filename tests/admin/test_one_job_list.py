"""``integrator jobs list``, the console's Jobs page and ``GET /admin/api/jobs`` list the same
jobs for the same filter: all three read ``integrator.read_models.queries.jobs``."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from click.testing import CliRunner
from flask import Flask

from integrator.cli.main import cli
from integrator.db.database import Database
from integrator.db.models import Job
from integrator.db.timestamps import utcnow
from tests.admin.conftest import api_headers, signed_in

FILTERS = (
    {},
    {"status": "dead"},
    {"status": "done"},
    {"kind": "supplier.submit"},
    {"status": "queued", "kind": "supplier.submit"},
    {"kind": "no.such.kind"},
)
CONSOLE_ROW = re.compile(r"<tr>\s*<td>(\d+)</td><td>([^<]*)</td>")


def _seed(db: Database) -> None:
    now = utcnow()
    rows = [
        ("supplier.submit", "queued", 5),
        ("supplier.submit", "dead", 1),
        ("supplier.submit", "done", 3),
        ("order.ingest", "queued", 2),
        ("order.ingest", "running", 4),
        ("order.ingest", "dead", 6),
        ("shopify.sync_shipment", "done", 7),
        ("shopify.sync_shipment", "queued", 0),
    ]
    with db.write() as session:
        session.add_all(
            Job(kind=kind, status=status, run_at=now - timedelta(minutes=minutes))
            for kind, status, minutes in rows
        )


def _from_cli(runner: CliRunner, wanted: dict[str, str]) -> list[int]:
    options = [part for name, value in wanted.items() for part in (f"--{name}", value)]
    result = runner.invoke(cli, ["jobs", "list", *options])
    assert result.exit_code == 0, result.output
    return [int(line.split()[0]) for line in result.output.splitlines()[:-1]]


def _from_api(app: Flask, wanted: dict[str, str]) -> list[int]:
    response = app.test_client().get("/admin/api/jobs", query_string=wanted, headers=api_headers())
    assert response.status_code == 200, response.get_data(as_text=True)
    return [job["id"] for job in response.get_json()["jobs"]]


def test_the_command_the_console_and_the_api_list_the_same_jobs(
    app: Flask, db: Database, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _seed(db)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("LOG_JSON", "false")
    runner = CliRunner()
    client, _ = signed_in(app)
    with db.read() as session:
        every = {job.id: (job.kind, job.status) for job in session.query(Job)}
    for wanted in FILTERS:
        page = client.get("/admin/jobs", query_string=wanted)
        assert page.status_code == 200
        on_the_page = [int(i) for i, _kind in CONSOLE_ROW.findall(page.get_data(as_text=True))]
        listed = _from_cli(runner, wanted)
        assert listed == on_the_page == _from_api(app, wanted), wanted
        expected = {
            job_id
            for job_id, (kind, status) in every.items()
            if status == wanted.get("status", status if status != "done" else None)
            and kind == wanted.get("kind", kind)
        }
        assert set(listed) == expected, wanted
    # the default list: not yet done, the ones due first (oldest run_at)
    kinds_and_statuses = [every[job_id] for job_id in _from_cli(runner, {})]
    assert kinds_and_statuses == [
        ("order.ingest", "dead"),
        ("supplier.submit", "queued"),
        ("order.ingest", "running"),
        ("order.ingest", "queued"),
        ("supplier.submit", "dead"),
        ("shopify.sync_shipment", "queued"),
    ]


def test_a_kind_with_control_characters_is_refused_by_the_console_and_the_api(
    app: Flask,
) -> None:
    client, _ = signed_in(app)
    for response in (
        client.get("/admin/jobs?kind=a%00b"),
        app.test_client().get("/admin/api/jobs?kind=a%00b", headers=api_headers()),
        app.test_client().get(f"/admin/api/jobs?kind={'k' * 61}", headers=api_headers()),
    ):
        assert response.status_code == 400
        assert "kind: at most 60 characters" in response.get_data(as_text=True)
