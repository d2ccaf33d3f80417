"""`faultline run` as a subprocess against the real cluster, operator, chaosd and kernel.

Each exit code comes from a real scenario, and the pod's network namespace is inspected to
prove a fault was (or no longer is) in force.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest
from junitparser import JUnitXml, Properties, TestCase

from tests.cli.helpers import FAULTLINE, cli, cli_env, partition
from tests.support.kube import get
from tests.support.pods import pod_nft_tables, start_demo_pod

pytestmark = [pytest.mark.cluster, pytest.mark.privileged]


def _props(case: TestCase) -> dict[str, str]:
    """A testcase's <properties> (junitparser exposes them only through its element API)."""
    return {p.name: p.value for p in case.child(Properties) or []}


def _gone(cluster, ns: str, kind: str, name: str) -> bool:  # type: ignore[no-untyped-def]
    return name not in cluster.kubectl("get", "-n", ns, kind, "-o", "name")


def test_bounded_partition_passes_and_reports_junit(
    cluster, namespace, operator, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    web = start_demo_pod(cluster, namespace, "web", "web")
    start_demo_pod(cluster, namespace, "client", "client")
    manifest = tmp_path / "cut.yaml"
    manifest.write_text(partition("cut", duration="15s"))
    report = tmp_path / "report.xml"
    env = cli_env(cluster.kubeconfig, FAULTLINE_DASHBOARD_URL="https://faultline.example/")
    args = ["run", str(manifest), "-n", namespace, "--wait", "--timeout", "3m"]
    result = cli(*args, "--junit", str(report), env=env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "phase Running, injected 1/1" in result.stdout  # it was seen in force
    assert "Passed: finished: 1 target(s) injected" in result.stdout
    assert "faultline" not in pod_nft_tables(web)  # Finished means recovered

    xml = JUnitXml.fromfile(str(report))
    [suite] = list(xml)
    assert suite.name == f"NetworkChaos/{namespace}/cut"
    [case] = list(suite)
    assert case.name == f"{namespace}/web"
    assert case.is_passed
    props = _props(case)
    assert props["expected"] == "fault injected"
    assert props["observed"] == "phase Recovered, injected 1x, recovered 1x"
    assert props["dashboard"] == f"https://faultline.example/chaos/{namespace}/cut"
    assert "observed: phase Recovered" in (case.system_out or "")

    # The next pipeline run of the same file: the ended object is replaced, and runs again.
    before = json.loads(
        cluster.kubectl("get", "-n", namespace, "networkchaos", "cut", "-o", "json")
    )
    again = cli(*args, env=env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"NetworkChaos/{namespace}/cut: replaced the earlier run (Finished)" in again.stdout
    assert "phase Running, injected 1/1" in again.stdout
    after = json.loads(cluster.kubectl("get", "-n", namespace, "networkchaos", "cut", "-o", "json"))
    assert after["metadata"]["uid"] != before["metadata"]["uid"]
    assert "faultline" not in pod_nft_tables(web)


def test_unbounded_partition_passes_once_injected_and_abort_recovers(
    cluster, namespace, operator, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    web = start_demo_pod(cluster, namespace, "web", "web")
    start_demo_pod(cluster, namespace, "client", "client")
    manifest = tmp_path / "cut.yaml"
    manifest.write_text(partition("cut-open"))
    env = cli_env(cluster.kubeconfig)
    args = ["run", str(manifest), "-n", namespace, "--wait", "--output", "json"]
    result = cli(*args, env=env)

    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["result"] == "Passed" and report["exitCode"] == 0
    assert report["cases"][0]["name"] == f"{namespace}/web"
    assert report["cases"][0]["passed"] is True
    assert "faultline" in pod_nft_tables(web)  # left in force, as a plain apply would

    listed = cli("get", "networkchaos", "-n", namespace, "-o", "json", env=env)
    assert json.loads(listed.stdout)[0]["status"]["injectedTargets"] == 1

    again = cli(*args, env=env)  # a new run must not cut a live one short
    assert again.returncode == 3
    assert f"NetworkChaos {namespace}/cut-open is still running (phase Running)" in again.stderr
    assert "faultline abort NetworkChaos cut-open" in again.stderr
    assert "faultline" in pod_nft_tables(web)

    paused = cli("pause", "networkchaos", "cut-open", "-n", namespace, env=env)
    assert paused.returncode == 0, paused.stderr
    cluster.wait_for("fault withdrawn", lambda: "faultline" not in pod_nft_tables(web), timeout=60)
    resumed = cli("resume", "NetworkChaos", "cut-open", "-n", namespace, env=env)
    assert resumed.returncode == 0, resumed.stderr
    cluster.wait_for("fault back", lambda: "faultline" in pod_nft_tables(web), timeout=60)

    described = cli("describe", "flnet", "cut-open", "-n", namespace, env=env)
    assert f"{namespace}/web" in described.stdout and "Injected" in described.stdout
    logs = cli("logs", "flnet", "cut-open", "-n", namespace, env=env)
    assert f"{namespace}/web Applied" in logs.stdout
    assert f"{namespace}/web Recovered" in logs.stdout  # the pause

    aborted = cli("abort", "flnet", "cut-open", "-n", namespace, env=env)
    assert aborted.returncode == 0, aborted.stderr
    assert "stopped and recovered: NetworkChaos/cut-open" in aborted.stdout
    assert _gone(cluster, namespace, "networkchaos", "cut-open")
    assert "faultline" not in pod_nft_tables(web)


def test_selector_matching_nothing_times_out_with_error(
    cluster, namespace, operator, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    start_demo_pod(cluster, namespace, "client", "client")
    manifest = tmp_path / "nothing.yaml"
    manifest.write_text(partition("aims-at-nothing", app="no-such-app"))
    report = tmp_path / "report.xml"
    args = ["run", str(manifest), "-n", namespace, "--wait", "--timeout", "15s"]
    result = cli(*args, "--junit", str(report), env=cli_env(cluster.kubeconfig))

    assert result.returncode == 3, result.stdout + result.stderr
    assert "timed out after" in result.stdout
    assert "stopped and recovered: NetworkChaos/aims-at-nothing" in result.stdout
    assert _gone(cluster, namespace, "networkchaos", "aims-at-nothing")
    [suite] = list(JUnitXml.fromfile(str(report)))
    [case] = list(suite)
    assert not case.is_passed
    assert "timed out" in _props(case)["observed"]
    assert "expected Passed, observed timed out" in case.result[0].message


def test_manifest_the_api_server_rejects_is_invalid_input(
    cluster, namespace, crds, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    manifest = tmp_path / "bad-name.yaml"
    manifest.write_text(partition("Not_A_DNS_Name"))  # offline checks pass; the server refuses
    result = cli("run", str(manifest), "-n", namespace, env=cli_env(cluster.kubeconfig))
    assert result.returncode == 4, result.stderr
    assert "rejected" in result.stderr and "metadata.name" in result.stderr


def test_sigterm_stops_the_run_and_leaves_no_fault(
    cluster, namespace, operator, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    web = start_demo_pod(cluster, namespace, "web", "web")
    start_demo_pod(cluster, namespace, "client", "client")
    manifest = tmp_path / "long.yaml"
    manifest.write_text(partition("long-cut", duration="10m"))
    args = [str(FAULTLINE), "run", str(manifest), "-n", namespace, "--wait"]
    proc = subprocess.Popen(
        args, env=cli_env(cluster.kubeconfig), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:

        def injected() -> bool:
            if proc.poll() is not None:
                raise AssertionError(f"faultline run exited early with {proc.returncode}")
            found = cluster.kubectl("get", "-n", namespace, "networkchaos", "-o", "json")
            items = json.loads(found)["items"]
            status = items[0].get("status", {}) if items else {}
            return status.get("injectedTargets") == 1 and "faultline" in pod_nft_tables(web)

        cluster.wait_for("fault in force", injected, timeout=120)
        time.sleep(1)  # let the CLI see it too; the outcome must not depend on it
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=240)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = out.decode() + err.decode()
    assert proc.returncode == 2, text
    assert "cancelled by SIGTERM" in text
    assert "stopped and recovered: NetworkChaos/long-cut" in text
    assert _gone(cluster, namespace, "networkchaos", "long-cut")
    assert "faultline" not in pod_nft_tables(web)


def test_kubectl_plugin(cluster, namespace, crds, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`kubectl faultline ...` through the real kubectl binary and PATH lookup."""
    env = cli_env(cluster.kubeconfig)
    env["PATH"] = f"{FAULTLINE.parent}:{env['PATH']}"
    kubectl = str(cluster.kubectl_path)
    plugins = subprocess.run(
        [kubectl, "plugin", "list"], env=env, capture_output=True, text=True, check=False
    )
    assert str(FAULTLINE.parent / "kubectl-faultline") in plugins.stdout

    manifest = tmp_path / "cut.yaml"
    manifest.write_text(partition("via-kubectl"))
    applied = subprocess.run(
        [kubectl, "faultline", "apply", str(manifest), "-n", namespace],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert applied.returncode == 0, applied.stderr
    assert get(cluster, namespace, "networkchaos", "via-kubectl")["spec"]["action"] == "partition"
    listed = subprocess.run(
        [kubectl, "faultline", "get", "flnet", "-n", namespace],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert "via-kubectl" in listed.stdout
    bad = subprocess.run(
        [
            kubectl,
            "faultline",
            "validate",
            str(Path(__file__).parent / "bad-manifests" / "negative-grace.yaml"),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 4
    assert "spec.gracePeriod: Invalid value: -1" in bad.stderr
    cluster.kubectl("delete", "-n", namespace, "networkchaos", "via-kubectl", "--wait=false")
