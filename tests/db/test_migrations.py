"""The migrations build exactly the schema the models describe, on this run's database."""

from __future__ import annotations

from alembic import command

from integrator.db.migrate import alembic_config


def test_models_and_migrations_agree(database_url: str) -> None:
    command.check(alembic_config(database_url))  # raises when autogenerate would add anything


def test_sqlite_connections_use_wal_foreign_keys_and_busy_timeout(tmp_path: object) -> None:
    from integrator.db.database import Database

    db = Database.from_url(f"sqlite:///{tmp_path}/pragmas.db")
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    db.dispose()
