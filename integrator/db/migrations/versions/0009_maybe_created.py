"""supplier_orders.maybe_created: a create may have made the order at the supplier

Until now that was said by a prefix of ``last_error`` ("[maybe created] "); the prefix moves
into the column (the error keeps only its text), and back on downgrade.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 14:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

PREFIX = "[maybe created] "
supplier_orders = sa.table(
    "supplier_orders",
    sa.column("last_error", sa.Text()),
    sa.column("maybe_created", sa.Boolean()),
)


def upgrade() -> None:
    with op.batch_alter_table("supplier_orders") as batch:
        batch.add_column(
            sa.Column("maybe_created", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    error = supplier_orders.c.last_error
    op.execute(
        supplier_orders.update()
        .where(error.startswith(PREFIX, autoescape=True))
        .values(
            maybe_created=True,
            last_error=sa.func.nullif(sa.func.substr(error, len(PREFIX) + 1), ""),
        )
    )


def downgrade() -> None:
    op.execute(
        supplier_orders.update()
        .where(supplier_orders.c.maybe_created.is_(True))
        .values(last_error=PREFIX + sa.func.coalesce(supplier_orders.c.last_error, ""))
    )
    with op.batch_alter_table("supplier_orders") as batch:
        batch.drop_column("maybe_created")
