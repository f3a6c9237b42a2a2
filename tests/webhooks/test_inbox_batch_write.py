"""The Shopify inbox's batch write, as the web role runs it on each database: on PostgreSQL one
statement per batch on a kept connection (``integrator/pipeline/postgres_inbox.py``), on SQLite
the generic write in a transaction. Both must leave the same rows for the same batch."""

from __future__ import annotations

import dataclasses
import threading
import uuid
from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.orm import Session

from integrator.bootstrap import Container
from integrator.db.database import Database
from integrator.db.models import Job, Shop
from integrator.jobqueue.jobs import DEFAULT_MAX_ATTEMPTS, KIND_PRIORITY
from integrator.pipeline.group_commit import in_transaction
from integrator.pipeline.inbox import NewDelivery, Stored
from integrator.pipeline.job_kinds import JobKind
from integrator.pipeline.postgres_inbox import PostgresInboxWriter
from integrator.pipeline.shopify_deliveries import delivery_writer, job_for, shopify_inbox

from .conftest import SHOP
from .test_shopify_receiver import ORDER_BODY, deliveries, jobs

ACTIVE = "active-shop.myshopify.com"
UNINSTALLED = "gone-shop.myshopify.com"
REDACTED = "redacted-shop.myshopify.com"
STRANGER = "stranger.myshopify.com"  # no row, and not the single-store shop


def _delivery(shop: str, topic: str = "orders/paid", key: str | None = None) -> NewDelivery:
    return NewDelivery(
        source="shopify",
        topic=topic,
        dedupe_key=key or str(uuid.uuid4()),
        body=ORDER_BODY,
        headers={"X-Shopify-Topic": topic, "X-Shopify-Shop-Domain": shop},
        shop_domain=shop,
        event_id=str(uuid.uuid4()),
        triggered_at="2026-11-22T03:00:00.000000Z",
        api_version="2026-04",
    )


def _write_batch(container: Container, batch: Sequence[NewDelivery]) -> list[Stored]:
    """The batch write the web role uses on this database (see ``shopify_inbox``)."""
    if container.db.is_sqlite:
        return in_transaction(container.db, delivery_writer(container))(batch)
    writer = PostgresInboxWriter(container.db, container.settings.shopify_shop, job_for)
    try:
        return writer.write(batch)
    finally:
        writer.release()


def _seed_shops_and_a_queued_job(db: Database) -> None:
    with db.write() as session:
        session.add_all(
            [
                Shop(domain=ACTIVE, status="active", scopes=""),
                Shop(domain=UNINSTALLED, status="uninstalled", scopes=""),
                Shop(domain=REDACTED, status="redacted", scopes=""),
            ]
        )
        _queued_job(session, ACTIVE, rank=3)


def _queued_job(session: Session, shop: str, rank: int) -> None:
    session.add(
        Job(
            kind="order.ingest",
            payload={},
            unique_key=f"earlier:{shop}",
            status="queued",
            priority=40,
            attempts=0,
            max_attempts=10,
            fair_key=shop,
            fair_rank=rank,
        )
    )


def test_a_batch_decides_stores_and_enqueues_as_the_shops_rows_say(
    container: Container, db: Database
) -> None:
    _seed_shops_and_a_queued_job(db)
    [earlier] = _write_batch(container, [_delivery(SHOP, key="earlier-key")])
    twice = _delivery(ACTIVE, key="twice-in-the-batch")
    batch = [
        _delivery(ACTIVE),  # 0: served (its row is active)
        _delivery(SHOP),  # 1: served (no row: the single-store shop)
        _delivery(UNINSTALLED),  # 2: ignored
        _delivery(REDACTED),  # 3: ignored
        _delivery(STRANGER),  # 4: ignored (no row, not the single-store shop)
        _delivery(STRANGER, "shop/redact"),  # 5: compliance: always a job
        twice,  # 6: served
        dataclasses.replace(twice, body=b"{}"),  # 7: duplicate of 6 in the same batch
        _delivery(SHOP, key="earlier-key"),  # 8: duplicate of an earlier batch
        _delivery(ACTIVE, "app/unknown_topic"),  # 9: a topic we do not handle: no job
    ]
    stored = _write_batch(container, batch)

    assert [s.duplicate for s in stored] == [False] * 7 + [True, True, False]
    assert [s.job_id is not None for s in stored] == [
        True, True, False, False, False, True, True, False, False, False,
    ]  # fmt: skip
    rows = {row.id: row for row in deliveries(db)}
    assert len(rows) == 1 + 8
    assert [rows[s.delivery_id].outcome for s in stored if s.delivery_id] == [
        "stored", "stored", "ignored", "ignored", "ignored", "stored", "stored", "ignored",
    ]  # fmt: skip
    first = rows[stored[0].delivery_id or 0]
    assert (first.topic, first.shop_domain, first.body, first.body_size) == (
        "orders/paid", ACTIVE, ORDER_BODY, len(ORDER_BODY),
    )  # fmt: skip
    assert first.headers == batch[0].headers and first.event_id == batch[0].event_id
    queued = {job.id: job for job in jobs(db)}
    mine = [queued[s.job_id] for s in stored if s.job_id]
    assert [(j.kind, j.payload, j.unique_key) for j in mine] == [
        (JobKind.SHOPIFY_DELIVERY, {"delivery_id": s.delivery_id}, f"delivery:{s.delivery_id}")
        for s in stored
        if s.job_id
    ]
    assert {(j.status, j.priority, j.attempts, j.max_attempts) for j in mine} == {
        ("queued", KIND_PRIORITY[JobKind.SHOPIFY_DELIVERY], 0, DEFAULT_MAX_ATTEMPTS)
    }
    # fair ranks: one past the shop's last queued job (ACTIVE had rank 3; SHOP's earlier
    # delivery has rank 0), counting on in batch order
    assert [(j.fair_key, j.fair_rank) for j in mine] == [
        (ACTIVE, 4), (SHOP, 1), (STRANGER, 0), (ACTIVE, 5),
    ]  # fmt: skip
    assert earlier.job_id is not None


