"""The dashboard's records survive its pod, and runs made while it is away (issue 14,
"Durability e2e").

A release of the real chart with its defaults keeps the dashboard's SQLite database on a
PersistentVolumeClaim bound by the cluster's default StorageClass (the dev cluster's
local-path provisioner). A run with its observations, verdict and hypothesis is written through
the dashboard API as a user holding the chart's `-edit` role (the calls the operator's mirror
makes); then the dashboard pod is deleted, then the release is upgraded with changed dashboard
values, then uninstalled and installed again: each time a new pod on the same claim serves
exactly the same records. With `dashboard.database.existingSecret` pointing at a real PostgreSQL
server instead, no claim is made and the same records live in that database. Last, with the
dashboard scaled to 0, a real Experiment runs; scaled back to 1, the dashboard records the run
from the Experiment's status (backend/api/backfill.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
import pytest
from devcluster.settings import POD_CIDR

from tests.api.postgres import postgres_server, throwaway_database
from tests.e2e.helm_release import (
    Release,
    image_fixture,  # noqa: F401 (fixture)
    install,
    pods_of,
    release_fixture,  # noqa: F401 (fixture)
    upgrade_changes_values,
)
from tests.support.pods import reports_ready
from tests.support.service import web_service

pytestmark = [pytest.mark.cluster, pytest.mark.slow, pytest.mark.timeout(1200)]

WRITER = "history-writer"
HYPOTHESIS = {
    "title": "QPS dips by at most 30 % and is back within 20 s",
    "description": "written by test_dashboard_durability",
    "tolerances": [{"probe": "web", "recoverTo": 70, "within": "20s"}],
}


def _serving_pod(rel: Release, *, not_uid: str = "") -> dict[str, Any]:
    """The dashboard pod, alone (no old one terminating beside it), Ready and answering
    /healthz with its database; a new one when `not_uid` is set."""
    selector = f"app.kubernetes.io/instance={rel.name},app.kubernetes.io/component=dashboard"
    found: list[dict[str, Any]] = []

    def serving() -> bool:
        pods = pods_of(rel, rel.namespace, selector)
        if len(pods) != 1 or pods[0]["metadata"]["uid"] == not_uid or not reports_ready(pods[0]):
            return False
        try:
            health = httpx.get(f"http://{pods[0]['status']['podIP']}:8080/healthz", timeout=3)
        except httpx.HTTPError:
            return False
        found[:] = pods
        return health.status_code == 200 and health.json() == {"status": "ok", "database": "ok"}

    rel.cluster.wait_for("a dashboard pod serving", serving, timeout=240)
    return found[0]


@pytest.fixture(name="writer_token")
def writer_token_fixture(release: Release) -> Iterator[str]:
    """A ServiceAccount of the workload namespace bound there to the chart's `-edit` role."""
    ns = release.workloads
    release.cluster.kubectl("-n", ns, "create", "serviceaccount", WRITER)
    release.cluster.kubectl(
        "-n", ns, "create", "rolebinding", WRITER,
        f"--clusterrole={release.name}-faultline-edit", f"--serviceaccount={ns}:{WRITER}",
    )  # fmt: skip
    yield release.cluster.kubectl("-n", ns, "create", "token", WRITER, "--duration=1h").strip()


def _claim(rel: Release) -> dict[str, Any]:
    return dict(
        rel.kubectl_json("get", "pvc", "-n", rel.namespace, f"{rel.name}-faultline-dashboard")
    )


def _client(pod: dict[str, Any], token: str) -> httpx.Client:
    return httpx.Client(
        base_url=f"http://{pod['status']['podIP']}:8080/api/v1",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )


def _write_history(api: httpx.Client, ns: str) -> int:
    """A hypothesis, an experiment using it, and a finished run with 30 observations."""

    def ok(response: httpx.Response) -> dict[str, Any]:
        assert response.is_success, f"{response.request.url}: {response.text}"
        return dict(response.json())

    hypothesis = ok(api.post("/hypotheses", json={**HYPOTHESIS, "namespace": ns}))
    experiment = ok(
        api.post(
            "/experiments",
            json={"namespace": ns, "name": "durable", "hypothesis_id": hypothesis["id"]},
        )
    )
    run = ok(api.post(f"/experiments/{experiment['id']}/runs", json={"phase": "Baseline"}))
    points = [
        {
            "probe": "web",
            "ts": 1_800_000_000 + i,
            "qps": 100.0 - (40 if 10 <= i < 15 else 0),
            "error_rate": 0.0,
        }
        for i in range(30)
    ]
    batch = ok(api.post(f"/runs/{run['id']}/observations:batch", json={"points": points}))
    assert batch["inserted"] == 30
    metrics = {"baselineQps": 100.0, "minQps": 60.0, "timeToRecoverSeconds": 5.0}
    finished = ok(
        api.patch(
            f"/runs/{run['id']}",
            json={"phase": "Finished", "verdict": "Failed", "metrics": metrics},
        )
    )
    assert finished["verdict"] == "Failed"
    return int(run["id"])


