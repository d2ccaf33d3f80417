"""The mirror watcher: objects made with kubectl show up in the API; expired watches relist."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from backend.api.app import create_app
from backend.api.watcher import MIRRORED_KINDS, Watcher
from backend.clients.kube.client import Kube
from backend.db.errors import NotFound
from backend.db.repositories import mirror
from backend.settings import Settings
from backend.spec import API_VERSION
from tests.api.server import RunningServer, serve
from tests.api_cluster.helpers import api_client, service_account_token
from tests.support.cluster import Cluster

pytestmark = pytest.mark.cluster


def manifests(ns: str) -> list[dict]:  # type: ignore[type-arg]
    """One object of every mirrored kind, none of which selects a pod."""
    sel = {"namespaces": [ns], "labelSelectors": {"app": "nothing-here"}}
    kill = {"action": "pod-kill", "mode": "one", "selector": sel}
    experiment = {
        "hypothesis": {
            "title": "nothing breaks",
            "probes": [{"name": "qps", "type": "prometheus", "url": "http://p:9090",
                        "query": "up", "interval": "5s"}],
            "tolerances": [{"probe": "qps", "atLeastPercentOfBaseline": 50}],
        },
        "faults": [{"name": "kill", "type": "PodChaos", "podChaos": kill}],
        "timing": {"baseline": "60s", "faultDuration": "30s", "recoveryDeadline": "60s"},
    }  # fmt: skip
    specs = {
        "PodChaos": kill,
        "NetworkChaos": {"action": "loss", "mode": "all", "selector": sel, "loss": {"loss": "5"}},
        "IOChaos": {"action": "latency", "mode": "one", "selector": sel, "volumePath": "/data",
                    "delay": "10ms"},
        "Experiment": experiment,
        "Schedule": {"schedule": "@every 1h", "type": "PodChaos", "podChaos": kill},
    }  # fmt: skip
    return [
        {"apiVersion": API_VERSION, "kind": kind, "metadata": {"name": f"by-kubectl-{i}"},
         "spec": spec}
        for i, (kind, spec) in enumerate(specs.items())
    ]  # fmt: skip


def kubectl_apply(cluster: Cluster, ns: str, docs: list[dict]) -> None:  # type: ignore[type-arg]
    stdin = json.dumps({"apiVersion": "v1", "kind": "List", "items": docs})
    cluster.kubectl("apply", "-n", ns, "-f", "-", stdin=stdin)


def test_kubectl_objects_appear_change_and_disappear_in_the_api(
    cluster: Cluster, dashboard: RunningServer, ns: str
) -> None:
    verbs = ["get", "list"]
    token = service_account_token(
        cluster, ns, "viewer", verbs, ["podchaos", "networkchaos", "iochaos", "schedules"]
    )
    docs = manifests(ns)
    kubectl_apply(cluster, ns, docs)
    with api_client(dashboard, token) as api:

        def listed() -> set[tuple[str, str]]:
            page = api.get("/api/v1/chaos", params={"namespace": ns}).json()
            return {(i["kind"], i["name"]) for i in page["items"]}

        chaos = {(d["kind"], d["metadata"]["name"]) for d in docs if d["kind"] != "Schedule"}
        cluster.wait_for("kubectl's objects in the API", lambda: listed() == chaos)
        schedule = f"/api/v1/schedules/{ns}/by-kubectl-4"
        cluster.wait_for("the schedule in the API", lambda: api.get(schedule).status_code == 200)
        assert api.get(schedule).json()["schedule"] == "@every 1h"

        # A status change (what the operator writes) reaches the mirror too.
        cluster.kubectl(
            "-n", ns, "patch", "networkchaos.chaos.faultline.dev", "by-kubectl-1",
            "--subresource=status", "--type=merge", "-p", '{"status":{"phase":"Running"}}',
        )  # fmt: skip
        path = f"/api/v1/chaos/NetworkChaos/{ns}/by-kubectl-1"
        cluster.wait_for("the new phase", lambda: api.get(path).json()["phase"] == "Running")

        cluster.kubectl("-n", ns, "delete", "networkchaos.chaos.faultline.dev", "by-kubectl-1")
        cluster.wait_for("the deletion in the API", lambda: api.get(path).status_code == 404)
        assert ("PodChaos", "by-kubectl-0") in listed()


def test_an_expired_watch_relists_and_drops_what_was_deleted_meanwhile(
    cluster: Cluster, crds: None, ns: str, sessions: sessionmaker[Session]
) -> None:
    kubectl_apply(cluster, ns, manifests(ns)[:1])  # PodChaos by-kubectl-0
    with sessions() as session:  # a row for an object deleted while nobody watched
        mirror.upsert_chaos_object(
            session, kind="PodChaos", namespace=ns, name="gone", uid=f"{ns}-gone", spec={}
        )
    watcher = Watcher(Kube(cluster.api), sessions)
    # Resume every watch from resourceVersion 1, long compacted away: the server answers 410.
    watcher.start(resource_versions=dict.fromkeys(MIRRORED_KINDS, "1"))
    try:
        cluster.wait_for("every kind relisted", lambda: watcher.synced.is_set())
        assert all(count >= 1 for count in watcher.relists.values()), watcher.relists
        with sessions() as session:
            obj = mirror.get_chaos_object(session, "PodChaos", ns, "by-kubectl-0")
            assert obj.spec["action"] == "pod-kill"
            with pytest.raises(NotFound):
                mirror.get_chaos_object(session, "PodChaos", ns, "gone")

        # After the relist it watches again: a new object arrives without another list.
        relists = dict(watcher.relists)
        kubectl_apply(cluster, ns, manifests(ns)[1:2])  # NetworkChaos by-kubectl-1

        def mirrored() -> bool:
            with sessions() as session:
                try:
                    mirror.get_chaos_object(session, "NetworkChaos", ns, "by-kubectl-1")
                except NotFound:
                    return False
                return True

        cluster.wait_for("the watched object in the mirror", mirrored)
        assert watcher.relists["NetworkChaos"] == relists["NetworkChaos"]
    finally:
        watcher.stop()
    assert not watcher.running  # stop() ended every watching thread


def test_the_app_runs_the_watcher_only_while_it_serves(
    cluster: Cluster, crds: None, tmp_path: Path
) -> None:
    settings = Settings(
        mode="cluster",
        kubeconfig=cluster.kubeconfig,
        data_dir=tmp_path,
        housekeeping_enabled=False,
        log_level="WARNING",
    )
    app = create_app(settings, configure_logs=False)
    with serve(app):
        watcher = app.state.watcher
        assert isinstance(watcher, Watcher)
        cluster.wait_for("the first full list", lambda: watcher.synced.is_set())
        assert watcher.running
    assert not watcher.running  # shutting the app down ended every watch
