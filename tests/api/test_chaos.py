"""Chaos objects and schedules: the mirror (filled by upserts) and writes through the gateway."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from backend.api.app import create_app
from backend.db.repositories import events, mirror
from backend.settings import Settings
from backend.spec.creator import Creator
from tests.api.server import RunningServer, serve

POD_KILL = {"action": "pod-kill", "mode": "one", "selector": {"namespaces": ["shop"]}}


def fill_mirror(server: RunningServer) -> None:
    with server.app.state.sessions() as session:
        mirror.upsert_chaos_object(
            session, kind="PodChaos", namespace="shop", name="kill-cart", uid="u-1",
            spec=POD_KILL, phase="Injecting",
        )  # fmt: skip
        mirror.upsert_chaos_object(
            session, kind="NetworkChaos", namespace="shop", name="lossy", uid="u-2",
            spec={"action": "loss", "loss": {"loss": "30"}}, phase="Paused",
        )  # fmt: skip
        mirror.upsert_chaos_object(
            session, kind="PodChaos", namespace="payments", name="kill-api", uid="u-3",
            spec=POD_KILL, phase="Injecting",
        )  # fmt: skip
        mirror.upsert_schedule(
            session, namespace="shop", name="nightly", uid="s-1", schedule="@every 24h",
            type="PodChaos", spec=POD_KILL,
        )  # fmt: skip


def test_list_and_filter_mirror(server: RunningServer, client: httpx.Client) -> None:
    fill_mirror(server)
    page = client.get("/api/v1/chaos").json()
    assert page["total"] == 3
    assert [(o["namespace"], o["name"]) for o in page["items"]] == [
        ("payments", "kill-api"), ("shop", "kill-cart"), ("shop", "lossy"),
    ]  # fmt: skip
    pods = client.get("/api/v1/chaos", params={"kind": "PodChaos", "namespace": "shop"}).json()
    assert [o["uid"] for o in pods["items"]] == ["u-1"]
    paused = client.get("/api/v1/chaos", params={"phase": "Paused"}).json()
    assert [o["name"] for o in paused["items"]] == ["lossy"]
    one = client.get("/api/v1/chaos/PodChaos/shop/kill-cart").json()
    assert one["spec"] == POD_KILL and one["phase"] == "Injecting"
    r = client.get("/api/v1/chaos/PodChaos/shop/nope")
    assert r.status_code == 404
    assert r.json()["detail"] == "PodChaos shop/nope not found"
    r = client.get("/api/v1/chaos/StressChaos/shop/x")
    assert [e["loc"] for e in r.json()["detail"]] == [["path", "kind"]]


def test_upsert_updates_in_place_and_replaces_recreated_objects(
    server: RunningServer, client: httpx.Client
) -> None:
    fill_mirror(server)
    with server.app.state.sessions() as session:
        obj = mirror.upsert_chaos_object(
            session, kind="PodChaos", namespace="shop", name="kill-cart", uid="u-1",
            spec=POD_KILL, status={"targets": 1}, phase="Recovered",
        )  # fmt: skip
        first_id = obj.id
        # Deleted and recreated under the same name: new uid, same row key.
        again = mirror.upsert_chaos_object(
            session, kind="PodChaos", namespace="shop", name="kill-cart", uid="u-9",
            spec={**POD_KILL, "mode": "all"}, phase="Injecting",
        )  # fmt: skip
        assert again.id == first_id
    got = client.get("/api/v1/chaos/PodChaos/shop/kill-cart").json()
    assert (got["uid"], got["spec"]["mode"], got["status"]) == ("u-9", "all", {})
    assert client.get("/api/v1/chaos").json()["total"] == 3


def test_chaos_object_events_and_deletion_from_mirror(
    server: RunningServer, client: httpx.Client
) -> None:
    fill_mirror(server)
    with server.app.state.sessions() as session:
        obj = mirror.get_chaos_object(session, "PodChaos", "shop", "kill-cart")
        ts = datetime(2026, 1, 1, tzinfo=UTC)
        events.record_events(
            session, [{"ts": ts, "type": "Normal", "reason": "Applied", "message": "pod a"}],
            chaos_object_id=obj.id,
        )  # fmt: skip
    page = client.get("/api/v1/chaos/PodChaos/shop/kill-cart/events").json()
    assert [(e["reason"], e["ts"][:19]) for e in page["items"]] == [
        ("Applied", "2026-01-01T00:00:00")
    ]
    with server.app.state.sessions() as session:
        assert mirror.delete_chaos_object_mirror(session, "PodChaos", "shop", "kill-cart")
        assert not mirror.delete_chaos_object_mirror(session, "PodChaos", "shop", "kill-cart")
    assert client.get("/api/v1/chaos/PodChaos/shop/kill-cart").status_code == 404


def test_schedules_mirror(server: RunningServer, client: httpx.Client) -> None:
    fill_mirror(server)
    page = client.get("/api/v1/schedules", params={"namespace": "shop"}).json()
    assert [(s["name"], s["schedule"], s["type"]) for s in page["items"]] == [
        ("nightly", "@every 24h", "PodChaos")
    ]
    assert client.get("/api/v1/schedules/shop/nightly").json()["uid"] == "s-1"
    assert client.get("/api/v1/schedules", params={"namespace": "payments"}).json()["total"] == 0


@pytest.mark.parametrize(
    ("method", "path", "body", "action"),
    [
        ("POST", "/api/v1/chaos", {"kind": "PodChaos", "namespace": "shop", "name": "k",
                                   "spec": POD_KILL}, "cannot create PodChaos shop/k"),
        ("POST", "/api/v1/chaos/PodChaos/shop/k/pause", None, "cannot pause PodChaos shop/k"),
        ("POST", "/api/v1/chaos/PodChaos/shop/k/resume", None, "cannot resume PodChaos shop/k"),
        ("DELETE", "/api/v1/chaos/PodChaos/shop/k", None, "cannot delete PodChaos shop/k"),
        ("POST", "/api/v1/schedules", {"namespace": "shop", "name": "n", "schedule": "@every 1h",
                                       "type": "PodChaos", "spec": POD_KILL},
         "cannot create Schedule shop/n"),
        ("DELETE", "/api/v1/schedules/shop/n", None, "cannot delete Schedule shop/n"),
    ],
)  # fmt: skip
def test_writes_without_a_cluster_are_503(
    client: httpx.Client, method: str, path: str, body: Any, action: str
) -> None:
    r = client.request(method, path, json=body)
    assert r.status_code == 503
    detail = r.json()["detail"]
    assert detail.startswith(action + ": no Kubernetes cluster is connected")
    assert "FAULTLINE_MODE=cluster" in detail and "kubectl apply" in detail
    assert client.get("/api/v1/chaos").json()["total"] == 0  # and nothing appeared


class RecordingGateway:
    """Stands in for the cluster only to check which gateway calls each route makes."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def create(
        self, kind: str, namespace: str, name: str, spec: dict[str, Any], *, creator: Creator
    ) -> str:
        self.calls.append(("create", kind, namespace, name, spec, creator.username))
        return "uid-from-cluster"

    def set_paused(self, kind: str, namespace: str, name: str, paused: bool) -> None:
        self.calls.append(("set_paused", kind, namespace, name, paused))

    def delete(self, kind: str, namespace: str, name: str) -> None:
        self.calls.append(("delete", kind, namespace, name))


