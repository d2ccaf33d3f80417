"""A tenant can only hurt what it may hurt: the chart's admission webhook on the real cluster.

One release (operator, chaosd, dashboard, webhook) watches two namespaces, A and B. A
ServiceAccount `tenant` has the built-in `edit` role in A only. Through kubectl it tries every
way to reach B's pods from A (selectors, a NetworkChaos target, a Schedule's and an Experiment's
embedded faults, a forged creator record, an edited one, B's own objects, the emergency stop).
Each try is refused with a message naming the field and the namespace, the refused object does
not exist, and B's pods keep their uid and restart count. The same tenant still does everything
in A: kubectl, the faultline CLI, and a Schedule whose children the operator creates are judged
as the tenant. The dashboard's side of the same attacks: tests/api_cluster.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from backend.spec.creator import CREATED_BY_ANNOTATION, Creator, recorded_creator
from tests.cli.helpers import FAULTLINE, cli_env
from tests.e2e.helm_release import (
    Release,
    image_fixture,  # noqa: F401 (fixture)
    install,
    release_values,
    temporary_release,
)
from tests.e2e.kube_users import service_account_kubeconfig
from tests.support.kube import apply, chaos
from tests.support.pods import demo_pod, ready_pod

pytestmark = [pytest.mark.cluster, pytest.mark.slow, pytest.mark.timeout(1500)]

KILL = {"action": "pod-kill", "mode": "all"}


@dataclass
class Tenancy:
    rel: Release
    a: str  # the tenant's namespace
    b: str  # another team's namespace
    user: str
    kubeconfig: Path

    def kubectl(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        """kubectl as the tenant (a kubeconfig holding only its token)."""
        cmd = [str(self.rel.cluster.kubectl_path), f"--kubeconfig={self.kubeconfig}", *args]
        return subprocess.run(cmd, input=stdin, capture_output=True, text=True, check=False)

    def create(
        self, doc: dict[str, Any], ns: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        return self.kubectl("create", "-n", ns or self.a, "-f", "-", stdin=json.dumps(doc))

    def admin_get(self, ns: str, kind: str, name: str) -> dict[str, Any] | None:
        out = self.rel.cluster.kubectl("get", kind, "-n", ns, name, "-o", "json", check=False)
        return json.loads(out) if out.strip() else None


def _pod_facts(rel: Release, ns: str) -> dict[str, tuple[str, int]]:
    """Each pod's uid and total restart count: a kill or a container restart changes them."""
    items = rel.kubectl_json("get", "pods", "-n", ns)["items"]
    return {
        p["metadata"]["name"]: (
            p["metadata"]["uid"],
            sum(c.get("restartCount", 0) for c in p["status"].get("containerStatuses") or []),
        )
        for p in items
    }


@pytest.fixture(scope="module")
def tenancy(
    cluster: Any, crds: None, image: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Tenancy]:
    with temporary_release(cluster) as rel:
        b = f"{rel.workloads}-b"
        cluster.kubectl("create", "namespace", b)
        try:
            values = release_values(rel, privileged=False)
            values["operator"]["watchNamespaces"] = [rel.workloads, b]
            install(rel, privileged=False, extra={"operator": values["operator"]})
            a = rel.workloads
            cluster.kubectl("create", "serviceaccount", "tenant", "-n", a)
            cluster.kubectl(
                "create", "rolebinding", "tenant-edit", "-n", a, "--clusterrole=edit",
                f"--serviceaccount={a}:tenant",
            )  # fmt: skip
            for ns, name in ((a, "victim-a"), (b, "victim-b1"), (b, "victim-b2")):
                apply(cluster, ns, demo_pod(name, "victim"))
            for ns, name in ((a, "victim-a"), (b, "victim-b1"), (b, "victim-b2")):
                ready_pod(cluster, ns, name)
            path = service_account_kubeconfig(
                cluster, a, "tenant", tmp_path_factory.mktemp("tenant") / "kubeconfig"
            )
            yield Tenancy(rel, a, b, f"system:serviceaccount:{a}:tenant", path)
        finally:
            for kind in ("podchaos", "schedules"):
                cluster.kubectl("delete", kind, "--all", "-n", b, "--wait=false", check=False)
            cluster.kubectl("delete", "namespace", b, "--wait=false", check=False)


