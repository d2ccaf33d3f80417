"""kopf registrations: thin glue from watch events to `chaos.reconcile`.

Every chaos kind gets the same treatment: reconcile on create and resume, on a pause-annotation
change, and on a timer (new pods, lease renewal, duration end); on delete, withdraw the faults.
Deletion never wedges on a dead daemon: if chaosd cannot be reached, the finalizer is still
released, because the node's chaosd recovers the target by itself when the lease lapses.
"""

from __future__ import annotations

import logging
from typing import Any

import kopf

from backend.clients import kube
from backend.clients.chaosd import ChaosdClient, ChaosdError
from backend.operator import experiments  # noqa: F401  (registers the Experiment daemon)
from backend.operator.chaos import ChaosObject, World, reconcile, recover_all
from backend.operator.desired import DesiredIndex
from backend.operator.inject import Injector
from backend.operator.settings import OperatorSettings
from backend.spec import GROUP, VERSION
from backend.spec.kinds import PAUSE_ANNOTATION

CHAOS_PLURALS = ("podchaos", "networkchaos", "iochaos")
KIND_OF = {"podchaos": "PodChaos", "networkchaos": "NetworkChaos", "iochaos": "IOChaos"}

settings = OperatorSettings()
index = DesiredIndex()
_clients: dict[str, ChaosdClient] = {}


def chaosd_for(node: str) -> ChaosdClient:
    if settings.chaosd_url:
        url = settings.chaosd_url
    else:
        endpoints = kube.chaosd_endpoints(
            settings.chaosd_namespace,
            settings.chaosd_selector,
            settings.chaosd_port,
            settings.chaosd_scheme,
        )
        if node not in endpoints:
            raise ChaosdError(f"no ready chaosd on node {node}", retryable=True)
        url = endpoints[node]
    client = _clients.get(url)
    if client is None:
        client = _clients[url] = ChaosdClient(url, token=settings.token())
    return client


def _kill(node: str, container_id: str) -> None:
    client = chaosd_for(node)
    client.signal(client.resolve_container(container_id), 9)


injector = Injector(index, chaosd_for, lease_seconds=settings.lease_seconds)
world = World(
    list_pods=kube.list_pods,
    node_labels=kube.node_labels,
    delete_pod=kube.delete_pod,
    kill_container=_kill,
    injector=injector,
)


def _obj(plural: str, body: kopf.Body) -> ChaosObject:
    meta = body["metadata"]
    return ChaosObject(
        kind=KIND_OF[plural],
        namespace=meta["namespace"],
        name=meta["name"],
        uid=meta["uid"],
        spec=dict(body.get("spec") or {}),
        status=dict(body.get("status") or {}),
        annotations=dict(meta.get("annotations") or {}),
    )


def _run(plural: str, body: kopf.Body, patch: kopf.Patch, logger: logging.Logger) -> None:
    obj = _obj(plural, body)
    if obj.status.get("phase") == "Finished":
        return
    status = reconcile(obj, world)
    patch.status.update(status)
    logger.debug("reconciled %s/%s: %s", obj.namespace, obj.name, status.get("phase"))


def _register(plural: str) -> None:
    resource = (GROUP, VERSION, plural)

    @kopf.on.create(*resource, id=f"{plural}-create")
    @kopf.on.resume(*resource, id=f"{plural}-resume")
    @kopf.on.field(
        *resource, field=["metadata", "annotations", PAUSE_ANNOTATION], id=f"{plural}-pause"
    )
    def on_change(body: kopf.Body, patch: kopf.Patch, logger: logging.Logger, **_: Any) -> None:
        _run(plural, body, patch, logger)

    @kopf.timer(*resource, interval=settings.tick_seconds, id=f"{plural}-tick")
    def on_tick(body: kopf.Body, patch: kopf.Patch, logger: logging.Logger, **_: Any) -> None:
        _run(plural, body, patch, logger)

    @kopf.on.delete(*resource, id=f"{plural}-delete")
    def on_delete(body: kopf.Body, logger: logging.Logger, **_: Any) -> None:
        errors = recover_all(_obj(plural, body), world)
        if errors:
            # The daemon will recover by itself when the lease lapses; never wedge deletion.
            logger.warning(
                "could not reach chaosd for every target (%s); faults lapse within %ss",
                "; ".join(errors),
                settings.lease_seconds,
            )


for _plural in CHAOS_PLURALS:
    _register(_plural)


@kopf.on.startup()
def configure(**kwargs: Any) -> None:
    kopf_settings: kopf.OperatorSettings = kwargs["settings"]
    kopf_settings.persistence.finalizer = f"{GROUP}/finalizer"
    kopf_settings.posting.level = logging.WARNING
    kopf_settings.watching.server_timeout = 60
