"""Sample manifests shared by the spec tests (and the e2e CRD test): valid ones of every kind,
and broken ones with the exact field path the API server must name."""

from __future__ import annotations

import copy
from typing import Any

API = "chaos.faultline.dev/v1alpha1"


def doc(kind: str, spec: dict[str, Any], name: str = "sample") -> dict[str, Any]:
    return {"apiVersion": API, "kind": kind, "metadata": {"name": name}, "spec": spec}


SEL = {"namespaces": ["shop"], "labelSelectors": {"app": "web"}}
POD_KILL = {"action": "pod-kill", "mode": "one", "selector": SEL}
LOSS = {"action": "loss", "mode": "all", "selector": SEL, "loss": {"loss": "25"}, "duration": "30s"}
PARTITION = {
    "action": "partition",
    "mode": "all",
    "selector": SEL,
    "direction": "both",
    "target": {"mode": "fixed", "value": "1", "selector": {"labelSelectors": {"app": "db"}}},
}
IO_FAULT = {
    "action": "fault",
    "mode": "one",
    "selector": SEL,
    "volumePath": "/data",
    "path": "/data/**/*.db",
    "errno": 5,
    "percent": 50,
    "methods": ["read", "write"],
}
SCHEDULE = {"schedule": "@every 30s", "type": "PodChaos", "podChaos": POD_KILL}
EXPERIMENT = {
    "hypothesis": {
        "title": "one web replica dying costs < 20% QPS for < 60s",
        "probes": [
            {
                "name": "qps",
                "type": "prometheus",
                "url": "http://prometheus:9090",
                "query": "sum(rate(http_requests_total[30s]))",
            }
        ],
        "tolerances": [{"probe": "qps", "maxDropPercent": 20}],
    },
    "faults": [{"name": "kill-one", "type": "PodChaos", "podChaos": POD_KILL}],
    "timing": {"faultDuration": "30s", "recoveryDeadline": "60s"},
    "abort": {"conditions": [{"probe": "qps", "belowPercent": 10}]},
}

VALID = [
    doc("PodChaos", POD_KILL),
    doc("PodChaos", {**POD_KILL, "action": "container-kill", "containerNames": ["web"]}),
    doc("NetworkChaos", LOSS),
    doc("NetworkChaos", PARTITION),
    doc(
        "NetworkChaos",
        {
            "action": "netem",
            "mode": "fixed-percent",
            "value": "50",
            "selector": {
                "expressionSelectors": [{"key": "tier", "operator": "In", "values": ["a", "b"]}],
                "fieldSelectors": {"status.phase": "Running"},
                "podPhaseSelectors": ["Running"],
            },
            "delay": {"latency": "100ms", "jitter": "10ms", "correlation": "25"},
            "loss": {"loss": "1.5"},
            "externalTargets": ["10.0.0.0/8", "example.com", "fd00::1"],
        },
    ),
    doc("NetworkChaos", {**LOSS, "action": "bandwidth", "bandwidth": {"rate": "1mbps"}}),
    doc("IOChaos", IO_FAULT),
    doc("IOChaos", {**IO_FAULT, "action": "latency", "delay": "100ms"}),
    doc("Schedule", SCHEDULE),
    doc("Schedule", {**SCHEDULE, "schedule": "*/5 * * * *", "concurrencyPolicy": "Allow"}),
    doc("Experiment", EXPERIMENT),
]


