"""Alembic environment: the URL comes from the caller (``integrator db upgrade``), not a file."""

from __future__ import annotations

from alembic import context

from integrator.db.database import make_engine
from integrator.db.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url, "sqlalchemy.url must be set by the caller"
    engine = make_engine(url)
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            # batch migrations rebuild a table (copy, drop, rename); with foreign keys on,
            # dropping the old table would cascade-delete every row that refers to it. The
            # pragma is a no-op inside a transaction, so it goes to the driver before any.
            connection.connection.driver_connection.execute("PRAGMA foreign_keys = OFF")  # type: ignore[union-attr]
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=engine.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
