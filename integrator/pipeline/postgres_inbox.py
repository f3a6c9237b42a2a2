"""The Shopify inbox's batch write on PostgreSQL: one statement, one round trip, per batch.

The generic write (:func:`integrator.pipeline.inbox.store_deliveries` in a transaction) costs
eight round trips per batch: the pool's pre-ping, BEGIN, the shops' statuses, the deliveries,
the queued jobs' ranks, the jobs, NOTIFY, COMMIT. On a loaded two-core machine each is a wait
for the database's process and then for this process's GIL, and the batch's requests wait for
all of them; the receiver managed about a quarter of the verify-only rate (BENCHMARKS.md).

Here one ``INSERT ... SELECT FROM unnest(...)`` statement, run in autocommit on a connection
the writer keeps between batches, decides each delivery's job from its shop's row, stores the
deliveries, enqueues their jobs with their fair ranks and notifies the workers. A single
statement is atomic: every delivery of the batch is stored with its job, or none is. Its text
never changes, so psycopg converts it once and prepares it on the server.

What it decides must stay what the generic path decides; the tests run both on the same
batches:

* served shop: the shop's row is ``active``; without a row, the single-store shop
  (:func:`integrator.pipeline.shops.active_shops`);
* the job: ``job_for(topic, served)``, computed here for both answers and chosen in SQL;
* the job's row: :func:`integrator.jobqueue.jobs.enqueue_many`'s values and fair rank (one past
  the last queued job of the same shop, in batch order);
* equal keys in one batch: the first is stored, the others are duplicates.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from integrator.db.database import Database
from integrator.db.timestamps import utcnow
from integrator.jobqueue.jobs import (
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_PRIORITY,
    KIND_PRIORITY,
    NOTIFY_CHANNEL,
)
from integrator.pipeline.inbox import (
    NewDelivery,
    Stored,
    check_storable,
    dedupe_column,
    delivery_columns,
)

JobFor = Callable[[str, bool], str | None]

# The batch's rows go as one JSON array (one parameter for psycopg to pass, where an array per
# column cost more of this process's CPU than the statement's execution) and the bodies as one
# bytea array in binary (as text, psycopg escaped every byte of every body in Python); the n-th
# body belongs to the row whose ord is n - 1.
STORE_BATCH = """
WITH incoming AS (
    SELECT i.*, b.body
    FROM json_to_recordset(%(rows)b::json) AS i(
        ord int, source text, topic text, shop_domain text, dedupe_key text, event_id text,
        triggered_at text, api_version text, headers json, body_sha256 text, body_size int,
        kind_served text, priority_served int, kind_unserved text, priority_unserved int)
    JOIN unnest(%(bodies)b::bytea[]) WITH ORDINALITY AS b(body, n) ON b.n = i.ord + 1
),
served AS (
    SELECT i.*,
        COALESCE(shops.status = 'active', i.shop_domain = %(single_shop)b, false) AS served
    FROM incoming i LEFT JOIN shops ON shops.domain = i.shop_domain
),
decided AS (
    SELECT served.*,
        CASE WHEN served THEN kind_served ELSE kind_unserved END AS kind,
        CASE WHEN served THEN priority_served ELSE priority_unserved END AS priority
    FROM served
),
stored AS (
    INSERT INTO webhook_deliveries (source, topic, shop_domain, dedupe_key, event_id,
        triggered_at, api_version, headers, body, body_sha256, body_size, received_at, outcome)
    SELECT source, topic, shop_domain, dedupe_key, event_id, triggered_at, api_version,
        headers::json, body, body_sha256, body_size, %(now)b,
        CASE WHEN kind IS NULL THEN 'ignored' ELSE 'stored' END
    FROM decided ORDER BY ord
    ON CONFLICT (source, dedupe_key) DO NOTHING
    RETURNING id, source, dedupe_key
),
queued AS (
    INSERT INTO jobs (kind, payload, unique_key, status, priority, attempts, max_attempts,
        run_at, created_at, fair_key, fair_rank)
    SELECT d.kind, ('{"delivery_id": ' || s.id || '}')::json, 'delivery:' || s.id, 'queued',
        d.priority, 0, %(max_attempts)b, %(now)b, %(now)b, d.shop_domain,
        CASE WHEN d.shop_domain IS NULL THEN 0 ELSE
            COALESCE((SELECT max(j.fair_rank) FROM jobs j
                      WHERE j.fair_key = d.shop_domain AND j.status = 'queued'), -1)
            + row_number() OVER (PARTITION BY d.shop_domain ORDER BY d.ord)
        END
    FROM stored s JOIN decided d ON d.source = s.source AND d.dedupe_key = s.dedupe_key
    WHERE d.kind IS NOT NULL
    ORDER BY d.ord
    ON CONFLICT (unique_key) DO NOTHING
    RETURNING id, unique_key
),
announced AS (
    SELECT pg_notify(%(channel)b, '') FROM (SELECT 1 FROM queued LIMIT 1) AS any_job
)
SELECT s.id, s.source, s.dedupe_key, q.id, (SELECT count(*) FROM announced)
FROM stored s LEFT JOIN queued q ON q.unique_key = 'delivery:' || s.id
"""


def _compress_bodies_with_lz4(connection: Connection) -> None:
    """Bodies of 10-20 KB are compressed as they are stored (TOAST): pglz, the server's
    default, cost about 160 µs of the database's CPU per 14 KB body here, lz4 about 35 µs, for
    about a quarter more space. Readers decompress either transparently; a server built
    without lz4 refuses the setting and keeps pglz."""
    try:
        connection.exec_driver_sql("SET default_toast_compression = 'lz4'")
    except DBAPIError as refused:
        if refused.connection_invalidated:
            raise
    connection.rollback()  # ends SQLAlchemy's transaction; in autocommit the SET holds


def _priority(kind: str | None) -> int | None:
    return None if kind is None else KIND_PRIORITY.get(kind, DEFAULT_PRIORITY)


class PostgresInboxWriter:
    """Writes a batch of Shopify deliveries in one statement on a connection it keeps while
    batches keep coming (:meth:`release` gives it back to the pool)."""

    def __init__(self, db: Database, single_shop: str, job_for: JobFor) -> None:
        self._db = db
        self._single_shop = single_shop or None
        self._job_for = job_for
        self._connection: Connection | None = None
        self._lock = threading.Lock()  # release() may come from another thread than write()
        db.before_dispose(self.release)

    def write(self, deliveries: Sequence[NewDelivery]) -> list[Stored]:
        """Store ``deliveries`` with their jobs; committed when this returns.

        :raises UnstorableDelivery: see :func:`check_storable`.
        """
        for delivery in deliveries:
            check_storable(delivery)
        first_of: dict[tuple[str, str], int] = {}  # equal keys: the first is stored
        for index, delivery in enumerate(deliveries):
            first_of.setdefault((delivery.source, dedupe_column(delivery.dedupe_key)), index)
        unique = [deliveries[index] for index in first_of.values()]
        rows = self._execute(self._parameters(unique))
        results: dict[tuple[str, str], Stored] = {
            (source, key): Stored(int(delivery_id), int(job_id) if job_id else None)
            for delivery_id, source, key, job_id, _announced in rows
        }
        if any(stored.job_id for stored in results.values()):
            self._db.jobs_committed.fire()
        return [
            results.get(key, Stored(None, None)) if first_of[key] == index else Stored(None, None)
            for index, key in enumerate((d.source, dedupe_column(d.dedupe_key)) for d in deliveries)
        ]

    def release(self) -> None:
        """Give the kept connection back (after a quiet spell, so none is held for nothing)."""
        with self._lock:
            connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):  # a broken connection is dropped either way
                connection.close()

    def _execute(self, parameters: dict[str, Any]) -> list[Any]:
        """Run the statement; once more on a fresh connection if the kept one was lost (a
        database restart): the statement is atomic, so a retry stores each delivery once."""
        for attempt in (1, 2):
            connection = self._kept_connection()
            try:
                rows = list(connection.exec_driver_sql(STORE_BATCH, parameters).all())
                connection.commit()  # ends SQLAlchemy's transaction; the statement committed
                return rows
            except DBAPIError as error:
                self.release()
                if attempt == 2 or not error.connection_invalidated:
                    raise
            except BaseException:
                self.release()
                raise
        raise AssertionError("unreachable")

    def _kept_connection(self) -> Connection:
        with self._lock:
            if self._connection is None:
                connection = self._db.engine.connect()
                connection.execution_options(isolation_level="AUTOCOMMIT")
                _compress_bodies_with_lz4(connection)
                self._connection = connection
            return self._connection

    def _parameters(self, deliveries: Sequence[NewDelivery]) -> dict[str, Any]:
        return {
            "rows": json.dumps([self._row(n, d) for n, d in enumerate(deliveries)]),
            "bodies": [d.body for d in deliveries],
            "single_shop": self._single_shop,
            "now": utcnow(),
            "max_attempts": DEFAULT_MAX_ATTEMPTS,
            "channel": NOTIFY_CHANNEL,
        }

    def _row(self, position: int, delivery: NewDelivery) -> dict[str, Any]:
        """A delivery's values but its body, and the job it causes if its shop is served or
        not (the statement decides which, from the shop's row)."""
        served, unserved = self._job_for(delivery.topic, True), self._job_for(delivery.topic, False)
        return {
            "ord": position,
            **delivery_columns(delivery),
            "kind_served": served,
            "priority_served": _priority(served),
            "kind_unserved": unserved,
            "priority_unserved": _priority(unserved),
        }
