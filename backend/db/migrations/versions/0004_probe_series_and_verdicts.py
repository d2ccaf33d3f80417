"""Every probe's series, and one verdict spelling.

Observations get a `probe` column: a run stores one series per probe of its experiment. Until
now only the first probe's samples were stored, so existing rows are that probe's: they take the
name of the first probe of their experiment's spec (or "" when the spec names none, or the
experiment is gone).

Verdicts are spelled as in the Experiment custom resource (Passed, Failed, Aborted, Error) in
runs and experiments; the dashboard's old `inconclusive` is the resource's `Error`.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 00:20:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
VERDICTS = {"passed": "Passed", "failed": "Failed", "inconclusive": "Error"}

observations = sa.table(
    "observations", sa.column("run_id", sa.Integer), sa.column("probe", sa.String)
)
runs = sa.table(
    "runs",
    sa.column("id", sa.Integer),
    sa.column("experiment_id", sa.Integer),
    sa.column("verdict", sa.String),
    sa.column("phase", sa.String),
)
experiments = sa.table(
    "experiments",
    sa.column("id", sa.Integer),
    sa.column("spec", JSON),
    sa.column("verdict", sa.String),
)


def first_probe(spec: Any) -> str:
    """The name of the first probe of a dashboard experiment's spec (`probes`, or the custom
    resource's `hypothesis.probes`), or ""."""
    if not isinstance(spec, dict):
        return ""
    hypothesis = spec.get("hypothesis")
    nested = hypothesis.get("probes") if isinstance(hypothesis, dict) else None
    probes = spec.get("probes") or nested
    if isinstance(probes, list) and probes and isinstance(probes[0], dict):
        return str(probes[0].get("name") or "")[:253]
    return ""


def _run_probes(connection: sa.Connection) -> dict[int, str]:
    rows = connection.execute(
        sa.select(runs.c.id, experiments.c.spec).select_from(
            runs.outerjoin(experiments, runs.c.experiment_id == experiments.c.id)
        )
    ).all()
    return {run_id: first_probe(spec) for run_id, spec in rows}


def _respell(connection: sa.Connection, mapping: dict[str, str | None]) -> None:
    for table in (runs, experiments):
        for old, new in mapping.items():
            connection.execute(table.update().where(table.c.verdict == old).values(verdict=new))


def upgrade() -> None:
    with op.batch_alter_table("observations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("probe", sa.String(length=253), nullable=False, server_default="")
        )
    connection = op.get_bind()
    for run_id, probe in _run_probes(connection).items():
        if probe:
            connection.execute(
                observations.update().where(observations.c.run_id == run_id).values(probe=probe)
            )
    _respell(connection, dict(VERDICTS))
    # An aborted run had no verdict in the old spelling; the resource says Aborted.
    connection.execute(
        runs.update()
        .where(runs.c.phase == "Aborted", runs.c.verdict.is_(None))
        .values(verdict="Aborted")
    )


def downgrade() -> None:
    connection = op.get_bind()
    # The old schema holds one series per run: the first probe's is kept.
    for run_id, probe in _run_probes(connection).items():
        if not probe:
            continue  # no probe to tell the series apart by: every row stays
        connection.execute(
            observations.delete().where(
                observations.c.run_id == run_id, observations.c.probe != probe
            )
        )
    back: dict[str, str | None] = {new: old for old, new in VERDICTS.items()}
    _respell(connection, {**back, "Aborted": None})
    with op.batch_alter_table("observations", schema=None) as batch_op:
        batch_op.drop_column("probe")
