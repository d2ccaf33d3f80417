"""One Schedule wake-up (`schedules.sync`) against an in-memory API: the logic of a restart
(resume from status, no double fire), missed deadlines, Forbid and pruning. The real API server
is exercised by tests/e2e/test_schedule.py."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from backend.clients.kube import AlreadyExists, Op
from backend.operator import schedule_wakeup as schedules
from backend.spec.kinds import KINDS, Kind

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
NS, NAME, UID = "shop", "cut", "uid-1"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


class MemoryApi:
    """Just enough of the Kubernetes client's custom objects (`Kube.objects`) for one
    namespace."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], dict[str, Any]] = {}

    def find(self, kind: Kind, ns: str, name: str) -> dict[str, Any] | None:
        found = self.objects.get((kind.plural, name))
        return copy.deepcopy(found) if found is not None else None

    def items(self, kind: Kind, ns: str, label_selector: str) -> list[dict[str, Any]]:
        key, value = label_selector.split("=")
        return [
            copy.deepcopy(o)
            for (p, _), o in self.objects.items()
            if p == kind.plural and o["metadata"].get("labels", {}).get(key) == value
        ]

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        key = (KINDS[body["kind"]].plural, body["metadata"]["name"])
        if key in self.objects:
            raise AlreadyExists(Op("create", "", str(key)), "already exists", status=409)
        self.objects[key] = copy.deepcopy(body) | {"status": {}}
        self.objects[key]["metadata"]["uid"] = f"child-{len(self.objects)}"
        return body

    def delete(self, kind: Kind, ns: str, name: str, missing_ok: bool, background: bool) -> bool:
        return self.objects.pop((kind.plural, name), None) is not None

    def patch_status(self, kind: Kind, ns: str, name: str, status: dict[str, Any]) -> None:
        self.objects[kind.plural, name]["status"] = copy.deepcopy(status)

    # test helpers
    def runs(self) -> list[str]:
        return sorted(n for (p, n) in self.objects if p == "networkchaos")

    def finish(self, name: str) -> None:
        self.objects["networkchaos", name]["status"] = {"phase": "Finished"}

    def status(self) -> dict[str, Any]:
        return dict(self.objects["schedules", NAME]["status"])


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> tuple[MemoryApi, list[tuple[str, str]]]:
    mem, events = MemoryApi(), []
    monkeypatch.setattr(schedules, "_objects", lambda: mem)
    monkeypatch.setattr(
        schedules, "_post_event", lambda body, kind, reason, msg: events.append((reason, msg))
    )
    return mem, events


def _schedule(mem: MemoryApi, **spec: Any) -> None:
    chaos = {"action": "partition", "mode": "all", "selector": {}, "externalTargets": ["x.test"]}
    mem.objects["schedules", NAME] = {
        "metadata": {
            "name": NAME,
            "namespace": NS,
            "uid": UID,
            "creationTimestamp": "2026-03-01T12:00:00Z",
        },
        "spec": {"schedule": "@every 20s", "type": "NetworkChaos", "networkChaos": chaos} | spec,
        "status": {},
    }


def run_name(seconds: int) -> str:
    return f"{NAME}-{int(at(seconds).timestamp())}"


def test_runs_start_on_their_tick_and_a_repeated_wakeup_creates_nothing(api: Any) -> None:
    mem, _ = api
    _schedule(mem, concurrencyPolicy="Allow")
    schedules.sync(NS, NAME, UID, fire=True, now=at(10))
    assert mem.runs() == []
    assert mem.status()["nextScheduleTime"] == "2026-03-01T12:00:20Z"
    schedules.sync(NS, NAME, UID, fire=True, now=at(20.1))
    schedules.sync(NS, NAME, UID, fire=True, now=at(21))  # e.g. a resume right after
    assert mem.runs() == [run_name(20)]
    st = mem.status()
    assert st["lastScheduleTime"] == "2026-03-01T12:00:20Z"
    assert [a["name"] for a in st["active"]] == [run_name(20)]


def test_resume_after_downtime_starts_the_missed_run_once(api: Any) -> None:
    mem, _ = api
    _schedule(mem, concurrencyPolicy="Allow")
    schedules.sync(NS, NAME, UID, fire=True, now=at(20))
    # The operator was down from 25 s to 75 s: the 40 s run is superseded by the 60 s one.
    schedules.sync(NS, NAME, UID, fire=True, now=at(75))
    schedules.sync(NS, NAME, UID, fire=True, now=at(76))
    assert mem.runs() == [run_name(20), run_name(60)]


def test_a_run_past_its_deadline_is_skipped_and_reported_once(api: Any) -> None:
    mem, events = api
    _schedule(mem, concurrencyPolicy="Allow", startingDeadlineSeconds=10)
    schedules.sync(NS, NAME, UID, fire=True, now=at(75))
    schedules.sync(NS, NAME, UID, fire=True, now=at(77))
    assert mem.runs() == []
    assert [r for r, _ in events] == ["MissedDeadline"]
    st = mem.status()
    (last_run,) = [c for c in st["conditions"] if c["type"] == "LastRun"]
    assert last_run["reason"] == "MissedDeadline"
    assert "2026-03-01T12:01:00Z" in st["message"]
    schedules.sync(NS, NAME, UID, fire=True, now=at(80.5))  # the next run is on time
    assert mem.runs() == [run_name(80)]


