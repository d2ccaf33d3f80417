"""The engine: makes each target's kernel state match its journaled desired set.

Order of work is what makes chaosd crash-safe: validate and plan every family first (pure, so an
unrealisable fault rejects the whole request before anything changes), journal the new desired
set durably, then touch the kernel. Whatever state a crash leaves behind is therefore described
by the journal, and `reconcile` on the next start puts it right.

A target is bound to its namespaces, not to the process that named it (chaosd/namespaces.py):
every operation enters them through whichever member is alive, and a target is dropped only when
no process is left in them. A target whose namespaces only Faultline's own helpers still hold has
lost its workload and is recovered.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import time
from typing import Any

from chaosd import namespaces as members
from chaosd import procs
from chaosd.engine.errors import (
    ApplyFailed,
    InvalidRequest,
    RecoverFailed,
    TargetNotFound,
)
from chaosd.engine.guard import TargetGuard
from chaosd.engine.locks import TargetLocks
from chaosd.engine.registry import Registry
from chaosd.engine.status import FamilyStatus, TargetStatus
from chaosd.faults.base import FaultError, TargetGone, TargetRef
from chaosd.journal import Entry, Identity, Journal, Status
from chaosd.metrics import Metrics
from chaosd.model import TARGET_ID_PATTERN, DesiredState
from chaosd.periodic import Periodic


class Engine:
    def __init__(
        self,
        journal: Journal,
        registry: Registry,
        *,
        logger: logging.Logger | None = None,
        metrics: Metrics | None = None,
        guard: TargetGuard | None = None,
    ) -> None:
        """`guard`: which processes may be targets. chaosd's entry points (serve, attack) always
        pass one; None, for tests of the engine's own logic, checks nothing but the PID."""
        self.journal = journal
        self.guard = guard
        self.registry = registry
        self.log = logger or logging.getLogger("chaosd.engine")
        self.metrics = metrics or Metrics()
        self.locks = TargetLocks(journal.state_dir)
        self._reaper: Periodic | None = None
        self._pid = os.getpid()
        self._via: dict[str, tuple[int, int]] = {}
        """Target id -> (pid, start time) of the member last used when the named process had
        exited: the reaper's cheap liveness check, so it scans /proc only when that one exits."""
        self._update_gauge()

    # ---- requests -------------------------------------------------------------------------

    def put(self, target_id: str, desired: DesiredState) -> TargetStatus:
        """Make `desired` the complete fault set of the target (flush-and-apply)."""
        if not re.fullmatch(TARGET_ID_PATTERN, target_id):
            raise InvalidRequest(
                ("id",), f"{target_id!r} is not a valid target id (lowercase, digits, '.-_')"
            )
        started = procs.start_time(desired.pid)
        if started is None:
            raise InvalidRequest(("pid",), f"no process with PID {desired.pid} on this node")
        if self.guard is not None and desired.faults:  # an empty set only ever removes faults
            self.guard.check_process(desired.pid)
            if "network" in self.registry.group(desired.faults):
                self.guard.check_network(desired.pid, host_network=desired.hostNetwork)
        ident = members.identity(desired.pid)
        if ident is None:
            raise InvalidRequest(("pid",), f"PID {desired.pid}: its namespaces cannot be read")
        plans = self._plan(TargetRef(target_id, desired.pid), desired)
        with self.locks.hold(target_id):
            previous = self.journal.get(target_id)
            if previous:
                # The target moved to other namespaces (another pod, a restarted container's new
                # mount namespace): clean the old ones before forgetting them.
                self._recover(previous, only=self._moved(previous, ident))
            self._via.pop(target_id, None)
            entry = Entry(
                id=target_id,
                pid=desired.pid,
                start_time=started,
                desired=desired,
                lease_expiry=time.time() + desired.lease_seconds,
                status=Status.APPLYING,
                netns=ident.netns,
                mntns=ident.mntns,
            )
            self.journal.put(entry)
            self._apply(entry, plans)
        self._update_gauge()
        return TargetStatus.of(entry)

    def delete(self, target_id: str) -> None:
        """Recover the target completely and forget it."""
        with self.locks.hold(target_id):
            entry = self._entry(target_id)
            self._recover_and_remove(entry)
        self._update_gauge()

    def renew(self, target_id: str, lease_seconds: float | None = None) -> TargetStatus:
        with self.locks.hold(target_id):
            entry = self._entry(target_id)
            if entry.lease_lapsed():
                # Too late: the contract says a lapsed lease is recovered, renewal can't undo it.
                self.metrics.lease_lapses.inc()
                self._recover_and_remove(entry)
                raise TargetNotFound(
                    f"target {target_id!r}: lease lapsed and the target was recovered; "
                    "PUT its desired state again"
                )
            entry.lease_expiry = time.time() + (lease_seconds or entry.desired.lease_seconds)
            self.journal.put(entry)
            return TargetStatus.of(entry)

    def get(self, target_id: str) -> TargetStatus:
        """The journaled state plus each family's observation of the kernel."""
        with self.locks.hold(target_id):
            entry = self._entry(target_id)
            return TargetStatus.of(entry, self._verify(entry))

    def targets(self) -> list[TargetStatus]:
        return [TargetStatus.of(e) for e in self.journal.all()]

    def recover_all(self) -> list[str]:
        """Recover every journaled target; returns their ids."""
        ids = [e.id for e in self.journal.all()]
        for target_id in ids:
            with contextlib.suppress(TargetNotFound):  # someone else removed it meanwhile
                self.delete(target_id)
        return ids

    # ---- background work ------------------------------------------------------------------

    def reconcile(self) -> dict[str, list[str]]:
        """Startup: re-apply what is desired and unexpired, recover the rest, drop gone targets."""
        report: dict[str, list[str]] = {"reapplied": [], "recovered": [], "dropped": []}
        for stale in self.journal.all():
            with self.locks.hold(stale.id):
                entry = self.journal.get(stale.id)
                if entry is None:
                    continue
                reach = self._reach(entry)
                if reach.gone:
                    self._drop(entry)
                    report["dropped"].append(entry.id)
                elif not reach.workload:
                    self._recover_orphan(entry)
                    report["recovered"].append(entry.id)
                elif entry.lease_lapsed() or entry.status == Status.RECOVERING:
                    self._recover_and_remove(entry, raise_errors=False)
                    report["recovered"].append(entry.id)
                elif entry.status == Status.FAILED:
                    self._recover(entry)  # its desired set is empty: flush leftovers
                    report["recovered"].append(entry.id)
                else:
                    try:
                        ref = TargetRef(entry.id, entry.pid)
                        self._apply(entry, self._plan(ref, entry.desired), reach)
                        report["reapplied"].append(entry.id)
                    except (InvalidRequest, ApplyFailed) as e:
                        self.log.error("target %s: reconcile could not re-apply: %s", entry.id, e)
                        self._recover_and_remove(entry, raise_errors=False)
                        report["recovered"].append(entry.id)
        self._update_gauge()
        self.log.info("reconciled journal: %s", report)
        return report

    def reap_once(self) -> list[str]:
        """Recover targets whose lease lapsed, retry failed recoveries, drop gone targets."""
        reaped = []
        for stale in self.journal.all():
            if not self._needs_reaping(stale):
                continue
            with self.locks.hold(stale.id):
                entry = self.journal.get(stale.id)  # it may have been renewed meanwhile
                if entry is None or not self._needs_reaping(entry):
                    continue
                reach = self._reach(entry)
                if reach.gone:
                    self._drop(entry)
                elif not reach.workload:
                    self._recover_orphan(entry)
                elif not (entry.lease_lapsed() or entry.status == Status.RECOVERING):
                    continue  # the named process exited; its namespaces live on, and so do faults
                else:
                    if entry.lease_lapsed():
                        self.metrics.lease_lapses.inc()
                        self.log.warning("target %s: lease lapsed, recovering", entry.id)
                    self._recover_and_remove(entry, raise_errors=False)
                reaped.append(entry.id)
        if reaped:
            self._update_gauge()
        return reaped

    def start_reaper(self, interval: float = 0.2) -> None:
        self._reaper = Periodic("chaosd-reaper", interval, self.reap_once, self.log)
        self._reaper.start()

    def close(self) -> None:
        if self._reaper:
            self._reaper.close()

    # ---- internals ------------------------------------------------------------------------

    def _entry(self, target_id: str) -> Entry:
        entry = self.journal.get(target_id)
        if entry is None:
            raise TargetNotFound(f"no target {target_id!r} on this node")
        return entry

    def _needs_reaping(self, entry: Entry) -> bool:
        return (
            entry.lease_lapsed()
            or entry.status == Status.RECOVERING
            or not self._still_entered(entry)
        )

    def _still_entered(self, entry: Entry) -> bool:
        """Cheap: the named process, or the member last used instead, is alive."""
        if procs.alive(entry.pid, entry.start_time):
            return True
        via = self._via.get(entry.id)
        return via is not None and procs.alive(*via)

    def _reach(self, entry: Entry) -> members.Reach:
        reach = members.reach(entry.pid, entry.start_time, entry.identity)
        holder = reach.holder
        started = procs.start_time(holder) if holder and holder != entry.pid else None
        if started is not None:
            if self._via.get(entry.id, (0, 0))[0] != holder:
                self.log.info(
                    "target %s: process %d exited; its namespaces live on (held by %d), and so "
                    "do its faults", entry.id, entry.pid, holder,
                )  # fmt: skip
            self._via[entry.id] = (holder, started)
        return reach

    def _moved(self, previous: Entry, ident: Identity) -> set[str] | None:
        """Families whose namespace differs between `previous` and `ident` (None: all)."""
        if previous.identity is None or previous.netns != ident.netns:
            return None
        if previous.mntns != ident.mntns:
            return {n for n, f in self.registry.families.items() if f.namespace == "mnt"}
        return set()

    def _refs(self, entry: Entry, reach: members.Reach) -> dict[str, TargetRef]:
        """Per family, the target as entered through a member of that family's namespace."""
        return {
            name: TargetRef(entry.id, reach.pid(family.namespace))
            for name, family in self.registry.families.items()
        }

    def _recover_orphan(self, entry: Entry) -> None:
        self.log.warning(
            "target %s: only Faultline's helpers are left in its namespaces (the workload is "
            "gone); recovering", entry.id,
        )  # fmt: skip
        self._recover_and_remove(entry, raise_errors=False)

    def _plan(self, ref: TargetRef, desired: DesiredState) -> dict[str, Any]:
        plans: dict[str, Any] = {}
        for name, group in self.registry.group(desired.faults).items():
            try:
                plans[name] = self.registry.families[name].plan(ref, group.faults)
            except (FaultError, ValueError) as e:
                named = ", ".join(f"faults[{i}] ({desired.faults[i].kind})" for i in group.indices)
                loc: tuple[str | int, ...] = ("faults", group.indices[0])
                if len(group.indices) > 1:
                    loc = ("faults",)
                raise InvalidRequest(loc, f"{named}: {type(e).__name__}: {e}") from e
        return plans

    def _apply(
        self, entry: Entry, plans: dict[str, Any], reach: members.Reach | None = None
    ) -> None:
        refs = self._refs(entry, reach or self._reach(entry))
        started = time.monotonic()
        for name, family in self.registry.families.items():
            operation = "apply" if name in plans else "recover"
            try:
                if name in plans:
                    family.apply(refs[name], plans[name])
                else:
                    family.recover(refs[name])
                self.metrics.operations.labels(name, operation, "ok").inc()
            except TargetGone as e:
                self._exit_if_forked()
                self._drop(entry)
                raise InvalidRequest(("pid",), f"process {entry.pid} exited: {e}") from e
            except Exception as e:
                self._exit_if_forked()
                # Never leave a half-applied set: roll the whole target back to no faults.
                self.metrics.operations.labels(name, operation, "error").inc()
                self.log.error(
                    "target %s: %s %s failed: %s",
                    entry.id, name, operation, e,
                    exc_info=not isinstance(e, FaultError),  # a bug, not a refusal: keep the trace
                )  # fmt: skip
                problems = self._recover(entry)
                entry.desired = entry.desired.model_copy(update={"faults": []})
                entry.status = Status.FAILED
                entry.last_error = f"{name} {operation}: {e}" + "".join(f"; {p}" for p in problems)
                self.journal.put(entry)
                raise ApplyFailed(
                    f"target {entry.id!r}: {entry.last_error} (target recovered)"
                ) from e
        self.metrics.apply_seconds.observe(time.monotonic() - started)
        entry.status = Status.APPLIED
        entry.last_error = ""
        self.journal.put(entry)

    def _recover(self, entry: Entry, only: set[str] | None = None) -> list[str]:
        """Ask every family (or those in `only`) to remove what it owns, entering the target's
        namespaces through any live member; returns problems (empty on success). A family whose
        namespace has no member left gets PID 0 and removes what lives outside it (helpers)."""
        if only is not None and not only:
            return []
        refs = self._refs(entry, self._reach(entry))
        problems = []
        started = time.monotonic()
        for name, family in self.registry.families.items():
            if only is not None and name not in only:
                continue
            try:
                family.recover(refs[name])
                self.metrics.operations.labels(name, "recover", "ok").inc()
            except TargetGone:
                self._exit_if_forked()
            except Exception as e:
                self._exit_if_forked()
                self.metrics.operations.labels(name, "recover", "error").inc()
                problems.append(f"{name} recover: {e}")
        self.metrics.recover_seconds.observe(time.monotonic() - started)
        return problems

    def _recover_and_remove(self, entry: Entry, *, raise_errors: bool = True) -> None:
        entry.status = Status.RECOVERING  # a crash from here on means "finish recovering"
        self.journal.put(entry)
        problems = self._recover(entry)
        if problems:
            entry.last_error = "; ".join(problems)
            self.journal.put(entry)
            self.log.error("target %s: recover failed: %s", entry.id, entry.last_error)
            if raise_errors:
                raise RecoverFailed(f"target {entry.id!r}: {entry.last_error} (will retry)")
            return
        self.journal.remove(entry.id)
        self._via.pop(entry.id, None)
        self.log.info("target %s: recovered", entry.id)

    def _drop(self, entry: Entry) -> None:
        """No process is left in the target's namespaces, so they and every kernel object in
        them are gone; only helpers living outside them could remain, and recover removes those."""
        self._recover(entry)
        self.metrics.targets_gone.inc()
        self.journal.remove(entry.id)
        self._via.pop(entry.id, None)
        self.log.info("target %s: its namespaces are gone, entry dropped", entry.id)

    def _verify(self, entry: Entry) -> dict[str, FamilyStatus]:
        reach = self._reach(entry)
        if reach.gone:
            return {}
        refs = self._refs(entry, reach)
        groups = self.registry.group(entry.desired.faults)
        result = {}
        for name, family in self.registry.families.items():
            try:
                faults = groups[name].faults if name in groups else []
                if not refs[name].pid:
                    if faults:
                        result[name] = FamilyStatus(ok=False, problems=[
                            f"its {family.namespace} namespace is gone (no process is left in "
                            "it; a restarted container has a new one): PUT the target again"
                        ])  # fmt: skip
                    continue
                v = family.verify(refs[name], family.plan(refs[name], faults))
                result[name] = FamilyStatus(
                    ok=v.ok, mechanism=v.mechanism, details=v.details, problems=v.problems
                )
            except Exception as e:
                self._exit_if_forked()
                result[name] = FamilyStatus(ok=False, problems=[f"{type(e).__name__}: {e}"])
        return result

    def _exit_if_forked(self) -> None:
        """A family that forks a helper (to enter a namespace) may, on a bug, let an exception
        escape in the child and unwind into this code. That copy must not roll back, journal or
        answer requests: it would race the real daemon. Leave at once."""
        if os.getpid() != self._pid:
            os._exit(70)

    def _update_gauge(self) -> None:
        self.metrics.targets.set(len(self.journal.all()))
