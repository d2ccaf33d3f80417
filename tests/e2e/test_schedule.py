"""Schedule through the real operator, chaosd and kernel on a real cluster.

Two Schedules fire `@every 20s` side by side for about a minute:
- `quick` creates 5 s partitions of an idle pod: its runs must start on time (the contract: within
  FIRE_TOLERANCE_S of the scheduled time, hence spaced 20 s +- that), and `historyLimit: 1`
  must delete the oldest finished runs;
- `long` creates 30 s partitions of `web` under Forbid: the fire that falls inside a run is
  skipped (and reported), so runs never overlap. Deleting it while a run is in force deletes
  its children and recovers their fault (web reachable again, no Faultline table left).
  Its `status.history` lists the runs and the skip; `kubectl get` shows the next run time.
"""

from __future__ import annotations

import itertools
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from kubernetes import client

from tests.support.kube import apply
from tests.support.pods import demo_pod, pod_nft_tables, ready_pod, serves

pytestmark = pytest.mark.cluster

GROUP, VERSION = "chaos.faultline.dev", "v1alpha1"
LABEL = f"{GROUP}/schedule"
FIRE_TOLERANCE_S = 5.0
"""The contract: a run's chaos object is created within this many seconds of its scheduled time."""


def _schedule(name: str, history: int, chaos: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "Schedule",
        "metadata": {"name": name},
        "spec": {
            "schedule": "@every 20s",
            "concurrencyPolicy": "Forbid",
            "historyLimit": history,
            "type": "NetworkChaos",
            "networkChaos": chaos,
        },
    }


