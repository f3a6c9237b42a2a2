"""/metrics reads its gauges from the database at scrape time; every request gets an id that
comes back in X-Request-Id and is on every log line written for it; no secrets are logged."""

from __future__ import annotations

import json
import logging

import pytest
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families

from integrator.logs import JsonFormatter
from tests.admin.conftest import TOKEN, Seeded, api_headers, csrf_from
from webhooks.request_context import HEADER, RequestIdFilter, current_request_id, request_id_from


def _samples(app: Flask) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = app.test_client().get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for sample in family.samples
    }


def test_metrics_count_items_per_stage_and_jobs_per_status(app: Flask, seeded: Seeded) -> None:
    samples = _samples(app)
    assert samples[("integrator_items", (("stage", "on_hold"),))] == 1
    assert samples[("integrator_items", (("stage", "failed"),))] == 1
    assert samples[("integrator_items", (("stage", "shipped"),))] == 1
    assert samples[("integrator_items", (("stage", "delivered"),))] == 0
    assert samples[("integrator_queue_jobs", (("status", "dead"),))] == 1
    assert samples[("integrator_queue_jobs", (("status", "queued"),))] == 1
    assert samples[("integrator_queue_jobs", (("status", "running"),))] == 0
    assert ("integrator_queue_oldest_due_seconds", ()) in samples


def test_metrics_follow_the_database_between_scrapes(app: Flask, seeded: Seeded) -> None:
    assert _samples(app)[("integrator_items", (("stage", "cancelled"),))] == 0
    app.test_client().post(f"/admin/api/items/{seeded.failed_item}/cancel", headers=api_headers())
    samples = _samples(app)
    assert samples[("integrator_items", (("stage", "cancelled"),))] == 1
    assert samples[("integrator_items", (("stage", "failed"),))] == 0


def test_metrics_need_no_token_and_hold_no_personal_data(app: Flask, seeded: Seeded) -> None:
    text = app.test_client().get("/metrics").get_data(as_text=True)
    assert "customer@example.com" not in text and TOKEN not in text


def test_a_request_id_is_made_or_kept_and_sent_back(app: Flask) -> None:
    client = app.test_client()
    made = client.get("/admin/sign-in").headers[HEADER]
    assert len(made) == 32
    assert client.get("/healthz", headers={HEADER: "abc-123"}).headers[HEADER] == "abc-123"
    odd = client.get("/healthz", headers={HEADER: "x" * 300}).headers[HEADER]
    assert odd != "x" * 300 and len(odd) == 32
    assert request_id_from("evil\nLOG: injected") != "evil\nLOG: injected"
    assert current_request_id.get() is None


def test_log_lines_carry_the_request_id_and_no_secrets(
    app: Flask, seeded: Seeded, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    client = app.test_client()
    page = client.get("/admin/sign-in", headers={HEADER: "req-1"})
    client.post(
        "/admin/sign-in?token=leak",
        data={"token": TOKEN, "csrf_token": csrf_from(page.get_data(as_text=True))},
        headers={HEADER: "req-2"},
    )
    client.post(
        f"/admin/api/items/{seeded.failed_item}/cancel",
        headers={**api_headers(), HEADER: "req-3"},
    )
    lines = [json.loads(JsonFormatter().format(record)) for record in caplog.records]
    access = [line for line in lines if line["event"] == "http.request"]
    assert [(line["request_id"], line["method"], line["status"]) for line in access] == [
        ("req-1", "GET", 200),
        ("req-2", "POST", 302),
        ("req-3", "POST", 200),
    ]
    assert access[1]["path"] == "/admin/sign-in"  # never the query string
    [action] = [line for line in lines if line["event"] == "operator.item_action"]
    assert action["request_id"] == "req-3"
    assert action["line_item_id"] == seeded.failed_item
    everything = "\n".join(json.dumps(line) for line in lines)
    assert TOKEN not in everything and "leak" not in everything
    assert "customer@example.com" not in everything


def test_the_filter_stamps_records_for_handlers_that_use_it() -> None:
    record = logging.makeLogRecord({"msg": "x"})
    token = current_request_id.set("rid-9")
    try:
        assert RequestIdFilter().filter(record)
    finally:
        current_request_id.reset(token)
    assert record.request_id == "rid-9"
