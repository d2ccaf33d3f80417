"""Writes through the API become custom resources; the watcher brings them back to the mirror."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.api.server import RunningServer
from tests.api_cluster.helpers import (
    api_client,
    get_object,
    loss_body,
    release_chaos_objects,
    service_account_token,
)
from tests.support.cluster import Cluster

pytestmark = pytest.mark.cluster

ALL = ["podchaos", "networkchaos", "iochaos", "schedules", "experiments"]
PAUSE = "chaos.faultline.dev/pause"


@pytest.fixture
def api(cluster: Cluster, dashboard: RunningServer, ns: str) -> Iterator[httpx.Client]:
    verbs = ["get", "list", "create", "patch", "delete"]
    token = service_account_token(cluster, ns, "editor", verbs, ALL)
    with api_client(dashboard, token) as client:
        yield client


def annotations(cluster: Cluster, ns: str, name: str) -> dict[str, str]:
    obj = get_object(cluster, ns, "NetworkChaos", name)
    assert obj is not None
    return obj["metadata"].get("annotations") or {}


def test_create_pause_resume_delete(cluster: Cluster, api: httpx.Client, ns: str) -> None:
    r = api.post("/api/v1/chaos", json=loss_body(ns, "flaky"))
    assert r.status_code == 202, r.text
    uid = r.json()["uid"]
    assert get_object(cluster, ns, "NetworkChaos", "flaky")["metadata"]["uid"] == uid  # type: ignore[index]

    path = f"/api/v1/chaos/NetworkChaos/{ns}/flaky"
    cluster.wait_for("the mirror to show the new object", lambda: api.get(path).status_code == 200)
    mirrored = api.get(path).json()
    assert mirrored["uid"] == uid and mirrored["spec"]["loss"]["loss"] == "30"

    assert api.post(f"{path}/pause").status_code == 202
    assert annotations(cluster, ns, "flaky")[PAUSE] == "true"
    assert api.post(f"{path}/resume").status_code == 202
    assert PAUSE not in annotations(cluster, ns, "flaky")

    assert api.delete(path).status_code == 202
    obj = get_object(cluster, ns, "NetworkChaos", "flaky")
    assert obj is None or obj["metadata"].get("deletionTimestamp")
    if obj is None:
        cluster.wait_for("the mirror to drop the object", lambda: api.get(path).status_code == 404)


def test_invalid_spec_is_422_with_field_paths_and_nothing_is_created(
    cluster: Cluster, api: httpx.Client, ns: str
) -> None:
    body = loss_body(ns, "broken")
    body["spec"]["loss"] = {"loss": "lots"}
    body["spec"]["mode"] = "some"
    r = api.post("/api/v1/chaos", json=body)
    assert r.status_code == 422
    by_loc = {tuple(e["loc"]): e["msg"] for e in r.json()["detail"]}
    assert set(by_loc) == {("body", "spec", "mode"), ("body", "spec", "loss", "loss")}
    assert by_loc[("body", "spec", "mode")].startswith('spec.mode: Unsupported value: "some"')
    assert "must be a percentage" in by_loc[("body", "spec", "loss", "loss")]
    assert get_object(cluster, ns, "NetworkChaos", "broken") is None


def test_api_server_rejections_are_422_with_its_message(
    cluster: Cluster, api: httpx.Client, ns: str
) -> None:
    # A quota of zero NetworkChaos objects: admission refuses what the schema accepts.
    cluster.kubectl(
        "-n", ns, "create", "quota", "no-network-chaos",
        "--hard=count/networkchaos.chaos.faultline.dev=0",
    )  # fmt: skip

    def refused() -> bool:
        r = api.post("/api/v1/chaos", json=loss_body(ns, "over-quota"))
        assert r.status_code in (202, 422), r.text
        if r.status_code == 202:  # the quota was not active yet: try again without it
            cluster.kubectl("-n", ns, "delete", "networkchaos.chaos.faultline.dev", "over-quota")
            return False
        detail = r.json()["detail"]
        assert "the Kubernetes API server refused to create NetworkChaos" in detail
        assert "exceeded quota: no-network-chaos" in detail
        return True

    cluster.wait_for("the quota to be enforced", refused)
    assert get_object(cluster, ns, "NetworkChaos", "over-quota") is None


def test_conflicts_and_missing_objects(cluster: Cluster, api: httpx.Client, ns: str) -> None:
    assert api.post("/api/v1/chaos", json=loss_body(ns, "twice")).status_code == 202
    r = api.post("/api/v1/chaos", json=loss_body(ns, "twice"))
    assert r.status_code == 409 and "already exists" in r.json()["detail"]

    r = api.post(f"/api/v1/chaos/NetworkChaos/{ns}/never-made/pause")
    assert r.status_code == 404 and r.json()["detail"] == f"NetworkChaos {ns}/never-made not found"
    assert api.delete(f"/api/v1/chaos/PodChaos/{ns}/never-made").status_code == 404


def test_schedules_are_schedule_resources(cluster: Cluster, api: httpx.Client, ns: str) -> None:
    pod_kill = {
        "podChaos": {
            "action": "pod-kill",
            "mode": "one",
            "selector": {"namespaces": [ns], "labelSelectors": {"app": "nothing-here"}},
        }
    }
    body = {"namespace": ns, "name": "hourly", "schedule": "@every 1h", "type": "PodChaos"}
    r = api.post("/api/v1/schedules", json={**body, "spec": pod_kill})
    assert r.status_code == 202, r.text
    obj = get_object(cluster, ns, "Schedule", "hourly")
    assert obj is not None and obj["spec"]["schedule"] == "@every 1h"
    assert obj["spec"]["podChaos"]["action"] == "pod-kill"

    path = f"/api/v1/schedules/{ns}/hourly"
    cluster.wait_for("the schedule in the mirror", lambda: api.get(path).status_code == 200)
    mirrored = api.get(path).json()
    assert (mirrored["uid"], mirrored["schedule"], mirrored["type"]) == (
        obj["metadata"]["uid"], "@every 1h", "PodChaos",
    )  # fmt: skip

    bad = api.post("/api/v1/schedules", json={**body, "name": "bad", "schedule": "sometimes",
                                              "spec": pod_kill})  # fmt: skip
    assert bad.status_code == 422
    assert [e["loc"] for e in bad.json()["detail"]] == [["body", "schedule"]]
    assert get_object(cluster, ns, "Schedule", "bad") is None

    assert api.delete(path).status_code == 202
    cluster.wait_for("the schedule to leave the mirror", lambda: api.get(path).status_code == 404)
    assert get_object(cluster, ns, "Schedule", "hourly") is None


@pytest.fixture
def own_ns(cluster: Cluster) -> Iterator[str]:
    """A namespace no test operator watches (`e2e-own-*`): the test plays the operator's part
    and moves the Experiment's phase itself."""
    name = f"e2e-own-rerun-{uuid.uuid4().hex[:6]}"
    cluster.kubectl("create", "namespace", name)
    try:
        yield name
    finally:
        release_chaos_objects(cluster, name)
        cluster.kubectl("delete", "namespace", name, "--wait=false", check=False)