def _ts(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


class Watcher:
    """Records every child a Schedule creates, with its scheduled and actual creation times."""

    def __init__(self, api: client.ApiClient, namespace: str) -> None:
        self.custom = client.CustomObjectsApi(api)
        self.namespace = namespace
        self.seen: dict[str, dict[str, Any]] = {}  # name -> latest copy

    def children(self, schedule: str) -> list[dict[str, Any]]:
        items = self.custom.list_namespaced_custom_object(
            GROUP, VERSION, self.namespace, "networkchaos", label_selector=f"{LABEL}={schedule}"
        )["items"]
        for item in items:
            self.seen[item["metadata"]["name"]] = item
        return list(items)

    def runs(self, schedule: str) -> list[dict[str, Any]]:
        """Every child seen so far, by scheduled time."""
        mine = [c for c in self.seen.values() if c["metadata"]["labels"][LABEL] == schedule]
        return sorted(mine, key=lambda c: c["metadata"]["name"])

    def schedule(self, name: str) -> dict[str, Any]:
        return dict(
            self.custom.get_namespaced_custom_object(
                GROUP, VERSION, self.namespace, "schedules", name
            )
        )


def _scheduled(child: dict[str, Any]) -> datetime:
    return _ts(child["metadata"]["annotations"][f"{GROUP}/scheduled-at"])


def _created(child: dict[str, Any]) -> datetime:
    return _ts(child["metadata"]["creationTimestamp"])


def test_schedule_fires_on_time_forbids_overlap_prunes_and_cleans_up(
    cluster, namespace, operator
) -> None:
    for name, app in (("web", "web"), ("client", "client"), ("idle", "idle")):
        apply(cluster, namespace, demo_pod(name, app))
    web = ready_pod(cluster, namespace, "web")
    ready_pod(cluster, namespace, "client")
    ready_pod(cluster, namespace, "idle")
    ip = web["status"]["podIP"]
    assert serves(cluster, namespace, "client", ip)

    quick = {
        "action": "partition",
        "mode": "all",
        "selector": {"labelSelectors": {"app": "idle"}},
        "target": {"mode": "all", "selector": {"labelSelectors": {"app": "client"}}},
        "duration": "5s",
    }
    long = {
        "action": "partition",
        "mode": "all",
        "selector": {"labelSelectors": {"app": "web"}},
        "direction": "both",
        "target": {"mode": "all", "selector": {"labelSelectors": {"app": "client"}}},
        "duration": "30s",
    }
    apply(cluster, namespace, _schedule("quick", 1, quick))
    apply(cluster, namespace, _schedule("long", 2, long))
    w = Watcher(cluster.api, namespace)
    cut_seen = False

    def progressed() -> bool:
        nonlocal cut_seen
        w.children("quick")
        longs = w.children("long")
        running = [c for c in longs if (c.get("status") or {}).get("injectedTargets") == 1]
        if running and not cut_seen:  # the first long run is in force: web is cut off
            cut_seen = not serves(cluster, namespace, "client", ip)
        return len(w.runs("quick")) >= 3 and len(running) == 1 and len(w.runs("long")) == 2

    cluster.wait_for("three quick runs and a second long run in force", progressed, 240)

    # On time: consecutive quick runs are scheduled 20 s apart and created within tolerance.
    runs = w.runs("quick")
    late = [(_created(c) - _scheduled(c)).total_seconds() for c in runs]
    print(f"quick run lateness (s, creationTimestamp resolution 1 s): {late}")
    assert all(-1 <= x <= FIRE_TOLERANCE_S for x in late), late
    gaps = [(_created(b) - _created(a)).total_seconds() for a, b in itertools.pairwise(runs)]
    print(f"quick run spacing (s): {gaps}")
    assert all(abs(g - 20) <= FIRE_TOLERANCE_S for g in gaps), gaps

    # Forbid: the long run (30 s) blocks the fire 20 s later; the next starts 40 s on, after
    # the first one finished.
    first, second = w.runs("long")
    assert (_scheduled(second) - _scheduled(first)).total_seconds() == 40
    ended = _ts(first["status"]["endTime"])
    assert (first["status"]["phase"], ended <= _created(second)) == ("Finished", True)
    assert cut_seen, "web stayed reachable while the first long run was in force"
    events = client.CoreV1Api(cluster.api).list_namespaced_event(
        namespace, field_selector="involvedObject.name=long"
    )
    assert any(e.reason == "Forbidden" for e in events.items)

    # historyLimit 1: the oldest finished quick run is deleted.
    cluster.wait_for(
        "oldest quick run pruned",
        lambda: (
            runs[0]["metadata"]["name"] not in {c["metadata"]["name"] for c in w.children("quick")}
        ),
        60,
    )

    status = w.schedule("long")["status"]
    assert _ts(status["lastScheduleTime"]) == _scheduled(second)
    assert _ts(status["nextScheduleTime"]) > _scheduled(second)
    assert [a["name"] for a in status["active"]] == [second["metadata"]["name"]]
    # status.history: the first run (finished, with its start), the Forbid skip 20 s after
    # it, the second run; newest first.
    history = status["history"]
    times = [_ts(h["scheduledTime"]) for h in history]
    assert times == sorted(times, reverse=True), history
    by_time = {t: h for t, h in zip(times, history, strict=True)}
    t1 = _scheduled(first)
    assert (by_time[t1]["name"], by_time[t1]["outcome"], by_time[t1]["phase"]) == (
        first["metadata"]["name"],
        "Started",
        "Finished",
    )
    assert _ts(by_time[t1]["startTime"]) == _ts(first["status"]["startTime"])
    skip = by_time[t1 + timedelta(seconds=20)]
    assert (skip["outcome"], skip["reason"]) == ("Skipped", "Forbidden")
    assert by_time[_scheduled(second)]["outcome"] == "Started"
    # The Next column prints status.nextScheduleTime (a timestamp, not an age).
    header, row = cluster.kubectl("get", "-n", namespace, "schedule", "long").splitlines()[:2]
    assert "@every 20s" in row
    assert " NEXT " in header, header
    next_shown = _ts(row[header.index(" NEXT ") + 1 :].split()[0])  # columns are aligned
    assert next_shown > _scheduled(second)

    # Deleting the Schedule deletes its children, which recover their fault.
    assert not serves(cluster, namespace, "client", ip)
    cluster.kubectl("delete", "-n", namespace, "schedule", "long", "--timeout=60s")
    cluster.wait_for("long's children gone", lambda: not w.children("long"), 120)
    cluster.wait_for("web reachable again", lambda: serves(cluster, namespace, "client", ip), 60)
    assert "faultline" not in pod_nft_tables(ready_pod(cluster, namespace, "web"))
    cluster.kubectl("delete", "-n", namespace, "schedule", "quick", "--timeout=60s")


def test_a_cron_value_out_of_range_is_reported_on_the_schedule(
    cluster, namespace, operator
) -> None:
    """`61 * * * *` has the shape the CRD checks; the operator refuses it, naming the field."""
    chaos = {"action": "partition", "mode": "all", "selector": {}, "externalTargets": ["x.test"]}
    bad = _schedule("bad-minute", 1, chaos)
    bad["spec"]["schedule"] = "61 * * * *"
    apply(cluster, namespace, bad)
    w = Watcher(cluster.api, namespace)

    def reported() -> bool:
        return "minute" in (w.schedule("bad-minute").get("status") or {}).get("message", "")

    cluster.wait_for("the bad minute reported", reported, 60)
    status = w.schedule("bad-minute")["status"]
    assert status["message"].startswith("spec.schedule: minute:")
    assert [(c["type"], c["status"]) for c in status["conditions"]] == [("Valid", "False")]
    assert w.children("bad-minute") == []


def test_a_restarted_operator_resumes_from_status(cluster, start_operator, own_ns) -> None:
    """SIGKILL the operator after the first run and bring it back after the second run's
    deadline: that run is skipped (and reported, checked when the operator came back before
    the next tick), the first is not created again, and the next one comes on time.
    The test's own operator watches only its namespace."""
    op = start_operator()
    chaos = {"action": "partition", "mode": "all", "selector": {}, "externalTargets": ["x.test"]}
    doc = _schedule("tick", 10, chaos | {"duration": "2s"})
    doc["spec"] |= {
        "schedule": "@every 30s",
        "concurrencyPolicy": "Allow",
        "startingDeadlineSeconds": 5,
    }
    apply(cluster, own_ns, doc)
    w = Watcher(cluster.api, own_ns)
    try:
        cluster.wait_for("the first run", lambda: len(w.children("tick")) == 1, 120)
        (first,) = w.runs("tick")
        op.kill()
        missed = _scheduled(first) + timedelta(seconds=30)
        while datetime.now(UTC) < missed + timedelta(seconds=8):
            time.sleep(0.5)
        assert [c["metadata"]["name"] for c in w.children("tick")] == [first["metadata"]["name"]]
        start_operator()
        up = datetime.now(UTC)
        cluster.wait_for(
            "a run after the missed one",
            lambda: any(_scheduled(c) > missed for c in w.children("tick")),
            180,
        )
        runs = sorted(w.children("tick"), key=_scheduled)
        (again, resumed) = runs
        assert again["metadata"]["uid"] == first["metadata"]["uid"]  # never re-created
        # The resumed run is on the 30 s grid, after the missed tick, and on time.
        offset = (_scheduled(resumed) - _scheduled(first)).total_seconds()
        assert offset >= 60 and offset % 30 == 0, offset
        late = (_created(resumed) - _scheduled(resumed)).total_seconds()
        print(
            f"operator up {(up - missed).total_seconds():.1f} s after the missed tick; "
            f"first run after restart {late} s late"
        )
        assert -1 <= late <= FIRE_TOLERANCE_S
        status = w.schedule("tick")["status"]
        assert _ts(status["lastScheduleTime"]) == _scheduled(resumed)
        if up < missed + timedelta(seconds=25):
            # The operator resumed while the missed tick was still the due one: it is reported.
            events = client.CoreV1Api(cluster.api).list_namespaced_event(
                own_ns, field_selector="involvedObject.name=tick"
            )
            missed_at = missed.strftime("%Y-%m-%dT%H:%M:%SZ")
            reported = [(e.reason, e.message) for e in events.items]
            assert any(r == "MissedDeadline" and missed_at in m for r, m in reported), reported
    finally:
        # Delete while an operator runs, so the runs' finalizers are released.
        cluster.kubectl("delete", "-n", own_ns, "schedule", "tick", "--timeout=60s", check=False)
        cluster.wait_for("tick's runs gone", lambda: not w.children("tick"), 120)
