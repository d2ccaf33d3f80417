"""Pod selection: every selector kind and every mode, with seeded, order-independent picks."""

from __future__ import annotations

import random
from typing import Any

import pytest

from backend.domain.selection import Pod, SelectionError, pick, reselect, rng_for, select
from backend.spec.common import PodSelector


def pod(name: str, ns: str = "shop", **kw: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": ns, "labels": kw.get("labels", {})}
    meta["annotations"] = kw.get("annotations", {})
    if kw.get("terminating"):
        meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    return {
        "metadata": meta,
        "spec": {"nodeName": kw.get("node", "n1")},
        "status": {"phase": kw.get("phase", "Running"), "podIP": kw.get("ip", "")},
    }


PODS = [
    pod("web-1", labels={"app": "web", "tier": "front"}, node="n1"),
    pod("web-2", labels={"app": "web", "tier": "front"}, node="n2", annotations={"x": "1"}),
    pod("web-3", labels={"app": "web"}, node="n2", phase="Pending"),
    pod("db-1", labels={"app": "db"}, node="n1"),
    pod("web-9", ns="other", labels={"app": "web"}),
    pod("web-old", labels={"app": "web"}, terminating=True),
]


def names(selector: dict[str, Any], mode: str = "all", value: str | None = None) -> list[str]:
    target = PodSelector(selector=selector, mode=mode, value=value)  # type: ignore[arg-type]
    return [p.name for p in select(PODS, target, "shop", random.Random(1))]


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ({}, ["db-1", "web-1", "web-2", "web-3"]),  # default namespace, terminating excluded
        ({"namespaces": ["other"]}, ["web-9"]),
        ({"labelSelectors": {"app": "web", "tier": "front"}}, ["web-1", "web-2"]),
        ({"annotationSelectors": {"x": "1"}}, ["web-2"]),
        ({"nodes": ["n2"]}, ["web-2", "web-3"]),
        ({"pods": {"shop": ["web-1", "db-1"], "other": ["web-9"]}}, ["web-9", "db-1", "web-1"]),
        ({"podPhaseSelectors": ["Pending"]}, ["web-3"]),
        ({"fieldSelectors": {"metadata.name": "db-1"}}, ["db-1"]),
        ({"fieldSelectors": {"spec.nodeName": "n1", "status.phase": "Running"}}, ["db-1", "web-1"]),
        (
            {"expressionSelectors": [{"key": "tier", "operator": "In", "values": ["front"]}]},
            ["web-1", "web-2"],
        ),
        (
            {"expressionSelectors": [{"key": "tier", "operator": "NotIn", "values": ["front"]}]},
            ["db-1", "web-3"],
        ),
        ({"expressionSelectors": [{"key": "tier", "operator": "Exists"}]}, ["web-1", "web-2"]),
        ({"expressionSelectors": [{"key": "tier", "operator": "DoesNotExist"}]}, ["db-1", "web-3"]),
    ],
)
def test_selector_kinds(selector: dict[str, Any], expected: list[str]) -> None:
    assert names(selector) == expected


def test_node_selectors_need_node_labels() -> None:
    target = PodSelector(selector={"nodeSelectors": {"zone": "a"}}, mode="all")  # type: ignore[arg-type]
    with pytest.raises(SelectionError, match="nodeSelectors"):
        select(PODS, target, "shop", random.Random(1))
    labels = {"n1": {"zone": "a"}, "n2": {"zone": "b"}}
    got = select(PODS, target, "shop", random.Random(1), node_labels=labels)
    assert [p.name for p in got] == ["db-1", "web-1"]


def candidates(n: int) -> list[Pod]:
    return [Pod(namespace="ns", name=f"p{i:02d}") for i in range(n)]


@pytest.mark.parametrize(
    ("mode", "value", "count"),
    [
        ("one", None, 1),
        ("all", None, 10),
        ("fixed", "3", 3),
        ("fixed", "50", 10),
        ("fixed-percent", "25", 2),
        ("fixed-percent", "100", 10),
        ("fixed-percent", "0", 0),
    ],
)
def test_mode_counts(mode: str, value: str | None, count: int) -> None:
    assert len(pick(candidates(10), mode, value, random.Random(7))) == count


def test_random_max_percent_stays_within_the_maximum_and_varies() -> None:
    counts = {
        len(pick(candidates(10), "random-max-percent", "50", random.Random(s))) for s in range(200)
    }
    assert counts == {0, 1, 2, 3, 4, 5}


def test_picks_are_seeded_and_independent_of_input_order() -> None:
    pool = candidates(20)
    a = pick(pool, "fixed", "5", rng_for("uid-1"))
    b = pick(list(reversed(pool)), "fixed", "5", rng_for("uid-1"))
    c = pick(pool, "fixed", "5", rng_for("uid-2"))
    assert a == b and a != c


@pytest.mark.parametrize(
    ("mode", "value", "phrase"),
    [
        ("fixed", None, "required"),
        ("fixed", "x", "whole number"),
        ("fixed-percent", "101", "between 0 and 100"),
        ("random-max-percent", "-1", "whole"),
    ],
)
def test_bad_values_name_value(mode: str, value: str | None, phrase: str) -> None:
    with pytest.raises(SelectionError, match=f"^value: .*{phrase}"):
        pick(candidates(3), mode, value, random.Random(0))


def test_reselect_keeps_current_targets_and_adds_new_pods() -> None:
    target = PodSelector(selector={"labelSelectors": {"app": "web"}}, mode="all")  # type: ignore[arg-type]
    first = reselect([], PODS, target, "shop", random.Random(0))
    later = [*PODS, pod("web-4", labels={"app": "web"})]
    again = reselect([p.id for p in first], later, target, "shop", random.Random(0))
    assert [p.name for p in again] == ["web-1", "web-2", "web-3", "web-4"]

    fixed = PodSelector(selector={"labelSelectors": {"app": "web"}}, mode="fixed", value="2")  # type: ignore[arg-type]
    chosen = reselect(["shop/web-3"], later, fixed, "shop", random.Random(0))
    assert "web-3" in [p.name for p in chosen] and len(chosen) == 2


def test_pod_from_client_style_snake_case() -> None:
    class Fake:
        def to_dict(self) -> dict[str, Any]:
            return {
                "metadata": {"name": "a", "namespace": "b", "labels": None},
                "spec": {"node_name": "n"},
                "status": {"phase": "Running", "pod_ip": "10.0.0.5"},
            }

    p = Pod.of(Fake())
    assert (p.id, p.node, p.ip, p.labels) == ("b/a", "n", "10.0.0.5", {})
