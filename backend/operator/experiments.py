"""kopf registration of the Experiment kind: one daemon per Experiment runs the engine
(backend.experiment.runner) until a verdict is written.

A daemon rather than create/timer handlers because a run is one long, stateful conversation
with its probes; the state that matters (phase, fault window, verdict) is persisted in the
status, so a finished Experiment is never re-run and a resumed one is carried on or closed.
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime
from typing import Any

import kopf

from backend.clients.kube import KubeError
from backend.clients.kube.client import shared
from backend.experiment.runner import EngineSettings, ExperimentRef, run
from backend.spec import GROUP, KINDS, VERSION
from backend.spec.creator import recorded_creator
from backend.spec.emergency import CONDITION, EmergencyStop
from backend.spec.experiment import ExperimentSpec

engine_settings = EngineSettings()
PROBE_MODE_ANNOTATION = f"{GROUP}/probe-mode"
"""Per-Experiment override of FAULTLINE_PROBE_MODE (job or local)."""


@kopf.daemon(
    GROUP,
    VERSION,
    "experiments",
    id="experiment-run",
    cancellation_timeout=90,
    when=lambda status, **_: not (status or {}).get("verdict"),
)
async def run_experiment(
    stopped: kopf.DaemonStopped,
    body: kopf.Body,
    logger: kopf.Logger,
    memo: kopf.Memo,
    **_: Any,
) -> None:
    meta = body["metadata"]
    switch = memo.get("emergency_stop")
    status = dict(body.get("status") or {})
    if switch is not None and switch.engaged and status.get("phase", "Pending") == "Pending":
        await _refuse(meta, switch.state, logger)
        return
    try:
        spec = ExperimentSpec.model_validate(dict(body.get("spec") or {}))
    except ValueError as e:  # the CRD's schema should have caught it; never retry bad input
        raise kopf.PermanentError(f"invalid spec: {e}") from e
    ref = ExperimentRef(meta["namespace"], meta["name"], meta["uid"], recorded_creator(body))
    cfg = engine_settings
    mode = (meta.get("annotations") or {}).get(PROBE_MODE_ANNOTATION)
    if mode:
        try:
            cfg = dataclasses.replace(engine_settings, probe_mode=mode)
        except ValueError as e:
            raise kopf.PermanentError(f"annotation {PROBE_MODE_ANNOTATION}: {e}") from e
    await run(
        ref,
        spec,
        status,
        cfg,
        lambda: bool(stopped),
        logger,
        # A run in progress is aborted (faults deleted first) when the stop is engaged.
        halted=lambda: (
            switch.state.refusal("the run was aborted and its faults removed")
            if switch is not None and switch.engaged
            else None
        ),
    )


async def _refuse(meta: Any, stop: EmergencyStop, logger: kopf.Logger) -> None:
    """Close a run that has not started (nothing was created) with verdict Aborted, an
    EmergencyStop condition and a Warning Event. Writing the verdict ends this daemon, and the
    Experiment is not started again when the stop is lifted: re-create it to run it."""
    message = stop.refusal("this run is refused")
    now = datetime.now(UTC).isoformat()
    condition = {"type": CONDITION, "status": "True", "reason": "Refused", "message": message,
                 "lastTransitionTime": now}  # fmt: skip
    namespace, name = meta["namespace"], meta["name"]
    involved = ExperimentRef(namespace, name, meta["uid"]).reference()
    cluster = shared()
    try:
        await asyncio.to_thread(
            cluster.core.post_event, involved, "Warning", "EmergencyStop", message
        )
    except KubeError as e:  # a courtesy: the status carries the same message
        logger.warning("could not post the emergency stop event: %s", e)
    status = {"phase": "Finished", "verdict": "Aborted", "aborted": True, "message": message,
              "endTime": now, "conditions": [condition]}  # fmt: skip
    experiment = KINDS["Experiment"]
    await asyncio.to_thread(cluster.objects.patch_status, experiment, namespace, name, status)
