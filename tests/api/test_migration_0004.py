"""Migration 0004 keeps every observation (now the first probe's series) and respells every
verdict as the Experiment resource does: checked on a 0003 database holding rows, on SQLite and
PostgreSQL, and back down."""

from __future__ import annotations

import json

from alembic import command
from sqlalchemy import Engine, text

from backend.db.migrate import alembic_config, upgrade_to_head

SPECS = {
    "flat": {"probes": [{"name": "writes"}, {"name": "reads"}]},
    "cr": {"hypothesis": {"probes": [{"name": "web"}]}},
    "bare": {},
}
RUNS = [  # experiment, phase, verdict (0003 spelling), observations
    ("flat", "Finished", "passed", 3),
    ("flat", "Finished", "failed", 2),
    ("cr", "Failed", "inconclusive", 2),
    ("cr", "Aborted", None, 1),
    ("bare", "Finished", "passed", 2),
]


def seed_0003(engine: Engine) -> list[int]:
    """Experiments of each spec shape, runs of each verdict with observations; the run ids."""
    run_ids = []
    with engine.begin() as c:
        for name, spec in SPECS.items():
            c.execute(
                text("INSERT INTO experiments (namespace, name, description, spec, status, "
                     "verdict, created_at, updated_at) VALUES ('shop', :n, '', :s, 'finished', "
                     "'passed', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"),
                {"n": name, "s": json.dumps(spec)},
            )  # fmt: skip
        for name, phase, verdict, points in RUNS:
            c.execute(
                text("INSERT INTO runs (experiment_id, namespace, experiment_name, phase, "
                     "verdict, metrics, archived, created_at) SELECT id, 'shop', name, :p, :v, "
                     "'{}', false, CURRENT_TIMESTAMP FROM experiments WHERE name = :n"),
                {"n": name, "p": phase, "v": verdict},
            )  # fmt: skip
            run_id = c.scalar(text("SELECT max(id) FROM runs"))
            run_ids.append(run_id)
            for i in range(points):
                c.execute(
                    text("INSERT INTO observations (run_id, ts, qps, bucket_seconds) "
                         "VALUES (:r, :t, 10, 0)"),
                    {"r": run_id, "t": float(i)},
                )  # fmt: skip
    return run_ids


def series(engine: Engine) -> dict[int, list[str]]:
    with engine.connect() as c:
        rows = c.execute(text("SELECT run_id, probe FROM observations ORDER BY run_id, ts"))
        out: dict[int, list[str]] = {}
        for run_id, probe in rows:
            out.setdefault(run_id, []).append(probe)
        return out


def verdicts(engine: Engine) -> tuple[list[str | None], list[str | None]]:
    with engine.connect() as c:
        runs = list(c.scalars(text("SELECT verdict FROM runs ORDER BY id")))
        experiments = list(c.scalars(text("SELECT verdict FROM experiments ORDER BY id")))
    return runs, experiments


def test_0004_names_each_series_and_respells_verdicts(engine: Engine) -> None:
    command.upgrade(alembic_config(engine), "0003")
    ids = seed_0003(engine)
    upgrade_to_head(engine)

    # Every observation is kept, named after its experiment's first probe.
    assert series(engine) == {
        ids[0]: ["writes"] * 3,
        ids[1]: ["writes"] * 2,
        ids[2]: ["web"] * 2,
        ids[3]: ["web"],
        ids[4]: [""] * 2,  # a spec without probes: nothing to name them by
    }
    runs, experiments = verdicts(engine)
    assert runs == ["Passed", "Failed", "Error", "Aborted", "Passed"]
    assert experiments == ["Passed"] * 3


def test_0004_downgrade_keeps_the_first_probes_series(engine: Engine) -> None:
    command.upgrade(alembic_config(engine), "0003")
    ids = seed_0003(engine)
    upgrade_to_head(engine)
    with engine.begin() as c:  # a second probe's series, as a run records them from now on
        c.execute(
            text("INSERT INTO observations (run_id, probe, ts, qps, bucket_seconds) "
                 "VALUES (:r, 'reads', 9, 5, 0)"),
            {"r": ids[0]},
        )  # fmt: skip
    command.downgrade(alembic_config(engine), "0003")
    with engine.connect() as c:
        kept = c.execute(text("SELECT run_id, ts FROM observations ORDER BY run_id, ts")).all()
    assert [(r, t) for r, t in kept if r == ids[0]] == [(ids[0], 0.0), (ids[0], 1.0), (ids[0], 2.0)]
    assert len(kept) == sum(n for *_, n in RUNS)
    runs, experiments = verdicts(engine)
    assert runs == ["passed", "failed", "inconclusive", None, "passed"]
    assert experiments == ["passed"] * 3
