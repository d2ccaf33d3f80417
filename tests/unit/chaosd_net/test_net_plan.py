"""Pure planning of network faults: no root, no kernel."""

from __future__ import annotations

import pytest

from chaosd.faults.base import FaultError, UnsupportedFault
from chaosd.faults.network.plan import (
    NETEM_HANDLE,
    QUEUE_BASE,
    TBF_HANDLE,
    Capabilities,
    build_plan,
    parse_rate,
)
from chaosd.faults.network.qdisc import our_roots_in_tc_json
from chaosd.model import (
    BandwidthFault,
    CorruptFault,
    DelayFault,
    DesiredState,
    DuplicateFault,
    IOFault,
    LossFault,
    PartitionFault,
    Peer,
)

PLAIN = Capabilities(netem=False, nft_queue=False)
NETEM = Capabilities(netem=True, nft_queue=True)


def test_partition_both_directions_with_ports() -> None:
    peer = Peer(cidr="10.1.2.0/24", ports=[443, 80], protocol="tcp")
    plan = build_plan("web-1", [PartitionFault(direction="both", peers=[peer])], PLAIN)
    assert plan.chains["output"] == [
        'ip daddr 10.1.2.0/24 tcp dport { 80, 443 } counter drop comment "partition#0"'
    ]
    assert plan.chains["input"] == [
        'ip saddr 10.1.2.0/24 tcp sport { 80, 443 } counter drop comment "partition#0"'
    ]


def test_ipv6_any_protocol_single_port_and_device() -> None:
    peer = Peer(cidr="fd00::1", ports=[53])
    plan = build_plan("t", [PartitionFault(peers=[peer], device="eth1")], PLAIN)
    assert plan.chains == {
        "output": [
            'oifname "eth1" ip6 daddr fd00::1/128 meta l4proto { tcp, udp } th dport 53 '
            'counter drop comment "partition#0"'
        ]
    }


def test_loss_uses_basis_points_and_rejects_correlation() -> None:
    plan = build_plan("t", [LossFault(loss=12.5)], PLAIN)
    assert plan.chains["output"] == ['counter numgen random mod 10000 < 1250 drop comment "loss#0"']
    assert build_plan("t", [LossFault(loss=0)], PLAIN).needs_table is False
    with pytest.raises(FaultError, match=r"faults\[0\]\.correlation"):
        build_plan("t", [LossFault(loss=10, correlation=25)], PLAIN)


def test_delay_without_netem_goes_through_a_delayer() -> None:
    faults = [LossFault(loss=5), DelayFault(latency="50ms", jitter="10ms", direction="from")]
    plan = build_plan("t", faults, PLAIN)
    (d,) = plan.delayers
    assert (d.queue, d.latency, d.jitter) == (QUEUE_BASE, 0.05, 0.01)
    assert plan.chains["input"] == [f'counter jump delay_{QUEUE_BASE} comment "delay#1"']
    assert plan.mechanisms == ["nftables", "nfqueue-delayer"]
    assert d.args("t")[:3] == ["faultline-delayer", "target=t", f"queue={QUEUE_BASE}"]
    text = plan.nft_transaction(existing_delay_queues=[QUEUE_BASE + 1])
    assert f"add chain inet faultline delay_{QUEUE_BASE}\n" in text
    assert f"delete chain inet faultline delay_{QUEUE_BASE + 1}\n" in text
    assert "queue num" not in text  # added over netlink on kernels without nft_queue


def test_native_queue_is_in_the_transaction() -> None:
    plan = build_plan("t", [DelayFault(latency="5ms", peers=[Peer(cidr="10.0.0.1")])],
                      Capabilities(netem=False, nft_queue=True))  # fmt: skip
    assert f"add rule inet faultline delay_{QUEUE_BASE} queue num {QUEUE_BASE} bypass" in (
        plan.nft_transaction([])
    )


@pytest.mark.parametrize("fault", [DuplicateFault(duplicate=1), CorruptFault(corrupt=1)])
def test_duplicate_and_corrupt_need_netem(fault: DuplicateFault | CorruptFault) -> None:
    with pytest.raises(UnsupportedFault, match="unsupported on this node: kernel lacks sch_netem"):
        build_plan("t", [fault], PLAIN)


