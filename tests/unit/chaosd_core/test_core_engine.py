"""Engine ordering and bookkeeping: plan everything first, journal before the kernel, roll back
on failure, leases, reconcile."""

from __future__ import annotations

import os
import subprocess
import time

import pytest
from core_fakes import RecordingFamily

from chaosd.engine import ApplyFailed, Engine, InvalidRequest, Registry, TargetNotFound
from chaosd.journal import Journal, Status
from chaosd.model import DesiredState, IOFault, LossFault

Families = dict[str, RecordingFamily]
IO = IOFault(action="fault", volumePath="/data", errno=5)


def _desired(pid: int, *faults: object, lease: float = 30) -> DesiredState:
    return DesiredState.model_validate({"pid": pid, "faults": faults, "lease_seconds": lease})


def test_put_applies_faulted_families_and_recovers_the_rest(
    engine: Engine, families: Families, proc: subprocess.Popen[bytes]
) -> None:
    status = engine.put("t1", _desired(proc.pid, LossFault(loss=30)))
    assert families["network"].ops("apply") == [("apply", "t1", ["loss"])]
    assert families["io"].ops("recover") == [("recover", "t1", None)]
    assert status.status == Status.APPLIED and status.applied == [LossFault(loss=30)]
    # the journal held the new desired set before the family touched the kernel
    assert families["network"].journal_at_apply == [Status.APPLYING]


def test_unrealisable_fault_rejects_whole_request(
    engine: Engine, families: Families, proc: subprocess.Popen[bytes]
) -> None:
    families["io"].fail_plan = "errno: not on this node"
    with pytest.raises(InvalidRequest) as e:
        engine.put("t1", _desired(proc.pid, LossFault(loss=30), IO))
    assert e.value.loc == ("faults", 1)
    assert "faults[1] (io)" in e.value.msg and "errno: not on this node" in e.value.msg
    assert families["network"].calls == [] and families["io"].calls == []
    assert engine.journal.get("t1") is None


def test_missing_pid_and_bad_id_are_named(engine: Engine, families: Families) -> None:
    with pytest.raises(InvalidRequest) as e:
        engine.put("t1", _desired(4_000_000, LossFault(loss=1)))
    assert e.value.loc == ("pid",) and "4000000" in e.value.msg
    with pytest.raises(InvalidRequest) as e:
        engine.put("Bad_ID", _desired(1, LossFault(loss=1)))
    assert e.value.loc == ("id",)
    assert families["network"].calls == []


def test_kind_without_family_is_rejected(journal: Journal, proc: subprocess.Popen[bytes]) -> None:
    only_net = RecordingFamily("network")
    engine = Engine(journal, Registry({"network": only_net}))  # type: ignore[dict-item]
    with pytest.raises(InvalidRequest) as e:
        engine.put("t1", _desired(proc.pid, LossFault(loss=1), IO))
    assert e.value.loc == ("faults", 1) and "'io' is not supported" in e.value.msg
    assert only_net.calls == []


def test_apply_failure_rolls_back_everything(
    engine: Engine, families: Families, proc: subprocess.Popen[bytes]
) -> None:
    families["io"].fail_apply = "mount refused"
    with pytest.raises(ApplyFailed, match="mount refused"):
        engine.put("t1", _desired(proc.pid, LossFault(loss=30), IO))
    assert families["network"].ops("recover") and families["io"].ops("recover")
    entry = engine.journal.get("t1")
    assert entry is not None and entry.status == Status.FAILED
    assert entry.desired.faults == [] and "mount refused" in entry.last_error


def test_delete_recovers_and_forgets(
    engine: Engine, families: Families, proc: subprocess.Popen[bytes]
) -> None:
    engine.put("t1", _desired(proc.pid, LossFault(loss=30)))
    families["network"].calls.clear()
    engine.delete("t1")
    assert families["network"].ops("recover") == [("recover", "t1", None)]
    assert engine.journal.get("t1") is None
    with pytest.raises(TargetNotFound):
        engine.delete("t1")


def test_renew_extends_and_lapsed_renew_recovers(
    engine: Engine, families: Families, proc: subprocess.Popen[bytes]
) -> None:
    engine.put("t1", _desired(proc.pid, LossFault(loss=30), lease=5))
    before = engine.journal.get("t1").lease_expiry  # type: ignore[union-attr]
    after = engine.renew("t1", 100).lease_expiry
    assert after >= before + 90
    entry = engine.journal.get("t1")
    assert entry is not None
    entry.lease_expiry = time.time() - 0.1
    engine.journal.put(entry)
    families["network"].calls.clear()
    with pytest.raises(TargetNotFound, match="lease lapsed"):
        engine.renew("t1")
    assert families["network"].ops("recover") and engine.journal.get("t1") is None


