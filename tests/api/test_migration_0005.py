"""Migration 0005 turns each hypothesis' steady-state criteria into the tolerances a start used
to send, moves the baseline and recovery deadline into its experiments' timing, and keeps every
experiment on its hypothesis: checked on a 0004 database holding rows, on SQLite and PostgreSQL,
and back down."""

from __future__ import annotations

import json
from typing import Any

from alembic import command
from sqlalchemy import Engine, text

from backend.db.migrate import alembic_config, upgrade_to_head
from backend.spec.experiment import Tolerance

STEADY = {
    "kv": {
        "baseline_seconds": 20,
        "recovery_deadline_seconds": 45,
        "criteria": [
            {"metric": "qps", "probe": "reads", "max_drop_percent": 30},
            {"metric": "error_rate", "max": 0.05},  # no probe: the experiment's first
            {"metric": "latency_p99_ms", "max_increase_percent": 50, "min": 1},
            {"metric": "qps", "max_drop_percent": 100},
        ],
    },
    "unused": {"criteria": [{"metric": "qps", "min": 5}]},
}
EXPERIMENTS = {  # name: (hypothesis, spec)
    "a": ("kv", {"probes": [{"name": "writes"}, {"name": "reads"}],
                 "timing": {"faultDuration": "10s"}}),
    "b": ("kv", {"hypothesis": {"probes": [{"name": "writes"}]},
                 "timing": {"baseline": "5s"}}),
    "c": (None, {"timing": {"faultDuration": "1s"}}),
}  # fmt: skip


def seed_0004(engine: Engine) -> dict[str, int]:
    ids: dict[str, int] = {}
    with engine.begin() as c:
        for title, steady in STEADY.items():
            c.execute(
                text("INSERT INTO hypotheses (namespace, title, description, steady_state, "
                     "created_at, updated_at) VALUES ('shop', :t, 'd', :s, CURRENT_TIMESTAMP, "
                     "CURRENT_TIMESTAMP)"),
                {"t": title, "s": json.dumps(steady)},
            )  # fmt: skip
            ids[title] = c.scalar(text("SELECT max(id) FROM hypotheses"))
        for name, (hypothesis, spec) in EXPERIMENTS.items():
            c.execute(
                text("INSERT INTO experiments (namespace, name, description, hypothesis_id, "
                     "spec, status, created_at, updated_at) VALUES ('shop', :n, '', :h, :s, "
                     "'idle', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"),
                {"n": name, "h": ids[hypothesis] if hypothesis else None, "s": json.dumps(spec)},
            )  # fmt: skip
    return ids


def rows(engine: Engine, sql: str) -> dict[Any, Any]:
    with engine.connect() as c:
        return {
            r[0]: json.loads(r[1]) if isinstance(r[1], str) else r[1] for r in c.execute(text(sql))
        }


def test_0005_states_the_criteria_as_tolerances(engine: Engine) -> None:
    command.upgrade(alembic_config(engine), "0004")
    ids = seed_0004(engine)
    upgrade_to_head(engine)

    tolerances = rows(engine, "SELECT title, tolerances FROM hypotheses")
    assert tolerances["kv"] == [
        {"probe": "reads", "recoverTo": 70, "within": "45s"},
        {"probe": "writes", "metric": "errorRate", "during": "afterRecovery", "atMost": 0.05},
        {"probe": "writes", "metric": "latencyP99", "during": "afterRecovery",
         "atMostPercentOfBaseline": 150},
        {"probe": "writes", "metric": "latencyP99", "during": "afterRecovery", "atLeast": 1},
        {"probe": "writes", "metric": "qps", "during": "afterRecovery", "maxDropPercent": 100},
    ]  # fmt: skip
    # Used by no experiment: the probe the dashboard's form writes.
    assert tolerances["unused"] == [
        {"probe": "service", "metric": "qps", "during": "afterRecovery", "atLeast": 5}
    ]
    for t in tolerances["kv"] + tolerances["unused"]:
        Tolerance.model_validate(t)  # each one the resource's model takes
    specs = rows(engine, "SELECT name, spec FROM experiments")
    assert specs["a"]["timing"] == {"faultDuration": "10s", "baseline": "20s",
                                    "recoveryDeadline": "45s"}  # fmt: skip
    assert specs["b"]["timing"] == {"baseline": "5s", "recoveryDeadline": "45s"}  # its own kept
    assert specs["c"] == EXPERIMENTS["c"][1]  # no hypothesis: untouched
    uses = rows(engine, "SELECT name, hypothesis_id FROM experiments")
    assert uses == {"a": ids["kv"], "b": ids["kv"], "c": None}  # the rebuild kept every use


def test_0005_downgrade_restores_criteria_and_every_use(engine: Engine) -> None:
    command.upgrade(alembic_config(engine), "0004")
    ids = seed_0004(engine)
    upgrade_to_head(engine)
    command.downgrade(alembic_config(engine), "0004")
    steady = rows(engine, "SELECT title, steady_state FROM hypotheses")
    assert steady["kv"]["criteria"][0] == {"metric": "qps", "probe": "reads",
                                           "max_drop_percent": 30}  # fmt: skip
    assert steady["unused"]["criteria"] == [{"metric": "qps", "probe": "service", "min": 5}]
    uses = rows(engine, "SELECT name, hypothesis_id FROM experiments")
    assert uses == {"a": ids["kv"], "b": ids["kv"], "c": None}
    upgrade_to_head(engine)  # and up again
    assert rows(engine, "SELECT title, tolerances FROM hypotheses")["unused"][0]["atLeast"] == 5