def _refused(
    t: Tenancy, result: subprocess.CompletedProcess[str], kind: str, name: str, *said: str
) -> None:
    """The try failed, the error says each of `said`, nothing was stored, and B is untouched."""
    assert result.returncode != 0, f"{kind}/{name} was admitted: {result.stdout}"
    for text in said:
        assert text in result.stderr, result.stderr
    assert t.admin_get(t.a, kind, name) is None
    assert t.admin_get(t.b, kind, name) is None


def _escape(doc_kind: str, name: str, **spec: Any) -> dict[str, Any]:
    return chaos(doc_kind, name, **spec)


ESCAPES = [
    pytest.param(
        _escape("PodChaos", "by-namespaces", **KILL, selector={"namespaces": ["{b}"]}),
        "podchaos", "spec.selector.namespaces[0]", id="selector.namespaces",
    ),
    pytest.param(
        _escape("PodChaos", "by-pods", **KILL, selector={"pods": {"{b}": ["victim-b1"]}}),
        "podchaos", "spec.selector.pods[{b}]", id="selector.pods",
    ),
    pytest.param(
        _escape(
            "NetworkChaos", "by-target", action="partition", mode="all", direction="to",
            selector={"labelSelectors": {"app": "victim"}},
            target={"mode": "all", "selector": {"namespaces": ["{b}"]}},
        ),
        "networkchaos", "spec.target.selector.namespaces[0]", id="networkchaos.target",
    ),
    pytest.param(
        _escape(
            "Schedule", "by-schedule", schedule="@every 10s", type="PodChaos",
            podChaos={**KILL, "selector": {"namespaces": ["{b}"]}},
        ),
        "schedules", "spec.podChaos.selector.namespaces[0]", id="schedule",
    ),
    pytest.param(
        _escape(
            "Experiment", "by-experiment",
            hypothesis={"title": "t", "probes": [{"name": "w", "type": "http", "url": "http://w"}]},
            faults=[{"name": "kill", "type": "PodChaos",
                     "podChaos": {**KILL, "selector": {"namespaces": ["{b}"]}}}],
            timing={"faultDuration": "10s"},
        ),
        "experiments", "spec.faults[0].podChaos.selector.namespaces[0]", id="experiment",
    ),
]  # fmt: skip


def _fill(doc: dict[str, Any], b: str) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(json.dumps(doc).replace("{b}", b))
    return parsed


@pytest.mark.parametrize(("doc", "plural", "field"), ESCAPES)
def test_a_selector_reaching_another_namespace_is_refused(
    tenancy: Tenancy, doc: dict[str, Any], plural: str, field: str
) -> None:
    t = tenancy
    before = _pod_facts(t.rel, t.b)
    result = t.create(_fill(doc, t.b))
    field = field.replace("{b}", t.b)
    _refused(
        t, result, plural, doc["metadata"]["name"],
        field, f'user "{t.user}" may not create {plural} in namespace "{t.b}"',
    )  # fmt: skip
    assert _pod_facts(t.rel, t.b) == before


