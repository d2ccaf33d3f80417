"""Runs one Experiment: starts its probes, steps the phase machine once a tick, creates and
removes the child chaos objects, writes the status, and mirrors the run to the dashboard.

The operator calls `run` from a kopf daemon per Experiment. Whatever happens - abort, error,
the Experiment deleted, the operator shutting down - the child chaos objects are deleted before
`run` returns, and an abort waits until they are really gone (their deletion handler recovers
the faults on the nodes before it lets them go).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from backend.clients import kube
from backend.clients.kube.client import shared
from backend.domain.recovery import Sample
from backend.experiment.dashboard import Dashboard, dashboard_summary, live_marks
from backend.experiment.faults import EXPERIMENT_LABEL, Injection, child_manifests, injection_of
from backend.experiment.machine import ACTIVE, RunState, step
from backend.experiment.sources import JobSource, LocalSource, Source, job_manifest
from backend.experiment.status import judge, render, state_of, timestamp_of
from backend.spec.creator import Creator
from backend.spec.experiment import ExperimentSpec
from backend.spec.kinds import API_VERSION, KINDS

EXPERIMENT = KINDS["Experiment"]
GONE_TIMEOUT = 60.0
HEARTBEAT_SECONDS = 5.0
STALE_HEARTBEAT_SECONDS = 20.0
"""Another operator instance takes an experiment over once its heartbeat is this old."""


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


@dataclass(frozen=True)
class EngineSettings:
    probe_mode: str = field(default_factory=lambda: _env("FAULTLINE_PROBE_MODE", "job"))
    """job: the probe runs as a Job in the experiment's namespace; local: in the operator."""
    probe_image: str = field(
        default_factory=lambda: _env("FAULTLINE_PROBE_IMAGE", "faultline/faultline:0.1.0")
    )
    dashboard_url: str = field(default_factory=lambda: _env("FAULTLINE_DASHBOARD_URL", ""))
    dashboard_token: str = field(default_factory=lambda: _env("FAULTLINE_DASHBOARD_TOKEN", ""))
    instance: str = field(
        default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
    )
    """Who holds an experiment (status.runner) when several operators watch the cluster."""
    tick_seconds: float = field(
        default_factory=lambda: float(_env("FAULTLINE_EXPERIMENT_TICK_SECONDS", "1"))
    )

    def __post_init__(self) -> None:
        if self.probe_mode not in ("job", "local"):
            raise ValueError(f"FAULTLINE_PROBE_MODE: must be job or local, got {self.probe_mode!r}")


@dataclass(frozen=True)
class ExperimentRef:
    namespace: str
    name: str
    uid: str
    creator: Creator | None = None
    """Who created the Experiment (its admission record); its fault objects carry it."""

    def reference(self) -> dict[str, str]:
        """The Experiment as an Event's involvedObject."""
        return {"apiVersion": API_VERSION, "kind": "Experiment", "name": self.name,
                "namespace": self.namespace, "uid": self.uid}  # fmt: skip

    def owner(self) -> dict[str, Any]:
        return {
            "apiVersion": API_VERSION,
            "kind": "Experiment",
            "name": self.name,
            "uid": self.uid,
            "controller": True,
            "blockOwnerDeletion": False,
        }


def make_sources(ref: ExperimentRef, spec: ExperimentSpec, cfg: EngineSettings) -> list[Source]:
    out: list[Source] = []
    for probe in spec.hypothesis.probes:
        if cfg.probe_mode == "local":
            out.append(LocalSource(probe))
            continue
        name = f"{ref.name[:40]}-probe-{probe.name[:12]}-{ref.uid[:5]}".lower()
        labels = {EXPERIMENT_LABEL: ref.name[:63], "app.kubernetes.io/component": "probe"}
        manifest = job_manifest(probe, name, ref.owner(), cfg.probe_image, labels)
        out.append(JobSource(probe, ref.namespace, manifest))
    return out


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat()


