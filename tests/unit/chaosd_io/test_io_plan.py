"""Planning and injection decisions for IO faults: pure logic, no root needed."""

from __future__ import annotations

import random
from types import SimpleNamespace

import pytest

from chaosd.faults.base import FaultError, TargetRef
from chaosd.faults.io import IOFamily, IORule
from chaosd.faults.io.inject import Injector
from chaosd.faults.io.mounts import covering_mount, faultline_mounts, parse_mountinfo
from chaosd.faults.io.plan import build_plan
from chaosd.faults.io.rules import compile_glob
from chaosd.model import IOFault

TARGET = TargetRef("ns1.pod-a", 4242)


def fault(**fields: object) -> IOFault:
    return IOFault.model_validate({"action": "fault", "volumePath": "/data", "errno": 5, **fields})


def test_faults_on_one_volume_share_one_layer() -> None:
    plan = IOFamily().plan(TARGET, [
        fault(),
        IOFault(action="latency", volumePath="/data/", delay="1m30s", methods=["read"]),
        IOFault(action="latency", volumePath="/logs", delay="5ms"),
    ])  # fmt: skip
    assert [v.volume_path for v in plan.volumes] == ["/data", "/logs"]
    data = plan.by_volume()["/data"]
    assert [r.action for r in data.rules] == ["fault", "latency"]
    assert data.rules[1].delay_s == 90.0 and data.rules[1].methods == ("read",)


def test_plan_is_deterministic_and_round_trips_through_json() -> None:
    faults = [fault(path="**/*.db", percent=12.5), IOFault(
        action="attrOverride", volumePath="/data", attr={"size": 1, "perm": 0o644})]  # fmt: skip
    first, second = build_plan("t", faults), build_plan("t", faults)
    assert first == second
    rules = first.volumes[0].rules
    assert tuple(IORule.from_json(r.to_json()) for r in rules) == rules


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"path": "/elsewhere/x"}, r"faults\[0\]\.path: '/elsewhere/x' is outside volumePath"),
        ({"path": "[abc"}, "unclosed"),
        ({"volumePath": "/"}, "volumePath: '/' cannot"),
    ],
)
def test_bad_faults_name_the_field(fields: dict[str, object], message: str) -> None:
    with pytest.raises(FaultError, match=message):
        build_plan("t", [fault(**fields)])


def test_unvalidated_input_names_the_field() -> None:
    with pytest.raises(FaultError, match=r"faults\[0\]: .*errno: required"):
        build_plan("t", [{"kind": "io", "action": "fault", "volumePath": "/d"}])


def test_nested_volumes_and_inode_override_are_refused() -> None:
    with pytest.raises(FaultError, match="volumePath: '/data/sub' is inside '/data'"):
        build_plan("t", [fault(), fault(volumePath="/data/sub")])
    with pytest.raises(FaultError, match=r"attr\.ino"):
        build_plan("t", [IOFault(action="attrOverride", volumePath="/d", attr={"ino": 7})])


def test_absolute_paths_inside_the_volume_become_relative() -> None:
    (rule,) = build_plan("t", [fault(path="/data/logs/*.log")]).volumes[0].rules
    assert rule.path == "logs/*.log"


@pytest.mark.parametrize(
    ("glob", "path", "hit"),
    [
        ("**", "", True),
        ("**", "a/b/c", True),
        ("*.log", "x.log", True),
        ("*.log", "d/x.log", False),
        ("**/*.log", "x.log", True),
        ("**/*.log", "d/e/x.log", True),
        ("d/?.txt", "d/a.txt", True),
        ("d/?.txt", "d/ab.txt", False),
        ("[!a]*", "b1", True),
        ("[!a]*", "a1", False),
        ("a+b", "a+b", True),
    ],
)
def test_globs(glob: str, path: str, hit: bool) -> None:
    assert (compile_glob(glob).match(path) is not None) is hit


def rule(**fields: object) -> IORule:
    return IORule(**{"action": "fault", "path": "**", "errno": 5, **fields})  # type: ignore[arg-type]


def test_percent_is_sampled_per_operation() -> None:
    injector = Injector([rule(percent=25)], random.Random(7))
    failed = sum(injector.decide("read", "f").errno == 5 for _ in range(20000))
    assert 4500 < failed < 5500


def test_rules_compose_and_respect_methods_and_paths() -> None:
    injector = Injector([
        rule(action="latency", delay_s=0.25, errno=0, methods=("read",)),
        rule(action="latency", delay_s=0.5, errno=0, path="*.db"),
        rule(errno=28, path="*.db", methods=("write",)),
    ], random.Random(1))  # fmt: skip
    assert injector.decide("read", "x.db").delay_s == 0.75
    assert injector.decide("write", "x.db").errno == 28
    assert injector.decide("write", "x.txt").delay_s == 0.0
    assert injector.touches_data("x.txt") and not Injector([]).touches_data("x.txt")


def test_attr_override_rewrites_only_given_fields() -> None:
    attrs = SimpleNamespace(st_mode=0o100644, st_size=10, st_uid=0, st_mtime_ns=5)
    injector = Injector([rule(action="attrOverride", attr=(("perm", 0o600), ("size", 99)),
                              methods=("getattr",))])  # fmt: skip
    injector.override_attrs("lookup", "f", attrs)  # getattr covers every attr reply
    assert (attrs.st_mode, attrs.st_size, attrs.st_uid, attrs.st_mtime_ns) == (0o100600, 99, 0, 5)
    untouched = SimpleNamespace(st_mode=0o100644, st_size=10)
    injector.override_attrs("read", "f", untouched)
    assert untouched.st_size == 10


@pytest.mark.parametrize("filling", ["zero", "random"])
def test_mistake_changes_at_most_occurrences_times_length(filling: str) -> None:
    injector = Injector([rule(action="mistake", filling=filling, max_occurrences=4,
                              max_length=3)], random.Random(3))  # fmt: skip
    data = bytes([0xAA]) * 1000
    changed_any = 0
    for _ in range(500):
        out = injector.corrupt("read", "f", data)
        diff = sum(a != b for a, b in zip(out, data, strict=True))
        assert len(out) == len(data) and diff <= 12
        changed_any += diff > 0
    assert changed_any > 450
    assert injector.corrupt("getattr", "f", data) == data


MOUNTINFO = r"""22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
40 22 0:35 / /data rw,relatime master:3 - ext4 /dev/sdb rw
41 40 0:39 / /data rw,relatime - fuse.faultline faultline:ns1.pod-a rw,user_id=0
42 22 0:40 / /with\040space rw - fuse.faultline faultline:other rw
"""


def test_mountinfo_parsing_finds_faultline_layers() -> None:
    entries = parse_mountinfo(MOUNTINFO)
    assert [e.mount_point for e in faultline_mounts(entries, "ns1.pod-a")] == ["/data"]
    assert [e.target_id for e in faultline_mounts(entries)] == ["ns1.pod-a", "other"]
    assert entries[3].mount_point == "/with space"
    assert covering_mount(entries, "/data/x").mount_id == 41  # type: ignore[union-attr]
    assert covering_mount(entries, "/etc").shared  # type: ignore[union-attr]
    assert not covering_mount(entries[:2], "/data").shared  # type: ignore[union-attr]
