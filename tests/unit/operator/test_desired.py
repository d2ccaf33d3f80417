"""Overlapping chaos objects compose: the union is sent, removal keeps the others."""

from backend.operator.desired import DesiredIndex, TargetInfo, TargetKey
from chaosd.model import DelayFault, LossFault

KEY = TargetKey("node-1", "pod-abc")
INFO = TargetInfo("containerd://" + "a" * 64, "default/web-0")


def test_union_of_two_owners_and_removal() -> None:
    idx = DesiredIndex()
    loss = LossFault(loss=20)
    delay = DelayFault(latency="30ms")
    idx.set("uid-b", KEY, INFO, [delay])
    idx.set("uid-a", KEY, INFO, [loss])
    assert idx.union(KEY) == [loss, delay]  # stable order by owner
    assert idx.drop_owner("uid-a") == [KEY]
    assert idx.union(KEY) == [delay]
    assert idx.info(KEY) == INFO
    idx.drop_owner("uid-b")
    assert idx.union(KEY) == []
    assert idx.info(KEY) is None
    assert idx.all_targets() == []


def test_setting_again_replaces_that_owners_faults_only() -> None:
    idx = DesiredIndex()
    idx.set("a", KEY, INFO, [LossFault(loss=10)])
    idx.set("b", KEY, INFO, [LossFault(loss=5)])
    idx.set("a", KEY, INFO, [LossFault(loss=50)])
    assert [f.loss for f in idx.union(KEY)] == [50, 5]  # type: ignore[union-attr]
    assert idx.targets_of("a") == [KEY]
