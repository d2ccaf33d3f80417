"""Mirrors a running experiment into the dashboard API (a run, its phases, its observations),
so the dashboard shows the live QPS curve and the verdict.

Best effort by design: the verdict lives in the Experiment's status and must not depend on the
dashboard being up, so every failure here is logged and the run carries on.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx
from pydantic import ValidationError

from backend.domain.recovery import Sample
from backend.experiment.machine import RunState
from backend.spec.experiment import Claim, CriterionResult, ExperimentSpec, ProbeMetrics

API = "/api/v1"
TERMINAL = {"Passed": "Finished", "Failed": "Finished", "Aborted": "Aborted", "Error": "Failed"}


def claim_of(spec: ExperimentSpec) -> dict[str, Any] | None:
    """The body of `POST /hypotheses` for the spec's hypothesis (its title, description and
    tolerances, as they are); None without tolerances (the API requires one)."""
    return spec.hypothesis.claim() if spec.hypothesis.tolerances else None


def same_claim(stored: dict[str, Any], body: dict[str, Any]) -> bool:
    """Whether a hypothesis the API returned says exactly what `body` says."""
    try:
        ours, theirs = (
            Claim.model_validate({k: d[k] for k in Claim.model_fields if k in d})
            for d in (body, stored)
        )
    except ValidationError:
        return False
    return ours == theirs


class Dashboard:
    def __init__(
        self, url: str, token: str, logger: logging.Logger | logging.LoggerAdapter[Any]
    ) -> None:
        self.client = httpx.AsyncClient(
            base_url=url.rstrip("/"), headers={"Authorization": f"Bearer {token}"}, timeout=3.0
        )
        self.log = logger
        self.run_id: int | None = None
        self.sent_until: dict[str, float] = {}
        """Per probe: the time of the latest sample the API holds."""

    async def _call(self, method: str, path: str, **kw: Any) -> Any:
        try:
            resp = await self.client.request(method, API + path, **kw)
            resp.raise_for_status()
            return resp.json() if resp.content else None
        except (httpx.HTTPError, ValueError) as e:
            self.log.warning("dashboard %s %s failed: %s", method, path, e)
            return None

    async def open_run(
        self, namespace: str, name: str, spec: dict[str, Any], run_id: int | None
    ) -> int | None:
        """Find or create the experiment row with its hypothesis attached, then start a run
        (or reuse `run_id` on resume)."""
        if run_id is not None:
            self.run_id = run_id
            return run_id
        page = await self._call(
            "GET", "/experiments", params={"namespace": namespace, "limit": 200}
        )
        found = [e for e in (page or {}).get("items", []) if e.get("name") == name]
        if found:
            exp_id = found[0]["id"]
            # A row made before hypotheses were mirrored, or whose hypothesis was deleted,
            # gets one; a hypothesis someone attached in the dashboard is left alone.
            bare = found[0].get("hypothesis_id") is None
            if bare and (hyp_id := await self.hypothesis(namespace, spec)) is not None:
                body = {"hypothesis_id": hyp_id}
                await self._call("PATCH", f"/experiments/{exp_id}", json=body)
        else:
            made = await self._call(
                "POST",
                "/experiments",
                json={
                    "namespace": namespace,
                    "name": name,
                    "spec": spec,
                    "hypothesis_id": await self.hypothesis(namespace, spec),
                },
            )
            if made is None:
                return None
            exp_id = made["id"]
        run = await self._call("POST", f"/experiments/{exp_id}/runs", json={"phase": "Baseline"})
        self.run_id = None if run is None else int(run["id"])
        return self.run_id

    async def hypothesis(self, namespace: str, spec: dict[str, Any]) -> int | None:
        """The id of a hypothesis row of `namespace` (an experiment uses one of its own
        namespace) saying what the spec's hypothesis says: an identical one if the API holds
        one (only identical content is safe to share, never a title alone), else a new one."""
        try:
            body = claim_of(ExperimentSpec.model_validate(spec))
        except ValidationError as e:
            self.log.warning("dashboard: no hypothesis for an invalid spec: %s", e)
            return None
        if body is None:
            return None
        params = {"namespace": namespace, "limit": 500}
        page = await self._call("GET", "/hypotheses", params=params)
        same = [h for h in (page or {}).get("items", []) if same_claim(h, body)]
        body = {**body, "namespace": namespace}
        made = same[0] if same else await self._call("POST", "/hypotheses", json=body)
        return None if made is None else int(made["id"])

    async def observations(self, series: Mapping[str, Sequence[Sample]]) -> None:
        """Sends every probe's samples that the API does not hold yet, in one batch."""
        new = {
            probe: fresh
            for probe, samples in series.items()
            if (fresh := [s for s in samples if s.t > self.sent_until.get(probe, 0.0)])
        }
        if self.run_id is None or not new:
            return
        points = [
            {
                "probe": probe,
                "ts": s.t,
                "qps": s.qps,
                "error_rate": min(max(s.error_rate, 0.0), 1.0),
                "latency_p50_ms": s.latency_p50_ms,
                "latency_p99_ms": s.latency_p99_ms,
            }
            for probe, fresh in new.items()
            for s in fresh
        ]
        if await self._call(
            "POST", f"/runs/{self.run_id}/observations:batch", json={"points": points}
        ):
            self.sent_until.update({probe: fresh[-1].t for probe, fresh in new.items()})

    async def phase(
        self, phase: str, verdict: str | None = None, metrics: dict[str, Any] | None = None
    ) -> None:
        if self.run_id is None:
            return
        body: dict[str, Any] = {"phase": TERMINAL.get(verdict or "", phase)}
        if verdict is not None:
            body["verdict"] = verdict
        if metrics is not None:
            body["metrics"] = metrics
        await self._call("PATCH", f"/runs/{self.run_id}", json=body)

    async def close(self) -> None:
        await self.client.aclose()


