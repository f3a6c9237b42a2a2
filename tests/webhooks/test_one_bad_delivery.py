"""Issue 11 point 7: one bad delivery never fails others.

* header values longer than their columns are refused before the insert: 400 for that
  request only, nothing stored (SQLite would have stored them, PostgreSQL raised a DataError
  that the receiver counted as "database down" and answered 503 to the whole batch);
* a row the database refuses is isolated from its group-commit batch: the others commit;
* a DataError or IntegrityError is never "database down" (503 is for a database that cannot
  take deliveries: a lost connection, a pool timeout, a lock timeout).
"""

from __future__ import annotations

import dataclasses
import threading
import time
import uuid
from collections.abc import Sequence
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from integrator.db.database import Database
from integrator.db.errors import database_unavailable
from integrator.pipeline.group_commit import GroupCommitter, in_transaction
from integrator.pipeline.inbox import NewDelivery, store_delivery

from .test_shopify_receiver import (
    ORDER_BODY,
    URL,
    assert_nothing_stored,
    deliveries,
    headers_for,
    jobs,
)

TOO_LONG = {
    "X-Shopify-Topic": "orders/" + "p" * 94,  # 101 > 100
    "X-Shopify-API-Version": "2026-04" + "0" * 14,  # 21 > 20
    "X-Shopify-Triggered-At": "2026-11-22T03:00:00.000000Z" + "0" * 38,  # 65 > 64
    "X-Shopify-Event-Id": "e" * 256,  # 256 > 255
    "X-Shopify-Shop-Domain": "s" * 242 + ".myshopify.com",  # 256 > 255
}


@pytest.mark.parametrize("header", sorted(TOO_LONG))
def test_a_header_longer_than_its_column_is_400_and_stores_nothing(
    client: FlaskClient, db: Database, header: str
) -> None:
    headers = {**headers_for(ORDER_BODY), header: TOO_LONG[header]}
    response = client.post(URL, data=ORDER_BODY, headers=headers)
    assert (response.status_code, response.get_json()) == (400, {"error": "invalid_headers"})
    assert_nothing_stored(db)


def test_headers_at_their_column_limits_are_stored(client: FlaskClient, db: Database) -> None:
    at_limit = {
        "X-Shopify-Topic": "orders/" + "p" * 93,
        "X-Shopify-API-Version": "2026-04" + "0" * 13,
        "X-Shopify-Triggered-At": "2026-11-22T03:00:00.000000Z" + "0" * 37,
        "X-Shopify-Event-Id": "e" * 255,
    }
    response = client.post(URL, data=ORDER_BODY, headers={**headers_for(ORDER_BODY), **at_limit})
    assert response.status_code == 200
    [row] = deliveries(db)
    assert (row.topic, row.api_version, row.triggered_at, row.event_id) == (
        at_limit["X-Shopify-Topic"],
        at_limit["X-Shopify-API-Version"],
        at_limit["X-Shopify-Triggered-At"],
        at_limit["X-Shopify-Event-Id"],
    )


def test_a_webhook_id_longer_than_its_column_is_kept_whole_as_its_hash(
    client: FlaskClient, db: Database
) -> None:
    """Cut to 255 characters, two different long ids would look like one delivery."""
    first, second = "w" * 300 + "-1", "w" * 300 + "-2"
    for webhook_id in (first, second, first):
        headers = headers_for(ORDER_BODY, webhook_id=webhook_id)
        assert client.post(URL, data=ORDER_BODY, headers=headers).status_code == 200
    rows = deliveries(db)
    assert len(rows) == 2 and len(jobs(db)) == 2
    assert all(row.dedupe_key.startswith("sha256:") and len(row.dedupe_key) == 71 for row in rows)


def _delivery(topic: str = "orders/paid") -> NewDelivery:
    return NewDelivery(
        source="shopify",
        topic=topic,
        dedupe_key=str(uuid.uuid4()),
        body=ORDER_BODY,
        headers={},
        shop_domain="acme.myshopify.com",
    )


def _refused_by_the_database(connection: Connection) -> None:
    """A write the database itself refuses (NOT NULL), whatever the checks before it."""
    connection.execute(text("INSERT INTO jobs (kind, payload) VALUES (NULL, '{}')"))


def test_a_row_the_database_refuses_fails_alone_and_its_batch_commits(db: Database) -> None:
    writes: list[str] = []
    release = threading.Event()

    def write(connection: Connection, batch: Sequence[NewDelivery]) -> list[Any]:
        results = []
        for delivery in batch:
            writes.append(delivery.topic)
            if delivery.topic == "hold":  # keeps the writer busy until the others have queued
                release.wait(10)
            if delivery.topic == "poison":
                _refused_by_the_database(connection)
            results.append(store_delivery(connection, delivery, job_kind="shopify.delivery"))
        return results

    committer: GroupCommitter[NewDelivery, Any] = GroupCommitter(in_transaction(db, write))
    outcomes: dict[str, Any] = {}

    def send(name: str, delivery: NewDelivery) -> None:
        try:
            outcomes[name] = committer.submit(delivery)
        except Exception as error:  # noqa: BLE001 - the outcome under test
            outcomes[name] = error

    first = threading.Thread(target=send, args=("hold", _delivery("hold")))
    first.start()
    while writes != ["hold"]:
        time.sleep(0.005)
    batch = [("good-1", _delivery()), ("poison", _delivery("poison")), ("good-2", _delivery())]
    threads = [threading.Thread(target=send, args=item) for item in batch]
    for thread in threads:
        thread.start()
    while committer._waiting.qsize() < len(batch):
        time.sleep(0.005)
    release.set()
    for thread in [first, *threads]:
        thread.join(10)
    assert isinstance(outcomes["poison"], IntegrityError)
    assert all(outcomes[name].delivery_id for name in ("hold", "good-1", "good-2"))
    # the three were written as one batch (which stopped at the poison), then each alone
    after_hold = writes[1:]
    alone = after_hold[after_hold.index("poison") + 1 :]
    assert sorted(alone) == ["orders/paid", "orders/paid", "poison"]
    assert len(deliveries(db)) == 3 and len(jobs(db)) == 3


