"""Two tenants on the real cluster: a ServiceAccount with the built-in `edit` ClusterRole bound
in namespace A only, plus the chaos rights the chart's `<release>-edit` ClusterRole gives people,
also bound in A only. Namespace B belongs to someone else.

The chart's role aggregates into `edit`; here a copy of its rules (rendered from the chart) is
bound by a RoleBinding instead, so no other test's `edit` users gain anything while this runs.
Both namespaces are `e2e-own-*`, which the shared test operator leaves alone.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from backend.db.repositories import archived_objects, events, experiments, mirror, runs
from tests.api.server import RunningServer
from tests.api_cluster.helpers import loss_body, release_chaos_objects
from tests.support.cluster import Cluster

CHART = Path(__file__).resolve().parents[2] / "helm" / "faultline"
TOLERANCES = [{"probe": "web", "atLeast": 1}]
SELECT_NOTHING = {"labelSelectors": {"app": "nothing-here"}}
EXPERIMENT_SPEC = {
    "probes": [{"name": "web", "type": "load", "url": "http://web/"}],
    "faults": [{"name": "kill", "type": "PodChaos",
                "podChaos": {"action": "pod-kill", "mode": "one", "selector": SELECT_NOTHING}}],
    "timing": {"faultDuration": "10s"},
}  # fmt: skip


@dataclass
class Tenancy:
    a: str
    b: str
    token: str
    """alice's: `edit` and the chart's chaos role, both bound in `a` only."""
    username: str


def chart_edit_rules(cluster: Cluster) -> list[dict[str, Any]]:
    """The rules of the chart's `<release>-edit` ClusterRole, as the chart renders them."""
    version = json.loads(cluster.kubectl("version", "-o", "json"))["serverVersion"]["gitVersion"]
    out = subprocess.run(
        [str(cluster.settings.helm), "template", "t", str(CHART), "--kube-version", version,
         "--show-only", "templates/user-roles.yaml"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    [role] = [d for d in yaml.safe_load_all(out) if d and d["metadata"]["name"].endswith("-edit")]
    rules: list[dict[str, Any]] = role["rules"]
    return rules


def _namespace(cluster: Cluster, tag: str) -> str:
    name = f"e2e-own-{tag}-{uuid.uuid4().hex[:6]}"
    cluster.kubectl("create", "namespace", name)
    cluster.wait_for(
        f"service account in {name}",
        lambda: "default" in cluster.kubectl("get", "-n", name, "serviceaccounts", "-o", "name"),
    )
    return name


@pytest.fixture(scope="module", name="tenancy")
def tenancy_fixture(cluster: Cluster, crds: None) -> Iterator[Tenancy]:
    a, b = _namespace(cluster, "tenant-a"), _namespace(cluster, "tenant-b")
    role = f"faultline-test-edit-{uuid.uuid4().hex[:8]}"
    try:
        doc = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
               "metadata": {"name": role}, "rules": chart_edit_rules(cluster)}  # fmt: skip
        cluster.kubectl("apply", "-f", "-", stdin=json.dumps(doc))
        cluster.kubectl("-n", a, "create", "serviceaccount", "alice")
        for binding, cluster_role in (("alice-edit", "edit"), ("alice-chaos", role)):
            cluster.kubectl(
                "-n", a, "create", "rolebinding", binding, f"--clusterrole={cluster_role}",
                f"--serviceaccount={a}:alice",
            )  # fmt: skip
        # Someone else's chaos object in B (it selects no pod: nothing is ever injected).
        manifest = {
            "apiVersion": "chaos.faultline.dev/v1alpha1",
            "kind": "NetworkChaos",
            "metadata": {"name": "theirs", "namespace": b},
            "spec": loss_body(b, "theirs")["spec"],
        }
        cluster.kubectl("apply", "-f", "-", stdin=json.dumps(manifest))
        token = cluster.kubectl("-n", a, "create", "token", "alice").strip()
        yield Tenancy(a, b, token, f"system:serviceaccount:{a}:alice")
    finally:
        for ns in (a, b):
            release_chaos_objects(cluster, ns)
            cluster.kubectl("delete", "namespace", ns, "--wait=false", check=False)
        cluster.kubectl("delete", "clusterrole", role, "--ignore-not-found", check=False)


def seed_rows(dashboard: RunningServer, namespaces: tuple[str, str]) -> dict[str, dict[str, int]]:
    """Per namespace, rows as the operator and watcher leave them: a hypothesis, an experiment
    using it, a finished and archived run with one event, and an archived chaos object."""
    ids: dict[str, dict[str, int]] = {}
    with dashboard.app.state.sessions() as session:
        for ns in namespaces:
            values = {"namespace": ns, "title": f"{ns} holds", "tolerances": TOLERANCES}
            hypothesis = experiments.create_hypothesis(session, values)
            experiment = experiments.create_experiment(
                session, {"namespace": ns, "name": "exp", "spec": EXPERIMENT_SPEC,
                          "hypothesis_id": hypothesis.id},
            )  # fmt: skip
            run = runs.create_run(session, experiment.id, {"phase": "Baseline"})
            events.record_events(
                session, [{"ts": run.started_at, "type": "Normal", "reason": f"Seen-{ns}",
                           "message": ""}], run_id=run.id,
            )  # fmt: skip
            runs.update_run(session, run.id, {"phase": "Finished", "verdict": "Passed"})
            runs.archive_run(session, run.id)
            mirror.upsert_chaos_object(
                session, kind="PodChaos", namespace=ns, name="gone", uid=f"gone-{ns}",
                spec={"action": "pod-kill", "mode": "one", "selector": SELECT_NOTHING},
                phase="Recovered",
            )  # fmt: skip
            archived = archived_objects.archive_deleted(session, "PodChaos", ns, "gone")
            assert archived is not None
            ids[ns] = {"hypothesis": hypothesis.id, "experiment": experiment.id,
                       "run": run.id, "archive": archived.id}  # fmt: skip
    return ids
