"""`python -m backend.operator.uninstall`: leave no fault behind when Faultline is uninstalled.

The Helm chart runs this as a pre-delete hook, while the operator and every chaosd still run.
Deleting a chaos object makes the operator recover its faults; but once the release is gone no
chaosd is left to revert a fault whose lease has not yet lapsed, so this step must not trust that
path alone. It (1) deletes the PodChaos/NetworkChaos/IOChaos objects the operator handles, (2)
waits for the operator to release them, (3) releases the finalizer of any it could not (the
operator is about to go; a stuck finalizer would block namespace deletion forever), (4) puts
back the images of any pod still failed by pod-failure (no lease lapses for those), and (5) asks
every chaosd of the release to recover whatever it still holds, checking that none is left.

Settings are the operator's own FAULTLINE_* variables (the hook runs with the operator's env).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from collections.abc import Iterator
from typing import Any

from backend.clients import kube
from backend.clients.chaosd import ChaosdError, ready_endpoints
from backend.clients.kube.client import Kube, shared
from backend.operator.podfailure import ORIGINAL_IMAGES, restore_pod
from backend.operator.settings import OperatorSettings
from backend.spec import GROUP, KINDS
from backend.spec.kinds import CHAOS_KINDS

FINALIZER = f"{GROUP}/finalizer"
log = logging.getLogger("faultline.uninstall")


def _objects(cluster: Kube, namespaces: list[str]) -> Iterator[dict[str, Any]]:
    scopes: list[str | None] = list(namespaces) or [None]  # None: every namespace
    for kind in CHAOS_KINDS:
        for ns in scopes:
            yield from cluster.objects.items(KINDS[kind], ns)


def _delete_all(cluster: Kube, namespaces: list[str]) -> int:
    count = 0
    for obj in _objects(cluster, namespaces):
        meta = obj["metadata"]
        kind = KINDS[obj["kind"]]
        count += cluster.objects.delete(kind, meta["namespace"], meta["name"], missing_ok=True)
    return count


def _release_finalizers(cluster: Kube, namespaces: list[str]) -> list[str]:
    left = []
    for obj in _objects(cluster, namespaces):
        meta, kind = obj["metadata"], KINDS[obj["kind"]]
        left.append(f"{kind.plural}/{meta['namespace']}/{meta['name']}")
        kept = [f for f in meta.get("finalizers") or [] if f != FINALIZER]
        with contextlib.suppress(kube.NotFound):
            patch = {"metadata": {"finalizers": kept or None}}
            cluster.objects.merge_patch(kind, meta["namespace"], meta["name"], patch)
    return left


def _restore_failed_pods(cluster: Kube, namespaces: list[str]) -> list[str]:
    """Pods still carrying pod-failure's annotation get their images back; return their names."""
    restored = []
    core = cluster.core
    for pod in core.list_pods(namespaces or None):
        if ORIGINAL_IMAGES in (pod["metadata"].get("annotations") or {}):
            ns, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
            if restore_pod(core.get_pod, core.patch_pod, ns, name, None):
                restored.append(f"{ns}/{name}")
    return restored


def _recover_chaosd(cluster: Kube, settings: OperatorSettings) -> list[str]:
    """Recover every target each chaosd of the release holds; return what could not be."""
    problems = []
    pods = cluster.core.list_pods(
        [settings.chaosd_namespace], label_selector=settings.chaosd_selector
    )
    endpoints = ready_endpoints(pods, settings.chaosd_port, settings.chaosd_scheme)
    for node, url in sorted(endpoints.items()):
        with settings.chaosd_client(url) as daemon:
            try:
                for target in daemon.list_targets():
                    log.warning("chaosd on %s still held %s; recovering it", node, target["id"])
                    daemon.delete_target(target["id"])
                left = [t["id"] for t in daemon.list_targets()]
            except ChaosdError as e:
                problems.append(f"{node}: {e}")
                continue
            if left:
                problems.append(f"{node}: targets still held after recovery: {left}")
    return problems


def main() -> None:
    logging.basicConfig(level="INFO", format="%(asctime)s %(name)s %(levelname)s %(message)s")
    settings = OperatorSettings()
    namespaces = [n for n in os.environ.get("FAULTLINE_WATCH_NAMESPACES", "").split(",") if n]
    timeout = float(os.environ.get("FAULTLINE_UNINSTALL_TIMEOUT_SECONDS", "120"))
    cluster = shared()
    log.info("deleted %d chaos object(s)", _delete_all(cluster, namespaces))
    deadline = time.monotonic() + timeout / 2
    while any(True for _ in _objects(cluster, namespaces)) and time.monotonic() < deadline:
        time.sleep(1)
    stuck = _release_finalizers(cluster, namespaces)
    if stuck:
        log.warning("the operator did not release %s; released their finalizers", stuck)
    restored = _restore_failed_pods(cluster, namespaces)
    if restored:
        log.warning("pods were still failed by pod-failure; restored %s", restored)
    problems = _recover_chaosd(cluster, settings)
    if problems:
        sys.exit("faults may remain: " + "; ".join(problems))
    log.info("no chaosd holds a fault any more")


if __name__ == "__main__":
    main()