def _iso_now() -> str:
    return _iso(time.time())


class Run:
    def __init__(
        self,
        ref: ExperimentRef,
        spec: ExperimentSpec,
        status: dict[str, Any],
        cfg: EngineSettings,
        stopped: Callable[[], bool],
        logger: logging.Logger | logging.LoggerAdapter[Any],
    ) -> None:
        self.ref, self.spec, self.cfg, self.stopped, self.log = ref, spec, cfg, stopped, logger
        self.cluster = shared()
        self.status = dict(status or {})
        self.sources = make_sources(ref, spec, cfg)
        self.children = child_manifests(spec, ref.namespace, ref.name, ref.uid, ref.creator)
        self.last_write = 0.0
        self.halted: Callable[[], str | None] = lambda: None
        self.dashboard = (
            Dashboard(cfg.dashboard_url, cfg.dashboard_token, logger)
            if cfg.dashboard_url and cfg.dashboard_token
            else None
        )

    async def claim(self) -> bool:
        """Wait until this instance holds the experiment (False: finished or stopped first)."""
        me = self.cfg.instance
        while not self.stopped():
            obj = await asyncio.to_thread(
                self.cluster.objects.get, EXPERIMENT, self.ref.namespace, self.ref.name
            )
            status = dict(obj.get("status") or {})
            if status.get("verdict"):
                return False
            beat = timestamp_of(status.get("heartbeatTime"))
            holder = status.get("runner")
            if holder in (None, me) or beat is None or time.time() - beat > STALE_HEARTBEAT_SECONDS:
                claim = {"runner": me, "heartbeatTime": _iso_now()}
                try:
                    await asyncio.to_thread(
                        functools.partial(
                            self.cluster.objects.patch_status,
                            EXPERIMENT,
                            self.ref.namespace,
                            self.ref.name,
                            claim,
                            resource_version=obj["metadata"]["resourceVersion"],
                        )
                    )
                except kube.Conflict:
                    pass  # another instance claimed it first
                else:
                    self.status = {**status, **claim}
                    return True
            await asyncio.sleep(HEARTBEAT_SECONDS)
        return False

    async def write(self, st: RunState, **extra: Any) -> None:
        self.last_write = time.monotonic()
        extra = {"runner": self.cfg.instance, "heartbeatTime": _iso_now(), **extra}
        self.status = render(st, self.status, now=time.time(), **extra)
        try:
            await asyncio.to_thread(
                self.cluster.objects.patch_status,
                EXPERIMENT,
                self.ref.namespace,
                self.ref.name,
                self.status,
            )
        except kube.NotFound:
            self.log.info("experiment %s is gone; status not written", self.ref.name)

    async def series(self) -> dict[str, list[Sample]]:
        return {s.probe.name: await s.samples() for s in self.sources}

    def errors(self) -> dict[str, str]:
        return {s.probe.name: e for s in self.sources if (e := s.error()) is not None}

    async def create_faults(self) -> None:
        refs = []
        for m in self.children:
            uid = await asyncio.to_thread(self._create_or_adopt, m)
            refs.append({"kind": m["kind"], "name": m["metadata"]["name"], "uid": uid})
            refs[-1]["namespace"] = self.ref.namespace
        self.status["faultObjects"] = refs

    def _create_or_adopt(self, manifest: dict[str, Any]) -> str:
        """Create a child, or adopt the one made before a restart; its uid."""
        try:
            made = self.cluster.objects.create(manifest)
        except kube.AlreadyExists:
            meta = manifest["metadata"]
            made = self.cluster.objects.get(
                KINDS[manifest["kind"]], meta["namespace"], meta["name"]
            )
        return str(made["metadata"]["uid"])

    def _child(self, manifest: dict[str, Any]) -> dict[str, Any] | None:
        """The child chaos object (None once it is gone)."""
        kind, name = KINDS[manifest["kind"]], manifest["metadata"]["name"]
        return self.cluster.objects.find(kind, self.ref.namespace, name)

    async def injections(self) -> dict[str, Injection]:
        out = {}
        for m in self.children:
            out[m["metadata"]["name"]] = injection_of(await asyncio.to_thread(self._child, m))
        return out

    async def delete_faults(self) -> list[str]:
        """Delete every child and wait until it is gone; return the ones still present."""
        ns = self.ref.namespace
        for m in self.children:
            kind, name = KINDS[m["kind"]], m["metadata"]["name"]
            await asyncio.to_thread(
                functools.partial(self.cluster.objects.delete, kind, ns, name, missing_ok=True)
            )
        deadline = time.monotonic() + GONE_TIMEOUT
        while True:
            left = [
                m["metadata"]["name"]
                for m in self.children
                if await asyncio.to_thread(self._child, m) is not None
            ]
            if not left or time.monotonic() > deadline:
                return left
            await asyncio.sleep(0.2)

    async def wait_first_observations(self, st: RunState) -> str | None:
        while not self.stopped():
            if time.monotonic() - self.last_write >= HEARTBEAT_SECONDS:
                await self.write(st)  # keeps the claim while a probe pod starts
            series = await self.series()
            # A load probe's first intervals are empty while it connects; they are no baseline.
            if all(any(x.requests > 0 for x in s) for s in series.values()):
                return None
            if errors := self.errors():
                return "; ".join(f"{k}: {v}" for k, v in errors.items())
            await asyncio.sleep(self.cfg.tick_seconds)
        return "stopped before the probes reported"

    async def execute(self) -> None:
        if not await self.claim():
            return
        st = state_of(self.status)
        if st.verdict is not None or st.phase == "Finished":
            return
        resumed = st.phase in ACTIVE
        if resumed and not all(s.replayable for s in self.sources):
            await self.delete_faults()
            await self.end(
                replace(
                    st,
                    phase="Finished",
                    verdict="Error",
                    end=time.time(),
                    message="the operator restarted mid-run and the local probe's observations "
                    "were lost; the faults were removed",
                )
            )
            return
        for s in self.sources:
            await s.start()
        jobs = [s.name for s in self.sources if isinstance(s, JobSource)]
        if not resumed:
            await self.write(st, probeJobs=jobs)
            problem = await self.wait_first_observations(st)
            if problem:
                st = replace(st, phase="Finished", verdict="Error", end=time.time())
                await self.end(replace(st, message=f"probe did not start: {problem}"))
                return
        if self.dashboard is not None:
            run_id = await self.dashboard.open_run(
                self.ref.namespace,
                self.ref.name,
                self.spec.model_dump(mode="json", by_alias=True, exclude_none=True),
                self.status.get("dashboardRunId"),
            )
            self.status["dashboardRunId"] = run_id
        await self.loop(st)

    async def loop(self, st: RunState) -> None:
        last_push = 0.0
        while True:
            if self.stopped():
                await self.delete_faults()
                st = replace(st, phase="Finished", verdict="Error", end=time.time())
                await self.end(replace(st, message="interrupted (deleted or operator stopped)"))
                return
            if (why := self.halted()) is not None:
                self.status["abortTime"] = _iso_now()
                await self.delete_faults()
                self.status["faultsRemovedTime"] = _iso_now()
                await self.end(replace(st, phase="Finished", verdict="Aborted", end=time.time(),
                                       message=why))  # fmt: skip
                return
            now = time.time()
            series = await self.series()
            checks = None
            if st.phase == "Observing" and st.verified is None:
                checks = await self.injections()
            out = step(self.spec, st, now, series, self.errors(), checks)
            new = out.state
            if out.create_faults:
                await self.write(new)
                try:
                    await self.create_faults()
                except Exception as e:  # any failure to create: nothing may stay behind
                    self.log.error("creating faults failed: %s", e)
                    await self.delete_faults()
                    new = replace(new, phase="Verdict", verdict="Error", end=time.time())
                    new = replace(new, message=f"could not create the faults: {e}")
            if out.delete_faults:
                if new.verdict == "Aborted":
                    self.status["abortTime"] = _iso(now)
                left = await self.delete_faults()
                if left:
                    new = replace(new, message=f"{new.message}; still present: {', '.join(left)}")
                else:
                    self.status["faultsRemovedTime"] = _iso_now()
            if new.phase == "Verdict":
                await self.finish(new, series)
                return
            if new != st or time.monotonic() - self.last_write >= HEARTBEAT_SECONDS:
                await self.write(new)
                if self.dashboard is not None:
                    await self.dashboard.phase(new.phase, metrics=live_marks(new))
            st = new
            if self.dashboard is not None and now - last_push >= 2:
                last_push = now
                await self.dashboard.observations(series)
            await asyncio.sleep(self.cfg.tick_seconds)

    async def finish(self, st: RunState, series: dict[str, list[Sample]]) -> None:
        await self.write(replace(st, verdict=None))  # records the Verdict phase
        st, metrics, results = judge(self.spec, st, time.time(), series)
        st = replace(st, phase="Finished")
        summary = dashboard_summary(st, metrics, results, self.status)
        await self.end(st, series, summary, metrics=metrics, results=results)

    async def end(
        self,
        st: RunState,
        series: dict[str, list[Sample]] | None = None,
        summary: dict[str, Any] | None = None,
        **extra: Any,
    ) -> None:
        """Stop the probes, close the dashboard run and tell the verdict as an Event, then write
        the verdict - in that order, because writing the verdict ends this daemon (kopf stops a
        daemon whose filter no longer matches), and a probe must never outlive its run."""
        await self.stop_probes()
        if self.dashboard is not None:
            await self.dashboard.observations(series or {})
            await self.dashboard.phase("Finished", st.verdict, summary)
        self.log.info("experiment %s/%s: %s", self.ref.namespace, self.ref.name, st.verdict)
        await self.tell(st)
        await self.write(st, **extra)

    async def tell(self, st: RunState) -> None:
        """The verdict as a Kubernetes Event on the Experiment; an abort says why and how soon
        after the decision the faults were gone."""
        message = st.message
        decided = timestamp_of(self.status.get("abortTime"))
        removed = timestamp_of(self.status.get("faultsRemovedTime"))
        if st.verdict == "Aborted" and decided is not None and removed is not None:
            message += f"; faults removed {removed - decided:.2f}s after the decision"
        kind = "Normal" if st.verdict == "Passed" else "Warning"
        try:
            await asyncio.to_thread(
                self.cluster.core.post_event,
                self.ref.reference(),
                kind,
                st.verdict or "Finished",
                message,
            )
        except kube.KubeError as e:  # a courtesy: the status carries the same message
            self.log.warning("could not post the verdict event: %s", e)

    async def stop_probes(self) -> None:
        for s in self.sources:
            s.request_stop()  # all at once and synchronously, before anything can cancel us
        for s in self.sources:
            try:
                await s.stop()
            except Exception as e:  # stopping one probe must not keep the others running
                self.log.warning("stopping probe %s: %s", s.probe.name, e)

    async def close(self) -> None:
        await self.stop_probes()
        if self.dashboard is not None:
            await self.dashboard.close()


async def run(
    ref: ExperimentRef,
    spec: ExperimentSpec,
    status: dict[str, Any],
    cfg: EngineSettings,
    stopped: Callable[[], bool],
    logger: logging.Logger | logging.LoggerAdapter[Any],
    *,
    halted: Callable[[], str | None] = lambda: None,
) -> None:
    """`halted` returns why the run must abort now (the emergency stop), else None."""
    r = Run(ref, spec, status, cfg, stopped, logger)
    r.halted = halted
    try:
        await r.execute()
    except BaseException:
        await asyncio.shield(r.delete_faults())
        raise
    finally:
        await r.close()
