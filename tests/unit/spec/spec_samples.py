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
    # at the documented bounds, and the address forms Kubernetes' isIP/isCIDR accept
    doc(
        "NetworkChaos",
        {
            **PARTITION,
            "duration": "168h",
            "device": "eth0.100@if12",
            "externalTargets": ["10.0.0.1/8", "0.0.0.0/0", "fd00::/64", "::/0", "2001:db8::1"],
        },
    ),
    doc("PodChaos", {**POD_KILL, "gracePeriod": 604800, "duration": "1.5h"}),
    doc("Schedule", {**SCHEDULE, "schedule": "@every 1s", "startingDeadlineSeconds": 604800}),
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

# Validation gaps closed for issue 13: CIDR prefixes, interface names, upper bounds on durations.
INVALID += [
    (
        "NetworkChaos",
        _with(PARTITION, "externalTargets", ["10.0.0.0/99"]),
        "spec.externalTargets[0]",
        "prefix length",
    ),
    (
        "NetworkChaos",
        _with(PARTITION, "externalTargets", ["example.com", "fd00::/129"]),
        "spec.externalTargets[1]",
        "0-128 for IPv6",
    ),
    (
        "NetworkChaos",
        _with(PARTITION, "externalTargets", ["999.0.0.1"]),
        "spec.externalTargets[0]",
        "IP address",
    ),
    (
        "NetworkChaos",
        _with(LOSS, "device", 'eth0" drop\nflush ruleset'),
        "spec.device",
        "should match",
    ),
    ("NetworkChaos", _with(LOSS, "device", "abcdefghijklmnop"), "spec.device", "should match"),
    ("NetworkChaos", _with(LOSS, "device", ".."), "spec.device", "not . or .."),
    ("NetworkChaos", _with(LOSS, "duration", "169h"), "spec.duration", "at most 168h"),
    (
        "NetworkChaos",
        {**LOSS, "action": "delay", "delay": {"latency": "10s", "jitter": "200h"}},
        "spec.delay.jitter",
        "at most 168h",
    ),
    ("IOChaos", _with(IO_FAULT, "duration", "10080m1s"), "spec.duration", "at most 168h"),
    (
        "Experiment",
        _with(EXPERIMENT, "timing.faultDuration", "200h"),
        "spec.timing.faultDuration",
        "at most 168h",
    ),
    (
        "Experiment",
        _with(EXPERIMENT, "timing.recoveryDeadline", "604801s"),
        "spec.timing.recoveryDeadline",
        "at most 168h",
    ),
    (
        "Experiment",
        _with(EXPERIMENT, "faults.0.podChaos.duration", "170h"),
        "spec.faults[0].podChaos.duration",
        "at most 168h",
    ),
    ("Schedule", _with(SCHEDULE, "podChaos.duration", "169h"), "spec.podChaos.duration", "168h"),
    (
        "Schedule",
        _with(SCHEDULE, "startingDeadlineSeconds", 604801),
        "spec.startingDeadlineSeconds",
        "less than or equal to 604800",
    ),
    ("PodChaos", _with(POD_KILL, "gracePeriod", 604801), "spec.gracePeriod", "less than or equal"),
]

# externalTargets entries and whether Kubernetes' isIP/isCIDR (Go's net/netip) accept them: the
# unit tests hold the Python twins to this table, the e2e test holds the API server to it.
EXTERNAL_TARGET_CASES: list[tuple[str, bool]] = [
    ("10.0.0.0/8", True),
    ("10.0.0.1/8", True),  # host bits set: isCIDR accepts it, chaosd masks it
    ("10.0.0.0/32", True),
    ("0.0.0.0/0", True),
    ("10.0.0.0/33", False),
    ("10.0.0.0/99", False),
    ("10.0.0.0/08", False),  # no leading zero in the length
    ("10.0.0.0/", False),
    ("10.0.0.0/-1", False),
    ("010.0.0.0/8", False),  # no leading zero in an octet
    ("10.0.0/8", False),
    ("10.0.0.0/8/8", False),
    ("fd00::/128", True),
    ("fd00::/129", False),
    ("2001:DB8::/32", True),
    ("fe80::1%eth0/64", False),  # no zones
    ("::ffff:10.0.0.1/104", False),  # no IPv4-mapped IPv6
    ("fd00::1", True),
    ("64:ff9b::10.0.0.1", True),
    ("::ffff:10.0.0.1", False),
    ("fd00::1::2", False),
    ("1.2.3", False),
    ("256.1.1.1", False),
    ("db.example.com", True),
    ("DB.example.com", False),
]

# Breakages only the offline validator (and so the admission webhook) sees: the CRD schema
# cannot range-check a cron field, and JSON, so the API server, has no NaN or Infinity.
OFFLINE_INVALID: list[tuple[str, dict[str, Any], str, str]] = [
    *(
        ("Schedule", _with(SCHEDULE, "schedule", expr), "spec.schedule", phrase)
        for expr, phrase in (
            ("61 * * * *", "minute: '61' is outside 0-59"),
            ("0 24 * * *", "hour"),
            ("0 0 * 13 *", "month"),
            ("0 0 * * funday", "day-of-week"),
            ("0 0 30 2 *", "never fires"),
            ("30-10 * * * * *", "second"),
            ("@every 0s", "positive"),
            ("@every 500ms", "at least 1s"),
            ("@every 8761h", "at most 8760h"),
        )
    ),
    (
        "Experiment",
        _with(EXPERIMENT, "hypothesis.tolerances", [{"probe": "qps", "atLeast": float("nan")}]),
        "spec.hypothesis.tolerances[0].atLeast",
        "finite number",
    ),
    (
        "Experiment",
        _with(EXPERIMENT, "hypothesis.tolerances", [{"probe": "qps", "atMost": float("inf")}]),
        "spec.hypothesis.tolerances[0].atMost",
        "not NaN or Infinity",
    ),
    (
        "Experiment",
        _with(
            EXPERIMENT,
            "hypothesis.probes",
            [{"name": "qps", "type": "load", "url": "http://web/", "rate": float("-inf")}],
        ),
        "spec.hypothesis.probes[0].rate",
        "finite number",
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
