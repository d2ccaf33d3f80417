"""Network and IO faults through the real operator, chaosd and kernel, measured from inside pods;
plus the controller crashing mid-experiment.

- loss 30 %: measured with many pings from a client pod, within 5 points;
- loss + delay from two objects on one pod both act, and deleting one leaves the other;
- IOChaos fault on an emptyDir volume: the application sees EIO, and normal reads after delete;
- the operator is SIGKILLed mid-experiment and a new one started: the experiment still ends at
  its duration and the traffic recovers.
"""

from __future__ import annotations

import re
import time
from datetime import datetime

import pytest

from tests.support.kube import apply, chaos, sh, status
from tests.support.pods import demo_pod, ready_pod, serves, web_and_client

pytestmark = pytest.mark.cluster


def _ping(cluster, ns: str, ip: str, count: int, interval: str) -> tuple[int, int, float]:
    """(sent, received, min rtt in ms; inf when nothing came back) from the client pod."""
    out = sh(cluster, ns, "client", f"ping -c {count} -i {interval} -W 2 {ip}").stdout
    m = re.search(r"(\d+) packets transmitted, (\d+) packets received", out)
    assert m, out
    rtt = re.search(r"min/avg/max = ([\d.]+)/", out)
    return int(m.group(1)), int(m.group(2)), float(rtt.group(1)) if rtt else float("inf")


def _injected(cluster, ns: str, kind: str, name: str, n: int = 1) -> None:
    cluster.wait_for(
        f"{kind} {name} injected",
        lambda: status(cluster, ns, kind, name).get("injectedTargets") == n,
        timeout=90,
    )


def _web_net(name: str, action: str, **extra: object) -> dict:
    return chaos(
        "NetworkChaos",
        name,
        action=action,
        mode="all",
        selector={"labelSelectors": {"app": "web"}},
        **extra,
    )


def test_loss_30_percent_is_measured_within_5_points(cluster, own_ns, start_operator) -> None:
    start_operator()
    ip = web_and_client(cluster, own_ns)["status"]["podIP"]
    sent, got, _ = _ping(cluster, own_ns, ip, 20, "0.05")
    assert got == sent

    apply(cluster, own_ns, _web_net("lossy", "loss", loss={"loss": "30"}))
    _injected(cluster, own_ns, "networkchaos", "lossy")
    sent, got, _ = _ping(cluster, own_ns, ip, 1000, "0.01")
    loss = 100 * (sent - got) / sent
    print(f"measured loss {loss:.1f} % over {sent} pings (asked 30 %)")
    assert 25 <= loss <= 35

    cluster.kubectl("delete", "-n", own_ns, "networkchaos", "lossy", "--timeout=60s")
    sent, got, _ = _ping(cluster, own_ns, ip, 50, "0.02")
    assert got == sent


def test_loss_and_delay_from_two_objects_compose(cluster, own_ns, start_operator) -> None:
    start_operator()
    ip = web_and_client(cluster, own_ns)["status"]["podIP"]
    apply(cluster, own_ns, _web_net("lossy", "loss", loss={"loss": "40"}))
    apply(cluster, own_ns, _web_net("slow", "delay", delay={"latency": "300ms"}))
    _injected(cluster, own_ns, "networkchaos", "lossy")
    _injected(cluster, own_ns, "networkchaos", "slow")

    sent, got, rtt = _ping(cluster, own_ns, ip, 60, "0.1")
    assert (sent - got) / sent >= 0.15  # loss acts (40 % asked)
    assert rtt >= 280  # and so does the delay

    cluster.kubectl("delete", "-n", own_ns, "networkchaos", "lossy", "--timeout=60s")
    sent, got, rtt = _ping(cluster, own_ns, ip, 30, "0.1")
    assert got == sent  # loss gone...
    assert rtt >= 280  # ...delay still there

    cluster.kubectl("delete", "-n", own_ns, "networkchaos", "slow", "--timeout=60s")
    sent, got, rtt = _ping(cluster, own_ns, ip, 20, "0.05")
    assert got == sent and rtt < 100


def test_io_fault_on_emptydir_returns_eio_until_deleted(cluster, own_ns, start_operator) -> None:
    start_operator()
    spec = {"volumes": [{"name": "data", "emptyDir": {}}]}
    doc = demo_pod("app", "app", **spec)
    doc["spec"]["containers"][0]["volumeMounts"] = [{"name": "data", "mountPath": "/data"}]
    apply(cluster, own_ns, doc)
    ready_pod(cluster, own_ns, "app")
    assert sh(cluster, own_ns, "app", "echo hello > /data/f && cat /data/f").stdout == "hello\n"

    apply(
        cluster,
        own_ns,
        chaos(
            "IOChaos",
            "eio",
            action="fault",
            mode="all",
            volumePath="/data",
            path="**",
            errno=5,
            percent=100,
            selector={"labelSelectors": {"app": "app"}},
        ),
    )
    _injected(cluster, own_ns, "iochaos", "eio")
    read = sh(cluster, own_ns, "app", "cat /data/f")
    assert read.returncode != 0
    assert "Input/output error" in read.stderr  # EIO, as the application sees it

    cluster.kubectl("delete", "-n", own_ns, "iochaos", "eio", "--timeout=60s")
    cluster.wait_for(
        "reads work again",
        lambda: sh(cluster, own_ns, "app", "cat /data/f").stdout == "hello\n",
        timeout=60,
    )


def test_experiment_ends_on_time_after_a_controller_crash(cluster, own_ns, start_operator) -> None:
    op = start_operator()
    ip = web_and_client(cluster, own_ns)["status"]["podIP"]
    apply(
        cluster,
        own_ns,
        _web_net(
            "cut",
            "partition",
            direction="both",
            duration="30s",
            target={"mode": "all", "selector": {"labelSelectors": {"app": "client"}}},
        ),
    )
    _injected(cluster, own_ns, "networkchaos", "cut")
    assert not serves(cluster, own_ns, "client", ip)

    op.kill()  # SIGKILL mid-experiment
    time.sleep(5)  # the controller stays dead for a while (not a timing assertion)
    assert status(cluster, own_ns, "networkchaos", "cut")["phase"] == "Running"
    op.start()  # a fresh process: nothing in memory, only the object's status

    cluster.wait_for(
        "finished",
        lambda: status(cluster, own_ns, "networkchaos", "cut").get("phase") == "Finished",
        timeout=120,
    )
    st = status(cluster, own_ns, "networkchaos", "cut")
    lasted = datetime.fromisoformat(st["endTime"]) - datetime.fromisoformat(st["startTime"])
    print(f"experiment lasted {lasted.total_seconds():.1f} s (duration 30 s)")
    assert 30 <= lasted.total_seconds() < 60
    assert st["records"][0]["phase"] == "Recovered"
    cluster.wait_for("traffic flows", lambda: serves(cluster, own_ns, "client", ip), 60)