def live_marks(st: RunState) -> dict[str, Any] | None:
    """The fault window as known so far, sent with each phase change so a live chart shades it
    while the run goes on (the final summary replaces these with the full record)."""
    marks = {"fault_started_at": st.fault_start, "fault_ended_at": st.fault_end}
    known = {k: v for k, v in marks.items() if v is not None}
    return known or None


def _epoch(value: object) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _iso(t: float | None) -> str | None:
    return None if t is None else datetime.fromtimestamp(t, UTC).isoformat()


def run_summary(status: dict[str, Any]) -> dict[str, Any]:
    """A run's metrics as the dashboard stores them, from the Experiment's status: every probe's
    measurements (`probes`, the status's `metrics`), every criterion's result (the evidence
    behind the verdict), and the fault window and abort instant in Unix seconds for the chart
    (web/src/lib/series.ts). One source for the live mirror and the backfill, so a run reads
    the same whichever recorded it."""
    out: dict[str, Any] = {
        "probes": list(status.get("metrics") or []),
        "results": list(status.get("results") or []),
        "message": str(status.get("message") or ""),
    }
    for key, field in (("fault_started_at", "faultStartTime"), ("fault_ended_at", "faultEndTime")):
        if (t := _epoch(status.get(field))) is not None:
            out[key] = t
    if status.get("verdict") == "Aborted" and (t := _epoch(status.get("endTime"))) is not None:
        out["aborted_at"] = t
    for key in ("faultsVerifiedTime", "abortTime", "faultsRemovedTime"):
        if status.get(key):
            out[key] = status[key]
    return out


def dashboard_summary(
    st: RunState,
    metrics: Sequence[ProbeMetrics],
    results: Sequence[CriterionResult],
    status: dict[str, Any],
) -> dict[str, Any]:
    """`run_summary` of the status the engine is about to write for the finished run `st`."""
    final = {
        **status,
        "metrics": [m.model_dump(mode="json", exclude_none=True) for m in metrics],
        "results": [r.model_dump(mode="json", exclude_none=True) for r in results],
        "message": st.message,
        "verdict": st.verdict,
        "faultStartTime": _iso(st.fault_start),
        "faultEndTime": _iso(st.fault_end),
        "endTime": _iso(st.end),
    }
    return run_summary(final)
