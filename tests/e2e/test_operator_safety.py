"""Safety rails and observability of the operator on a real cluster: namespace opt-in, the
cluster-wide kill switch, and the Prometheus metrics endpoint.

Each test runs its own operator (scoped to the test namespace, which is also its "operator
namespace" where the kill-switch ConfigMap lives) and checks the effect on real traffic.
"""

from __future__ import annotations

import re

import pytest

from tests.e2e.chaos_helpers import apply, chaos, k8s_events, pod, ready_pod, serves, status

pytestmark = pytest.mark.cluster


def _partition(name: str, **extra: object) -> dict:
    return chaos(
        "NetworkChaos",
        name,
        action="partition",
        mode="all",
        selector={"labelSelectors": {"app": "web"}},
        direction="both",
        target={"mode": "all", "selector": {"labelSelectors": {"app": "client"}}},
        **extra,
    )


def _two_pods(cluster, own_ns: str) -> str:
    apply(cluster, own_ns, pod("web", "web"))
    apply(cluster, own_ns, pod("client", "client"))
    web = ready_pod(cluster, own_ns, "web")
    ready_pod(cluster, own_ns, "client")
    ip = str(web["status"]["podIP"])
    assert serves(cluster, own_ns, "client", ip)
    return ip


def _killswitch(cluster, own_ns: str, enabled: str) -> None:
    doc = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "faultline-killswitch"},
        "data": {"enabled": enabled},
    }
    apply(cluster, own_ns, doc)


def test_namespace_opt_in_is_required_when_enabled(cluster, own_ns, start_operator) -> None:
    start_operator(FAULTLINE_REQUIRE_NAMESPACE_OPT_IN="true")
    ip = _two_pods(cluster, own_ns)
    apply(cluster, own_ns, _partition("cut"))

    def refused() -> bool:
        st = status(cluster, own_ns, "networkchaos", "cut")
        return "chaos.faultline.dev/inject=enabled" in st.get("message", "")

    cluster.wait_for("opt-in refusal in status", refused, timeout=60)
    st = status(cluster, own_ns, "networkchaos", "cut")
    assert own_ns in st["message"] and st.get("injectedTargets", 0) == 0
    assert serves(cluster, own_ns, "client", ip)

    cluster.kubectl("annotate", "namespace", own_ns, "chaos.faultline.dev/inject=enabled")
    cluster.wait_for(
        "injected after opt-in",
        lambda: status(cluster, own_ns, "networkchaos", "cut").get("injectedTargets") == 1,
        timeout=60,
    )
    assert not serves(cluster, own_ns, "client", ip)
    cluster.kubectl("delete", "-n", own_ns, "networkchaos", "cut", "--timeout=60s")
    cluster.wait_for("healed", lambda: serves(cluster, own_ns, "client", ip), 60)


def test_kill_switch_stops_every_fault_and_blocks_new_ones(cluster, own_ns, start_operator) -> None:
    start_operator()
    ip = _two_pods(cluster, own_ns)
    apply(cluster, own_ns, _partition("cut", duration="10m"))
    cluster.wait_for(
        "injected",
        lambda: status(cluster, own_ns, "networkchaos", "cut").get("injectedTargets") == 1,
        timeout=60,
    )
    assert not serves(cluster, own_ns, "client", ip)

    _killswitch(cluster, own_ns, "true")
    cluster.wait_for("traffic flows again", lambda: serves(cluster, own_ns, "client", ip), 60)
    cluster.wait_for(
        "object paused by the kill switch",
        lambda: status(cluster, own_ns, "networkchaos", "cut").get("phase") == "Paused",
        timeout=60,
    )
    assert "kill switch" in status(cluster, own_ns, "networkchaos", "cut")["message"]

    # A new object while the switch is on is held back (reconciled, but nothing injected).
    apply(cluster, own_ns, _partition("cut-2"))
    cluster.wait_for(
        "new object held",
        lambda: status(cluster, own_ns, "networkchaos", "cut-2").get("phase") == "Paused",
        timeout=60,
    )
    assert status(cluster, own_ns, "networkchaos", "cut-2").get("injectedTargets", 0) == 0
    assert serves(cluster, own_ns, "client", ip)

    _killswitch(cluster, own_ns, "false")
    cluster.wait_for(
        "faults come back once released",
        lambda: not serves(cluster, own_ns, "client", ip),
        timeout=60,
    )
    reasons = {e["reason"] for e in k8s_events(cluster, own_ns, "cut")}
    assert {"Injected", "Recovered"} <= reasons
    cluster.kubectl("delete", "-n", own_ns, "networkchaos", "--all", "--timeout=60s")
    cluster.wait_for("healed", lambda: serves(cluster, own_ns, "client", ip), 60)


def _sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text format (0 when absent)."""
    for line in text.splitlines():
        m = re.fullmatch(r"([a-z_]+)(?:\{(.*)\})? (\S+)", line)
        if not m or m.group(1) != name:
            continue
        got = dict(re.findall(r'(\w+)="([^"]*)"', m.group(2) or ""))
        if all(got.get(k) == v for k, v in labels.items()):
            return float(m.group(3))
    return 0.0


def test_metrics_count_injections_recoveries_and_phases(cluster, own_ns, start_operator) -> None:
    op = start_operator()
    ip = _two_pods(cluster, own_ns)
    assert _sample(op.metrics(), "faultline_injections_total", kind="NetworkChaos") == 0
    apply(cluster, own_ns, _partition("cut", duration="6s"))
    cluster.wait_for(
        "finished",
        lambda: status(cluster, own_ns, "networkchaos", "cut").get("phase") == "Finished",
        timeout=90,
    )
    assert serves(cluster, own_ns, "client", ip)
    text = op.metrics()
    assert _sample(text, "faultline_injections_total", kind="NetworkChaos") == 1
    assert _sample(text, "faultline_recoveries_total", kind="NetworkChaos") == 1
    assert _sample(text, "faultline_apply_seconds_count", kind="NetworkChaos") == 1
    assert _sample(text, "faultline_chaos_objects", kind="NetworkChaos", phase="Finished") == 1
    assert _sample(text, "faultline_chaos_objects", kind="NetworkChaos", phase="Running") == 0
