"""Spec -> chaosd desired state: every network action, IO translation, and refusals."""

from __future__ import annotations

from typing import Any

import pytest

from backend.domain.plan import PlanError, desired_state, io_fault, network_faults, relative_glob
from backend.spec import IOChaosSpec, NetworkChaosSpec
from chaosd.model import (
    BandwidthFault,
    DelayFault,
    DesiredState,
    LossFault,
    PartitionFault,
)

SEL = {"selector": {"labelSelectors": {"app": "web"}}, "mode": "all"}
TARGET = {"selector": {"labelSelectors": {"app": "db"}}, "mode": "all"}


def net(**spec: Any) -> NetworkChaosSpec:
    return NetworkChaosSpec.model_validate({**SEL, **spec})


def test_partition_with_target_pods_and_external_targets() -> None:
    spec = net(
        action="partition",
        direction="both",
        target=TARGET,
        externalTargets=["192.0.2.0/24", "db.example"],
    )
    [fault] = network_faults(spec, ["10.1.0.7"], {"db.example": ["198.51.100.9"]})
    assert isinstance(fault, PartitionFault)
    assert fault.direction == "both"
    assert [p.cidr for p in fault.peers] == ["10.1.0.7/32", "192.0.2.0/24", "198.51.100.9/32"]


def test_a_target_that_matches_nothing_never_widens_to_all_traffic() -> None:
    spec = net(action="loss", loss={"loss": "30"}, target=TARGET)
    with pytest.raises(PlanError, match=r"^target: no pod matches"):
        network_faults(spec, [])


def test_unresolved_dns_name_is_named() -> None:
    spec = net(action="partition", externalTargets=["api.example"])
    with pytest.raises(PlanError, match=r"^externalTargets\[0\]"):
        network_faults(spec)


def test_loss_and_delay_values_carry_over() -> None:
    [loss] = network_faults(net(action="loss", loss={"loss": "12.5", "correlation": "25"}))
    assert isinstance(loss, LossFault)
    assert (loss.loss, loss.correlation, loss.peers) == (12.5, 25.0, [])
    delay_spec = {"latency": "100ms", "jitter": "5ms", "reorder": {"reorder": "10"}}
    [delay] = network_faults(net(action="delay", delay=delay_spec, device="eth0"))
    assert isinstance(delay, DelayFault)
    assert (delay.latency, delay.jitter, delay.reorder, delay.device) == (
        "100ms",
        "5ms",
        10.0,
        "eth0",
    )


def test_netem_gives_one_fault_per_block() -> None:
    spec = net(
        action="netem", loss={"loss": "1"}, duplicate={"duplicate": "2"}, corrupt={"corrupt": "3"}
    )
    assert [f.kind for f in network_faults(spec)] == ["loss", "duplicate", "corrupt"]


def test_bandwidth_defaults() -> None:
    [bw] = network_faults(net(action="bandwidth", bandwidth={"rate": "1mbps"}))
    assert isinstance(bw, BandwidthFault)
    assert (bw.rate, bw.limit, bw.buffer, bw.peakrate) == ("1mbps", 20971520, 10000, None)


def test_reorder_gap_is_refused_not_ignored() -> None:
    spec = net(action="delay", delay={"latency": "1s", "reorder": {"reorder": "5", "gap": 3}})
    with pytest.raises(PlanError, match=r"^delay\.reorder\.gap"):
        network_faults(spec)


def io(**spec: Any) -> IOChaosSpec:
    return IOChaosSpec.model_validate({**SEL, "volumePath": "/var/lib/db", **spec})


def test_io_fault_translation() -> None:
    fault = io(action="fault", errno=28, path="/var/lib/db/**/*.log", percent=40, methods=["write"])
    assert (fault_ := io_fault(fault)).path == "**/*.log"
    assert (fault_.errno, fault_.percent, fault_.methods) == (28, 40.0, ["write"])
    attr = io_fault(
        io(
            action="attrOverride",
            attr={"kind": "directory", "perm": 0o600, "mtime": {"sec": 5, "nsec": 5e8}},
        )
    )
    assert attr.attr is not None
    assert (attr.attr.kind, attr.attr.perm, attr.attr.mtime) == ("dir", 0o600, 5.5)
    mistake = io_fault(io(action="mistake", mistake={"filling": "random", "maxLength": 8}))
    assert mistake.mistake is not None and mistake.mistake.maxLength == 8


@pytest.mark.parametrize(
    ("path", "expected"),
    [(None, "**"), ("/var/lib/db", "**"), ("/var/lib/db/a/*", "a/*"), ("rel/**", "rel/**")],
)
def test_relative_glob(path: str | None, expected: str) -> None:
    assert relative_glob("/var/lib/db/", path) == expected


def test_path_outside_the_volume_is_refused() -> None:
    with pytest.raises(PlanError, match=r"^path: '/etc/passwd' is not under volumePath"):
        io_fault(io(action="fault", errno=5, path="/etc/passwd"))


def test_faults_from_several_objects_compose() -> None:
    loss = network_faults(net(action="loss", loss={"loss": "10"}))
    delay = network_faults(net(action="delay", delay={"latency": "50ms"}))
    state = desired_state(4242, {"shop/b-delay": delay, "shop/a-loss": loss, "shop/c": []})
    assert isinstance(state, DesiredState)
    assert [f.kind for f in state.faults] == ["loss", "delay"]
    assert state.owner == "shop/a-loss,shop/b-delay"
    assert desired_state(4242, {}).faults == []
