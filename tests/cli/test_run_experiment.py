"""`faultline run --wait` on Experiments: the verdict the engine reaches on the real cluster
becomes the exit code (0 Passed, 1 Failed, 2 Aborted) and a JUnit report with one testcase
per hypothesis criterion carrying its expected and observed values."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from junitparser import JUnitXml, Properties

from tests.cli.helpers import FAULTLINE, cli, cli_env
from tests.support.pods import node_source_address, pod_nft_tables
from tests.support.service import partition_from, pod_kill_one, web_pods, web_service

pytestmark = [pytest.mark.cluster, pytest.mark.privileged, pytest.mark.slow]


def _experiment(name: str, url: str, fault: dict[str, Any], tolerances: list, **extra: Any) -> str:
    spec: dict[str, Any] = {
        "hypothesis": {
            "title": f"{name}: web keeps serving",
            "probes": [{"name": "web", "type": "load", "url": url, "rate": 40, "timeout": "500ms"}],
            "tolerances": tolerances,
        },
        "faults": [fault],
        "timing": {"baseline": "10s", "faultDuration": "5s", "recoveryDeadline": "60s"},
        **extra,
    }
    doc = {
        "apiVersion": "chaos.faultline.dev/v1alpha1",
        "kind": "Experiment",
        "metadata": {"name": name},
        "spec": spec,
    }
    return yaml.safe_dump(doc)


def _run(cluster, namespace: str, tmp_path: Path, manifest: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "experiment.yaml"
    path.write_text(manifest)
    report = tmp_path / "report.xml"
    args = ["run", str(path), "-n", namespace, "--wait", "--timeout", "5m", "--junit", str(report)]
    result = cli(*args, env=cli_env(cluster.kubeconfig))
    [suite] = list(JUnitXml.fromfile(str(report)))
    return result, list(suite)


def _props(case) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {p.name: p.value for p in case.child(Properties) or []}


def test_passed_experiment_exits_0(cluster, namespace, operator, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url = web_service(cluster, namespace)
    kill = pod_kill_one()
    tolerances = [{"probe": "web", "recoverTo": 90, "within": "60s", "from": "faultStart"}]
    result, cases = _run(
        cluster, namespace, tmp_path, _experiment("survives", url, kill, tolerances)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Passed: hypothesis held" in result.stdout
    [case] = cases
    assert case.is_passed
    props = _props(case)
    assert props["expected"] and props["observed"]  # the engine's own words, both present
    assert f"expected: {props['expected']}" in (case.system_out or "")
    described = cli(
        "describe", "flexp", "survives", "-n", namespace, env=cli_env(cluster.kubeconfig)
    )
    assert "verdict: Passed" in described.stdout
    assert case.name in described.stdout  # the criterion's row


def test_failed_hypothesis_exits_1(cluster, namespace, operator, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url = web_service(cluster, namespace)
    source = node_source_address(web_pods(cluster, namespace)[0]["status"]["podIP"])
    strict = [{"probe": "web", "atLeastPercentOfBaseline": 80, "during": "fault"}]
    manifest = _experiment("strict", url, partition_from(namespace, source), strict)
    result, cases = _run(cluster, namespace, tmp_path, manifest)

    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAIL " in result.stdout and "hypothesis failed" in result.stdout
    [case] = cases
    assert not case.is_passed
    props = _props(case)
    observed_qps = float(props["observed"].split()[1])  # "worst <qps> ..."
    assert case.result[0].message == f"expected {props['expected']}, observed {props['observed']}"
    assert observed_qps < 40 * 0.8  # the partition really cut the probe off
    for pod in web_pods(cluster, namespace):
        assert "faultline" not in pod_nft_tables(pod)


def test_aborted_experiment_exits_2(cluster, namespace, operator, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url = web_service(cluster, namespace)
    source = node_source_address(web_pods(cluster, namespace)[0]["status"]["podIP"])
    manifest = _experiment(
        "abort",
        url,
        partition_from(namespace, source),
        [{"probe": "web", "recoverTo": 90, "within": "30s"}],
        abort={"conditions": [{"probe": "web", "belowPercent": 50, "for": "2s"}]},
    )
    doc = yaml.safe_load(manifest)
    doc["spec"]["timing"]["faultDuration"] = "10m"  # only the abort can end it within --timeout
    result, _ = _run(cluster, namespace, tmp_path, yaml.safe_dump(doc))

    assert result.returncode == 2, result.stdout + result.stderr
    assert "Aborted: aborted:" in result.stdout and "below 50% of baseline" in result.stdout
    for pod in web_pods(cluster, namespace):
        assert "faultline" not in pod_nft_tables(pod)


def test_sigterm_mid_experiment_removes_its_faults(
    cluster, namespace, operator, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    url = web_service(cluster, namespace, replicas=1)
    [web] = web_pods(cluster, namespace)
    source = node_source_address(web["status"]["podIP"])
    doc = yaml.safe_load(
        _experiment(
            "long", url, partition_from(namespace, source), [], abort={"onProbeError": False}
        )
    )
    doc["spec"]["timing"]["faultDuration"] = "10m"
    path = tmp_path / "long.yaml"
    path.write_text(yaml.safe_dump(doc))
    args = [str(FAULTLINE), "run", str(path), "-n", namespace, "--wait", "--timeout", "20m"]
    proc = subprocess.Popen(
        args, env=cli_env(cluster.kubeconfig), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:

        def in_force() -> bool:
            if proc.poll() is not None:
                raise AssertionError(f"faultline run exited early with {proc.returncode}")
            return "faultline" in pod_nft_tables(web)

        cluster.wait_for("partition in force", in_force, timeout=180)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = out.decode() + err.decode()
    assert proc.returncode == 2, text
    # The report lists the children the CLI still saw; the engine may have removed the
    # NetworkChaos first. What matters is below: nothing is left, in the API or the kernel.
    assert "stopped and recovered: Experiment/long" in text
    assert "long" not in cluster.kubectl("get", "-n", namespace, "experiments", "-o", "name")
    assert "long-cut" not in cluster.kubectl("get", "-n", namespace, "networkchaos", "-o", "name")
    assert "faultline" not in pod_nft_tables(web)
