"""Experiments judged against ground truth, on the real cluster and the real engine.

A small HTTP service in this test process refuses requests (503) on command, so the truth of
an outage is known to the millisecond. The load probe runs inside a Faultline operator of this
module's own (FAULTLINE_PROBE_MODE=local, on this host), mirroring every run to a real dashboard
API; the Experiments' faults are real chaos objects injected by that operator through chaosd.
Where a fault must not touch the measured service, it partitions a bystander pod from an
address nobody uses (TEST-NET-2): a real, verified injection that the service cannot feel.
Probes of that service run open loop (a fixed request rate): its QPS is then the rate whatever
CPU the shared machine leaves the service and the probe, so only the outage moves it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from kubernetes import client

from backend.api.app import create_app
from backend.settings import Settings
from tests.api.server import serve
from tests.support.kube import apply, pods
from tests.support.operator import OWN_PREFIX, OperatorProcess
from tests.support.pods import deployment, node_source_address, pod_nft_tables, service
from tests.support.service import answers

pytestmark = [pytest.mark.cluster, pytest.mark.slow, pytest.mark.timeout(600)]

API = "chaos.faultline.dev/v1alpha1"
NOBODY = "198.51.100.7"  # TEST-NET-2: no packet of any test goes there


REFUSER = textwrap.dedent(
    """
    import json, sys, time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    state = {"until": 0.0, "refused": 0, "served": 0}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: measure the service, not handshakes
        # Headers and body leave in two writes; with Nagle's algorithm the second waits for
        # the client's delayed ACK (~40 ms), capping the service at ~25 requests/s per client.
        disable_nagle_algorithm = True

        def answer(self, code, body):
            self.send_response(code)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            if self.path == "/stats":
                return self.answer(200, json.dumps(state).encode())
            refusing = time.time() < state["until"]
            state["refused" if refusing else "served"] += 1
            self.answer(503 if refusing else 200, b"refused\\n" if refusing else b"ok\\n")

        def do_POST(self):  # /refuse?until=<Unix seconds>
            state["until"] = float(self.path.split("until=", 1)[1])
            self.answer(200, b"ok\\n")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()
    """
)


class Refuser:
    """The ground-truth service, in a process of its own (so this test process's threads never
    stall it): answers 200, or 503 until the commanded instant; counts what it refused."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", REFUSER], stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None
        self.url = f"http://127.0.0.1:{int(self.proc.stdout.readline())}/"
        self.commanded_at: float | None = None

    def refuse_until(self, until: float) -> None:
        """Refuse every request from now until `until` (Unix seconds)."""
        self.commanded_at = time.time()
        httpx.post(f"{self.url}refuse?until={until!r}", timeout=5).raise_for_status()

    @property
    def refused(self) -> int:
        return int(httpx.get(f"{self.url}stats", timeout=5).json()["refused"])

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


@pytest.fixture(scope="module")
def truth_ns(cluster) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A namespace only this module's operator watches, with a bystander Deployment."""
    name = f"{OWN_PREFIX}{uuid.uuid4().hex[:8]}"
    cluster.kubectl("create", "namespace", name)
    try:
        cluster.wait_for(
            "service account",
            lambda: "default" in cluster.kubectl("get", "-n", name, "sa", "-o", "name"),
        )
        apply(cluster, name, deployment("bystander", 1))
        apply(cluster, name, service("bystander"))
        cluster.kubectl("rollout", "status", "-n", name, "deploy/bystander", "--timeout=180s")
        yield name
    finally:
        cluster.kubectl("delete", "namespace", name, "--wait=false", check=False)


