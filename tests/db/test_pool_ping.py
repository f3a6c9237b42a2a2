"""PostgreSQL connections are pinged only after sitting idle (docs in integrator/db/database.py):
a connection the server dropped is replaced, whether it was idle or in steady use."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from integrator.db import database
from integrator.db.database import Database


def backend_pid(db: Database) -> int:
    with db.engine.connect() as connection:
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def terminate(db: Database, pid: int) -> None:
    admin = Database.from_url(str(db.engine.url.render_as_string(hide_password=False)))
    try:
        with admin.engine.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            connection.commit()
    finally:
        admin.dispose()


def test_an_idle_connection_the_server_dropped_is_replaced_before_use(
    postgres_ready: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(database, "IDLE_PING_SECONDS", 0.0)  # every pooled connection is idle
    db = Database.from_url(postgres_ready)
    try:
        dropped = backend_pid(db)
        terminate(db, dropped)

        assert backend_pid(db) != dropped  # no error: the ping found it dead
    finally:
        db.dispose()


def test_a_busy_connection_the_server_dropped_fails_once_then_the_pool_is_renewed(
    postgres_ready: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(database, "IDLE_PING_SECONDS", 3600.0)  # never idle long enough
    db = Database.from_url(postgres_ready)
    try:
        dropped = backend_pid(db)
        terminate(db, dropped)

        with pytest.raises(OperationalError):
            backend_pid(db)
        assert backend_pid(db) != dropped
    finally:
        db.dispose()
