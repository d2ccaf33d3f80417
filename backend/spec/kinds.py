"""The five Faultline kinds and what the API server needs to know about each.

This registry is the single place that names plurals, short names, printer columns and which
models hold spec and status; the CRD generator, the offline validator and the operator read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from backend.spec.experiment import ExperimentSpec, ExperimentStatus
from backend.spec.iochaos import IOChaosSpec
from backend.spec.networkchaos import NetworkChaosSpec
from backend.spec.podchaos import PodChaosSpec
from backend.spec.rules import SpecModel
from backend.spec.schedule import ScheduleSpec, ScheduleStatus
from backend.spec.status import ChaosStatus

GROUP = "chaos.faultline.dev"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"
CATEGORIES = ["chaos", "faultline"]
PAUSE_ANNOTATION = f"{GROUP}/pause"
INJECT_ANNOTATION = f"{GROUP}/inject"
HOST_NETWORK_ANNOTATION = f"{GROUP}/allow-host-network"
"""Set to "true" on a NetworkChaos to let it act on hostNetwork pods (the node's own network)."""


def _col(name: str, path: str, kind: str = "string", priority: int = 0) -> dict[str, Any]:
    col: dict[str, Any] = {"name": name, "type": kind, "jsonPath": path}
    if priority:
        col["priority"] = priority
    return col


AGE = _col("Age", ".metadata.creationTimestamp", "date")
CHAOS_COLUMNS = [
    _col("Action", ".spec.action"),
    _col("Phase", ".status.phase"),
    _col("Injected", ".status.injectedTargets", "integer"),
    _col("Targets", ".status.desiredTargets", "integer"),
    _col("Duration", ".spec.duration", priority=1),
    AGE,
]


@dataclass(frozen=True)
class Kind:
    kind: str
    plural: str
    short_names: list[str]
    spec: type[SpecModel]
    status: type[SpecModel]
    columns: list[dict[str, Any]]
    immutable_spec: bool = True
    """Chaos objects cannot be edited (delete and re-create); a Schedule can, like a CronJob."""
    categories: list[str] = field(default_factory=lambda: list(CATEGORIES))
    done_phases: frozenset[str] = frozenset({"Finished", "Failed"})
    """Phases in which the object has run to its end: a new run of the same name may replace
    it (its result is kept in its Events and the dashboard)."""

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @property
    def crd_name(self) -> str:
        return f"{self.plural}.{GROUP}"


KINDS: dict[str, Kind] = {
    k.kind: k
    for k in [
        Kind("PodChaos", "podchaos", ["flpod"], PodChaosSpec, ChaosStatus, CHAOS_COLUMNS),
        Kind(
            "NetworkChaos", "networkchaos", ["flnet"], NetworkChaosSpec, ChaosStatus, CHAOS_COLUMNS
        ),
        Kind("IOChaos", "iochaos", ["flio"], IOChaosSpec, ChaosStatus, CHAOS_COLUMNS),
        Kind(
            "Schedule",
            "schedules",
            ["flsched"],
            ScheduleSpec,
            ScheduleStatus,
            [
                _col("Type", ".spec.type"),
                _col("Schedule", ".spec.schedule"),
                _col("Policy", ".spec.concurrencyPolicy", priority=1),
                _col("Last", ".status.lastScheduleTime", "date"),
                # A string: kubectl prints a future time in a date column as "<invalid>".
                _col("Next", ".status.nextScheduleTime"),
                AGE,
            ],
            immutable_spec=False,
            done_phases=frozenset(),  # a Schedule never ends
        ),
        Kind(
            "Experiment",
            "experiments",
            ["flexp"],
            ExperimentSpec,
            ExperimentStatus,
            [
                _col("Title", ".spec.hypothesis.title"),
                _col("Phase", ".status.phase"),
                _col("Verdict", ".status.verdict"),
                AGE,
            ],
            done_phases=frozenset({"Finished"}),
        ),
    ]
}
CHAOS_KINDS = ("PodChaos", "NetworkChaos", "IOChaos")


def still_running(obj: dict[str, Any]) -> str | None:
    """Why `obj` (a custom resource as the API returns it) may not be replaced by a new run of
    the same name, or None when it has run to its end. Deleting it is always safe (the operator
    recovers every fault first); this only keeps a new run from cutting a live one short."""
    kind = KINDS[str(obj.get("kind"))]
    meta = obj.get("metadata") or {}
    phase = (obj.get("status") or {}).get("phase") or "Pending"
    if meta.get("deletionTimestamp") or phase in kind.done_phases:
        return None
    return (
        f"{kind.kind} {meta.get('namespace')}/{meta.get('name')} is still running (phase "
        f"{phase}); a new run replaces it only once it has ended: wait for it, or stop it now"
    )
