"""``INSERT … ON CONFLICT DO NOTHING RETURNING id`` for SQLite and PostgreSQL alike.

Idempotency lives in unique constraints: a second insert of the same natural key is a no-op
that returns None, never a check-then-insert race.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from integrator.db.models import Base


def insert_or_ignore(
    session: Session | Connection,
    model: type[Base],
    values: dict[str, Any],
    *,
    conflict: Sequence[str] | None = None,
) -> int | None:
    """Insert ``values``; return the new id, or None when a unique constraint already holds it."""
    bind = session.get_bind() if isinstance(session, Session) else session
    insert = postgresql.insert if bind.dialect.name == "postgresql" else sqlite.insert
    table: Table = model.__table__  # type: ignore[assignment]
    statement = (
        insert(table)
        .values(**values)
        .on_conflict_do_nothing(index_elements=list(conflict) if conflict else None)
        .returning(table.c.id)
    )
    result: int | None = session.execute(statement).scalar_one_or_none()
    return result
