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
        ),
    ]
}
CHAOS_KINDS = ("PodChaos", "NetworkChaos", "IOChaos")
