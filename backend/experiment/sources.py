"""Where a probe's observations come from while an experiment runs.

`JobSource` (the default) runs `python -m backend.probes.run` as a Kubernetes Job in the
experiment's namespace, next to the service, and reads the observations back from the pod's log;
the log holds the whole series, so an operator that restarts mid-run can replay it.
`LocalSource` (FAULTLINE_PROBE_MODE=local) runs the same command as a child process of the
operator; for a dev cluster whose node is the operator's host, or when no Faultline image is
available. Its series lives in the operator's memory only, so it cannot survive a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from pathlib import Path
from typing import Any, Protocol

from backend.clients import kube
from backend.clients.kube.client import shared
from backend.domain.recovery import Sample
from backend.probes.series import Observation
from backend.spec.experiment import Probe

REPO = Path(__file__).resolve().parents[2]
"""Where `backend` is importable from, for the local probe's child process."""
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
    """The probe command (`python -m backend.probes.run`) as a child process of the operator.

    A process of its own, not a task in the operator's event loop: at fault start the operator
    is busiest (reconciling the new chaos objects, calling chaosd), and a probe sharing its
    interpreter measured that as a dip of the service - a false alarm correlated with the fault.
    """

    replayable = False

    def __init__(self, probe: Probe) -> None:
        self.probe = probe
        self._samples: list[Sample] = []
        self._proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._stopping = False
        self._started = time.time()

    async def start(self) -> None:
        self._started = time.time()
        probe_json = json.dumps(
            self.probe.model_dump(mode="json", exclude_none=True, by_alias=True)
        )
        self._proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "backend.probes.run",
            "--probe",
            probe_json,
            "--until-stdin-closes",
            stdin=asyncio.subprocess.PIPE,  # closed when the operator dies: the probe stops
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            cwd=REPO,
        )
        self._reader = asyncio.create_task(self._read(self._proc))

    async def _read(self, proc: asyncio.subprocess.Process) -> None:
        assert proc.stdout is not None
        async for line in proc.stdout:
            if line.startswith(b"{"):
                try:
                    self._samples.append(to_sample(json.loads(line)))
                except (ValueError, KeyError):
                    continue

    async def samples(self) -> list[Sample]:
        return list(self._samples)

    def error(self) -> str | None:
        if self._proc is not None and self._proc.returncode is not None and not self._stopping:
            return f"probe process exited with {self._proc.returncode}"
        return _stale(self.probe, self._started, self._samples[-1].t if self._samples else None)

    def request_stop(self) -> None:
        self._stopping = True
        if self._proc is not None and self._proc.returncode is None:
            self._proc.terminate()
            if self._proc.stdin is not None:
                self._proc.stdin.close()

    async def stop(self) -> None:
        self.request_stop()
        if self._proc is None:
            return
        try:
            await asyncio.wait_for(self._proc.wait(), timeout=10)
        except TimeoutError:
            self._proc.kill()
            await self._proc.wait()
        if self._reader is not None:
            await asyncio.wait_for(self._reader, timeout=10)


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
        self.core = shared().core
        self._started = time.time()
        self._last: float | None = None
        self._failed: str | None = None

    async def start(self) -> None:
        self._started = time.time()
        with contextlib.suppress(kube.AlreadyExists):  # made before a restart: it is the run's
            await asyncio.to_thread(self.core.create_job, self.namespace, self.manifest)

    async def samples(self) -> list[Sample]:
        pod = await asyncio.to_thread(self._newest_pod)
        if pod is None:
            return []
        phase = pod.get("status", {}).get("phase")
        if phase == "Failed":
            self._failed = f"probe pod {pod['metadata']['name']} failed"
        text = await asyncio.to_thread(self.core.pod_log, self.namespace, pod["metadata"]["name"])
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

    def _newest_pod(self) -> dict[str, Any] | None:
        """The Job's newest pod (None while there is none)."""
        pods = self.core.list_pods([self.namespace], label_selector=f"job-name={self.name}")
        return max(pods, key=lambda p: str(p["metadata"].get("creationTimestamp")), default=None)

    def error(self) -> str | None:
        return self._failed or _stale(self.probe, self._started, self._last)

    def request_stop(self) -> None:
        pass  # the Job is deleted by stop()

    async def stop(self) -> None:
        await asyncio.to_thread(self.core.delete_job, self.namespace, self.name)
