"""`faultline dashboard` port-forwards to the dashboard Service (found by its component label)
through the real kubectl and API server; stopping it closes the forwarded port."""

from __future__ import annotations

import json
import signal
import subprocess

import pytest

from tests.cli.helpers import FAULTLINE, cli_env
from tests.support.net import free_port
from tests.support.pods import start_demo_pod
from tests.support.service import answers

pytestmark = pytest.mark.cluster


def test_dashboard_forwards_to_the_service(cluster, namespace) -> None:  # type: ignore[no-untyped-def]
    start_demo_pod(cluster, namespace, "dash", "dash")  # demo-http stands in for the dashboard
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": "faultline-dashboard",
            "labels": {"app.kubernetes.io/component": "dashboard"},
        },
        "spec": {"selector": {"app": "dash"}, "ports": [{"port": 80, "targetPort": 8080}]},
    }
    cluster.kubectl("apply", "-n", namespace, "-f", "-", stdin=json.dumps(service))
    port = free_port()
    env = cli_env(cluster.kubeconfig, KUBECTL=str(cluster.kubectl_path))
    args = [str(FAULTLINE), "dashboard", "-n", namespace, "--port", str(port)]
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}/"
    try:

        def forwarded() -> bool:
            if proc.poll() is not None:
                raise AssertionError(f"faultline dashboard exited with {proc.returncode}")
            return answers(url)

        cluster.wait_for("dashboard forwarded", forwarded, timeout=120)
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
    assert f"dashboard: {url}" in out.decode()
    assert not answers(url)  # kubectl port-forward went away with it


def test_dashboard_without_a_service_is_an_error(cluster, namespace) -> None:  # type: ignore[no-untyped-def]
    result = subprocess.run(
        [str(FAULTLINE), "dashboard", "-n", namespace],
        env=cli_env(cluster.kubeconfig),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 3
    assert f"no dashboard Service (app.kubernetes.io/component=dashboard) in {namespace}" in (
        result.stderr
    )
