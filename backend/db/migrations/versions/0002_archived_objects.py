"""Archive of deleted custom resources; index for namespace-filtered run lists.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 19:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "archived_objects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("namespace", sa.String(length=63), nullable=False),
        sa.Column("name", sa.String(length=253), nullable=False),
        sa.Column("uid", sa.String(length=64), nullable=False),
        sa.Column("spec", JSON, nullable=False),
        sa.Column("status", JSON, nullable=False),
        sa.Column("phase", sa.String(length=40), nullable=False),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("uid"),
    )
    with op.batch_alter_table("archived_objects", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_archived_objects_kind"), ["kind"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_archived_objects_archived_at"), ["archived_at"], unique=False
        )
        batch_op.create_index("ix_archived_objects_namespace_id", ["namespace", "id"], unique=False)
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.create_index("ix_runs_namespace_id", ["namespace", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_index("ix_runs_namespace_id")
    with op.batch_alter_table("archived_objects", schema=None) as batch_op:
        batch_op.drop_index("ix_archived_objects_namespace_id")
        batch_op.drop_index(batch_op.f("ix_archived_objects_archived_at"))
        batch_op.drop_index(batch_op.f("ix_archived_objects_kind"))
    op.drop_table("archived_objects")