def test_a_shop_uninstalled_between_two_batches_is_seen_by_the_second(
    container: Container, db: Database
) -> None:
    """No cache: the shop's row is read in the batch's own statement or transaction."""
    _seed_shops_and_a_queued_job(db)
    [served] = _write_batch(container, [_delivery(ACTIVE)])
    with db.write() as session:
        shop = session.scalars(select(Shop).where(Shop.domain == ACTIVE)).one()
        shop.status = "uninstalled"
    [after] = _write_batch(container, [_delivery(ACTIVE)])
    assert served.job_id is not None
    assert after.job_id is None and after.delivery_id is not None


def test_on_postgresql_a_batch_is_one_statement_on_a_kept_connection(
    container: Container, db: Database
) -> None:
    """One round trip per batch on PostgreSQL (no checkout, BEGIN, COMMIT or NOTIFY of their
    own); on SQLite one write transaction."""
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(" ".join(statement.split())[:40])

    inbox = shopify_inbox(container)
    inbox.submit(_delivery(SHOP))  # the writer's connection is made (and pinged) here
    event.listen(db.engine, "before_cursor_execute", record)
    try:
        results = [inbox.submit(_delivery(SHOP)) for _ in range(3)]
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
        db.dispose()
    assert all(r.job_id for r in results) and len(jobs(db)) == 4
    if db.is_sqlite:
        assert all(not s.upper().startswith("COMMIT") for s in statements)  # one transaction
        return
    assert len(statements) == 3, statements
    assert all(s.startswith("WITH incoming AS") for s in statements)


def test_the_workers_are_notified_of_the_jobs_a_batch_enqueued(
    container: Container, db: Database
) -> None:
    """PostgreSQL: LISTEN hears the batch's NOTIFY after its commit. SQLite (and this process
    on either): the commit signal fires."""
    fired = threading.Event()
    db.jobs_committed.subscribe(fired.set)
    listener = None
    if not db.is_sqlite:
        listener = db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        listener.execute(text("LISTEN integrator_jobs"))
    try:
        [stored] = _write_batch(container, [_delivery(SHOP)])
        assert stored.job_id is not None
        assert fired.is_set()
        if listener is not None:
            driver = listener.connection.driver_connection
            assert driver is not None
            heard = list(driver.notifies(timeout=5, stop_after=1))
            assert [n.channel for n in heard] == ["integrator_jobs"]
    finally:
        if listener is not None:
            listener.close()


def test_a_lost_connection_between_batches_costs_no_delivery(
    container: Container, db: Database
) -> None:
    """The kept connection dies (a database restart, an idle timeout): the next batch is
    written once on a fresh connection and answered as stored, not 503."""
    inbox = shopify_inbox(container)
    inbox.submit(_delivery(SHOP))
    if not db.is_sqlite:
        with db.engine.connect() as other:
            ended = other.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ).all()
            other.commit()
        assert ended, "the writer kept no connection"
    again = inbox.submit(_delivery(SHOP))
    db.dispose()
    assert again.delivery_id is not None and again.job_id is not None
    assert len(deliveries(db)) == 2 and len(jobs(db)) == 2


@pytest.mark.parametrize("idle", [True, False], ids=["idle", "disposed"])
def test_the_writer_gives_its_connection_back_when_idle_or_disposed(
    container: Container, db: Database, monkeypatch: pytest.MonkeyPatch, idle: bool
) -> None:
    """A connection held for nothing would count against the pool, and one left open at
    dispose would outlive its engine."""
    from integrator.pipeline import group_commit

    monkeypatch.setattr(group_commit, "IDLE_SECONDS", 0.05)
    inbox = shopify_inbox(container)
    inbox.submit(_delivery(SHOP))
    pool: Any = db.engine.pool
    if idle:
        for _ in range(200):
            if pool.checkedout() == 0:
                break
            threading.Event().wait(0.01)
        assert pool.checkedout() == 0
        return
    db.dispose()
    if not db.is_sqlite:
        others = Database.from_url(db.engine.url.render_as_string(hide_password=False))
        try:
            with others.engine.connect() as connection:
                backends = connection.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity"
                        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                ).scalar_one()
        finally:
            others.dispose()
        assert backends == 0


def test_bodies_are_compressed_with_lz4_on_postgresql(container: Container, db: Database) -> None:
    """The server's default (pglz) cost about 4.5 times the CPU for the bodies we store."""
    big = (
        b'{"line_items": ['
        + b",".join(b'{"sku": "POSTER-A3", "quantity": 1}' for _ in range(600))
        + b"]}"
    )
    [stored] = _write_batch(container, [dataclasses.replace(_delivery(SHOP), body=big)])
    [row] = deliveries(db)
    assert row.body == big
    if db.is_sqlite:
        return
    with db.read() as session:
        method = session.scalar(
            text("SELECT pg_column_compression(body) FROM webhook_deliveries WHERE id = :id"),
            {"id": stored.delivery_id},
        )
    assert method == "lz4"
