"""Prometheus metrics for chaosd: how many targets are under fault, how long apply and recover
take, and how often leases lapse (a lapse means the controller lost contact with the node)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class Metrics:
    """A private registry per engine, so tests and several engines in one process don't clash."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.targets = Gauge(
            "chaosd_targets", "Targets with a journal entry on this node", registry=self.registry
        )
        self.operations = Counter(
            "chaosd_operations",
            "Apply/recover operations per family and result",
            ["family", "operation", "result"],
            registry=self.registry,
        )
        self.apply_seconds = Histogram(
            "chaosd_apply_seconds",
            "Time to make a target's kernel state match its desired set",
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.recover_seconds = Histogram(
            "chaosd_recover_seconds",
            "Time to recover a target completely",
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.lease_lapses = Counter(
            "chaosd_lease_lapses",
            "Targets recovered by chaosd itself because their lease was not renewed",
            registry=self.registry,
        )
        self.targets_gone = Counter(
            "chaosd_targets_gone",
            "Journal entries dropped because no process was left in the target's namespaces",
            registry=self.registry,
        )
        self.owned = Gauge(
            "chaosd_owned_objects",
            "Faultline-owned objects on the node at the last leak scan, by kind (nft_table, "
            "qdisc, delayer, fuse_mount, iofs_server), desired or not",
            ["kind"],
            registry=self.registry,
        )
        self.leaks_repaired = Counter(
            "chaosd_leaks_repaired",
            "Faultline-owned objects no journal entry desired, removed by the leak scan",
            ["kind"],
            registry=self.registry,
        )
        self.scan_namespaces = Gauge(
            "chaosd_leak_scan_namespaces",
            "Network and mount namespaces the last leak scan walked",
            registry=self.registry,
        )
        self.scan_seconds = Histogram(
            "chaosd_leak_scan_seconds",
            "Time one node-wide leak scan took",
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.signals = Counter(
            "chaosd_signals", "Signals sent to target processes", ["signal"], registry=self.registry
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
