"""Which namespaces any chaos object may target at all: the platform team's limits.

The admission webhook bounds an object by its creator's rights; these limits bound every object
regardless of who made it, and the operator applies them on every reconcile, so a bypassed or
misconfigured webhook still cannot reach the cluster's own machinery:

- protected namespaces (kube-system, kube-public, kube-node-lease, and the release's own, which
  the chart adds) are never targeted unless the platform team lists them in `allow_protected`;
- an allow list, when set, is the only set of namespaces that may be targeted;
- namespace opt-in (when required) is checked separately, from live namespace annotations
  (backend/operator/safety.py), because it depends on the cluster's state, not on settings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from backend.spec.common import PodSelectorSpec

DEFAULT_PROTECTED = ("kube-system", "kube-public", "kube-node-lease")
PROTECTED_ENV = "FAULTLINE_PROTECTED_NAMESPACES"
ALLOW_PROTECTED_ENV = "FAULTLINE_ALLOW_PROTECTED_NAMESPACES"
TARGET_NAMESPACES_ENV = "FAULTLINE_TARGET_NAMESPACES"


@dataclass(frozen=True)
class Touched:
    """A namespace an object can touch, and the field that makes it touch it."""

    field: str
    namespace: str


def selector_namespaces(sel: PodSelectorSpec, own: str) -> list[str]:
    """The namespaces a selector can pick pods in: `namespaces`, else the keys of `pods`, else
    the object's own namespace (an empty selector never means "everywhere")."""
    return list(sel.namespaces or (sorted(sel.pods) if sel.pods else [own]))


def touched_by_selector(sel: PodSelectorSpec, own: str, path: str) -> list[Touched]:
    """Each namespace a selector at `path` can reach, named by the field that names it."""
    if sel.namespaces:
        return [Touched(f"{path}.namespaces[{i}]", ns) for i, ns in enumerate(sel.namespaces)]
    if sel.pods:
        return [Touched(f"{path}.pods[{ns}]", ns) for ns in sorted(sel.pods)]
    return [Touched(path, own)]


@dataclass(frozen=True)
class TargetLimits:
    protected: frozenset[str] = frozenset(DEFAULT_PROTECTED)
    """Never targeted (already net of the platform team's `allow_protected` list)."""
    allowed: frozenset[str] = frozenset()
    """When non-empty, the only namespaces that may be targeted."""

    @classmethod
    def build(
        cls,
        *,
        protected: Iterable[str] = DEFAULT_PROTECTED,
        allow_protected: Iterable[str] = (),
        allowed: Iterable[str] = (),
    ) -> TargetLimits:
        """`allow_protected` wins over `protected`: listing a namespace there is the platform
        team's explicit decision to let it be targeted."""
        fenced = {ns for ns in protected if ns}
        return cls(
            protected=frozenset(fenced - set(allow_protected)),
            allowed=frozenset(ns for ns in allowed if ns),
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> TargetLimits:
        """From the variables the chart sets on the operator and the webhook alike."""

        def names(key: str, default: str = "") -> list[str]:
            return [n.strip() for n in env.get(key, default).split(",") if n.strip()]

        return cls.build(
            protected=names(PROTECTED_ENV, ",".join(DEFAULT_PROTECTED)),
            allow_protected=names(ALLOW_PROTECTED_ENV),
            allowed=names(TARGET_NAMESPACES_ENV),
        )

    def refusal(self, touched: Touched) -> str | None:
        """Why `touched` is outside the limits, naming the field and the namespace; else None."""
        ns = touched.namespace
        if ns in self.protected:
            return (
                f"{touched.field}: namespace {ns!r} is protected; Faultline never targets it "
                "unless the platform team lists it in the chart's targeting.allowProtected"
            )
        if self.allowed and ns not in self.allowed:
            return (
                f"{touched.field}: namespace {ns!r} is not in the chart's "
                f"targeting.allowedNamespaces ({', '.join(sorted(self.allowed))})"
            )
        return None

    def refusals(self, touched: Iterable[Touched]) -> list[str]:
        return [r for t in touched if (r := self.refusal(t)) is not None]
