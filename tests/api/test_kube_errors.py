"""The one handler that answers a failed Kubernetes call: each kind of refusal becomes its HTTP
status with a message that says whose problem it is (the dashboard's own account: 503 naming the
permission; the request: 404, 409 or 422 in the API server's words). The real API server's
answers are exercised by tests/api_cluster/test_cluster_writes.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from backend.api.app import create_app
from backend.clients import kube
from backend.clients.kube.errors import status_error
from backend.settings import Settings
from backend.spec.creator import Creator
from tests.api.server import serve

CHAOS = "networkchaos.chaos.faultline.dev"


def answer(code: int, reason: str, message: str, verb: str = "create") -> kube.KubeError:
    body = json.dumps({"kind": "Status", "code": code, "reason": reason, "message": message})
    return status_error(kube.Op(verb, CHAOS, "NetworkChaos shop/lag"), code, reason, body)


class RefusingGateway:
    """A cluster that refuses every write with `error`."""

    def __init__(self) -> None:
        self.error: Exception = RuntimeError("set by the test")

    def create(
        self, kind: str, namespace: str, name: str, spec: dict[str, Any], *, creator: Creator
    ) -> str:
        raise self.error

    def replace_ended(
        self, kind: str, namespace: str, name: str, spec: dict[str, Any], *, creator: Creator
    ) -> str:
        raise self.error

    def set_paused(self, kind: str, namespace: str, name: str, paused: bool) -> None:
        raise self.error

    def delete(self, kind: str, namespace: str, name: str) -> None:
        raise self.error


@pytest.fixture
def refusing(settings: Settings) -> Iterator[tuple[httpx.Client, RefusingGateway]]:
    gateway = RefusingGateway()
    with serve(create_app(settings, gateway=gateway, configure_logs=False)) as running:
        token = running.app.state.initial_admin_token
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=running.base_url, headers=headers) as client:
            yield client, gateway


BODY = {"kind": "NetworkChaos", "namespace": "shop", "name": "lag", "spec": {"action": "delay"}}
RBAC = 'networkchaos is forbidden: User "system:serviceaccount:f:d" cannot create resource'


@pytest.mark.parametrize(
    ("error", "status", "detail"),
    [
        (
            answer(403, "Forbidden", f'{RBAC} "networkchaos"'),
            503,
            "could not create NetworkChaos shop/lag: the dashboard's own Kubernetes account was "
            f'refused ({RBAC} "networkchaos"); give its ServiceAccount create on {CHAOS} (the '
            "Helm chart's ClusterRole does)",
        ),
        (
            answer(503, "ServiceUnavailable", "etcdserver: leader changed"),
            503,
            "could not create NetworkChaos shop/lag: the Kubernetes API server did not answer "
            "(etcdserver: leader changed)",
        ),
        (
            answer(409, "AlreadyExists", 'networkchaos "lag" already exists'),
            409,
            'cannot create NetworkChaos shop/lag: networkchaos "lag" already exists',
        ),
        (
            answer(403, "Forbidden", "exceeded quota: no-network-chaos"),
            422,
            "the Kubernetes API server refused to create NetworkChaos shop/lag: exceeded quota: "
            "no-network-chaos",
        ),
        (
            answer(404, "NotFound", 'namespaces "shop" not found'),
            422,
            "the Kubernetes API server refused to create NetworkChaos shop/lag: namespaces "
            '"shop" not found',
        ),
    ],
)
def test_a_refused_create_is_answered_by_whose_problem_it_is(
    refusing: tuple[httpx.Client, RefusingGateway],
    error: kube.KubeError,
    status: int,
    detail: str,
) -> None:
    client, gateway = refusing
    gateway.error = error
    r = client.post("/api/v1/chaos", json=BODY)
    assert (r.status_code, r.json()) == (status, {"detail": detail})


def test_a_missing_object_is_404_naming_it(refusing: tuple[httpx.Client, RefusingGateway]) -> None:
    client, gateway = refusing
    gateway.error = answer(404, "NotFound", 'networkchaos "lag" not found', verb="patch")
    r = client.post("/api/v1/chaos/NetworkChaos/shop/lag/pause")
    assert (r.status_code, r.json()) == (404, {"detail": "NetworkChaos shop/lag not found"})
