"""Where a probe's observations come from while an experiment runs.

`JobSource` (the default) runs `python -m backend.probes.run` as a Kubernetes Job in the
experiment's namespace, next to the service, and reads the observations back from the pod's log;
the log holds the whole series, so an operator that restarts mid-run can replay it.
`LocalSource` (FAULTLINE_PROBE_MODE=local) runs the same probe inside the operator process; for
a dev cluster whose node is the operator's host, or when no Faultline image is available. Its
series lives in memory only, so it cannot survive an operator restart.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any, Protocol

from backend.domain.recovery import Sample
from backend.experiment import kube
from backend.probes.run import run_probe
from backend.probes.series import Observation
from backend.spec.experiment import Probe

STALE_INTERVALS = 15
"""A probe that reports nothing for this many intervals (and at least 5 s) has failed."""


class Source(Protocol):
    probe: Probe
    replayable: bool

    async def start(self) -> None: ...
    async def samples(self) -> list[Sample]: ...
    def request_stop(self) -> None: ...
    def error(self) -> str | None: ...
    async def stop(self) -> None: ...


def to_sample(o: Observation | dict[str, Any]) -> Sample:
    d: dict[str, Any] = dict(o.as_dict()) if isinstance(o, Observation) else o
    return Sample(
        t=float(d["ts"]),
        qps=float(d["qps"]),
        error_rate=float(d.get("error_rate") or 0.0),
        latency_p50_ms=d.get("latency_p50_ms"),
        latency_p99_ms=d.get("latency_p99_ms"),
        requests=int(d.get("requests") or 0),
    )


FIRST_OBSERVATION_SECONDS = 120.0
"""How long a probe may take to report at all (a Job's pod has to be scheduled and started)."""


def _stale(probe: Probe, started: float, last: float | None) -> str | None:
    if last is None:
        waited = time.time() - started
        if waited > FIRST_OBSERVATION_SECONDS:
            return f"no observation at all after {waited:.0f}s"
        return None
    limit = max(5.0, STALE_INTERVALS * probe.interval_seconds())
    silent = time.time() - last
    if silent > limit:
        return f"no observations for {silent:.0f}s"
    return None


class LocalSource:
    replayable = False

    def __init__(self, probe: Probe) -> None:
        self.probe = probe
        self._samples: list[Sample] = []
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._started = time.time()

    async def start(self) -> None:
        async def sink(batch: list[Observation]) -> None:
            self._samples.extend(to_sample(o) for o in batch)

        # httpx logs every request at INFO; a load probe in the operator would flood its log.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        self._started = time.time()
        self._task = asyncio.create_task(run_probe(self.probe, sink, self._stop))

    async def samples(self) -> list[Sample]:
        return list(self._samples)

    def error(self) -> str | None:
        if self._task is not None and self._task.done() and not self._stop.is_set():
            exc = self._task.exception()
            return f"probe stopped: {exc!r}" if exc else "probe stopped"
        return _stale(self.probe, self._started, self._samples[-1].t if self._samples else None)

    def request_stop(self) -> None:
        self._stop.set()

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, timeout=10)
            except (TimeoutError, Exception):  # the probe's own failure is already reported
                self._task.cancel()


def job_manifest(
    probe: Probe, name: str, owner: dict[str, Any], image: str, labels: dict[str, str]
) -> dict[str, Any]:
    probe_json = json.dumps(probe.model_dump(mode="json", exclude_none=True, by_alias=True))
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "labels": labels, "ownerReferences": [owner]},
        "spec": {
            "backoffLimit": 0,
            "ttlSecondsAfterFinished": 600,
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "restartPolicy": "Never",
                    "terminationGracePeriodSeconds": 5,
                    "containers": [
                        {
                            "name": "probe",
                            "image": image,
                            "imagePullPolicy": "IfNotPresent",
                            "command": ["python", "-m", "backend.probes.run"],
                            "args": ["--probe", probe_json],
                        }
                    ],
                },
            },
        },
    }


class JobSource:
    replayable = True

    def __init__(self, probe: Probe, namespace: str, manifest: dict[str, Any]) -> None:
        self.probe = probe
        self.namespace = namespace
        self.manifest = manifest
        self.name: str = manifest["metadata"]["name"]
        self._started = time.time()
        self._last: float | None = None
        self._failed: str | None = None

    async def start(self) -> None:
        self._started = time.time()
        await asyncio.to_thread(kube.create_job, self.namespace, self.manifest)

    async def samples(self) -> list[Sample]:
        pod = await asyncio.to_thread(kube.job_pod, self.namespace, self.name)
        if pod is None:
            return []
        phase = pod.get("status", {}).get("phase")
        if phase == "Failed":
            self._failed = f"probe pod {pod['metadata']['name']} failed"
        text = await asyncio.to_thread(kube.pod_log, self.namespace, pod["metadata"]["name"])
        out = []
        for line in text.splitlines():
            if line.startswith("{"):
                try:
                    out.append(to_sample(json.loads(line)))
                except (ValueError, KeyError):
                    continue
        if out:
            self._last = out[-1].t
        return out

    def error(self) -> str | None:
        return self._failed or _stale(self.probe, self._started, self._last)

    def request_stop(self) -> None:
        pass  # the Job is deleted by stop()

    async def stop(self) -> None:
        await asyncio.to_thread(kube.delete_job, self.namespace, self.name)
