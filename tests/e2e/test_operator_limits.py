"""The operator's own target limits on a real cluster, with no admission webhook in front of it
(as if the webhook were bypassed): a PodChaos aimed at kube-system or outside the allow list is
refused with a WithinLimits=False condition, a Warning Event naming the field and the namespace,
and nothing happens to the pods there; the same operator still kills a pod it may target.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.kube import apply, chaos, k8s_events, status
from tests.support.pods import demo_pod, ready_pod

pytestmark = pytest.mark.cluster


def _pod_facts(cluster: Any, ns: str) -> dict[str, tuple[str, int]]:
    """Each pod's uid and total restart count: a kill or a container restart changes them."""
    items = json.loads(cluster.kubectl("get", "pods", "-n", ns, "-o", "json"))["items"]
    return {
        p["metadata"]["name"]: (
            p["metadata"]["uid"],
            sum(c.get("restartCount", 0) for c in p["status"].get("containerStatuses") or []),
        )
        for p in items
    }


def _refused(cluster: Any, ns: str, name: str) -> dict[str, Any]:
    def outside() -> bool:
        conditions = status(cluster, ns, "podchaos", name).get("conditions") or []
        return any(c["type"] == "WithinLimits" and c["status"] == "False" for c in conditions)

    cluster.wait_for(f"{name} refused by the operator", outside, timeout=60)
    cluster.wait_for(
        f"a Refused event on {name}",
        lambda: any(e["reason"] == "Refused" for e in k8s_events(cluster, ns, name)),
        timeout=30,
    )
    return status(cluster, ns, "podchaos", name)


def test_protected_and_unlisted_namespaces_are_refused_and_untouched(
    cluster: Any, own_ns: str, start_operator: Any
) -> None:
    start_operator(FAULTLINE_TARGET_NAMESPACES=own_ns)
    system = _pod_facts(cluster, "kube-system")
    assert system, "kube-system has no pods: the check would be blind"
    apply(cluster, own_ns, demo_pod("victim", "victim"))
    victim = ready_pod(cluster, own_ns, "victim")

    apply(cluster, own_ns, chaos(
        "PodChaos", "kill-system", action="pod-kill", mode="all",
        selector={"namespaces": ["kube-system"]},
    ))  # fmt: skip
    st = _refused(cluster, own_ns, "kill-system")
    assert st["phase"] == "Failed" and st.get("injectedTargets", 0) == 0
    assert "spec.selector.namespaces[0]" in st["message"] and "'kube-system'" in st["message"]
    (event,) = [e for e in k8s_events(cluster, own_ns, "kill-system") if e["reason"] == "Refused"]
    assert event["type"] == "Warning" and "'kube-system'" in event["message"]

    apply(cluster, own_ns, chaos(
        "PodChaos", "kill-default", action="pod-kill", mode="all",
        selector={"pods": {"default": ["anything"]}},
    ))  # fmt: skip
    st = _refused(cluster, own_ns, "kill-default")
    assert "spec.selector.pods[default]" in st["message"] and "allowedNamespaces" in st["message"]

    # The same operator still acts where it may: the pod in the allowed namespace is killed.
    apply(cluster, own_ns, chaos(
        "PodChaos", "kill-own", action="pod-kill", mode="all",
        selector={"labelSelectors": {"app": "victim"}},
    ))  # fmt: skip
    cluster.wait_for(
        "the allowed pod killed",
        lambda: _pod_facts(cluster, own_ns).get("victim", ("", 0))[0] != victim["metadata"]["uid"],
        timeout=60,
    )
    assert _pod_facts(cluster, "kube-system") == system
