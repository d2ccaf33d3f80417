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

import logging
import os
import sys
import time
from collections.abc import Iterator
from typing import Any, cast

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from backend.clients import kube
from backend.clients.chaosd import ChaosdError
from backend.operator.podfailure import ORIGINAL_IMAGES, restore_pod
from backend.operator.settings import OperatorSettings
from backend.spec import GROUP, VERSION

PLURALS = ("podchaos", "networkchaos", "iochaos")
FINALIZER = f"{GROUP}/finalizer"
log = logging.getLogger("faultline.uninstall")


def _objects(
    api: client.CustomObjectsApi, namespaces: list[str]
) -> Iterator[tuple[str, dict[str, Any]]]:
    for plural in PLURALS:
        pages = (
            [api.list_namespaced_custom_object(GROUP, VERSION, ns, plural) for ns in namespaces]
            if namespaces
            else [api.list_cluster_custom_object(GROUP, VERSION, plural)]
        )
        for page in pages:
            for obj in cast(dict[str, Any], page)["items"]:
                yield plural, obj


def _delete_all(api: client.CustomObjectsApi, namespaces: list[str]) -> int:
    count = 0
    for plural, obj in _objects(api, namespaces):
        meta = obj["metadata"]
        try:
            api.delete_namespaced_custom_object(
                GROUP, VERSION, meta["namespace"], plural, meta["name"]
            )
            count += 1
        except ApiException as e:
            if e.status != 404:
                raise
    return count


def _release_finalizers(api: client.CustomObjectsApi, namespaces: list[str]) -> list[str]:
    left = []
    for plural, obj in _objects(api, namespaces):
        meta = obj["metadata"]
        left.append(f"{plural}/{meta['namespace']}/{meta['name']}")
        kept = [f for f in meta.get("finalizers") or [] if f != FINALIZER]
        try:
            api.patch_namespaced_custom_object(
                GROUP, VERSION, meta["namespace"], plural, meta["name"],
                {"metadata": {"finalizers": kept or None}},
            )  # fmt: skip
        except ApiException as e:
            if e.status != 404:
                raise
    return left


def _restore_failed_pods(namespaces: list[str]) -> list[str]:
    """Pods still carrying pod-failure's annotation get their images back; return their names."""
    restored = []
    for pod in kube.list_pods(namespaces or None):
        if ORIGINAL_IMAGES in (pod["metadata"].get("annotations") or {}):
            ns, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
            if restore_pod(kube.get_pod, kube.patch_pod, ns, name, None):
                restored.append(f"{ns}/{name}")
    return restored


def _recover_chaosd(settings: OperatorSettings) -> list[str]:
    """Recover every target each chaosd of the release holds; return what could not be."""
    problems = []
    endpoints = kube.chaosd_endpoints(
        settings.chaosd_namespace,
        settings.chaosd_selector,
        settings.chaosd_port,
        settings.chaosd_scheme,
    )
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
    api = client.CustomObjectsApi(kube.api_client())
    log.info("deleted %d chaos object(s)", _delete_all(api, namespaces))
    deadline = time.monotonic() + timeout / 2
    while any(True for _ in _objects(api, namespaces)) and time.monotonic() < deadline:
        time.sleep(1)
    stuck = _release_finalizers(api, namespaces)
    if stuck:
        log.warning("the operator did not release %s; released their finalizers", stuck)
    restored = _restore_failed_pods(namespaces)
    if restored:
        log.warning("pods were still failed by pod-failure; restored %s", restored)
    problems = _recover_chaosd(settings)
    if problems:
        sys.exit("faults may remain: " + "; ".join(problems))
    log.info("no chaosd holds a fault any more")


if __name__ == "__main__":
    main()