def test_forbid_skips_while_a_run_is_active(api: Any) -> None:
    mem, events = api
    _schedule(mem)
    schedules.sync(NS, NAME, UID, fire=True, now=at(20))
    schedules.sync(NS, NAME, UID, fire=True, now=at(40))
    assert mem.runs() == [run_name(20)]
    assert [r for r, _ in events] == ["Forbidden"]
    mem.finish(run_name(20))
    schedules.sync(NS, NAME, UID, fire=True, now=at(60))
    assert mem.runs() == [run_name(20), run_name(60)]


def test_paused_schedules_do_not_fire_and_edits_never_fire(api: Any) -> None:
    mem, _ = api
    _schedule(mem, concurrencyPolicy="Allow")
    mem.objects["schedules", NAME]["metadata"]["annotations"] = {
        "chaos.faultline.dev/pause": "true"
    }
    schedules.sync(NS, NAME, UID, fire=True, now=at(20))
    assert mem.runs() == []
    mem.objects["schedules", NAME]["metadata"]["annotations"] = {}
    schedules.sync(NS, NAME, UID, fire=False, now=at(30))  # the unpause (an update)
    assert mem.runs() == []
    schedules.sync(NS, NAME, UID, fire=True, now=at(40))
    assert mem.runs() == [run_name(40)]


def test_history_is_pruned_to_the_limit(api: Any) -> None:
    mem, _ = api
    _schedule(mem, concurrencyPolicy="Allow", historyLimit=2)
    for tick in (20, 40, 60, 80):
        schedules.sync(NS, NAME, UID, fire=True, now=at(tick))
        mem.finish(run_name(tick))
    schedules.sync(NS, NAME, UID, fire=True, now=at(100))
    # 20, 40, 60, 80 finished; keep the newest two, plus the active 100.
    assert mem.runs() == [run_name(60), run_name(80), run_name(100)]


def test_a_job_of_a_deleted_schedule_never_fires_for_its_same_named_successor(api: Any) -> None:
    mem, _ = api
    _schedule(mem, concurrencyPolicy="Allow")
    schedules.sync(NS, NAME, "uid-of-the-deleted-one", fire=True, now=at(20))
    assert mem.runs() == []
    schedules.sync(NS, NAME, UID, fire=True, now=at(20))
    assert mem.runs() == [run_name(20)]


def test_a_fixed_spec_clears_the_invalid_spec_report(api: Any) -> None:
    mem, _ = api
    _schedule(mem)
    mem.objects["schedules", NAME]["status"] = {
        "message": "spec.schedule: minute: '61' is outside 0-59",
        "conditions": [{"type": "Valid", "status": "False", "reason": "InvalidSpec"}],
    }
    schedules.sync(NS, NAME, UID, fire=False, now=at(5))
    st = mem.status()
    assert st["message"] == ""
    assert {c["type"]: c["status"] for c in st["conditions"]}["Valid"] == "True"


def test_history_lists_started_skipped_and_pruned_runs_newest_first(api: Any) -> None:
    mem, _ = api
    _schedule(mem, historyLimit=1)
    schedules.sync(NS, NAME, UID, fire=True, now=at(20))
    schedules.sync(NS, NAME, UID, fire=True, now=at(40))  # Forbid: 20 is still active
    schedules.sync(NS, NAME, UID, fire=True, now=at(41))  # the same skip, seen again
    mem.finish(run_name(20))
    schedules.sync(NS, NAME, UID, fire=True, now=at(60))
    mem.finish(run_name(60))
    schedules.sync(NS, NAME, UID, fire=True, now=at(80))  # prunes 20 (historyLimit 1)
    assert mem.runs() == [run_name(60), run_name(80)]
    history = mem.status()["history"]
    assert [(h["name"], h["outcome"], h.get("phase"), h.get("reason")) for h in history] == [
        (run_name(80), "Started", "Pending", None),
        (run_name(60), "Started", "Finished", None),
        (run_name(40), "Skipped", None, "Forbidden"),
        (run_name(20), "Started", "Finished", None),  # pruned, its last phase kept
    ]
    assert history[2]["scheduledTime"] == "2026-03-01T12:00:40Z"
    assert {h["kind"] for h in history} == {"NetworkChaos"}
    assert mem.status()["nextScheduleTime"] == "2026-03-01T12:01:40Z"


def test_history_keeps_at_least_ten_runs_and_at_most_history_limit_beyond(api: Any) -> None:
    mem, _ = api
    _schedule(mem, concurrencyPolicy="Allow", historyLimit=1)
    for tick in range(20, 20 * 14, 20):
        schedules.sync(NS, NAME, UID, fire=True, now=at(tick))
        mem.finish(run_name(tick))
    history = mem.status()["history"]
    assert [h["name"] for h in history] == [run_name(t) for t in range(260, 60, -20)]