def _with(spec: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """Copy of `spec` with a dotted path set (value DELETE removes the key)."""
    out = copy.deepcopy(spec)
    node = out
    keys = path.split(".")
    for key in keys[:-1]:
        node = node[int(key)] if isinstance(node, list) else node.setdefault(key, {})
    if value is DELETE:
        node.pop(keys[-1], None)
    else:
        node[keys[-1]] = value
    return out


DELETE = object()

# (kind, spec, field path the rejection must name, a phrase of the message)
INVALID: list[tuple[str, dict[str, Any], str, str]] = [
    ("NetworkChaos", _with(LOSS, "loss.loss", "150"), "spec.loss.loss", "percentage"),
    ("NetworkChaos", _with(LOSS, "loss.correlation", "x"), "spec.loss.correlation", "percentage"),
    ("NetworkChaos", _with(LOSS, "action", "explode"), "spec.action", "Unsupported value"),
    ("PodChaos", _with(POD_KILL, "action", "pod-explode"), "spec.action", "Unsupported value"),
    ("NetworkChaos", _with(LOSS, "mode", "fixed"), "spec.value", "value is required"),
    ("NetworkChaos", {**LOSS, "mode": "fixed-percent", "value": "120"}, "spec.value", "percentage"),
    ("NetworkChaos", {**LOSS, "mode": "fixed", "value": "two"}, "spec.value", "whole number"),
    ("NetworkChaos", _with(LOSS, "duration", "10 minutes"), "spec.duration", "Go-style"),
    ("NetworkChaos", _with(PARTITION, "target", DELETE), "spec.target", "target is required"),
    ("NetworkChaos", _with(LOSS, "loss", DELETE), "spec.loss", "loss is required"),
    (
        "NetworkChaos",
        _with({**LOSS, "action": "netem"}, "loss", DELETE),
        "spec.action",
        "at least one",
    ),
    (
        "NetworkChaos",
        _with(LOSS, "externalTargets", ["not_a host"]),
        "spec.externalTargets[0]",
        "IP address",
    ),
    (
        "NetworkChaos",
        {**LOSS, "action": "bandwidth", "bandwidth": {"rate": "fast"}},
        "spec.bandwidth.rate",
        "rate",
    ),
    (
        "NetworkChaos",
        {**PARTITION, "action": "bandwidth", "bandwidth": {"rate": "1mbps"}, "direction": "to"},
        "spec.target",
        "bandwidth",
    ),
    (
        "NetworkChaos",
        _with(
            LOSS,
            "selector.expressionSelectors",
            [{"key": "a", "operator": "Exists", "values": ["x"]}],
        ),
        "spec.selector.expressionSelectors[0].values",
        "must be empty",
    ),
    (
        "NetworkChaos",
        _with(LOSS, "selector.fieldSelectors", {"spec.hostname": "x"}),
        "spec.selector.fieldSelectors",
        "supported keys",
    ),
    ("PodChaos", _with(POD_KILL, "gracePeriod", -1), "spec.gracePeriod", "greater than or equal"),
    ("PodChaos", {**POD_KILL, "action": "container-kill"}, "spec.containerNames", "containerNames"),
    ("IOChaos", _with(IO_FAULT, "errno", DELETE), "spec.errno", "errno is required"),
    ("IOChaos", _with(IO_FAULT, "percent", 101), "spec.percent", "less than or equal"),
    ("IOChaos", _with(IO_FAULT, "volumePath", "data"), "spec.volumePath", "should match"),
    ("IOChaos", _with(IO_FAULT, "methods", ["explode"]), "spec.methods[0]", "Unsupported value"),
    ("Schedule", _with(SCHEDULE, "schedule", "every day"), "spec.schedule", "cron"),
    ("Schedule", _with(SCHEDULE, "type", "NetworkChaos"), "spec.networkChaos", "required"),
    (
        "Schedule",
        _with(SCHEDULE, "concurrencyPolicy", "Replace"),
        "spec.concurrencyPolicy",
        "Unsupported value",
    ),
    (
        "Experiment",
        _with(EXPERIMENT, "hypothesis.tolerances", [{"probe": "latency", "maxDropPercent": 20}]),
        "spec.hypothesis.tolerances",
        "name a probe",
    ),
    (
        "Experiment",
        _with(EXPERIMENT, "hypothesis.probes.0.query", DELETE),
        "spec.hypothesis.probes[0].query",
        "query is required",
    ),
    (
        "Experiment",
        _with(EXPERIMENT, "timing.faultDuration", DELETE),
        "spec.timing.faultDuration",
        "Required value",
    ),
]

# One more breakage for every remaining rule, so each CEL rule is seen failing at least once.
LOAD_PROBE = {"name": "qps", "type": "load", "url": "http://web:8080/"}
INVALID += [
    *(
        (
            "Experiment",
            _with(EXPERIMENT, path, [value] if isinstance(value, dict) else value),
            field,
            phrase,
        )
        for path, value, field, phrase in (
            (
                "hypothesis.probes",
                {**LOAD_PROBE, "interval": "1s"},
                "spec.hypothesis.probes[0].interval",
                "at most 200ms",
            ),
            (
                "hypothesis.probes",
                {**LOAD_PROBE, "workers": 2, "rate": 10},
                "spec.hypothesis.probes[0].rate",
                "not both",
            ),
            (
                "hypothesis.probes.0.workers",
                4,
                "spec.hypothesis.probes[0].type",
                "only to probes of type load",
            ),
            (
                "hypothesis.probes.0.bodyMatch",
                "ok",
                "spec.hypothesis.probes[0].type",
                "only to probes of type http",
            ),
            (
                "hypothesis.tolerances",
                {"probe": "qps", "atLeast": 1, "atMost": 2},
                "spec.hypothesis.tolerances[0]",
                "exactly one of",
            ),
            (
                "hypothesis.tolerances",
                {"probe": "qps", "recoverTo": 90},
                "spec.hypothesis.tolerances[0].within",
                "within is required",
            ),
            (
                "hypothesis.tolerances",
                {"probe": "qps", "atLeast": 1, "within": "10s"},
                "spec.hypothesis.tolerances[0].within",
                "only to recoverTo",
            ),
            (
                "hypothesis.tolerances",
                {"probe": "qps", "metric": "errorRate", "recoverTo": 90, "within": "10s"},
                "spec.hypothesis.tolerances[0].metric",
                "must be qps",
            ),
            (
                "abort.conditions",
                {"probe": "qps"},
                "spec.abort.conditions[0]",
                "exactly one of",
            ),
        )
    ),
    (
        "NetworkChaos",
        _with(LOSS, "selector.expressionSelectors", [{"key": "a", "operator": "In"}]),
        "spec.selector.expressionSelectors[0].values",
        "must be non-empty",
    ),
    *(
        (
            "NetworkChaos",
            _with({**LOSS, "action": block}, "loss", DELETE),
            f"spec.{block}",
            f"{block} is required",
        )
        for block in ("delay", "duplicate", "corrupt", "bandwidth")
    ),
    (
        "NetworkChaos",
        {**LOSS, "action": "bandwidth", "bandwidth": {"rate": "1mbps"}, "direction": "from"},
        "spec.direction",
        "direction must be to",
    ),
    *(
        ("IOChaos", {**IO_FAULT, "action": action}, f"spec.{field}", f"{field} is required")
        for action, field in (
            ("latency", "delay"),
            ("attrOverride", "attr"),
            ("mistake", "mistake"),
        )
    ),
    ("Schedule", {**SCHEDULE, "type": "IOChaos"}, "spec.ioChaos", "ioChaos is required"),
    (
        "Schedule",
        _with({**SCHEDULE, "type": "IOChaos", "ioChaos": IO_FAULT}, "podChaos", DELETE)
        | {"networkChaos": LOSS},
        "spec.type",
        "exactly one",
    ),
    (
        "Schedule",
        _with({**SCHEDULE, "type": "NetworkChaos", "networkChaos": LOSS}, "podChaos", DELETE)
        | {"type": "PodChaos"},
        "spec.podChaos",
        "podChaos is required",
    ),
]