def _own_namespaces() -> subprocess.Popen[bytes]:
    """A process alone in fresh network and mount namespaces: they die with it."""
    p = subprocess.Popen(["unshare", "--net", "--mount", "--", "sleep", "300"])
    host = os.stat("/proc/self/ns/net").st_ino
    while os.stat(f"/proc/{p.pid}/ns/net").st_ino == host:  # until unshare has run
        time.sleep(0.005)
    return p


def test_reaper_recovers_lapsed_and_drops_gone(
    engine: Engine, families: Families, proc: subprocess.Popen[bytes]
) -> None:
    other = _own_namespaces()
    try:
        engine.put("lapsed", _desired(proc.pid, LossFault(loss=1), lease=0.05))
        engine.put("gone", _desired(other.pid, LossFault(loss=1), lease=300))
        engine.put("live", _desired(proc.pid, LossFault(loss=1), lease=300))
    finally:
        other.kill()
        other.wait()
    time.sleep(0.06)
    families["network"].calls.clear()
    assert sorted(engine.reap_once()) == ["gone", "lapsed"]
    # the gone target's namespaces died with it: recover is told so (PID 0, so it only stops
    # helpers by their target id) and never enters a process that may reuse its PID
    assert sorted(families["network"].recovered_through) == [("gone", 0), ("lapsed", proc.pid)]
    assert [e.id for e in engine.journal.all()] == ["live"]
    assert engine.metrics.lease_lapses._value.get() == 1
    assert engine.metrics.targets_gone._value.get() == 1


def test_reconcile_restores_desired_and_finishes_interrupted_work(
    engine: Engine, families: Families, proc: subprocess.Popen[bytes]
) -> None:
    engine.put("keep", _desired(proc.pid, LossFault(loss=1)))
    engine.put("half-deleted", _desired(proc.pid, IO))
    entry = engine.journal.get("half-deleted")
    assert entry is not None
    entry.status = Status.RECOVERING  # as if chaosd died in the middle of DELETE
    engine.journal.put(entry)
    engine.put("expired", _desired(proc.pid, IO, lease=0.01))
    time.sleep(0.02)
    for f in families.values():
        f.calls.clear()
    report = engine.reconcile()
    assert report == {
        "reapplied": ["keep"],
        "recovered": ["expired", "half-deleted"],
        "dropped": [],
    }
    assert families["network"].ops("apply") == [("apply", "keep", ["loss"])]
    assert ("recover", "expired", None) in families["io"].calls
    assert [e.id for e in engine.journal.all()] == ["keep"]


def test_get_reports_verification_per_family(engine: Engine, proc: subprocess.Popen[bytes]) -> None:
    engine.put("t1", _desired(proc.pid, LossFault(loss=30)))
    status = engine.get("t1")
    assert status.families["network"].mechanism == "network-mech"
    assert status.families["network"].details == {"plan": ["loss"]}
    assert status.families["io"].details == {"plan": []}


def test_moving_target_recovers_old_process_first(
    engine: Engine, families: Families, proc: subprocess.Popen[bytes]
) -> None:
    other = _own_namespaces()
    try:
        engine.put("t1", _desired(other.pid, LossFault(loss=1)))
        families["network"].calls.clear()
        engine.put("t1", _desired(proc.pid, LossFault(loss=2)))
        assert families["network"].calls == [
            ("recover", "t1", None),
            ("apply", "t1", ["loss"]),
        ]
        assert families["network"].recovered_through == [("t1", other.pid)]
        assert engine.journal.get("t1").pid == proc.pid  # type: ignore[union-attr]
        # another process of the same namespaces: the same target, nothing to clean first
        families["network"].calls.clear()
        engine.put("t1", _desired(os.getpid(), LossFault(loss=3)))
        assert families["network"].calls == [("apply", "t1", ["loss"])]
    finally:
        other.kill()
        other.wait()


def test_a_target_outlives_its_process_while_its_namespaces_live(
    engine: Engine, families: Families, proc: subprocess.Popen[bytes]
) -> None:
    """The named process exits; another process shares its namespaces (here: this test's own
    process, as a pod's sandbox would): the target stays desired, and is recovered through that
    member on DELETE, not forgotten."""
    member = subprocess.Popen(["sleep", "300"])
    engine.put("t1", _desired(member.pid, LossFault(loss=1), lease=300))
    member.kill()
    member.wait()
    families["network"].calls.clear()
    assert engine.reap_once() == []
    assert engine.journal.get("t1") is not None and families["network"].calls == []
    assert engine.get("t1").families["network"].ok
    engine.delete("t1")
    (through,) = [pid for t, pid in families["network"].recovered_through if t == "t1"]
    assert through not in (0, member.pid) and os.stat(f"/proc/{through}/ns/net").st_ino == (
        os.stat("/proc/self/ns/net").st_ino
    )
    assert engine.journal.get("t1") is None
