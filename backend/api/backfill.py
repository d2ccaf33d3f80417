"""Runs the dashboard missed, recorded from the Experiment's own status.

The experiment engine mirrors each run into the dashboard as it goes, but best effort: the
verdict lives in the Experiment's status and never waits for the dashboard. So a dashboard that
was down, restarting or unreachable during a run would lose it. It does not: the watcher hands
every Experiment it lists or sees change to `backfill`, which makes sure a finished run in the
cluster is a finished run in the database, with its verdict, timings, per-probe measurements,
criteria results and hypothesis. The QPS curve of a run the dashboard never saw is not in the
status (it would not fit) and stays empty; everything the verdict rests on is there.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.db.models import Experiment, Hypothesis, Run
from backend.db.repositories.runs import create_run, update_run
from backend.experiment.dashboard import TERMINAL, claim_of, run_summary
from backend.spec.experiment import ExperimentSpec

log = logging.getLogger("faultline.api.backfill")
FINAL = {"Finished", "Aborted", "Failed"}


def _when(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def summary(status: dict[str, Any]) -> dict[str, Any]:
    """The run's metrics from the status alone, marked as recorded by the backfill."""
    return {**run_summary(status), "backfilled": True}


def _experiment_row(session: Session, namespace: str, name: str, spec: dict[str, Any]) -> int:
    found = session.scalar(
        select(Experiment.id).where(Experiment.namespace == namespace, Experiment.name == name)
    )
    if found is not None:
        return found
    hypothesis_id = None
    try:
        body = claim_of(ExperimentSpec.model_validate(spec))
    except ValidationError:
        body = None
    if body is not None:
        hypothesis = Hypothesis(namespace=namespace, **body)
        session.add(hypothesis)
        session.flush()
        hypothesis_id = hypothesis.id
    row = Experiment(namespace=namespace, name=name, spec=spec, hypothesis_id=hypothesis_id)
    session.add(row)
    session.commit()
    return row.id


def backfill(session: Session, obj: dict[str, Any]) -> Run | None:
    """Record the Experiment's finished run if the database lacks it or never saw it end.
    Returns the run it wrote, None when there was nothing to do."""
    meta, status = obj["metadata"], obj.get("status") or {}
    verdict = status.get("verdict")
    if status.get("phase") not in FINAL or verdict not in TERMINAL:
        return None
    namespace, name = meta["namespace"], meta["name"]
    started, ended = _when(status.get("startTime")), _when(status.get("endTime"))
    changes: dict[str, Any] = {"phase": TERMINAL[verdict], "verdict": verdict,
                               "metrics": summary(status), "finished_at": ended}  # fmt: skip
    run = None
    if isinstance(status.get("dashboardRunId"), int):
        run = session.get(Run, status["dashboardRunId"])
        if run is not None and (run.namespace, run.experiment_name) != (namespace, name):
            run = None  # another experiment's run (the database was replaced): not this one
    if run is None and started is not None:
        same = (Run.namespace == namespace, Run.experiment_name == name, Run.started_at == started)
        run = session.scalar(select(Run).where(*same))
    if run is not None:
        if run.verdict is not None or run.phase in FINAL or run.archived:
            return None  # the live mirror (or an earlier backfill) recorded its end
        # The dashboard saw it start, not end: keep its curve, add the outcome.
        log.info("run %d of %s/%s: recording its %s end from the status", run.id, namespace,
                 name, verdict)  # fmt: skip
        return update_run(session, run.id, changes)
    exp_id = _experiment_row(session, namespace, name, dict(obj.get("spec") or {}))
    log.info("%s/%s: recording a %s run the dashboard missed", namespace, name, verdict)
    return create_run(session, exp_id, {**changes, "started_at": started})
