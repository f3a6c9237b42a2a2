"""Which Shopify deliveries create work, decided for a whole batch as the inbox stores it."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy.engine import Connection

from integrator.bootstrap import Container
from integrator.pipeline.group_commit import GroupCommitter, in_transaction
from integrator.pipeline.inbox import NewDelivery, Stored, store_deliveries
from integrator.pipeline.job_kinds import JobKind
from integrator.pipeline.postgres_inbox import PostgresInboxWriter
from integrator.pipeline.shops import active_shops
from integrator.pipeline.topics import COMPLIANCE_TOPICS, HANDLED_TOPICS


def job_for(topic: str, serves: bool) -> str | None:
    """The job a delivery causes: compliance topics always, others only for shops we serve
    (an installed shop in the table, or the single-store shop until it uninstalls the app)."""
    if topic in COMPLIANCE_TOPICS:
        return JobKind.SHOPIFY_DELIVERY
    if topic in HANDLED_TOPICS and serves:
        return JobKind.SHOPIFY_DELIVERY
    return None


def delivery_writer(
    container: Container,
) -> Callable[[Connection, Sequence[NewDelivery]], list[Stored]]:
    """Store a batch of deliveries and enqueue the work each causes, in the caller's
    transaction (the inbox's group committer)."""

    def write(connection: Connection, deliveries: Sequence[NewDelivery]) -> list[Stored]:
        # one query for the batch's shops, not one per delivery
        served = active_shops(connection, container, {d.shop_domain or "" for d in deliveries})
        kinds = [job_for(d.topic, (d.shop_domain or "") in served) for d in deliveries]
        return store_deliveries(connection, deliveries, kinds)

    return write


def shopify_inbox(container: Container) -> GroupCommitter[NewDelivery, Stored]:
    """The web process's group committer for Shopify deliveries: on PostgreSQL one statement
    per batch on a connection kept between batches (:mod:`integrator.pipeline.postgres_inbox`),
    on SQLite :func:`delivery_writer` in a write transaction."""
    db = container.db
    if db.is_sqlite:
        return GroupCommitter(in_transaction(db, delivery_writer(container)))
    writer = PostgresInboxWriter(db, container.settings.shopify_shop, job_for)
    return GroupCommitter(writer.write, on_idle=writer.release)
