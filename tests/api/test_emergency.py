"""The emergency stop's API in local mode: every signed-in user reads the state, only the admin
role engages and lifts it, and without a cluster there is nothing to stop (503, said so).

The flag is a stand-in here; the real ConfigMap and RBAC (a SubjectAccessReview naming the one
ConfigMap): tests/api_cluster/test_emergency_stop.py."""

from __future__ import annotations

import httpx

from backend.db.repositories.tokens import create_token
from tests.api.emergency_flag import MemoryFlag
from tests.api.server import RunningServer

URL = "/api/v1/emergency-stop"


def _viewer(server: RunningServer) -> dict[str, str]:
    with server.app.state.sessions() as session:
        return {"Authorization": f"Bearer {create_token(session, 'grafana', 'viewer')}"}


def test_without_a_cluster_the_state_says_unavailable(
    server: RunningServer, client: httpx.Client, anon: httpx.Client
) -> None:
    assert anon.get(URL).status_code == 401
    state = client.get(URL).json()
    assert (state["available"], state["engaged"], state["mayChange"]) == (False, False, True)
    r = client.post(URL, json={"reason": "incident"})
    assert r.status_code == 503 and "no cluster to stop" in r.json()["detail"]


def test_the_admin_engages_and_lifts_and_a_viewer_only_reads(
    server: RunningServer, client: httpx.Client, anon: httpx.Client
) -> None:
    flag = MemoryFlag()
    server.app.state.emergency_flag = flag
    viewer = _viewer(server)
    denied = anon.post(URL, json={"reason": "mine"}, headers=viewer)
    assert denied.status_code == 403 and "only admins" in denied.json()["detail"]
    assert flag.data is None

    engaged = client.post(URL, json={"reason": "checkout is down"})
    assert engaged.status_code == 202
    state = engaged.json()
    assert state["engaged"] and state["engagedBy"] == "admin"
    assert state["reason"] == "checkout is down" and state["engagedAt"]
    assert flag.data is not None and flag.data["enabled"] == "true"
    # Every signed-in user sees who engaged it and why (the banner), without the buttons.
    seen = anon.get(URL, headers=viewer).json()
    assert seen["engaged"] and seen["reason"] == "checkout is down" and not seen["mayChange"]
    assert anon.delete(URL, headers=viewer).status_code == 403

    # Engaging again keeps the first record (who and when) rather than rewriting it.
    again = client.post(URL, json={"reason": "second"}).json()
    assert again["reason"] == "checkout is down"

    lifted = client.delete(URL)
    assert lifted.status_code == 200
    after = lifted.json()
    assert not after["engaged"] and after["liftedBy"] == "admin"
    assert after["engagedBy"] == "admin" and after["reason"] == "checkout is down"
    assert client.post(URL, json={"reason": "x" * 513}).status_code == 422
