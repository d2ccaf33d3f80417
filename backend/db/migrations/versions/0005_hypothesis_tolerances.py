"""Hypotheses state tolerances, as the Experiment resource does.

The dashboard's hypotheses held "steady-state criteria" (a metric with a largest drop or rise,
or a floor or ceiling) plus a baseline length and a recovery deadline, and a start translated
them into the resource's tolerances. Now a hypothesis holds those tolerances, and the baseline
and deadline live where the resource keeps them, in each experiment's `spec.timing`.

Each criterion becomes the tolerances the start used to send, so every experiment is judged as
before:
- a QPS drop of at most X % (X < 100): `recoverTo: 100 - X` within the recovery deadline;
- any other drop: `maxDropPercent` after recovery; a rise: `atMostPercentOfBaseline: 100 + X`
  after recovery; `min`/`max`: `atLeast`/`atMost` after recovery.
A criterion without a probe named the experiment's first probe: it takes the first probe of an
experiment that uses the hypothesis, else `service` (the probe the dashboard's form writes).
An experiment whose `spec.timing` lacks `baseline` or `recoveryDeadline` takes its hypothesis'.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 00:40:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
METRICS = {"qps": "qps", "error_rate": "errorRate", "latency_p50_ms": "latencyP50",
           "latency_p99_ms": "latencyP99"}  # fmt: skip
FORM_PROBE = "service"

hypotheses = sa.table(
    "hypotheses",
    sa.column("id", sa.Integer),
    sa.column("steady_state", JSON),
    sa.column("tolerances", JSON),
)
experiments = sa.table(
    "experiments",
    sa.column("id", sa.Integer),
    sa.column("hypothesis_id", sa.Integer),
    sa.column("spec", JSON),
)


def _seconds(value: float) -> str:
    return f"{value:g}s"


def _first_probe(spec: Any) -> str | None:
    if not isinstance(spec, dict):
        return None
    given = spec.get("hypothesis")
    nested: dict[str, Any] = given if isinstance(given, dict) else {}
    probes = spec.get("probes") or nested.get("probes")
    if isinstance(probes, list) and probes and isinstance(probes[0], dict):
        return str(probes[0].get("name") or "") or None
    return None


def tolerances(steady: dict[str, Any], default_probe: str) -> list[dict[str, Any]]:
    deadline = float(steady.get("recovery_deadline_seconds") or 60)
    out: list[dict[str, Any]] = []
    for c in steady.get("criteria") or []:
        probe = str(c.get("probe") or default_probe)
        metric = METRICS.get(str(c.get("metric")), "qps")
        after = {"probe": probe, "metric": metric, "during": "afterRecovery"}
        drop = c.get("max_drop_percent")
        if drop is not None and metric == "qps" and drop < 100:
            out.append({"probe": probe, "recoverTo": 100 - drop, "within": _seconds(deadline)})
        elif drop is not None:
            out.append({**after, "maxDropPercent": drop})
        if c.get("max_increase_percent") is not None:
            out.append({**after, "atMostPercentOfBaseline": 100 + c["max_increase_percent"]})
        if c.get("min") is not None:
            out.append({**after, "atLeast": c["min"]})
        if c.get("max") is not None:
            out.append({**after, "atMost": c["max"]})
    return out


def _rebuild(column: str, drop: str) -> None:
    """Makes `column` NOT NULL and drops `drop`. SQLite rebuilds the table, and dropping the old
    one fires ON DELETE SET NULL on every experiment (foreign keys cannot be switched off inside
    the migration's transaction), so each experiment's hypothesis is put back afterwards."""
    connection = op.get_bind()
    kept = connection.execute(
        sa.select(experiments.c.id, experiments.c.hypothesis_id).where(
            experiments.c.hypothesis_id.is_not(None)
        )
    ).all()
    with op.batch_alter_table("hypotheses", schema=None) as batch_op:
        batch_op.alter_column(column, existing_type=JSON, nullable=False)
        batch_op.drop_column(drop)
    for experiment_id, hypothesis_id in kept:
        connection.execute(
            experiments.update()
            .where(experiments.c.id == experiment_id)
            .values(hypothesis_id=hypothesis_id)
        )


def upgrade() -> None:
    with op.batch_alter_table("hypotheses", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tolerances", JSON, nullable=True))
    connection = op.get_bind()
    uses = connection.execute(
        sa.select(experiments.c.id, experiments.c.hypothesis_id, experiments.c.spec)
        .where(experiments.c.hypothesis_id.is_not(None))
        .order_by(experiments.c.id)
    ).all()
    rows = connection.execute(sa.select(hypotheses.c.id, hypotheses.c.steady_state)).all()
    steadies = {hid: steady if isinstance(steady, dict) else {} for hid, steady in rows}
    for hid, steady in steadies.items():
        probes = [p for _, h, spec in uses if h == hid if (p := _first_probe(spec))]
        values = tolerances(steady, probes[0] if probes else FORM_PROBE)
        connection.execute(
            hypotheses.update().where(hypotheses.c.id == hid).values(tolerances=values)
        )
    for experiment_id, hid, spec in uses:
        steady = steadies.get(hid, {})
        spec = dict(spec) if isinstance(spec, dict) else {}
        timing = dict(spec.get("timing") or {})
        if "baseline" not in timing and steady.get("baseline_seconds") is not None:
            timing["baseline"] = _seconds(float(steady["baseline_seconds"]))
        if "recoveryDeadline" not in timing and steady.get("recovery_deadline_seconds"):
            timing["recoveryDeadline"] = _seconds(float(steady["recovery_deadline_seconds"]))
        if timing:
            connection.execute(
                experiments.update()
                .where(experiments.c.id == experiment_id)
                .values(spec={**spec, "timing": timing})
            )
    _rebuild("tolerances", drop="steady_state")


REVERSE = {v: k for k, v in METRICS.items()}


def _criterion(t: dict[str, Any]) -> dict[str, Any] | None:
    """The old criterion for a tolerance, or None where the old model had no such bound."""
    metric = REVERSE.get(str(t.get("metric") or "qps"), "qps")
    base = {"metric": metric, "probe": t.get("probe")}
    if t.get("recoverTo") is not None:
        return {**base, "metric": "qps", "max_drop_percent": 100 - t["recoverTo"]}
    if t.get("maxDropPercent") is not None:
        return {**base, "max_drop_percent": t["maxDropPercent"]}
    pct = t.get("atMostPercentOfBaseline")
    if pct is not None and pct >= 100:
        return {**base, "max_increase_percent": pct - 100}
    pct = t.get("atLeastPercentOfBaseline")
    if pct is not None and pct <= 100:
        return {**base, "max_drop_percent": 100 - pct}
    if t.get("atLeast") is not None:
        return {**base, "min": t["atLeast"]}
    if t.get("atMost") is not None:
        return {**base, "max": t["atMost"]}
    return None


def downgrade() -> None:
    with op.batch_alter_table("hypotheses", schema=None) as batch_op:
        batch_op.add_column(sa.Column("steady_state", JSON, nullable=True))
    connection = op.get_bind()
    for hid, tols in connection.execute(sa.select(hypotheses.c.id, hypotheses.c.tolerances)):
        criteria = [c for t in tols or [] if (c := _criterion(t)) is not None]
        steady = {"criteria": criteria, "baseline_seconds": 30, "recovery_deadline_seconds": 60}
        connection.execute(
            hypotheses.update().where(hypotheses.c.id == hid).values(steady_state=steady)
        )
    _rebuild("steady_state", drop="tolerances")
