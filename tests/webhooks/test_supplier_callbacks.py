"""``POST /webhooks/suppliers/<name>``: real-shaped callbacks stored once; every reject
stores nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from integrator.bootstrap import Container
from integrator.db.database import Database
from integrator.db.models import Job, WebhookDelivery
from integrator.sandbox.shopify import LineSpec
from integrator.sandbox.stack import Stack, StackOptions
from tests.credentials import callback_secret
from webhooks.app import create_app

from .conftest import MAX_BYTES, count_deliveries, count_jobs

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "suppliers"
SUPPLIERS = ("printful", "printify", "gelato", "prodigi")
SAMPLE_OF = {
    "printful": "printful_v1_package_shipped.full.json",
    "printify": "printify_order_shipment_created.3p_representative.json",
    "gelato": "gelato_order_status_updated.docs.json",
    "prodigi": "prodigi_callback_stage_changed_inprogress.docs.json",
}
# a SKU of config/catalog.yaml that config/routing.yaml sends to each supplier (German address)
SKU_FOR = {
    "printful": "TEE-BLK-M-DTG",
    "printify": "CASE-IPHONE15-CLEAR",
    "gelato": "CANVAS-30X40",
    "prodigi": "MUG-11OZ-WHT",
}


def secret_of(name: str) -> str:
    return callback_secret(name)


def url_of(name: str, token: str | None = None) -> str:
    token = secret_of(name) if token is None else token
    return f"/webhooks/suppliers/{name}" + (f"?token={token}" if token else "")


def sample(name: str) -> bytes:
    return (SAMPLES / SAMPLE_OF[name]).read_bytes()


def post(client: FlaskClient, url: str, body: bytes) -> Any:
    return client.post(url, data=body, headers={"Content-Type": "application/json"})


def assert_nothing_stored(db: Database) -> None:
    assert count_deliveries(db) == 0
    assert count_jobs(db) == 0


def stored_callbacks(db: Database) -> list[tuple[str, bytes | None, str]]:
    with db.read() as session:
        rows = session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id))
        return [(r.source, r.body, r.outcome) for r in rows]


# --- the documented samples, with our secret token ------------------------------------------


@pytest.mark.parametrize("name", SUPPLIERS)
def test_sample_callback_is_stored_once_with_one_job(
    client: FlaskClient, db: Database, name: str
) -> None:
    body = sample(name)
    response = post(client, url_of(name), body)
    assert response.status_code == 200
    assert stored_callbacks(db) == [(name, body, "stored")]
    with db.read() as session:
        kinds = session.scalars(select(Job.kind)).all()
    assert kinds == ["supplier.callback"]


@pytest.mark.parametrize("name", SUPPLIERS)
def test_duplicate_sample_callback_is_stored_once(
    client: FlaskClient, db: Database, name: str
) -> None:
    body = sample(name)
    statuses = [post(client, url_of(name), body).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    assert count_deliveries(db) == 1
    assert count_jobs(db) == 1


@pytest.mark.parametrize("name", SUPPLIERS)
def test_bad_missing_or_foreign_token_is_401_and_stores_nothing(
    client: FlaskClient, db: Database, name: str
) -> None:
    others = [secret_of(s) for s in SUPPLIERS if s != name]
    for token in ["wrong-token", "", secret_of(name).upper(), *others]:
        assert post(client, url_of(name, token), sample(name)).status_code == 401, token
    assert_nothing_stored(db)


def test_unknown_supplier_is_404_and_stores_nothing(client: FlaskClient, db: Database) -> None:
    for name in ("apliiq", "nobody", "PRINTFUL"):
        assert post(client, url_of(name), sample("printful")).status_code == 404, name
    assert_nothing_stored(db)


@pytest.mark.parametrize("name", SUPPLIERS)
def test_malformed_callback_is_400_and_stores_nothing(
    client: FlaskClient, db: Database, name: str
) -> None:
    for body in (b"not json", b"[1, 2]", b"{}", b'{"type": 42}', b"\xff\xfe"):
        assert post(client, url_of(name), body).status_code == 400, body
    assert_nothing_stored(db)


def test_too_large_callback_is_413_and_stores_nothing(client: FlaskClient, db: Database) -> None:
    for name in SUPPLIERS:
        body = json.dumps({"padding": "x" * MAX_BYTES, **json.loads(sample(name))}).encode()
        assert post(client, url_of(name), body).status_code == 413, name
    assert_nothing_stored(db)


def test_wrong_method_is_405(client: FlaskClient, db: Database) -> None:
    for name in SUPPLIERS:
        assert client.get(url_of(name)).status_code == 405, name
    assert_nothing_stored(db)


def test_database_down_is_503_and_acknowledges_nothing(db: Database, make_container: Any) -> None:
    container: Container = make_container(db)
    container.db = Database.from_url("sqlite:////nonexistent-dir/for/sure/x.db")
    client = create_app(container.settings, container=container).test_client()
    try:
        statuses = [post(client, url_of(name), sample(name)).status_code for name in SUPPLIERS]
    finally:
        container.db.dispose()
    assert statuses == [503] * len(SUPPLIERS)
    assert_nothing_stored(db)


# --- the sandbox suppliers' own callbacks, through the whole stack --------------------------


@pytest.fixture
def stack(database_url: str) -> Iterator[Stack]:
    running = Stack(StackOptions(database_url=database_url, migrate=False))
    yield running
    running.close()


def submitted_order(stack: Stack, name: str) -> str:
    order = stack.place_order([LineSpec(SKU_FOR[name], 1)])
    assert stack.send_webhook("orders/paid", order).statuses == [200]
    stack.drain()
    ((supplier, remote_id, _reference),) = stack.supplier_orders()
    assert supplier == name
    return remote_id


@pytest.mark.parametrize("name", SUPPLIERS)
def test_sandbox_callbacks_are_accepted_and_stored_once(stack: Stack, name: str) -> None:
    sandbox = stack.suppliers[name]
    remote_id = submitted_order(stack, name)
    for step in ("in_production", "shipped"):
        before = len(stored_callbacks(stack.db))
        payloads = sandbox.advance(remote_id, step)
        assert payloads
        assert [status for _url, status in sandbox.delivered_callbacks][-len(payloads) :] == [
            200
        ] * len(payloads)
        stored = stored_callbacks(stack.db)
        # at least one new delivery; at most one per payload (two payloads naming the same
        # shipment are one delivery: shipment events dedupe on the shipment id)
        assert 1 <= len(stored) - before <= len(payloads)
        assert {source for source, _body, _outcome in stored[before:]} == {name}
        # the supplier retries every callback: answered 200, nothing stored twice
        for payload in payloads:
            assert sandbox.post_callback(payload) == 200
        assert stored_callbacks(stack.db) == stored


@pytest.mark.parametrize("name", SUPPLIERS)
def test_sandbox_callback_with_a_wrong_token_is_401_and_stores_nothing(
    stack: Stack, name: str
) -> None:
    sandbox = stack.suppliers[name]
    remote_id = submitted_order(stack, name)
    before = stored_callbacks(stack.db)
    assert sandbox.callback_url
    sandbox.callback_url = sandbox.callback_url.replace(stack.callback_secret(name), "guessed")
    sandbox.callback_secret = "guessed"  # a signing supplier signs with the wrong key too
    sandbox.advance(remote_id, "shipped")
    assert {status for _url, status in sandbox.delivered_callbacks} == {401}
    assert stored_callbacks(stack.db) == before
