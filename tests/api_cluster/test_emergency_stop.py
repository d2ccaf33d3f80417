"""The emergency stop through the dashboard in cluster mode: RBAC on the one ConfigMap decides
(a SubjectAccessReview naming `faultline-killswitch`), and the flag records the user, not the
dashboard's own account."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.api.server import RunningServer
from tests.api_cluster.helpers import api_client, service_account_token
from tests.support.cluster import Cluster

pytestmark = pytest.mark.cluster
URL = "/api/v1/emergency-stop"


@pytest.fixture
def release_ns(ns: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The throwaway namespace stands in for the release namespace (where the flag lives)."""
    monkeypatch.setenv("FAULTLINE_NAMESPACE", ns)
    yield ns


def _stopper(cluster: Cluster, ns: str) -> str:
    """A ServiceAccount allowed to patch the flag (and nothing about chaos objects)."""
    cluster.kubectl("-n", ns, "create", "serviceaccount", "stopper")
    cluster.kubectl(
        "-n", ns, "create", "role", "stopper", "--verb=get,patch",
        "--resource=configmaps", "--resource-name=faultline-killswitch",
    )  # fmt: skip
    cluster.kubectl(
        "-n", ns, "create", "rolebinding", "stopper", "--role=stopper",
        f"--serviceaccount={ns}:stopper",
    )  # fmt: skip
    return cluster.kubectl("-n", ns, "create", "token", "stopper").strip()


def test_only_a_user_who_may_patch_the_flag_engages_and_lifts(
    cluster: Cluster, release_ns: str, dashboard: RunningServer
) -> None:
    ns = release_ns
    reader = service_account_token(cluster, ns, "reader", ["get", "list"], ["networkchaos"])
    with api_client(dashboard, reader) as api:
        state = api.get(URL).json()
        assert state["available"] and not state["engaged"] and not state["mayChange"]
        assert state["namespace"] == ns
        denied = api.post(URL, json={"reason": "mine"})
        assert denied.status_code == 403
        assert "needs `patch` on configmaps/faultline-killswitch" in denied.json()["detail"]
    assert "faultline-killswitch" not in cluster.kubectl("-n", ns, "get", "configmaps")

    with api_client(dashboard, _stopper(cluster, ns)) as api:
        assert api.get(URL).json()["mayChange"]
        engaged = api.post(URL, json={"reason": "drill"})
        assert engaged.status_code == 202, engaged.text
    raw = cluster.kubectl("-n", ns, "get", "configmap", "faultline-killswitch", "-o", "json")
    data = json.loads(raw)["data"]
    user = f"system:serviceaccount:{ns}:stopper"
    assert (data["enabled"], data["engagedBy"], data["reason"]) == ("true", user, "drill")

    with api_client(dashboard, reader) as api:  # the banner, for everyone signed in
        seen = api.get(URL).json()
        assert seen["engaged"] and seen["engagedBy"] == user and seen["reason"] == "drill"
        assert api.delete(URL).status_code == 403

    with api_client(dashboard, _token(cluster, ns)) as api:
        lifted = api.delete(URL)
        assert lifted.status_code == 200 and not lifted.json()["engaged"]
    data = json.loads(cluster.kubectl("-n", ns, "get", "cm", "faultline-killswitch", "-o", "json"))
    assert data["data"]["enabled"] == "false" and data["data"]["liftedBy"] == user


def _token(cluster: Cluster, ns: str) -> str:
    return cluster.kubectl("-n", ns, "create", "token", "stopper").strip()
