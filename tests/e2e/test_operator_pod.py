"""PodChaos through the real operator and cluster: pod-kill, pod-failure and container-kill.

Each test applies a PodChaos like a user would and checks what the cluster really did: pods
deleted and re-created by their Deployment, containers that stop serving and come back with
their original image, a container restarted (restartCount + 1), and the Events on the object.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.e2e.chaos_helpers import (
    IMAGE,
    apply,
    chaos,
    deployment,
    get,
    k8s_events,
    pod,
    ready_pod,
    ready_pods,
    serves,
    status,
)

pytestmark = pytest.mark.cluster
PAUSE_IMAGE = "faultline.local/pause:3.10-catatonit"
IMAGES_ANNOTATION = "chaos.faultline.dev/pod-failure-images"


def test_pod_kill_fixed_percent_kills_exactly_half(cluster, own_ns, start_operator) -> None:
    start_operator()
    apply(cluster, own_ns, deployment("web", 4))
    before = {p["metadata"]["name"] for p in ready_pods(cluster, own_ns, "web", 4)}

    apply(
        cluster,
        own_ns,
        chaos(
            "PodChaos",
            "kill-half",
            action="pod-kill",
            mode="fixed-percent",
            value="50",
            selector={"labelSelectors": {"app": "web"}},
        ),
    )
    cluster.wait_for(
        "PodChaos finished",
        lambda: status(cluster, own_ns, "podchaos", "kill-half").get("phase") == "Finished",
        timeout=120,
    )
    st = status(cluster, own_ns, "podchaos", "kill-half")
    killed = {r["id"].split("/")[1] for r in st["records"]}
    assert len(killed) == 2 and killed <= before
    assert all(r["injectedCount"] == 1 for r in st["records"])

    # The Deployment replaces exactly the two killed pods; the other two were never touched.
    after = {p["metadata"]["name"] for p in ready_pods(cluster, own_ns, "web", 4)}
    assert before - after == killed
    assert len(after - before) == 2

    reasons = [e["reason"] for e in k8s_events(cluster, own_ns, "kill-half")]
    assert reasons.count("Injected") == 2


def test_pod_failure_stops_serving_then_restores_original_spec(
    cluster, own_ns, start_operator
) -> None:
    start_operator()
    apply(cluster, own_ns, pod("web", "web"))
    apply(cluster, own_ns, pod("client", "client"))
    web = ready_pod(cluster, own_ns, "web")
    ready_pod(cluster, own_ns, "client")
    ip = web["status"]["podIP"]
    assert serves(cluster, own_ns, "client", ip)

    apply(
        cluster,
        own_ns,
        chaos(
            "PodChaos",
            "fail-web",
            action="pod-failure",
            mode="all",
            duration="20s",
            selector={"labelSelectors": {"app": "web"}},
        ),
    )
    cluster.wait_for("web stops serving", lambda: not serves(cluster, own_ns, "client", ip))
    failed = get(cluster, own_ns, "pod", "web")
    assert failed["spec"]["containers"][0]["image"] == PAUSE_IMAGE
    assert IMAGES_ANNOTATION in failed["metadata"]["annotations"]
    assert status(cluster, own_ns, "podchaos", "fail-web")["phase"] == "Running"

    # Nobody touches anything: the pod serves again by itself once the 20 s are over.
    cluster.wait_for("web serves again", lambda: serves(cluster, own_ns, "client", ip), 120)
    st = status(cluster, own_ns, "podchaos", "fail-web")
    cluster.wait_for(
        "PodChaos finished",
        lambda: status(cluster, own_ns, "podchaos", "fail-web").get("phase") == "Finished",
        timeout=60,
    )
    st = status(cluster, own_ns, "podchaos", "fail-web")
    lasted = datetime.fromisoformat(st["endTime"]) - datetime.fromisoformat(st["startTime"])
    assert lasted.total_seconds() >= 20
    restored = get(cluster, own_ns, "pod", "web")
    assert restored["spec"]["containers"][0]["image"] == IMAGE
    assert IMAGES_ANNOTATION not in (restored["metadata"].get("annotations") or {})
    assert restored["metadata"]["uid"] == web["metadata"]["uid"]  # the same pod, not a new one
    assert st["records"][0]["phase"] == "Recovered"
    reasons = {e["reason"] for e in k8s_events(cluster, own_ns, "fail-web")}
    assert {"Injected", "Recovered"} <= reasons


def test_pod_failure_is_undone_on_delete(cluster, own_ns, start_operator) -> None:
    start_operator()
    apply(cluster, own_ns, pod("web", "web"))
    ready_pod(cluster, own_ns, "web")
    apply(
        cluster,
        own_ns,
        chaos(
            "PodChaos",
            "fail-long",
            action="pod-failure",
            mode="all",
            duration="10m",
            selector={"labelSelectors": {"app": "web"}},
        ),
    )
    cluster.wait_for(
        "image swapped",
        lambda: get(cluster, own_ns, "pod", "web")["spec"]["containers"][0]["image"] == PAUSE_IMAGE,
    )
    cluster.kubectl("delete", "-n", own_ns, "podchaos", "fail-long", "--timeout=60s")
    restored = get(cluster, own_ns, "pod", "web")
    assert restored["spec"]["containers"][0]["image"] == IMAGE
    ready_pod(cluster, own_ns, "web")


def test_container_kill_restarts_the_container(cluster, own_ns, start_operator) -> None:
    start_operator()
    apply(cluster, own_ns, pod("web", "web"))
    web = ready_pod(cluster, own_ns, "web")
    restarts = web["status"]["containerStatuses"][0]["restartCount"]

    apply(
        cluster,
        own_ns,
        chaos(
            "PodChaos",
            "kill-main",
            action="container-kill",
            mode="one",
            containerNames=["main"],
            selector={"labelSelectors": {"app": "web"}},
        ),
    )

    def restarted() -> bool:
        cs = get(cluster, own_ns, "pod", "web")["status"]["containerStatuses"][0]
        return bool(cs["restartCount"] == restarts + 1)

    cluster.wait_for("container restarted", restarted, timeout=120)
    cluster.wait_for(
        "PodChaos finished",
        lambda: status(cluster, own_ns, "podchaos", "kill-main").get("phase") == "Finished",
        timeout=60,
    )
    after = get(cluster, own_ns, "pod", "web")
    assert after["metadata"]["uid"] == web["metadata"]["uid"]
    assert after["status"]["containerStatuses"][0]["restartCount"] == restarts + 1
