"""A delivery the database cannot take in time is answered 503 well inside Shopify's 5-second
deadline (api-notes §1.3), so Shopify retries it; the retry is then a duplicate."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from flask.testing import FlaskClient

from integrator.db.database import Database
from integrator.pipeline import group_commit

from .conftest import count_deliveries
from .test_shopify_receiver import ORDER_BODY, URL, headers_for

SHOPIFY_DEADLINE_SECONDS = 5.0
pytestmark = pytest.mark.answer_deadline


@contextmanager
def database_locked(db: Database) -> Iterator[None]:
    """Another client holds the lock the inbox writer needs."""
    url = db.engine.url
    if url.get_backend_name() == "sqlite":
        other = sqlite3.connect(str(url.database), isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            other.execute("ROLLBACK")
            other.close()
        return
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn) as other:
        other.execute("LOCK TABLE webhook_deliveries IN ACCESS EXCLUSIVE MODE")
        yield
        other.rollback()


def test_the_answer_deadline_leaves_room_inside_shopifys(client: FlaskClient) -> None:
    timeout = group_commit.ANSWER_TIMEOUT_SECONDS
    assert timeout is not None and timeout <= SHOPIFY_DEADLINE_SECONDS - 1


def test_a_locked_database_is_503_and_the_retry_is_a_duplicate(
    client: FlaskClient, db: Database
) -> None:
    headers = headers_for(ORDER_BODY, webhook_id="deadline-1")
    with database_locked(db):
        response = client.post(URL, data=ORDER_BODY, headers=headers)
    assert response.status_code == 503
    assert response.get_json() == {"error": "database_unavailable"}

    retried = client.post(URL, data=ORDER_BODY, headers=headers)  # Shopify's retry

    assert retried.status_code == 200
    assert count_deliveries(db) == 1
