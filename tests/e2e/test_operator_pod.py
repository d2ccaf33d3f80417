"""PodChaos through the real operator and cluster: pod-kill, pod-failure and container-kill.

Each test applies a PodChaos like a user would and checks what the cluster really did: pods
deleted and re-created by their Deployment, containers that stop serving and come back with
their original image, a container restarted (restartCount + 1), and the Events on the object.
"""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from tests.support.kube import apply, chaos, get, k8s_events, status
from tests.support.pods import container, demo_pod, deployment, ready_pod, ready_pods, serves

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


def _with_init(name: str) -> dict:
    """A pod with an init container: pod-failure must swap and restore its image too."""
    prep = container("prep", command=["sh", "-c", "true"])
    return demo_pod(name, name, initContainers=[prep])


def _images(p: dict) -> dict[str, list[tuple[str, str]]]:
    return {
        f: [(c["name"], c["image"]) for c in p["spec"].get(f) or []]
        for f in ("containers", "initContainers")
    }


def test_pod_failure_stops_serving_then_restores_original_spec(
    cluster, own_ns, start_operator
) -> None:
    start_operator()
    apply(cluster, own_ns, _with_init("web"))
    apply(cluster, own_ns, demo_pod("client", "client"))
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
    assert _images(failed) == {
        "containers": [("main", PAUSE_IMAGE)],
        "initContainers": [("prep", PAUSE_IMAGE)],
    }
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
    # Exactly the original spec: every container and init container as it was.
    assert restored["spec"]["containers"] == web["spec"]["containers"]
    assert restored["spec"]["initContainers"] == web["spec"]["initContainers"]
    assert IMAGES_ANNOTATION not in (restored["metadata"].get("annotations") or {})
    assert restored["metadata"]["uid"] == web["metadata"]["uid"]  # the same pod, not a new one
    assert st["records"][0]["phase"] == "Recovered"
    reasons = {e["reason"] for e in k8s_events(cluster, own_ns, "fail-web")}
    assert {"Injected", "Recovered"} <= reasons


def test_two_pod_failures_share_a_pod_and_delete_undoes_each(
    cluster, own_ns, start_operator
) -> None:
    """Two pod-failure objects on one pod: deleting the first leaves the pod failed for the
    second (the annotation lists both), deleting the second restores the exact spec."""
    start_operator()
    apply(cluster, own_ns, _with_init("web"))
    web = ready_pod(cluster, own_ns, "web")
    for name in ("fail-a", "fail-b"):
        apply(
            cluster,
            own_ns,
            chaos(
                "PodChaos",
                name,
                action="pod-failure",
                mode="all",
                duration="10m",
                selector={"labelSelectors": {"app": "web"}},
            ),
        )

    def owners() -> list[str]:
        notes = get(cluster, own_ns, "pod", "web")["metadata"].get("annotations") or {}
        return (
            list(json.loads(notes[IMAGES_ANNOTATION])["owners"])
            if IMAGES_ANNOTATION in notes
            else []
        )

    uid = {n: get(cluster, own_ns, "podchaos", n)["metadata"]["uid"] for n in ("fail-a", "fail-b")}
    cluster.wait_for("both objects hold the pod", lambda: sorted(owners()) == sorted(uid.values()))
    cluster.kubectl("delete", "-n", own_ns, "podchaos", "fail-a", "--timeout=60s")
    still = get(cluster, own_ns, "pod", "web")
    assert owners() == [uid["fail-b"]]
    assert {c["image"] for c in still["spec"]["containers"] + still["spec"]["initContainers"]} == {
        PAUSE_IMAGE
    }
    cluster.kubectl("delete", "-n", own_ns, "podchaos", "fail-b", "--timeout=60s")
    restored = get(cluster, own_ns, "pod", "web")
    assert restored["spec"]["containers"] == web["spec"]["containers"]
    assert restored["spec"]["initContainers"] == web["spec"]["initContainers"]
    assert IMAGES_ANNOTATION not in (restored["metadata"].get("annotations") or {})
    ready_pod(cluster, own_ns, "web")


def test_container_kill_restarts_the_container(cluster, own_ns, start_operator) -> None:
    start_operator()
    apply(cluster, own_ns, demo_pod("web", "web"))
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
