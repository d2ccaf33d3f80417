"""Hypotheses get a namespace: RBAC on experiments in that namespace guards them.

A hypothesis attached to experiments takes their namespace; one used by experiments of several
namespaces is copied once per further namespace and those experiments point at their copy, so
no experiment loses its hypothesis and none uses another namespace's. A hypothesis attached to
nothing goes to `default`, where kubectl puts an object that names no namespace.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 23:10:00
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNATTACHED_NAMESPACE = "default"
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

# A Table, not a lightweight sa.table: copies need the new row's id, which SQLAlchemy returns
# only for a table whose primary key it knows.
hypotheses = sa.Table(
    "hypotheses",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("namespace", sa.String),
    sa.Column("title", sa.String),
    sa.Column("description", sa.Text),
    sa.Column("steady_state", JSON),
    sa.Column("created_at", sa.DateTime(timezone=True)),
    sa.Column("updated_at", sa.DateTime(timezone=True)),
)
experiments = sa.table(
    "experiments",
    sa.column("id", sa.Integer),
    sa.column("namespace", sa.String),
    sa.column("hypothesis_id", sa.Integer),
)


def _assign_namespaces(connection: sa.Connection) -> None:
    uses = connection.execute(
        sa.select(experiments.c.hypothesis_id, experiments.c.namespace)
        .where(experiments.c.hypothesis_id.is_not(None))
        .distinct()
        .order_by(experiments.c.hypothesis_id, experiments.c.namespace)
    ).all()
    by_hypothesis: dict[int, list[str]] = {}
    for hypothesis_id, namespace in uses:
        by_hypothesis.setdefault(hypothesis_id, []).append(namespace)
    for hypothesis_id, namespaces in by_hypothesis.items():
        first, *others = namespaces
        connection.execute(
            hypotheses.update().where(hypotheses.c.id == hypothesis_id).values(namespace=first)
        )
        if not others:
            continue
        row = connection.execute(
            sa.select(hypotheses).where(hypotheses.c.id == hypothesis_id)
        ).one()
        for namespace in others:
            copy = {k: v for k, v in row._mapping.items() if k != "id"}
            key = connection.execute(
                hypotheses.insert().values(**{**copy, "namespace": namespace})
            ).inserted_primary_key
            assert key is not None  # a single-row insert into a table with a primary key
            new_id = key[0]
            connection.execute(
                experiments.update()
                .where(
                    experiments.c.hypothesis_id == hypothesis_id,
                    experiments.c.namespace == namespace,
                )
                .values(hypothesis_id=new_id)
            )
    connection.execute(
        hypotheses.update()
        .where(hypotheses.c.namespace.is_(None))
        .values(namespace=UNATTACHED_NAMESPACE)
    )


@contextmanager
def _uses_kept(connection: sa.Connection) -> Iterator[None]:
    """Keeps experiments on their hypotheses across a table rebuild. SQLite's batch mode copies
    `hypotheses` and drops the old table, and with foreign keys on (they cannot be switched off
    inside the migration's transaction) that drop fires ON DELETE SET NULL on every experiment."""
    kept = connection.execute(
        sa.select(experiments.c.id, experiments.c.hypothesis_id).where(
            experiments.c.hypothesis_id.is_not(None)
        )
    ).all()
    yield
    for experiment_id, hypothesis_id in kept:
        connection.execute(
            experiments.update()
            .where(experiments.c.id == experiment_id)
            .values(hypothesis_id=hypothesis_id)
        )


def upgrade() -> None:
    with op.batch_alter_table("hypotheses", schema=None) as batch_op:
        batch_op.add_column(sa.Column("namespace", sa.String(length=63), nullable=True))
    _assign_namespaces(op.get_bind())
    with _uses_kept(op.get_bind()), op.batch_alter_table("hypotheses", schema=None) as batch_op:
        batch_op.alter_column("namespace", existing_type=sa.String(length=63), nullable=False)
        batch_op.create_index(batch_op.f("ix_hypotheses_namespace"), ["namespace"], unique=False)


def downgrade() -> None:
    # Copies made for further namespaces stay as separate hypotheses; only the column goes.
    with _uses_kept(op.get_bind()), op.batch_alter_table("hypotheses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hypotheses_namespace"))
        batch_op.drop_column("namespace")
