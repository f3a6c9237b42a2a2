"""``INSERT … ON CONFLICT DO NOTHING RETURNING id`` for SQLite and PostgreSQL alike.

Idempotency lives in unique constraints: a second insert of the same natural key is a no-op
that returns None, never a check-then-insert race.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Insert, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from integrator.db.models import Base

_STATEMENTS: dict[tuple[str, str, tuple[str, ...] | None], Insert] = {}


def _statement(dialect: str, table: Table, conflict: Sequence[str] | None) -> Insert:
    """Built once per (dialect, table, conflict target): building it per call cost as much
    CPU as the rest of a webhook request (bench/ingest.py)."""
    key = (dialect, table.name, tuple(conflict) if conflict else None)
    statement = _STATEMENTS.get(key)
    if statement is None:
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = (
            insert(table)
            .on_conflict_do_nothing(index_elements=list(conflict) if conflict else None)
            .returning(table.c.id)
        )
        _STATEMENTS[key] = statement
    return statement


def insert_or_ignore(
    session: Session | Connection,
    model: type[Base],
    values: dict[str, Any],
    *,
    conflict: Sequence[str] | None = None,
) -> int | None:
    """Insert ``values``; return the new id, or None when a unique constraint already holds it."""
    bind = session.get_bind() if isinstance(session, Session) else session
    dialect = "postgresql" if bind.dialect.name == "postgresql" else "sqlite"
    table: Table = model.__table__  # type: ignore[assignment]
    result: int | None = session.execute(
        _statement(dialect, table, conflict), values
    ).scalar_one_or_none()
    return result
