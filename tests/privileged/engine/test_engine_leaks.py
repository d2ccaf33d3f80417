"""The node-wide leak scan against real namespaces: orphans of every kind, as a crashed older
chaosd leaves them (kernel objects and helpers with no journal entry), are removed at start, on
demand and periodically; a desired target and foreign objects in the same namespaces survive."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import pytest
from engine_lab import CHAOSD, Daemon, Pod, inspect, nsrun

from chaosd.faults.base import TargetRef
from chaosd.faults.io import family as io_family
from chaosd.faults.network import family as net_family
from chaosd.model import BandwidthFault, DelayFault, IOFault, LossFault, Peer

pytestmark = pytest.mark.privileged


def plant_orphans(pod: Pod, peer: Pod) -> None:
    """What a chaosd that crashed and lost its journal leaves: an nft table, a tbf qdisc, a
    delayer, a FUSE layer and its server, under a target id no journal knows."""
    net = TargetRef(pod.id, pod.pid)
    faults = [
        LossFault(loss=50, peers=[Peer(cidr=f"{peer.ip}/32")]),
        DelayFault(latency="10ms"),
        BandwidthFault(rate="10mbit", device="eth0"),
    ]
    net_family.apply(net, net_family.plan(net, faults))
    io = TargetRef(pod.id, pod.pid)
    io_family.apply(io, io_family.plan(io, [IOFault(action="fault", volumePath=pod.volume,
                                                     errno=5)]))  # fmt: skip


def plant_foreign(pod: Pod) -> Path:
    """Objects of someone else in the same namespaces: they must survive every scan."""
    nsrun(pod, "nft", "add", "table", "inet", "foreign")
    nsrun(pod, "ip", "link", "add", "foreign0", "type", "veth", "peer", "name", "foreign1")
    nsrun(pod, "tc", "qdisc", "add", "dev", "foreign0", "root", "handle", "1:", "tbf",
          "rate", "1mbit", "burst", "10k", "latency", "50ms")  # fmt: skip
    mount_point = Path(pod.volume + "-foreign")
    mount_point.mkdir(exist_ok=True)
    subprocess.run(["nsenter", f"--mount=/proc/{pod.pid}/ns/mnt", "--", "mount", "-t", "tmpfs",
                    "foreign", str(mount_point)], check=True)  # fmt: skip
    return mount_point


def foreign_survived(pod: Pod, mount_point: Path) -> bool:
    tables = nsrun(pod, "nft", "list", "tables")
    qdiscs = nsrun(pod, "tc", "qdisc", "show", "dev", "foreign0")
    mounts = Path(f"/proc/{pod.pid}/mountinfo").read_text()
    return "inet foreign" in tables and "tbf 1:" in qdiscs and f" {mount_point} " in mounts


def gauges(text: str) -> dict[str, float]:
    return {
        m.group(1): float(m.group(2))
        for m in re.finditer(r'^chaosd_owned_objects\{kind="(\w+)"\} (\S+)$', text, re.M)
    }


def _desired_partition(c, owner: Pod, peer: Pod) -> None:  # type: ignore[no-untyped-def]
    r = c.put(f"/targets/{owner.id}", json={
        "pid": owner.pid, "lease_seconds": 300,
        "faults": [{"kind": "partition", "peers": [{"cidr": f"{peer.ip}/32"}]},
                   # a qdisc names no target: it is desired because its netns is a target's
                   {"kind": "bandwidth", "rate": "10mbit", "device": "eth0"}],
    })  # fmt: skip
    assert r.status_code == 200, r.text


def test_orphans_of_every_kind_are_removed_and_nothing_else(
    daemon: Daemon, pods: list[Pod]
) -> None:
    a, b = pods
    daemon.start("--leak-scan-interval", "0")
    with daemon.client() as c:
        _desired_partition(c, b, a)
        plant_orphans(a, b)
        foreign = plant_foreign(a)
        held = inspect(a)
        assert held["nft_table"] and held["qdiscs"] and held["fuse_mounts"], held

        seen = c.get("/doctor").json()  # looks only
        kinds = sorted(leak["kind"] for leak in seen["leaks"])
        assert kinds == ["delayer", "fuse_mount", "iofs_server", "nft_table", "qdisc"], seen
        assert not any(leak["repaired"] for leak in seen["leaks"])
        before = gauges(c.get("/metrics").text)
        print(f"gauges before: {before}; scan {seen['namespaces']} namespaces "
              f"in {seen['seconds'] * 1000:.0f} ms")  # fmt: skip
        assert before == {"nft_table": 2, "qdisc": 2, "delayer": 1, "fuse_mount": 1,
                          "iofs_server": 1}  # fmt: skip

        fixed = c.post("/doctor").json()
        assert fixed["repaired"] == 5 and all(leak["repaired"] for leak in fixed["leaks"])
        after = gauges(c.get("/metrics").text)
        print(f"gauges after: {after}")
        assert after == {"nft_table": 1, "qdisc": 1, "delayer": 0, "fuse_mount": 0,
                         "iofs_server": 0}  # fmt: skip
        metrics = c.get("/metrics").text
        for kind in ("nft_table", "qdisc", "delayer", "fuse_mount", "iofs_server"):
            assert f'chaosd_leaks_repaired_total{{kind="{kind}"}} 1.0' in metrics

        assert not any(inspect(a).values()), inspect(a)
        assert foreign_survived(a, foreign)
        # the desired target is untouched, and still verified in force
        assert inspect(b)["nft_table"] and inspect(b)["qdiscs"]
        assert c.get(f"/targets/{b.id}").json()["families"]["network"]["ok"]
        assert c.get("/doctor").json()["leaks"] == []


def test_orphans_are_removed_when_chaosd_starts_and_periodically(
    daemon: Daemon, pods: list[Pod]
) -> None:
    a, b = pods
    plant_orphans(a, b)
    foreign = plant_foreign(a)
    daemon.start("--leak-scan-interval", "1")  # the scan at start runs before /healthz answers
    assert not any(inspect(a).values()), inspect(a)
    assert "leak repaired" in daemon.log.read_text()
    plant_orphans(a, b)  # left by, say, a standalone attack killed with -9
    deadline = time.monotonic() + 60
    while any(inspect(a).values()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(inspect(a).values()), inspect(a)
    assert foreign_survived(a, foreign)


def test_doctor_cli_reports_and_repairs(tmp_path: Path, pods: list[Pod]) -> None:
    a, b = pods
    plant_orphans(a, b)
    state = str(tmp_path / "state")
    dry = subprocess.run([*CHAOSD, "doctor", "--dry-run", "--json", "--state-dir", state],
                         capture_output=True, text=True, check=False)  # fmt: skip
    assert dry.returncode == 1, dry.stdout + dry.stderr
    assert a.id in dry.stdout and inspect(a)["nft_table"]
    fix = subprocess.run([*CHAOSD, "doctor", "--state-dir", state],
                         capture_output=True, text=True, check=False)  # fmt: skip
    assert fix.returncode == 1 and "yes" in fix.stdout, fix.stdout + fix.stderr
    assert not any(inspect(a).values()), inspect(a)
    clean = subprocess.run([*CHAOSD, "doctor", "--state-dir", state],
                           capture_output=True, text=True, check=False)  # fmt: skip
    assert clean.returncode == 0 and "no leaks" in clean.stdout, clean.stdout


def test_a_peer_chaosd_targets_are_not_leaks(
    daemon: Daemon, pods: list[Pod], tmp_path: Path
) -> None:
    """Two chaosd on one node (two installs, or a standalone attack next to the daemon): each
    one's targets are desired by its own journal, which the other reads; neither removes them."""
    a, b = pods
    daemon.start("--leak-scan-interval", "0")
    with daemon.client() as c:
        _desired_partition(c, a, b)
    other = subprocess.run([*CHAOSD, "doctor", "--state-dir", str(tmp_path / "other")],
                           capture_output=True, text=True, check=False)  # fmt: skip
    assert other.returncode == 0, other.stdout
    assert inspect(a)["nft_table"]
