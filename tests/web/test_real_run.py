"""The dashboard against a real run on the dev cluster: the browser creates an experiment
through the form, starts it, watches the live chart grow, and sees the verdict.

Everything is real: the API in cluster mode (the browser's token is a ServiceAccount token
checked with TokenReview and SubjectAccessReview), the operator (scoped to this test's
namespace) reporting the run back to the API, a one-replica demo-http Deployment behind a
Service, a pod-kill, and the load probe measuring the Service from this host.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from backend.api.app import create_app
from backend.settings import Settings
from backend.spec import GROUP
from tests.api.server import serve
from tests.support.cluster import Cluster
from tests.support.service import web_service
from tests.web.conftest import run_web_tool

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

RESOURCES = ["experiments", "podchaos", "networkchaos", "iochaos", "schedules"]


@pytest.fixture
def tokens(cluster: Cluster, own_ns: str) -> Iterator[tuple[str, str]]:
    """(browser token, operator token): two ServiceAccounts of the test's namespace bound to a
    ClusterRole on Faultline's resources (run routes are checked cluster-wide). The cluster-
    scoped role and binding are named after the namespace and always deleted."""
    role = f"{own_ns}-web"
    try:
        cluster.kubectl(
            "create", "clusterrole", role, "--verb=get,list,watch,create,patch,delete",
            "--resource=" + ",".join(f"{r}.{GROUP}" for r in RESOURCES),
        )  # fmt: skip
        for account in ("browser", "reporter"):
            cluster.kubectl("-n", own_ns, "create", "serviceaccount", account)
        cluster.kubectl(
            "create", "clusterrolebinding", role, f"--clusterrole={role}",
            f"--serviceaccount={own_ns}:browser", f"--serviceaccount={own_ns}:reporter",
        )  # fmt: skip
        yield tuple(  # type: ignore[misc]
            cluster.kubectl("-n", own_ns, "create", "token", a).strip()
            for a in ("browser", "reporter")
        )
    finally:
        cluster.kubectl("delete", "clusterrolebinding", role, "--ignore-not-found", check=False)
        cluster.kubectl("delete", "clusterrole", role, "--ignore-not-found", check=False)


@pytest.mark.timeout(900)
def test_real_run_from_the_form(
    cluster: Cluster,
    own_ns: str,
    start_operator,
    tokens: tuple[str, str],
    built: Path,
    tmp_path: Path,
) -> None:
    browser_token, reporter_token = tokens
    settings = Settings(
        mode="cluster",
        kubeconfig=cluster.kubeconfig,
        data_dir=tmp_path / "data",
        housekeeping_enabled=False,
        log_level="WARNING",
    )
    # One replica: a pod-kill takes QPS to zero until the replacement is ready, a clear dip.
    service = web_service(cluster, own_ns, replicas=1)
    before = set(
        cluster.kubectl("get", "-n", own_ns, "pods", "-l", "app=web", "-o", "name").split()
    )
    shots = Path(os.environ.get("FAULTLINE_SCREENSHOT_DIR") or tmp_path / "shots").resolve()
    shots.mkdir(parents=True, exist_ok=True)
    with serve(create_app(settings, configure_logs=False, web_dist=built)) as dashboard:
        start_operator(
            FAULTLINE_DASHBOARD_URL=dashboard.base_url,
            FAULTLINE_DASHBOARD_TOKEN=reporter_token,
            FAULTLINE_PROBE_MODE="local",
        )
        try:
            out = run_web_tool(
                ["node", "e2e/real-run.e2e.mjs"],
                FAULTLINE_URL=dashboard.base_url,
                FAULTLINE_TOKEN=browser_token,
                FAULTLINE_NAMESPACE=own_ns,
                FAULTLINE_SERVICE_URL=service,
                SCREENSHOT_DIR=str(shots),
            )
            print(out)
            assert "e2e: all checks passed" in out
            seen = json.loads(out.split("result: ", 1)[1].splitlines()[0])
            cr = json.loads(
                cluster.kubectl("get", "-n", own_ns, "experiment", "real-kill", "-o", "json")
            )
        finally:
            # While the operator still runs, so the Experiment's finalizer is released.
            cluster.kubectl(
                "delete", "-n", own_ns, "experiment", "real-kill", "--timeout=90s", check=False
            )
        headers = {"Authorization": f"Bearer {browser_token}"}
        with httpx.Client(base_url=dashboard.base_url, headers=headers, timeout=30) as api:
            run = api.get(f"/api/v1/runs/{cr['status']['dashboardRunId']}").json()
            points = api.get(f"/api/v1/runs/{run['id']}/observations").json()["points"]

    # The form's hypothesis reached the engine as a tolerance, and the engine judged it.
    [tolerance] = cr["spec"]["hypothesis"]["tolerances"]
    assert tolerance == {"probe": "service", "recoverTo": 50, "within": "60s"} | (
        {k: v for k, v in tolerance.items() if k in ("metric", "during", "from")}
    )
    assert cr["spec"]["hypothesis"]["probes"][0]["url"] == service
    # What the browser showed is what the engine decided and the API stored (any verdict: the
    # engine's own e2e tests judge whether it is right; on a loaded node QPS can be poor).
    status = cr["status"]
    # One spelling everywhere: the resource's verdict is the API's and the page's.
    assert seen["verdict"] == status["verdict"] == run["verdict"], (
        seen, status, run,
    )  # fmt: skip
    assert seen["phase"] == run["phase"] and run["experiment_name"] == "real-kill"
    # The chart grew while the run was live, and ended with the run's real observations.
    assert seen["later"] > seen["first"] > 0 and seen["points"] >= seen["later"]
    assert len(points) >= seen["points"] - 5 and max(p["qps"] for p in points) > 0
    # The fault really happened: the original pod was killed and replaced.
    after = set(cluster.kubectl("get", "-n", own_ns, "pods", "-l", "app=web", "-o", "name").split())
    assert before - after, (before, after)
    for page in ("login", "form", "started", "live", "verdict"):
        png = (shots / f"real-run-{page}.png").read_bytes()
        assert png.startswith(b"\x89PNG") and len(png) > 10_000, page
