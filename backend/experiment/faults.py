"""The child chaos objects an Experiment creates: one PodChaos/NetworkChaos/IOChaos per fault,
owned by the Experiment, so the operator's chaos controllers inject them as usual and deleting
the Experiment deletes them (and recovers their faults)."""

from __future__ import annotations

from typing import Any

from backend.spec.experiment import ExperimentSpec
from backend.spec.kinds import API_VERSION, GROUP, KINDS

EXPERIMENT_LABEL = f"{GROUP}/experiment"


def child_name(experiment: str, fault: str) -> str:
    return f"{experiment}-{fault}"[:253]


def child_manifests(
    spec: ExperimentSpec, namespace: str, name: str, uid: str
) -> list[dict[str, Any]]:
    """One manifest per fault. Each carries the experiment's faultDuration as its own duration
    too, so the fault ends on time even if the engine dies before it can delete it."""
    out = []
    for fault in spec.faults:
        chaos = fault.chaos_spec().model_dump(mode="json", exclude_none=True, by_alias=True)
        if "duration" in KINDS[fault.type].spec.model_fields:
            chaos["duration"] = spec.timing.faultDuration
        out.append(
            {
                "apiVersion": API_VERSION,
                "kind": fault.type,
                "metadata": {
                    "name": child_name(name, fault.name),
                    "namespace": namespace,
                    "labels": {EXPERIMENT_LABEL: name[:63]},
                    "ownerReferences": [
                        {
                            "apiVersion": API_VERSION,
                            "kind": "Experiment",
                            "name": name,
                            "uid": uid,
                            "controller": True,
                            "blockOwnerDeletion": False,
                        }
                    ],
                },
                "spec": chaos,
            }
        )
    return out


def plural_of(kind: str) -> str:
    return KINDS[kind].plural