def test_start_replaces_an_ended_run_and_refuses_a_live_one(
    cluster: Cluster, dashboard: RunningServer, own_ns: str
) -> None:
    """Start run twice: while the first run is live the second is refused (409, nothing
    changes); once it has ended, its Experiment object is replaced by a new one."""
    verbs = ["get", "list", "create", "patch", "delete"]
    token = service_account_token(cluster, own_ns, "runner", verbs, ["experiments"])
    sel = {"labelSelectors": {"app": "nothing-here"}}
    spec = {
        "probes": [{"name": "web", "type": "load", "url": "http://web/"}],
        "faults": [{"name": "kill", "type": "PodChaos",
                    "podChaos": {"action": "pod-kill", "mode": "one", "selector": sel}}],
        "timing": {"faultDuration": "10s"},
        # Tolerances in the spec itself, without a hypothesis row.
        "hypothesis": {"tolerances": [{"probe": "web", "recoverTo": 50, "within": "30s"}]},
    }  # fmt: skip
    with api_client(dashboard, token) as api:
        body = {"namespace": own_ns, "name": "again", "spec": spec}
        exp = api.post("/api/v1/experiments", json=body)
        assert exp.status_code == 201, exp.text
        start = f"/api/v1/experiments/{exp.json()['id']}/start"

        first = api.post(start)
        assert first.status_code == 202, first.text
        uid = first.json()["uid"]

        live = api.post(start)
        assert live.status_code == 409
        detail = live.json()["detail"]
        assert f"Experiment {own_ns}/again is still running (phase Pending)" in detail
        assert get_object(cluster, own_ns, "Experiment", "again")["metadata"]["uid"] == uid  # type: ignore[index]

        cluster.kubectl(
            "-n", own_ns, "patch", "experiments.chaos.faultline.dev", "again",
            "--subresource=status", "--type=merge",
            "-p", '{"status":{"phase":"Finished","verdict":"Passed"}}',
        )  # fmt: skip
        again = api.post(start)
        assert again.status_code == 202, again.text
        detail = again.json()["detail"]
        assert "the earlier run had ended and its Experiment object was replaced" in detail
        new = get_object(cluster, own_ns, "Experiment", "again")
        assert new is not None
        assert new["metadata"]["uid"] == again.json()["uid"] != uid
        assert not new.get("status")  # a fresh object, for the operator to run