def _read_history(api: httpx.Client, run_id: int) -> dict[str, Any]:
    """Everything the dashboard shows of the run: run, observations, experiment, hypothesis."""

    def get(path: str) -> dict[str, Any]:
        response = api.get(path)
        assert response.status_code == 200, f"{path}: {response.status_code} {response.text}"
        return dict(response.json())

    run = get(f"/runs/{run_id}")
    experiment = get(f"/experiments/{run['experiment_id']}")
    return {
        "run": run,
        "observations": get(f"/runs/{run_id}/observations")["points"],
        "runs": get(f"/experiments/{experiment['id']}/runs")["items"],
        "experiment": experiment,
        "hypothesis": get(f"/hypotheses/{experiment['hypothesis_id']}"),
    }


def test_history_survives_pod_deletion_upgrade_and_reinstall(
    release: Release, writer_token: str
) -> None:
    install(release, privileged=False)
    claim = _claim(release)
    assert claim["status"]["phase"] == "Bound"
    assert claim["spec"]["storageClassName"]  # filled in by the cluster's default class
    pod = _serving_pod(release)
    with _client(pod, writer_token) as api:
        run_id = _write_history(api, release.workloads)
        before = _read_history(api, run_id)
    assert before["run"]["phase"] == "Finished" and before["run"]["verdict"] == "Failed"
    assert len(before["observations"]) == 30
    assert min(p["qps"] for p in before["observations"]) == 60.0
    assert before["hypothesis"]["title"] == HYPOTHESIS["title"]
    assert [r["id"] for r in before["runs"]] == [run_id]

    # The pod goes away (as on a node drain or eviction): its replacement mounts the same claim.
    release.cluster.kubectl(
        "delete", "pod", "-n", release.namespace, pod["metadata"]["name"], "--wait=true"
    )
    pod = _serving_pod(release, not_uid=pod["metadata"]["uid"])
    with _client(pod, writer_token) as api:
        assert _read_history(api, run_id) == before

    # `helm upgrade` with changed values (dashboard logLevel among them) rolls the dashboard.
    upgrade_changes_values(release)
    pod = _serving_pod(release, not_uid=pod["metadata"]["uid"])
    env = {e["name"]: e.get("value") for e in pod["spec"]["containers"][0]["env"]}
    assert env["FAULTLINE_LOG_LEVEL"] == "DEBUG"  # really the upgraded pod
    with _client(pod, writer_token) as api:
        assert _read_history(api, run_id) == before
    assert _claim(release)["metadata"]["uid"] == claim["metadata"]["uid"]

    # Uninstall keeps the claim (helm.sh/resource-policy: keep); installing the same release in
    # the same namespace again adopts it, records and all.
    release.helm("uninstall", release.name, "-n", release.namespace, "--wait", "--timeout=5m")
    assert _claim(release)["metadata"]["uid"] == claim["metadata"]["uid"]
    instance = f"app.kubernetes.io/instance={release.name}"
    release.cluster.wait_for(  # `--wait` waits for the Deployments, not their pods
        "the uninstalled release's pods gone",
        lambda: not pods_of(release, release.namespace, instance),
        timeout=120,
    )
    install(release, privileged=False)
    assert _claim(release)["metadata"]["uid"] == claim["metadata"]["uid"]
    with _client(_serving_pod(release), writer_token) as api:
        assert _read_history(api, run_id) == before

    _run_while_the_dashboard_is_away(release, writer_token)


