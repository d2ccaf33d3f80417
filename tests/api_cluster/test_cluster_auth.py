"""Cluster-mode auth with real ServiceAccount tokens: TokenReview decides who, RBAC decides what."""

from __future__ import annotations

import re

import pytest

from tests.api.server import RunningServer
from tests.api_cluster.helpers import api_client, get_object, loss_body, service_account_token
from tests.support.cluster import Cluster

pytestmark = pytest.mark.cluster


def test_a_bogus_token_is_401_saying_how_to_get_one(dashboard: RunningServer, ns: str) -> None:
    with api_client(dashboard, "not-a-real-token") as api:
        r = api.get("/api/v1/chaos", params={"namespace": ns})
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"
    detail = r.json()["detail"]
    assert "the Kubernetes API server rejected the bearer token" in detail
    assert "kubectl -n <namespace> create token <serviceaccount>" in detail


def test_a_read_only_service_account_lists_but_cannot_create(
    cluster: Cluster, dashboard: RunningServer, ns: str
) -> None:
    token = service_account_token(cluster, ns, "reader", ["get", "list"], ["networkchaos"])
    with api_client(dashboard, token) as api:
        me = api.get("/api/v1/whoami").json()
        assert me["name"] == f"system:serviceaccount:{ns}:reader" and me["mode"] == "cluster"
        listed = api.get("/api/v1/chaos", params={"namespace": ns, "kind": "NetworkChaos"})
        assert listed.status_code == 200 and listed.json()["total"] == 0

        r = api.post("/api/v1/chaos", json=loss_body(ns, "denied"))
        assert r.status_code == 403
        detail = r.json()["detail"]
        assert detail.startswith(
            f"system:serviceaccount:{ns}:reader may not create "
            f"networkchaos.chaos.faultline.dev in namespace '{ns}'"
        )
        assert get_object(cluster, ns, "NetworkChaos", "denied") is None  # nothing was created

        # The answer carries the exact kubectl commands that grant the permission: run them.
        commands = re.findall(r"`kubectl ([^`]+)`", detail)
        assert [c.split()[2:4] for c in commands] == [
            ["create", "role"],
            ["create", "rolebinding"],
        ]
        for command in commands:
            cluster.kubectl(*command.split())

        def created() -> bool:
            return api.post("/api/v1/chaos", json=loss_body(ns, "granted")).status_code == 202

        # RBAC changes reach the authorizer through an informer: poll, no deadline asserted.
        cluster.wait_for("the granted create permission to take effect", created)
    obj = get_object(cluster, ns, "NetworkChaos", "granted")
    assert obj is not None and obj["spec"]["loss"]["loss"] == "30"


def test_a_writer_service_account_creates_and_deletes(
    cluster: Cluster, dashboard: RunningServer, ns: str
) -> None:
    token = service_account_token(
        cluster, ns, "writer", ["get", "list", "create", "delete"], ["networkchaos"]
    )
    with api_client(dashboard, token) as api:
        r = api.post("/api/v1/chaos", json=loss_body(ns, "lossy"))
        assert r.status_code == 202, r.text
        obj = get_object(cluster, ns, "NetworkChaos", "lossy")
        assert obj is not None and r.json()["uid"] == obj["metadata"]["uid"]

        # patch was not granted: pausing is refused and the object keeps no pause annotation.
        r = api.post(f"/api/v1/chaos/NetworkChaos/{ns}/lossy/pause")
        assert r.status_code == 403 and "may not patch networkchaos" in r.json()["detail"]
        annotations = get_object(cluster, ns, "NetworkChaos", "lossy")["metadata"]  # type: ignore[index]
        assert "chaos.faultline.dev/pause" not in (annotations.get("annotations") or {})

        # Other kinds are other resources: the Role names networkchaos only.
        r = api.get("/api/v1/chaos", params={"namespace": ns, "kind": "PodChaos"})
        assert r.status_code == 403 and "may not list podchaos" in r.json()["detail"]

        r = api.delete(f"/api/v1/chaos/NetworkChaos/{ns}/lossy")
        assert r.status_code == 202
    obj = get_object(cluster, ns, "NetworkChaos", "lossy")
    assert obj is None or obj["metadata"].get("deletionTimestamp")


def test_item_routes_are_checked_in_the_namespace_of_their_row(
    cluster: Cluster, dashboard: RunningServer, ns: str
) -> None:
    """A Role in one namespace is enough to work with that namespace's experiments by id
    (`/experiments/{id}`, `/start`, `/runs`): the id is checked where its row lives."""
    verbs = ["get", "list", "create", "patch", "delete"]
    token = service_account_token(cluster, ns, "team", verbs, ["experiments"])
    other = service_account_token(cluster, "default", f"team-{ns}", verbs, ["experiments"])
    try:
        with api_client(dashboard, token) as api, api_client(dashboard, other) as outsider:
            r = api.post("/api/v1/experiments", json={"namespace": ns, "name": "mine"})
            assert r.status_code == 201, r.text
            path = f"/api/v1/experiments/{r.json()['id']}"
            assert api.get(path).status_code == 200
            r = api.patch(path, json={"description": "ours"})
            assert r.status_code == 200 and r.json()["description"] == "ours"
            assert api.get(f"{path}/runs").json()["total"] == 0
            # Authorized in its namespace; refused for what the row lacks (no probe).
            r = api.post(f"{path}/start")
            assert r.status_code == 422 and "spec.probes is empty" in r.json()["detail"], r.text

            # The same Role in another namespace grants nothing here.
            r = outsider.get(path)
            assert r.status_code == 403
            assert (
                f"may not get experiments.chaos.faultline.dev in namespace '{ns}'"
                in (r.json()["detail"])
            )
            assert outsider.delete(path).status_code == 403
            assert api.get(path).status_code == 200  # still there

            # An id with no row is checked at cluster scope: no hint that it exists or not.
            assert api.get("/api/v1/experiments/2147483000").status_code == 403
            assert api.delete(path).status_code == 204
    finally:
        for kind in ("serviceaccount", "role", "rolebinding"):
            cluster.kubectl("-n", "default", "delete", kind, f"team-{ns}", check=False)
