"""kopf registration of the Experiment kind: one daemon per Experiment runs the engine
(backend.experiment.runner) until a verdict is written.

A daemon rather than create/timer handlers because a run is one long, stateful conversation
with its probes; the state that matters (phase, fault window, verdict) is persisted in the
status, so a finished Experiment is never re-run and a resumed one is carried on or closed.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import kopf

from backend.experiment.runner import EngineSettings, ExperimentRef, run
from backend.spec import GROUP, VERSION
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
    logger: logging.Logger,
    **_: Any,
) -> None:
    meta = body["metadata"]
    try:
        spec = ExperimentSpec.model_validate(dict(body.get("spec") or {}))
    except ValueError as e:  # the CRD's schema should have caught it; never retry bad input
        raise kopf.PermanentError(f"invalid spec: {e}") from e
    ref = ExperimentRef(meta["namespace"], meta["name"], meta["uid"])
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
        dict(body.get("status") or {}),
        cfg,
        lambda: bool(stopped),
        logger,
    )