def _refuse_orders_updated(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the database refuse any batch that holds an ``orders/updated`` delivery."""
    if db.is_sqlite:
        import integrator.pipeline.shopify_deliveries as receiver

        real_store = receiver.store_deliveries

        def store(connection: Connection, batch: Sequence[NewDelivery], kinds: Any) -> Any:
            if any(delivery.topic == "orders/updated" for delivery in batch):
                _refused_by_the_database(connection)
            return real_store(connection, batch, kinds)

        monkeypatch.setattr(receiver, "store_deliveries", store)
        return
    # PostgreSQL writes a batch in one statement: a topic one character longer than its
    # column, let past the check that would have refused it, is a DataError of that statement
    import integrator.pipeline.postgres_inbox as postgres_inbox
    import webhooks.shopify as receiver_view

    monkeypatch.setattr(receiver_view, "check_storable", lambda delivery: None)
    monkeypatch.setattr(postgres_inbox, "check_storable", lambda delivery: None)
    real_row = postgres_inbox.PostgresInboxWriter._row

    def row(writer: Any, position: int, delivery: NewDelivery) -> dict[str, Any]:
        values = real_row(writer, position, delivery)
        if delivery.topic == "orders/updated":
            values["topic"] += "x" * 100
        return values

    monkeypatch.setattr(postgres_inbox.PostgresInboxWriter, "_row", row)


def test_the_receiver_answers_a_refused_row_400_and_its_neighbours_200(
    client: FlaskClient, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    _refuse_orders_updated(db, monkeypatch)
    app = client.application
    statuses: dict[str, int] = {}

    def post(topic: str) -> None:
        response = app.test_client().post(
            URL, data=ORDER_BODY, headers=headers_for(ORDER_BODY, topic)
        )
        statuses[topic] = response.status_code

    threads = [
        threading.Thread(target=post, args=(topic,))
        for topic in ("orders/paid", "orders/updated", "orders/cancelled")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert statuses == {"orders/paid": 200, "orders/updated": 400, "orders/cancelled": 200}
    assert sorted(row.topic for row in deliveries(db)) == ["orders/cancelled", "orders/paid"]


@pytest.mark.parametrize(
    ("error", "unavailable"),
    [
        (
            DataError("INSERT", {}, Exception("value too long for type character varying(100)")),
            False,
        ),
        (IntegrityError("INSERT", {}, Exception("null value in column")), False),
        (OperationalError("SELECT 1", {}, Exception("connection refused")), True),
        (OperationalError("INSERT", {}, Exception("database is locked")), True),
        (PoolTimeout("QueuePool limit reached"), True),
        (ValueError("not a database error"), False),
    ],
    ids=["data-error", "integrity-error", "connection-refused", "locked", "pool-timeout", "other"],
)
def test_only_an_unreachable_or_busy_database_counts_as_down(
    error: BaseException, unavailable: bool
) -> None:
    assert database_unavailable(error) is unavailable


def test_an_unreachable_database_is_still_503(db: Database, make_container: Any) -> None:
    from webhooks.app import create_app

    container = make_container(db)
    container.db = Database.from_url("postgresql+psycopg://nobody@127.0.0.1:1/x")
    try:
        client = create_app(container.settings, container=container).test_client()
        response = client.post(URL, data=ORDER_BODY, headers=headers_for(ORDER_BODY))
    finally:
        container.db.dispose()
    assert response.status_code == 503


def test_a_batch_is_stored_in_two_statements_with_duplicates_answered_as_such(
    db: Database,
) -> None:
    from sqlalchemy import event

    from integrator.pipeline.inbox import store_deliveries

    earlier = _delivery()
    with db.write_connection() as connection:
        [first] = store_deliveries(connection, [earlier], ["shopify.delivery"])
    twice = _delivery()
    batch = [_delivery(), twice, dataclasses.replace(twice, body=b"{}"), earlier, _delivery()]
    kinds = ["shopify.delivery", "shopify.delivery", "shopify.delivery", "shopify.delivery", None]
    inserts: list[str] = []

    def count(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT"):
            inserts.append(statement.split("(")[0])

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        with db.write_connection() as connection:
            stored = store_deliveries(connection, batch, kinds)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert [s.duplicate for s in stored] == [False, False, True, True, False]
    assert [s.job_id is not None for s in stored] == [True, True, False, False, False]
    assert first.delivery_id not in {s.delivery_id for s in stored}
    assert len(inserts) == 2, inserts  # one for the deliveries, one for their jobs
    assert len(deliveries(db)) == 4 and len(jobs(db)) == 3