def test_netem_node_combines_into_one_qdisc_under_tbf() -> None:
    faults = [DelayFault(latency="10ms"), DuplicateFault(duplicate=2), BandwidthFault(rate="8mbit")]
    plan = build_plan("t", faults, NETEM)
    tbf, netem = plan.qdiscs
    assert (tbf.kind, tbf.handle, tbf.parent) == ("tbf", TBF_HANDLE, None)
    assert dict(tbf.params)["rate"] == 1_000_000
    assert (netem.kind, netem.handle, netem.parent) == ("netem", NETEM_HANDLE, TBF_HANDLE | 1)
    assert dict(netem.params)["delay"] == 0.01 and dict(netem.params)["duplicate"] == 2
    assert not plan.needs_table and plan.delayers == ()
    with pytest.raises(FaultError, match=r"faults\[0\]\.peers"):
        build_plan("t", [DuplicateFault(duplicate=1, peers=[Peer(cidr="10.0.0.1")])], NETEM)


def test_bandwidth_rates_and_validation() -> None:
    assert parse_rate("1mbit") == 125_000
    assert parse_rate("1mbps") == 1_000_000  # tc: bps is bytes per second
    assert parse_rate("2.5kbit") == 312
    with pytest.raises(FaultError, match=r"faults\[0\]\.minburst"):
        build_plan("t", [BandwidthFault(rate="1mbit", peakrate=200_000)], PLAIN)
    with pytest.raises(FaultError, match="only one bandwidth"):
        build_plan("t", [BandwidthFault(rate="1mbit"), BandwidthFault(rate="2mbit")], PLAIN)


def test_bad_target_and_foreign_fault_are_named() -> None:
    with pytest.raises(FaultError, match=r"target\.id"):
        build_plan('x" drop', [], PLAIN)
    io = IOFault(action="fault", volumePath="/data", errno=5)
    with pytest.raises(FaultError, match=r"faults\[0\]\.kind: 'io'"):
        build_plan("t", [io], PLAIN)


def test_plans_are_deterministic_and_empty_plan_deletes_the_table() -> None:
    faults = [LossFault(loss=3), DelayFault(latency="1ms")]
    assert build_plan("t", faults, PLAIN).digest == build_plan("t", faults, PLAIN).digest
    assert build_plan("t", faults, PLAIN).digest != build_plan("t", faults[:1], PLAIN).digest
    empty = build_plan("t", [], PLAIN)
    assert empty.nft_transaction([]) == "add table inet faultline\ndelete table inet faultline\n"


def test_drops_come_before_the_delay_jump_whatever_the_order() -> None:
    # A packet queued to the delayer leaves the chain once accepted: a loss rule laid out after
    # the jump would never see it.
    faults = [
        DelayFault(latency="30ms"),
        LossFault(loss=20),
        PartitionFault(peers=[Peer(cidr="10.0.0.9")]),
    ]
    out = build_plan("t", faults, PLAIN).chains["output"]
    assert [r.rsplit('"', 2)[1] for r in out] == ["loss#1", "partition#2", "delay#0"]


def test_a_set_read_back_from_the_journal_plans_the_same_delayers() -> None:
    """Defaults (correlation 0) and values sent as 0.0 must give one command line, or verify and
    a restarted chaosd would see the running delayer as stale."""
    sent = DesiredState.model_validate({"pid": 1, "faults": [{"kind": "delay", "latency": "20ms"}]})
    read_back = DesiredState.model_validate_json(sent.model_dump_json())
    caps = Capabilities(netem=False, nft_queue=False)
    first = build_plan("t", sent.faults, caps)
    again = build_plan("t", read_back.faults, caps)
    assert [d.args("t") for d in first.delayers] == [d.args("t") for d in again.delayers]
    assert first.digest == again.digest


def test_the_leak_scan_reads_only_faultline_root_qdiscs_from_tc_json() -> None:
    text = (
        '[{"kind":"tbf","handle":"fa17:","root":true,"dev":"eth0"},'
        '{"kind":"tbf","handle":"1:","root":true,"dev":"foreign0"},'
        '{"kind":"netem","handle":"fa18:","parent":"fa17:","dev":"eth0"},'
        '{"kind":"noqueue","handle":"0:","root":true,"dev":"lo"}]'
    )
    assert our_roots_in_tc_json(text) == [{"device": "eth0", "handle": "fa17:", "kind": "tbf"}]
    assert our_roots_in_tc_json("") == [] and our_roots_in_tc_json("not json") == []