def _run_while_the_dashboard_is_away(rel: Release, token: str) -> None:
    """A real Experiment runs (a pod-kill, judged by the release's operator) while the
    dashboard is scaled to 0; scaled back to 1, the dashboard shows the run with its verdict,
    recorded from the Experiment's status."""
    selector = f"app.kubernetes.io/instance={rel.name},app.kubernetes.io/component=dashboard"
    deployment = f"deploy/{rel.name}-faultline-dashboard"
    rel.cluster.kubectl("scale", deployment, "-n", rel.namespace, "--replicas=0")
    rel.cluster.wait_for("no dashboard pod", lambda: not pods_of(rel, rel.namespace, selector))
    url = web_service(rel.cluster, rel.workloads, replicas=2)
    experiment = {
        "apiVersion": "chaos.faultline.dev/v1alpha1", "kind": "Experiment",
        "metadata": {"name": "while-away",
                     # the probe runs in the operator's pod (no probe image to schedule)
                     "annotations": {"chaos.faultline.dev/probe-mode": "local"}},
        "spec": {
            "hypothesis": {
                "title": "web is back within 30 s of a pod kill",
                "probes": [{"name": "web", "type": "load", "url": url, "workers": 2,
                            "timeout": "500ms"}],
                "tolerances": [{"probe": "web", "recoverTo": 50, "within": "30s"}],
            },
            "faults": [{"name": "kill-one", "type": "PodChaos", "podChaos": {
                "action": "pod-kill", "mode": "one",
                "selector": {"labelSelectors": {"app": "web"}}}}],
            "timing": {"baseline": "10s", "faultDuration": "10s", "recoveryDeadline": "30s"},
        },
    }  # fmt: skip
    rel.apply(experiment)

    def status() -> dict[str, Any]:
        obj = rel.kubectl_json("get", "experiment", "-n", rel.workloads, "while-away")
        return dict(obj.get("status") or {})

    rel.cluster.wait_for(
        "the run's verdict",
        lambda: bool(status().get("verdict")) and status().get("phase") == "Finished",
        timeout=300,
    )
    verdict = status()["verdict"]
    assert status().get("dashboardRunId") is None  # the dashboard never saw it

    rel.cluster.kubectl("scale", deployment, "-n", rel.namespace, "--replicas=1")
    with _client(_serving_pod(rel), token) as api:
        found: list[dict[str, Any]] = []

        def recorded() -> bool:
            page = api.get("/experiments", params={"namespace": rel.workloads}).json()
            rows = [e for e in page.get("items", []) if e["name"] == "while-away"]
            if not rows:
                return False
            found[:] = api.get(f"/experiments/{rows[0]['id']}/runs").json()["items"]
            return bool(found)

        rel.cluster.wait_for("the missed run in the dashboard", recorded, timeout=120)
        (run,) = found
        assert (run["phase"], run["verdict"]) == ("Finished", verdict), run
        assert run["metrics"]["probes"][0]["baselineQps"] > 0
        experiment_row = api.get(f"/experiments/{run['experiment_id']}").json()
        hypothesis = api.get(f"/hypotheses/{experiment_row['hypothesis_id']}").json()
        assert hypothesis["title"] == "web is back within 30 s of a pod kill"


def test_an_external_database_holds_the_history_without_a_claim(
    release: Release, writer_token: str
) -> None:
    """`dashboard.database.existingSecret` against a real PostgreSQL server (on the node, reached
    from the pod network): no claim is made, and the records outlive the pod in the database."""
    if not release.cluster.local:
        pytest.skip("the PostgreSQL server runs on the dev cluster's node")
    node_ip = release.cluster.settings.node_ip
    with (
        postgres_server(also_listen=node_ip, trust_from=POD_CIDR) as server,
        throwaway_database(server) as url,
    ):
        release.cluster.kubectl("create", "namespace", release.namespace)
        release.cluster.kubectl(
            "-n", release.namespace, "create", "secret", "generic", "dashboard-db",
            f"--from-literal=url={url.replace('@127.0.0.1:', f'@{node_ip}:')}",
        )  # fmt: skip
        install(
            release,
            privileged=False,
            extra={"dashboard": {"database": {"existingSecret": "dashboard-db"}}},
        )
        claims = release.kubectl_json("get", "pvc", "-n", release.namespace)["items"]
        assert claims == []
        pod = _serving_pod(release)
        with _client(pod, writer_token) as api:
            run_id = _write_history(api, release.workloads)
            before = _read_history(api, run_id)
        # The rows are in PostgreSQL itself, not in a file inside the pod.
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as db:
            row = db.execute("SELECT phase, verdict FROM runs WHERE id = %s", (run_id,)).fetchone()
            (points,) = db.execute(
                "SELECT count(*) FROM observations WHERE run_id = %s", (run_id,)
            ).fetchone() or (0,)
        assert row == ("Finished", "Failed") and points == 30

        release.cluster.kubectl(
            "delete", "pod", "-n", release.namespace, pod["metadata"]["name"], "--wait=true"
        )
        pod = _serving_pod(release, not_uid=pod["metadata"]["uid"])
        with _client(pod, writer_token) as api:
            assert _read_history(api, run_id) == before
        # Uninstalled while the server still answers, so nothing of the release waits on it.
        release.helm("uninstall", release.name, "-n", release.namespace, "--wait", "--timeout=5m")