def test_kube_system_is_refused_at_apply_even_for_a_cluster_admin(tenancy: Tenancy) -> None:
    """The issue's CoreDNS kill: the operator's limits, checked by the webhook as well."""
    t = tenancy
    system = _pod_facts(t.rel, "kube-system")
    doc = chaos("PodChaos", "kill-dns", **KILL, selector={"namespaces": ["kube-system"]})
    refused = subprocess.run(
        [str(t.rel.cluster.kubectl_path), f"--kubeconfig={t.rel.cluster.kubeconfig}",
         "create", "-n", t.a, "-f", "-"],
        input=json.dumps(doc), capture_output=True, text=True, check=False,
    )  # fmt: skip
    _refused(
        t, refused, "podchaos", "kill-dns",
        "spec.selector.namespaces[0]: namespace 'kube-system' is protected",
    )  # fmt: skip
    assert _pod_facts(t.rel, "kube-system") == system


def test_a_forged_or_edited_creator_record_gains_nothing(tenancy: Tenancy) -> None:
    t = tenancy
    before = _pod_facts(t.rel, t.b)
    admin = Creator("kubernetes-admin", groups=("system:masters", "system:authenticated"))
    forged = _fill(_escape("PodChaos", "forged", **KILL, selector={"namespaces": ["{b}"]}), t.b)
    forged["metadata"]["annotations"] = {CREATED_BY_ANNOTATION: admin.encode()}
    # The mutating half overwrites the claim with the real requester, who may not reach B.
    _refused(
        t, t.create(forged), "podchaos", "forged",
        "spec.selector.namespaces[0]", f'user "{t.user}"', f'namespace "{t.b}"',
    )  # fmt: skip

    paused = chaos("PodChaos", "mine", **KILL, selector={"labelSelectors": {"app": "none"}})
    paused["metadata"]["annotations"] = {"chaos.faultline.dev/pause": "true"}
    assert t.create(paused).returncode == 0
    stored = t.admin_get(t.a, "podchaos", "mine")
    assert stored is not None and recorded_creator(stored) is not None
    assert recorded_creator(stored).username == t.user  # type: ignore[union-attr]
    edited = t.kubectl(
        "annotate", "--overwrite", "-n", t.a, "podchaos", "mine",
        f"{CREATED_BY_ANNOTATION}={admin.encode()}",
    )  # fmt: skip
    assert edited.returncode != 0 and f"metadata.annotations[{CREATED_BY_ANNOTATION}]" in (
        edited.stderr
    )
    after = t.admin_get(t.a, "podchaos", "mine")
    assert after is not None and recorded_creator(after) == recorded_creator(stored)
    assert _pod_facts(t.rel, t.b) == before


def test_another_namespaces_objects_and_the_emergency_stop_are_out_of_reach(
    tenancy: Tenancy,
) -> None:
    t = tenancy
    before = _pod_facts(t.rel, t.b)
    theirs = chaos("PodChaos", "theirs", **KILL, selector={"labelSelectors": {"app": "none"}})
    t.rel.cluster.kubectl("apply", "-n", t.b, "-f", "-", stdin=json.dumps(theirs))
    created = t.create(_fill(theirs, t.b) | {"metadata": {"name": "planted"}}, ns=t.b)
    assert created.returncode != 0 and f'in the namespace "{t.b}"' in created.stderr
    assert t.admin_get(t.b, "podchaos", "planted") is None
    paused = t.kubectl(
        "annotate", "-n", t.b, "podchaos", "theirs", "chaos.faultline.dev/pause=true"
    )
    assert paused.returncode != 0 and f'in the namespace "{t.b}"' in paused.stderr
    deleted = t.kubectl("delete", "-n", t.b, "podchaos", "theirs", "--wait=false")
    assert deleted.returncode != 0 and f'in the namespace "{t.b}"' in deleted.stderr
    still = t.admin_get(t.b, "podchaos", "theirs")
    assert still is not None and "chaos.faultline.dev/pause" not in (
        still["metadata"].get("annotations") or {}
    )
    assert still["metadata"].get("deletionTimestamp") is None
    stop = t.kubectl(
        "create", "configmap", "faultline-killswitch", "-n", t.rel.namespace,
        "--from-literal=enabled=true",
    )  # fmt: skip
    assert stop.returncode != 0 and "forbidden" in stop.stderr
    assert t.admin_get(t.rel.namespace, "configmap", "faultline-killswitch") is None
    assert _pod_facts(t.rel, t.b) == before


