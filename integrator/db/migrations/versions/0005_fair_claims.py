"""jobs: a fairness key and rank (a shop's burst waits its turn), a claim index in claim order

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 11:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fair_key", sa.String(length=255), nullable=True))
        batch_op.add_column(
            sa.Column("fair_rank", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.create_index(
            "ix_job_claim_order",
            ["status", "priority", "fair_rank", "run_at", "id"],
            unique=False,
        )
        batch_op.create_index("ix_job_fair_key", ["fair_key", "status", "fair_rank"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_job_fair_key")
        batch_op.drop_index("ix_job_claim_order")
        batch_op.drop_column("fair_rank")
        batch_op.drop_column("fair_key")
