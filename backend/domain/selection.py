"""Which pods a chaos object targets: selector matching and the one/all/fixed/percent modes.

Pure: the operator lists pods (and, for nodeSelectors, node labels) and hands them in. Random
picks use a caller-provided RNG over pods sorted by namespace/name, so a seed derived from the
chaos object's UID gives the same targets after a controller restart.
"""

from __future__ import annotations

import hashlib
import math
import random
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from backend.spec.common import ExpressionRequirement, PodSelector, PodSelectorSpec


class SelectionError(ValueError):
    """A selector or mode/value that cannot be evaluated; the message names the field."""


@dataclass(frozen=True)
class Pod:
    """The few pod facts selection and planning need, from an API dict or a client object."""

    namespace: str
    name: str
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    node: str = ""
    phase: str = "Running"
    ip: str = ""
    terminating: bool = False

    @property
    def id(self) -> str:
        return f"{self.namespace}/{self.name}"

    @classmethod
    def of(cls, pod: Any) -> Pod:
        """Accept a Kubernetes API dict (camelCase), a client `V1Pod`, or a Pod."""
        if isinstance(pod, Pod):
            return pod
        if not isinstance(pod, Mapping):
            pod = pod.to_dict()  # kubernetes client models render snake_case keys
        meta, spec, status = (pod.get(k) or {} for k in ("metadata", "spec", "status"))
        return cls(
            namespace=meta.get("namespace") or "",
            name=meta.get("name") or "",
            labels=dict(meta.get("labels") or {}),
            annotations=dict(meta.get("annotations") or {}),
            node=spec.get("nodeName") or spec.get("node_name") or "",
            phase=status.get("phase") or "Unknown",
            ip=status.get("podIP") or status.get("pod_ip") or "",
            terminating=bool(meta.get("deletionTimestamp") or meta.get("deletion_timestamp")),
        )


def _expression_matches(req: ExpressionRequirement, labels: Mapping[str, str]) -> bool:
    present = req.key in labels
    if req.operator == "In":
        return present and labels[req.key] in req.values
    if req.operator == "NotIn":
        return not present or labels[req.key] not in req.values
    if req.operator == "Exists":
        return present
    return not present


def _field_value(pod: Pod, key: str) -> str:
    return {
        "metadata.name": pod.name,
        "metadata.namespace": pod.namespace,
        "spec.nodeName": pod.node,
        "status.phase": pod.phase,
    }[key]


def _subset(wanted: Mapping[str, str], have: Mapping[str, str]) -> bool:
    return all(have.get(k) == v for k, v in wanted.items())


def matches(
    pod: Pod,
    sel: PodSelectorSpec,
    default_namespace: str,
    node_labels: Mapping[str, Mapping[str, str]] | None = None,
) -> bool:
    """Does the pod satisfy every non-empty part of the selector? Terminating pods never do."""
    if pod.terminating:
        return False
    namespaces = sel.namespaces or ([] if sel.pods else [default_namespace])
    if namespaces and pod.namespace not in namespaces:
        return False
    if sel.pods and pod.name not in sel.pods.get(pod.namespace, []):
        return False
    if sel.nodes and pod.node not in sel.nodes:
        return False
    if sel.podPhaseSelectors and pod.phase not in sel.podPhaseSelectors:
        return False
    if not _subset(sel.labelSelectors, pod.labels):
        return False
    if not _subset(sel.annotationSelectors, pod.annotations):
        return False
    if not all(_expression_matches(r, pod.labels) for r in sel.expressionSelectors):
        return False
    if not all(_field_value(pod, k) == v for k, v in sel.fieldSelectors.items()):
        return False
    if sel.nodeSelectors:
        if node_labels is None:
            raise SelectionError("selector.nodeSelectors: node labels are needed to evaluate it")
        return _subset(sel.nodeSelectors, node_labels.get(pod.node, {}))
    return True


def _number(value: str | None, mode: str, limit: int | None) -> int:
    if value is None:
        raise SelectionError(f"value: required when mode is {mode}")
    if not re.fullmatch(r"[0-9]+", value):
        raise SelectionError(f"value: {value!r} is not a whole number (mode {mode})")
    n = int(value)
    if limit is not None and n > limit:
        raise SelectionError(f"value: {value!r} must be between 0 and {limit} for mode {mode}")
    return n


def target_count(mode: str, value: str | None, candidates: int, rng: random.Random) -> int:
    """How many of `candidates` matching pods the mode asks for."""
    if mode == "all":
        return candidates
    if mode == "one":
        return min(1, candidates)
    if mode == "fixed":
        return min(_number(value, mode, None), candidates)
    if mode == "fixed-percent":
        return math.floor(candidates * _number(value, mode, 100) / 100)
    if mode == "random-max-percent":
        return rng.randint(0, math.floor(candidates * _number(value, mode, 100) / 100))
    raise SelectionError(f"mode: unsupported value {mode!r}")


def pick(candidates: Iterable[Pod], mode: str, value: str | None, rng: random.Random) -> list[Pod]:
    """Apply the mode to already-matching pods; the result is sorted by namespace/name."""
    pool = sorted(candidates, key=lambda p: (p.namespace, p.name))
    count = target_count(mode, value, len(pool), rng)
    if count >= len(pool):
        return pool
    return sorted(rng.sample(pool, count), key=lambda p: (p.namespace, p.name))


def select(
    pods: Iterable[Any],
    target: PodSelector,
    default_namespace: str,
    rng: random.Random,
    node_labels: Mapping[str, Mapping[str, str]] | None = None,
) -> list[Pod]:
    """Pods (dicts, client objects or Pods) -> the ones this selector + mode + value targets."""
    views = [Pod.of(p) for p in pods]
    hits = [p for p in views if matches(p, target.selector, default_namespace, node_labels)]
    return pick(hits, target.mode, target.value, rng)


def reselect(
    current: Sequence[str],
    pods: Iterable[Any],
    target: PodSelector,
    default_namespace: str,
    rng: random.Random,
    node_labels: Mapping[str, Mapping[str, str]] | None = None,
) -> list[Pod]:
    """Re-evaluate during a run: keep current targets that still match and top up from new
    pods to the mode's count, so pods created mid-experiment are injected too."""
    views = [Pod.of(p) for p in pods]
    hits = [p for p in views if matches(p, target.selector, default_namespace, node_labels)]
    kept = [p for p in hits if p.id in set(current)]
    if target.mode == "random-max-percent" and kept:
        wanted = len(kept)  # already drawn once; a fresh draw would churn targets
    else:
        wanted = target_count(target.mode, target.value, len(hits), rng)
    kept = sorted(kept, key=lambda p: (p.namespace, p.name))[:wanted]
    rest = sorted((p for p in hits if p.id not in set(current)), key=lambda p: p.id)
    extra = rng.sample(rest, min(len(rest), max(0, wanted - len(kept))))
    return sorted([*kept, *extra], key=lambda p: (p.namespace, p.name))


def rng_for(key: str) -> random.Random:
    """A deterministic RNG for one chaos object (pass its UID)."""
    return random.Random(int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big"))