@pytest.fixture(scope="module")
def board(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A real dashboard API (SQLite) on loopback: (base URL, admin token)."""
    tmp = tmp_path_factory.mktemp("board")
    settings = Settings(
        data_dir=tmp / "data",
        database_url=f"sqlite:///{tmp / 'faultline.db'}",
        housekeeping_enabled=False,
        log_level="WARNING",
    )
    with serve(create_app(settings)) as running:
        yield running.base_url, str(running.app.state.initial_admin_token)


@pytest.fixture(scope="module")
def engine(cluster, crds, chaosd, truth_ns, board, tmp_path_factory):  # type: ignore[no-untyped-def]
    """This module's operator: local probes, the dashboard mirror, only `truth_ns`."""
    log: Path = tmp_path_factory.mktemp("engine") / "operator.log"
    env = {
        "FAULTLINE_WATCH_NAMESPACES": truth_ns,
        "FAULTLINE_OPERATOR_NAMESPACE": truth_ns,
        "FAULTLINE_PROBE_MODE": "local",
        "FAULTLINE_DASHBOARD_URL": board[0],
        "FAULTLINE_DASHBOARD_TOKEN": board[1],
    }
    op = OperatorProcess(cluster.kubeconfig, chaosd, log, env)
    op.start()
    try:
        yield op
    finally:
        # While the operator still runs, so finalizers are released and faults recovered.
        cluster.kubectl(
            "delete", "-n", truth_ns, "experiments,podchaos,networkchaos,iochaos", "--all",
            "--timeout=90s", check=False,
        )  # fmt: skip
        op.stop()
        print(log.read_text()[-4000:])


@pytest.fixture
def refuser() -> Iterator[Refuser]:
    server = Refuser()
    try:
        yield server
    finally:
        server.close()


def _partition(name: str, source: str, app: str = "bystander") -> dict:
    return {
        "name": name,
        "type": "NetworkChaos",
        "networkChaos": {
            "action": "partition",
            "mode": "all",
            "selector": {"labelSelectors": {"app": app}},
            "direction": "both",
            "externalTargets": [source],
        },
    }


def _experiment(name: str, probe: dict, faults: list, tolerances: list, **timing: str) -> dict:
    return {
        "apiVersion": API,
        "kind": "Experiment",
        "metadata": {"name": name},
        "spec": {
            "hypothesis": {
                "title": f"{name}: the service keeps serving",
                "probes": [{"name": "web", "type": "load", "timeout": "500ms", **probe}],
                "tolerances": tolerances,
            },
            "faults": faults,
            "timing": {"baseline": "5s", "recoveryDeadline": "30s", **timing},
        },
    }


def _status(cluster, ns: str, name: str) -> dict:  # type: ignore[no-untyped-def]
    obj = client.CustomObjectsApi(cluster.api).get_namespaced_custom_object(
        "chaos.faultline.dev", "v1alpha1", ns, "experiments", name
    )
    return dict(obj.get("status") or {})


def _finished(cluster, ns: str, name: str, timeout: float = 240) -> dict:  # type: ignore[no-untyped-def]
    cluster.wait_for(
        f"{name} finished",
        lambda: _status(cluster, ns, name).get("phase") == "Finished",
        timeout=timeout,
    )
    return _status(cluster, ns, name)


def _ts(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def _events(cluster, ns: str, name: str) -> list[Any]:  # type: ignore[no-untyped-def]
    return (
        client.CoreV1Api(cluster.api)
        .list_namespaced_event(
            ns, field_selector=f"involvedObject.name={name},involvedObject.kind=Experiment"
        )
        .items
    )


def test_time_to_recover_matches_a_known_outage(cluster, truth_ns, engine, refuser) -> None:
    """The service refuses every request from the fault's start for exactly T seconds; the
    measured time-to-recover (from fault start) is T within 1 s."""
    T = 5.0
    doc = _experiment(
        "truth",
        {"url": refuser.url, "rate": 50},
        [_partition("aside", NOBODY)],
        [{"probe": "web", "recoverTo": 90, "within": "30s", "from": "faultStart"}],
        faultDuration=f"{T:g}s",
    )
    apply(cluster, truth_ns, doc)
    # The command names the absolute end, fault start + T, so however late it arrives the
    # service is back at exactly T after the fault started.
    cluster.wait_for(
        "fault start", lambda: "faultStartTime" in _status(cluster, truth_ns, "truth"), 120
    )
    fault_start = _ts(_status(cluster, truth_ns, "truth")["faultStartTime"])
    refuser.refuse_until(fault_start + T)
    assert refuser.commanded_at is not None
    lag = refuser.commanded_at - fault_start
    status = _finished(cluster, truth_ns, "truth")

    [m] = status["metrics"]
    ttr = m["timeToRecoverFromStartSeconds"]
    print(f"ground truth: T={T}s measured={ttr}s error={ttr - T:+.2f}s command lag={lag:.2f}s")
    print("truth metrics:", json.dumps(m))
    assert lag < T / 2  # the outage really covered most of the window ...
    assert refuser.refused > 0 and m["minQps"] == 0  # ... and the probe saw it
    assert abs(ttr - T) <= 1.0, m
    assert status["verdict"] == "Passed", status
    assert "faultsVerifiedTime" in status  # the partition was seen in force


def test_unrealistic_hypothesis_fails_with_its_evidence_stored(
    cluster, truth_ns, engine, board, refuser
) -> None:
    """'Never below 99 % of baseline' cannot hold through a 3 s outage: Failed, and the
    dashboard holds the failed criterion, the measured metrics and the dipped series."""
    doc = _experiment(
        "never-below",
        {"url": refuser.url, "rate": 50},
        [_partition("aside", NOBODY)],
        [{"probe": "web", "atLeastPercentOfBaseline": 99, "during": "whole"}],
        faultDuration="3s",
    )
    apply(cluster, truth_ns, doc)
    cluster.wait_for(
        "fault start", lambda: "faultStartTime" in _status(cluster, truth_ns, "never-below"), 120
    )
    refuser.refuse_until(_ts(_status(cluster, truth_ns, "never-below")["faultStartTime"]) + 3)
    status = _finished(cluster, truth_ns, "never-below")
    assert status["verdict"] == "Failed", status
    [result] = status["results"]
    assert not result["passed"] and result["observed"].startswith("worst ")
    floor = float(result["expected"].split()[1])  # ">= 34.65 (99% of baseline 35)"
    assert float(result["observed"].split()[1]) < floor

    url, token = board
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as api:
        run = api.get(f"/api/v1/runs/{status['dashboardRunId']}").json()
        points = api.get(f"/api/v1/runs/{run['id']}/observations").json()["points"]
    stored = run["metrics"]
    print("dashboard run metrics:", json.dumps(stored))
    assert (run["phase"], run["verdict"]) == ("Finished", "Failed")
    assert stored["results"] == status["results"]  # the criterion and what was observed
    for key in ("baselineQps", "minQps", "dipDepthPercent", "timeToRecoverFromStartSeconds"):
        assert stored["probes"][0][key] == pytest.approx(status["metrics"][0][key]), key
    assert stored["fault_started_at"] == pytest.approx(_ts(status["faultStartTime"]), abs=1e-3)
    assert stored["fault_ended_at"] == pytest.approx(_ts(status["faultEndTime"]), abs=1e-3)
    # The stored curve shows the outage inside the fault window and service around it.
    fs, fe = stored["fault_started_at"], stored["fault_ended_at"]
    assert any(p["qps"] == 0 and p["error_rate"] == 1 for p in points if fs <= p["ts"] <= fe + 1)
    assert any(p["qps"] > 0 for p in points if p["ts"] < fs)
    assert len(points) >= 5 * 10  # 5 samples/s over at least 10 s


def test_ten_runs_without_a_fault_on_the_service_raise_no_false_alarm(
    cluster, truth_ns, engine, refuser
) -> None:
    """Ten runs of the canonical hypothesis (two at a time) while nothing touches the service:
    only noise - a busy shared machine, probes sharing one operator - never a Failed verdict."""
    tolerances = [
        {"probe": "web", "recoverTo": 90, "within": "60s", "from": "faultStart"},
        {"probe": "web", "atLeastPercentOfBaseline": 50, "during": "fault"},
        {"probe": "web", "metric": "errorRate", "atMost": 0.01, "during": "afterRecovery"},
    ]
    # Open loop: two closed-loop probes would share the service's capacity, and the one that
    # starts second would dip the first one's QPS - a load the test makes, not noise.
    probe = {"url": refuser.url, "rate": 20, "timeout": "2s"}
    verdicts: dict[str, dict] = {}
    for batch in range(5):
        names = [f"quiet-{batch}-{i}" for i in range(2)]
        for name in names:
            doc = _experiment(name, probe, [_partition("aside", NOBODY)], tolerances)
            doc["spec"]["timing"].update(baseline="4s", faultDuration="3s")
            apply(cluster, truth_ns, doc)
        verdicts.update({n: _finished(cluster, truth_ns, n) for n in names})
    summary = {n: (s["verdict"], s.get("message", "")) for n, s in verdicts.items()}
    print("quiet runs:", json.dumps(summary))
    assert len(verdicts) == 10
    assert not [n for n, s in verdicts.items() if s["verdict"] == "Failed"], summary
    # A run may only fall short of Passed by saying it could not judge because its own probe
    # went silent (a starved machine) - never by blaming the service.
    for verdict, message in summary.values():
        assert verdict == "Passed" or (verdict == "Error" and "probe" in message), summary
    assert refuser.refused == 0


def test_abort_emits_an_event_and_removes_the_fault(cluster, truth_ns, engine) -> None:
    ip = json.loads(cluster.kubectl("get", "-n", truth_ns, "svc", "bystander", "-o", "json"))
    url = f"http://{ip['spec']['clusterIP']}/"
    cluster.wait_for("bystander answers", lambda: answers(url), timeout=60)
    bystanders = pods(cluster, truth_ns, "bystander")
    source = node_source_address(bystanders[0]["status"]["podIP"])
    doc = _experiment(
        "cut-off",
        {"url": url, "workers": 2},
        [_partition("cut", source)],
        [{"probe": "web", "recoverTo": 90, "within": "30s"}],
        faultDuration="10m",  # only the abort can end it in time
    )
    doc["spec"]["abort"] = {"conditions": [{"probe": "web", "belowPercent": 50, "for": "2s"}]}
    apply(cluster, truth_ns, doc)
    status = _finished(cluster, truth_ns, "cut-off")

    assert status["verdict"] == "Aborted", status
    decided, removed = _ts(status["abortTime"]), _ts(status["faultsRemovedTime"])
    print(
        f"abort: faults removed {removed - decided:.2f}s after the decision ({status['message']})"
    )
    assert removed >= decided
    events = [e for e in _events(cluster, truth_ns, "cut-off") if e.reason == "Aborted"]
    assert events, [(e.reason, e.message) for e in _events(cluster, truth_ns, "cut-off")]
    assert events[0].type == "Warning" and "qps below 50% of baseline" in events[0].message
    # Recovered for real: no chaos object, no rule in the pod, traffic flows again.
    assert "cut-off-cut" not in cluster.kubectl("get", "-n", truth_ns, "networkchaos")
    for pod in bystanders:
        assert "faultline" not in pod_nft_tables(pod)
    assert answers(url)


def test_a_fault_that_was_not_injected_is_an_error(cluster, truth_ns, engine, refuser) -> None:
    """No target matched, and a fault the node daemon cannot apply (netem is missing from this
    kernel): Error, with the reason - never Passed, although the service never dipped."""
    tolerances = [{"probe": "web", "recoverTo": 90, "within": "60s"}]
    probe = {"url": refuser.url, "workers": 1}
    nobody = _partition("nobody", NOBODY, app="no-such-app")
    netem = {
        "name": "dup",
        "type": "NetworkChaos",
        "networkChaos": {
            "action": "duplicate",
            "mode": "all",
            "selector": {"labelSelectors": {"app": "bystander"}},
            "duplicate": {"duplicate": "50"},
        },
    }
    for name, fault in (("unmatched", nobody), ("refused", netem)):
        doc = _experiment(name, probe, [fault], tolerances, faultDuration="2s")
        doc["spec"]["timing"]["injectionTimeout"] = "8s"
        apply(cluster, truth_ns, doc)
    unmatched = _finished(cluster, truth_ns, "unmatched")
    refused = _finished(cluster, truth_ns, "refused")
    print("not injected:", unmatched["message"], "|", refused["message"])
    for st in (unmatched, refused):
        assert st["verdict"] == "Error", st
        assert "not verified in force within 8s" in st["message"]
        assert "faultsVerifiedTime" not in st
    assert "no target matched" in unmatched["message"]
    assert "unmatched-nobody" in unmatched["message"] and "refused-dup" in refused["message"]
    for name in ("unmatched", "refused"):
        reasons = [e.reason for e in _events(cluster, truth_ns, name)]
        assert "Error" in reasons, reasons
    assert "refused-dup" not in cluster.kubectl("get", "-n", truth_ns, "networkchaos")
