"""What the chart promises beyond schema validity: least privilege, a non-privileged chaosd by
default, pinned images, one acting operator, and bad values refused with the field named."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

RenderFn = Callable[..., Any]
HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
CHART = REPO / "helm" / "faultline"
VALUES = HERE / "values"
RBAC_KINDS = {"Role", "ClusterRole"}


def _refused(render: RenderFn, *args: str, values: dict[str, Any] | None = None) -> str:
    with pytest.raises(subprocess.CalledProcessError) as e:
        render(*args, values=values)
    return str(e.value.stderr)


def _env(container: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}


def test_helm_lint_passes(tools: Any) -> None:
    for values in (None, VALUES / "hardened.yaml", VALUES / "privileged.yaml"):
        cmd = [str(tools.helm), "lint", "--strict", str(CHART)]
        if values:
            cmd += ["--values", str(values)]
        out = subprocess.run(cmd, capture_output=True, text=True)
        assert out.returncode == 0, out.stdout + out.stderr
        assert "0 chart(s) failed" in out.stdout


@pytest.mark.parametrize(
    ("values", "field", "problem"),
    [
        ({"operator": {"replicas": "two"}}, "/operator/replicas", "want integer"),
        ({"image": {"tag": "latest"}}, "/image/tag", "'not' failed"),
        ({"chaosd": {"image": {"tag": "latest"}}}, "/chaosd/image/tag", "'not' failed"),
        ({"chaosd": {"privilged": True}}, "/chaosd", "'privilged' not allowed"),
        ({"chaosd": {"privileged": "yes"}}, "/chaosd/privileged", "want boolean"),
        ({"chaosd": {"port": 70000}}, "/chaosd/port", "maximum"),
        ({"chaosd": {"capabilities": ["CAP_NET_ADMIN"]}}, "/chaosd/capabilities/0", "'not'"),
        ({"chaosd": {"securityContext": {"privileged": True}}}, "/chaosd/securityContext", "not"),
        ({"auth": {"mode": "tls"}}, "/auth/mode", "one of 'token', 'mtls'"),
        ({"image": {"pullPolicy": "Sometimes"}}, "/image/pullPolicy", "must be one of"),
        ({"dashboard": {"service": {"type": "Headless"}}}, "/dashboard/service/type", "one of"),
        ({"operator": {"logLevel": "LOUD"}}, "/operator/logLevel", "one of"),
    ],
)
def test_schema_rejects_bad_values(
    render: RenderFn, values: dict[str, Any], field: str, problem: str
) -> None:
    err = _refused(render, values=values)
    line = next((ln for ln in err.splitlines() if f"at '{field}'" in ln), None)
    assert line is not None, err
    assert problem in line


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"auth": {"mode": "mtls", "mtls": {"source": "existingSecrets"}}},
            "auth.mtls.existingSecrets.server: required",
        ),
        ({"dashboard": {"replicas": 2}}, "dashboard.replicas: more than 1 replica needs"),
        ({"operator": {"leaderElection": {"enabled": False}}}, "operator.replicas: more than 1"),
        (
            {"operator": {"leaderElection": {"leaseDurationSeconds": 5}}},
            "operator.leaderElection.leaseDurationSeconds: must be greater",
        ),
    ],
)
def test_inconsistent_values_are_refused(
    render: RenderFn, values: dict[str, Any], message: str
) -> None:
    assert message in _refused(render, values=values)


@pytest.mark.parametrize("values_file", [None, "hardened.yaml"])
def test_rbac_has_no_wildcards(render: RenderFn, values_file: str | None) -> None:
    args = ("--values", str(VALUES / values_file)) if values_file else ()
    roles = [o for o in render(*args).objects if o["kind"] in RBAC_KINDS]
    assert len(roles) >= 4
    for role in roles:
        for rule in role["rules"]:
            for key in ("apiGroups", "resources", "verbs", "resourceNames", "nonResourceURLs"):
                assert "*" not in rule.get(key, []), f"{role['metadata']['name']}: {key} has *"
                assert not any("*" in v for v in rule.get(key, []))
            assert rule["verbs"], role["metadata"]["name"]


def test_every_rbac_rule_says_why() -> None:
    for path in (CHART / "templates").glob("*rbac*.yaml"):
        lines = path.read_text().splitlines()
        for i, line in enumerate(lines):
            if line.strip().startswith("- apiGroups:"):
                assert lines[i - 1].strip().startswith("#"), f"{path.name}:{i + 1} has no comment"


def test_operator_rbac_covers_every_chaos_kind(render: RenderFn) -> None:
    plurals = {
        yaml.safe_load(p.read_text())["spec"]["names"]["plural"]
        for p in (REPO / "crds").glob("*.yaml")
    }
    rules = render().find("ClusterRole", "-operator")["rules"]
    granted = {
        r
        for rule in rules
        if rule["apiGroups"] == ["chaos.faultline.dev"]
        for r in rule["resources"]
    }
    assert plurals <= granted
    assert {f"{p}/status" for p in plurals} <= granted


def test_chaosd_is_host_pid_and_not_privileged_by_default(render: RenderFn) -> None:
    r = render()
    pod = r.find("DaemonSet", "-chaosd")["spec"]["template"]["spec"]
    assert pod["hostPID"] is True
    assert pod["automountServiceAccountToken"] is False
    (c,) = pod["containers"]
    sc = c["securityContext"]
    assert sc["privileged"] is False
    assert sc["capabilities"]["drop"] == ["ALL"]
    assert set(sc["capabilities"]["add"]) == {
        "NET_ADMIN", "SYS_ADMIN", "SYS_PTRACE", "KILL", "DAC_OVERRIDE", "FOWNER", "CHOWN"
    }  # fmt: skip
    assert {t.get("operator") for t in pod["tolerations"]} == {"Exists"}
    assert c["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert c["readinessProbe"]["httpGet"]["path"] == "/healthz"
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["state"]["hostPath"]["path"] == "/var/lib/faultline/chaosd"
    assert volumes["fuse"]["hostPath"] == {"path": "/dev/fuse", "type": "CharDevice"}
    mounts = {m["name"]: m for m in c["volumeMounts"]}
    assert mounts["host-cgroup"]["readOnly"] is True
    assert mounts["host-proc"]["readOnly"] is True
    # chaosd asks the runtime over the CRI: the socket's directory (not the socket file, which a
    # runtime restart recreates) is mounted read-only and the socket named on the command line.
    assert volumes["cri-socket-dir"]["hostPath"] == {"path": "/run/containerd", "type": "Directory"}
    assert mounts["cri-socket-dir"] == {
        "name": "cri-socket-dir", "mountPath": "/host/cri", "readOnly": True
    }  # fmt: skip
    args = c["args"]
    assert args[args.index("--cri-socket") + 1] == "/host/cri/containerd.sock"
    # chaosd never calls the Kubernetes API: nothing grants its ServiceAccount anything.
    sa = pod["serviceAccountName"]
    for binding in (o for o in r.objects if o["kind"] in {"RoleBinding", "ClusterRoleBinding"}):
        assert sa not in {s["name"] for s in binding["subjects"]}


def test_chaosd_privileged_is_an_opt_in(render: RenderFn) -> None:
    r = render("--values", str(VALUES / "privileged.yaml"))
    (c,) = r.find("DaemonSet", "-chaosd")["spec"]["template"]["spec"]["containers"]
    assert c["securityContext"]["privileged"] is True
    assert "capabilities" not in c["securityContext"]


def test_images_are_pinned_to_app_version(render: RenderFn) -> None:
    r = render()
    app_version = yaml.safe_load((CHART / "Chart.yaml").read_text())["appVersion"]
    containers = [
        c
        for o in r.objects
        if o["kind"] in {"Deployment", "DaemonSet"}
        for c in o["spec"]["template"]["spec"]["containers"]
    ]
    assert len(containers) == 4  # operator, chaosd, dashboard, admission webhook
    for c in containers:
        assert c["image"] == f"faultline/faultline:{app_version}"
        assert c["imagePullPolicy"] == "IfNotPresent"
    override = render(values={"dashboard": {"image": {"tag": "9.9.9", "pullPolicy": "Never"}}})
    (dash,) = override.find("Deployment", "-dashboard")["spec"]["template"]["spec"]["containers"]
    assert (dash["image"], dash["imagePullPolicy"]) == ("faultline/faultline:9.9.9", "Never")


def test_token_is_random_and_shared_by_operator_and_chaosd(render: RenderFn) -> None:
    first, second = render(), render()
    secret = first.find("Secret", "-chaosd-token")
    assert secret["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    token = secret["data"]["token"]
    assert len(token) >= 64 and token != second.find("Secret", "-chaosd-token")["data"]["token"]
    name = secret["metadata"]["name"]
    ds = first.find("DaemonSet", "-chaosd")["spec"]["template"]["spec"]
    op = first.find("Deployment", "-operator")["spec"]["template"]["spec"]
    assert {v["secret"]["secretName"] for v in ds["volumes"] if "secret" in v} == {name}
    assert {v["secret"]["secretName"] for v in op["volumes"] if "secret" in v} == {name}
    (chaosd,) = ds["containers"]
    token_file = chaosd["args"][chaosd["args"].index("--token-file") + 1]
    assert token_file == "/etc/faultline/token/token"
    assert _env(op["containers"][0])["FAULTLINE_CHAOSD_TOKEN_FILE"].endswith("/token")

    existing = render(values={"auth": {"token": {"existingSecret": "mine"}}})
    assert "Secret" not in existing.kinds(besides="webhook")
    ds = existing.find("DaemonSet", "-chaosd")["spec"]["template"]["spec"]
    assert {v["secret"]["secretName"] for v in ds["volumes"] if "secret" in v} == {"mine"}


def test_two_operators_one_lease(render: RenderFn) -> None:
    r = render()
    deploy = r.find("Deployment", "-operator")
    assert deploy["spec"]["replicas"] == 2
    env = _env(deploy["spec"]["template"]["spec"]["containers"][0])
    assert env["FAULTLINE_LEADER_ELECTION"] == "true"
    role = r.find("Role", "-leader-election")
    named = [rule for rule in role["rules"] if rule.get("resourceNames")]
    assert named == [
        {
            "apiGroups": ["coordination.k8s.io"],
            "resources": ["leases"],
            "resourceNames": [env["FAULTLINE_LEASE_NAME"]],
            "verbs": ["get", "update"],
        }
    ]
    assert r.find("PodDisruptionBudget", "-operator")["spec"]["minAvailable"] == 1


def test_network_policy_admits_only_the_operator_to_chaosd(render: RenderFn) -> None:
    r = render()  # on by default: chaosd's API can change any pod's kernel state
    policy = r.find("NetworkPolicy", "-chaosd")["spec"]
    ds_labels = r.find("DaemonSet", "-chaosd")["spec"]["template"]["metadata"]["labels"]
    op_labels = r.find("Deployment", "-operator")["spec"]["template"]["metadata"]["labels"]
    selected = policy["podSelector"]["matchLabels"]
    assert selected.items() <= ds_labels.items()
    (rule,) = policy["ingress"]
    (peer,) = rule["from"]
    assert set(peer) == {"podSelector"}  # no namespaceSelector: only this namespace's operator
    assert peer["podSelector"]["matchLabels"].items() <= op_labels.items()
    assert not peer["podSelector"]["matchLabels"].items() <= ds_labels.items()
    assert rule["ports"] == [{"port": 9443, "protocol": "TCP"}]
    assert "NetworkPolicy" not in render(values={"networkPolicy": {"enabled": False}}).kinds()


def test_chaosd_selector_env_matches_daemonset_labels(render: RenderFn) -> None:
    r = render()
    env = _env(r.find("Deployment", "-operator")["spec"]["template"]["spec"]["containers"][0])
    wanted = dict(kv.split("=") for kv in env["FAULTLINE_CHAOSD_SELECTOR"].split(","))
    labels = r.find("DaemonSet", "-chaosd")["spec"]["template"]["metadata"]["labels"]
    assert wanted.items() <= labels.items()
    assert re.fullmatch(r"\d+", env["FAULTLINE_CHAOSD_PORT"])
