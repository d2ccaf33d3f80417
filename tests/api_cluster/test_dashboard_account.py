"""When the dashboard's own Kubernetes account lacks permissions: clear 503s, and a watcher that
keeps retrying and recovers on its own once the permission is granted."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
from kubernetes import client, config
from sqlalchemy.orm import Session, sessionmaker

from backend.api.cluster import KubernetesGateway
from backend.api.errors import kube_answer
from backend.api.watcher import Watcher
from backend.clients.kube import KubeError
from backend.clients.kube.client import Kube
from backend.db.repositories import mirror
from backend.spec import GROUP
from backend.spec.creator import Creator
from tests.api_cluster.helpers import get_object, loss_body, service_account_token
from tests.support.cluster import Cluster

pytestmark = pytest.mark.cluster

PLURALS = "podchaos,networkchaos,iochaos,schedules,experiments"


def client_with_token(cluster: Cluster, token: str) -> client.ApiClient:
    """An API client for the test cluster that authenticates with `token` only."""
    configuration = client.Configuration()
    config.load_kube_config(  # type: ignore[no-untyped-call]
        config_file=str(cluster.kubeconfig), client_configuration=configuration
    )
    configuration.cert_file = configuration.key_file = None
    configuration.api_key = {"authorization": f"Bearer {token}"}
    return client.ApiClient(configuration)


@pytest.fixture
def powerless(cluster: Cluster, crds: None, ns: str) -> Iterator[client.ApiClient]:
    """A client acting as a ServiceAccount with no role at all."""
    api = client_with_token(cluster, service_account_token(cluster, ns, "dashboard", [], []))
    try:
        yield api
    finally:
        api.close()


def test_writes_without_rbac_are_503_naming_the_permission(
    cluster: Cluster, powerless: client.ApiClient, ns: str
) -> None:
    body = loss_body(ns, "lag")
    with pytest.raises(KubeError) as refused:
        KubernetesGateway(Kube(powerless)).create(
            "NetworkChaos", ns, "lag", body["spec"], creator=Creator(username="someone")
        )
    status, message = kube_answer(refused.value)  # what the API's error handler answers
    assert status == 503
    assert message.startswith(f"could not create NetworkChaos {ns}/lag: the dashboard's own")
    assert f'cannot create resource "networkchaos" in API group "{GROUP}"' in message
    assert get_object(cluster, ns, "NetworkChaos", "lag") is None


def test_the_watcher_retries_until_it_may_list(
    cluster: Cluster, powerless: client.ApiClient, ns: str, sessions: sessionmaker[Session]
) -> None:
    cluster.kubectl("-n", ns, "apply", "-f", "-", stdin=_network_chaos(ns, "seen-later"))
    watcher = Watcher(Kube(powerless), sessions)
    watcher.start()
    role = f"faultline-test-mirror-{uuid.uuid4().hex[:8]}"
    try:
        cluster.wait_for("refused lists", lambda: min(watcher.failures.values()) >= 1)
        assert not watcher.synced.is_set() and not any(watcher.relists.values())

        cluster.kubectl(
            "create", "clusterrole", role, "--verb=get,list,watch",
            f"--resource={','.join(f'{p}.{GROUP}' for p in PLURALS.split(','))}",
        )  # fmt: skip
        cluster.kubectl(
            "create", "clusterrolebinding", role, f"--clusterrole={role}",
            f"--serviceaccount={ns}:dashboard",
        )  # fmt: skip
        cluster.wait_for("the mirror after the grant", lambda: watcher.synced.is_set())
        with sessions() as session:
            obj = mirror.get_chaos_object(session, "NetworkChaos", ns, "seen-later")
        assert obj.spec["action"] == "loss"
    finally:
        watcher.stop()
        cluster.kubectl("delete", "clusterrolebinding", role, "--ignore-not-found")
        cluster.kubectl("delete", "clusterrole", role, "--ignore-not-found")


def _network_chaos(ns: str, name: str) -> str:
    body = loss_body(ns, name)
    doc = {
        "apiVersion": f"{GROUP}/v1alpha1",
        "kind": "NetworkChaos",
        "metadata": {"name": name},
        "spec": body["spec"],
    }
    return json.dumps(doc)