def test_the_tenant_still_does_everything_in_its_own_namespace(
    tenancy: Tenancy, tmp_path: Path
) -> None:
    t = tenancy
    before_b = _pod_facts(t.rel, t.b)
    victim = _pod_facts(t.rel, t.a)["victim-a"]
    # kubectl: a pod-kill in A, judged as the tenant and carried out by the operator.
    kill = chaos("PodChaos", "kill-a", **KILL, selector={"labelSelectors": {"app": "victim"}})
    result = t.create(kill)
    assert result.returncode == 0, result.stderr
    t.rel.cluster.wait_for(
        "victim-a killed", lambda: _pod_facts(t.rel, t.a).get("victim-a") != victim, timeout=120
    )
    stored = t.admin_get(t.a, "podchaos", "kill-a")
    assert stored is not None and recorded_creator(stored).username == t.user  # type: ignore[union-attr]

    # The faultline CLI with the tenant's kubeconfig.
    manifest = tmp_path / "partition.yaml"
    manifest.write_text(yaml.safe_dump(chaos(
        "NetworkChaos", "cut-a", action="partition", mode="all", direction="to", duration="30s",
        selector={"labelSelectors": {"app": "victim"}},
        target={"mode": "all", "selector": {"labelSelectors": {"app": "victim"}}},
    )))  # fmt: skip
    applied = subprocess.run(
        [str(FAULTLINE), "apply", str(manifest), "-n", t.a],
        env=cli_env(t.kubeconfig), capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert applied.returncode == 0, applied.stdout + applied.stderr
    cut = t.admin_get(t.a, "networkchaos", "cut-a")
    assert cut is not None and recorded_creator(cut).username == t.user  # type: ignore[union-attr]

    # A Schedule: its children are created by the operator's account and judged as the tenant.
    schedule = chaos(
        "Schedule", "every-a", schedule="@every 5s", type="PodChaos", historyLimit=2,
        podChaos={**KILL, "selector": {"labelSelectors": {"app": "nothing-matches"}}},
    )  # fmt: skip
    assert t.create(schedule).returncode == 0

    def children() -> list[dict[str, Any]]:
        items = t.rel.kubectl_json("get", "podchaos", "-n", t.a)["items"]
        return [c for c in items if c["metadata"]["name"].startswith("every-a")]

    t.rel.cluster.wait_for("a Schedule child", lambda: bool(children()), timeout=90)
    creators = [recorded_creator(c) for c in children()]
    assert None not in creators and {c.username for c in creators if c} == {t.user}
    t.kubectl("delete", "-n", t.a, "schedules", "every-a")
    assert _pod_facts(t.rel, t.b) == before_b


def test_the_webhook_refuses_new_objects_while_the_emergency_stop_is_engaged(
    tenancy: Tenancy,
) -> None:
    """Last in the module: the stop also ends the release's running objects."""
    t = tenancy
    flag = ["configmap", "faultline-killswitch", "-n", t.rel.namespace]
    t.rel.cluster.kubectl(
        "create", *flag, "--from-literal=enabled=true", "--from-literal=engagedBy=e2e",
        "--from-literal=reason=blast radius test",
    )  # fmt: skip
    try:
        doc = chaos("PodChaos", "during-stop", **KILL, selector={"labelSelectors": {"app": "x"}})
        refused = t.create(doc)
        _refused(
            t, refused, "podchaos", "during-stop",
            "the emergency stop is engaged", "by e2e", "blast radius test", "faultline stop --lift",
        )  # fmt: skip
    finally:
        t.rel.cluster.kubectl("delete", *flag)
    t.rel.cluster.wait_for(
        "creates admitted again after the lift",
        lambda: t.create(doc).returncode == 0,
        timeout=30,
    )