@pytest.fixture
def gateway_client(settings: Settings) -> Iterator[tuple[httpx.Client, RecordingGateway]]:
    gateway = RecordingGateway()
    with serve(create_app(settings, gateway=gateway, configure_logs=False)) as running:
        token = running.app.state.initial_admin_token
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=running.base_url, headers=headers) as client:
            yield client, gateway


def test_writes_go_through_the_gateway(
    gateway_client: tuple[httpx.Client, RecordingGateway],
) -> None:
    client, gateway = gateway_client
    body = {"kind": "NetworkChaos", "namespace": "shop", "name": "lag", "spec": {"action": "delay"}}
    r = client.post("/api/v1/chaos", json=body)
    assert r.status_code == 202 and r.json()["uid"] == "uid-from-cluster"
    client.post("/api/v1/chaos/NetworkChaos/shop/lag/pause")
    client.post("/api/v1/chaos/NetworkChaos/shop/lag/resume")
    client.delete("/api/v1/chaos/NetworkChaos/shop/lag")
    assert gateway.calls == [
        # Created for the signed-in user (the local admin token's name), never anonymously.
        ("create", "NetworkChaos", "shop", "lag", {"action": "delay"}, "admin"),
        ("set_paused", "NetworkChaos", "shop", "lag", True),
        ("set_paused", "NetworkChaos", "shop", "lag", False),
        ("delete", "NetworkChaos", "shop", "lag"),
    ]
    # The mirror is only written by the watcher, never by the API.
    assert client.get("/api/v1/chaos").json()["total"] == 0
