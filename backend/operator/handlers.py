"""kopf registrations: thin glue from watch events to `chaos.reconcile`.

Every chaos kind gets the same treatment: reconcile on create and resume, on a pause-annotation
change, and on a timer (new pods, lease renewal, duration end); on delete, withdraw the faults.
Deletion never wedges on a dead daemon: if chaosd cannot be reached, the finalizer is still
released, because the node's chaosd recovers the target by itself when the lease lapses.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import kopf

from backend.clients import kube
from backend.clients.chaosd import ChaosdClient, ChaosdError, ready_endpoints
from backend.clients.kube.client import shared
from backend.operator import (
    experiments,  # noqa: F401  (registers the Experiment daemon)
    metrics,
    pods,
)
from backend.operator.chaos import ChaosObject, World, reconcile, recover_all
from backend.operator.deadlines import Deadlines
from backend.operator.desired import DesiredIndex
from backend.operator.events import new_events, newly_refused
from backend.operator.inject import Injector
from backend.operator.kicks import Kicker, selected_namespaces
from backend.operator.leakwatch import LeakWatch
from backend.operator.podfailure import still_failed
from backend.operator.safety import KILLSWITCH_NAME, KillSwitch, newly_stopped
from backend.operator.settings import OperatorSettings
from backend.spec import GROUP, KINDS, VERSION
from backend.spec.kinds import PAUSE_ANNOTATION
from chaosd.duration import parse_duration

CHAOS_PLURALS = ("podchaos", "networkchaos", "iochaos")
KIND_OF = {"podchaos": "PodChaos", "networkchaos": "NetworkChaos", "iochaos": "IOChaos"}

settings = OperatorSettings()
cluster = shared()
HANDLER_WORKERS = 16
index = DesiredIndex()
_clients: dict[str, ChaosdClient] = {}
_clients_guard = threading.Lock()


_endpoints: tuple[float, dict[str, str]] = (0.0, {})
ENDPOINTS_MAX_AGE = 5.0
"""Seconds a listing of the chaosd pods is reused: a push per target must not cost an API call
per target. A node missing from the listing triggers a fresh one at once."""


def _list_chaosd() -> dict[str, str]:
    pods = cluster.core.list_pods(
        [settings.chaosd_namespace], label_selector=settings.chaosd_selector
    )
    return ready_endpoints(pods, settings.chaosd_port, settings.chaosd_scheme)


def _chaosd_url(node: str) -> str:
    global _endpoints
    if settings.chaosd_url:
        return settings.chaosd_url
    listed_at, endpoints = _endpoints
    if node not in endpoints or time.monotonic() - listed_at > ENDPOINTS_MAX_AGE:
        endpoints = _list_chaosd()
        _endpoints = (time.monotonic(), endpoints)
    if node not in endpoints:
        raise ChaosdError(f"no ready chaosd on node {node}", retryable=True)
    return endpoints[node]


def _client(url: str) -> ChaosdClient:
    with _clients_guard:
        client = _clients.get(url)
        if client is None:
            client = _clients[url] = settings.chaosd_client(url)
        return client


def chaosd_for(node: str) -> ChaosdClient:
    return _client(_chaosd_url(node))


def _warm_up() -> None:
    """Build the API and chaosd clients before the first object arrives: creating them (TLS
    contexts, kubeconfig) took about half a second, which the first experiment used to pay."""
    try:
        cluster.preload()
        urls = [settings.chaosd_url] if settings.chaosd_url else list(_list_chaosd().values())
        for url in urls:
            _client(url)
    except Exception as e:  # only an optimisation: the first push builds what is missing
        logging.getLogger("faultline.operator").warning("warm-up incomplete: %s", e)


def _kill(node: str, container_id: str) -> None:
    client = chaosd_for(node)
    client.signal(client.resolve_container(container_id), 9)


def _withdraw_everything() -> None:
    """The kill switch: every target loses every fault now, not on its object's next tick."""
    for result in injector.push_many(index.clear()):
        if not result.ok:
            logging.getLogger("faultline.operator").warning(
                "kill switch: %s not recovered yet (%s); its lease lapses within %ss",
                result.key.target_id,
                result.error,
                settings.lease_seconds,
            )


def _tell_stop(kind: str, reason: str, message: str) -> None:
    """The emergency stop's Events go on its ConfigMap: one place that says when it was engaged
    and lifted (each object it ends also gets its own EmergencyStop Event)."""
    involved = {"apiVersion": "v1", "kind": "ConfigMap", "name": KILLSWITCH_NAME,
                "namespace": settings.operator_namespace}  # fmt: skip
    try:
        cluster.core.post_event(involved, kind, reason, message)
    except kube.KubeError as e:  # a courtesy: the objects' own conditions and Events remain
        logging.getLogger("faultline.operator").warning("could not post the stop event: %s", e)


def _engage() -> None:
    started = time.perf_counter()
    _withdraw_everything()
    elapsed = time.perf_counter() - started
    # Then reconcile every live object at once: each one gets its EmergencyStop condition and
    # Event now, and a reconcile that raced the switch (it pushed after the withdrawal) is
    # undone as soon as it releases the object's lock.
    kicker.kick_all()
    state = killswitch.state
    _tell_stop(
        "Warning",
        "EmergencyStopEngaged",
        state.refusal(f"every fault was withdrawn in {elapsed:.2f}s; new faults are refused"),
    )


def _lift() -> None:
    by = f" by {killswitch.state.liftedBy}" if killswitch.state.liftedBy else ""
    _tell_stop("Normal", "EmergencyStopLifted", f"the emergency stop was lifted{by}")


injector = Injector(index, chaosd_for, lease_seconds=settings.lease_seconds)
killswitch = KillSwitch(
    lambda: cluster.core.config_map(settings.operator_namespace, KILLSWITCH_NAME),
    _engage,
    on_lift=_lift,
)


def _chaosd_by_node() -> dict[str, ChaosdClient]:
    if settings.chaosd_url:
        return {settings.chaosd_url: _client(settings.chaosd_url)}
    return {node: _client(url) for node, url in _list_chaosd().items()}


leakwatch = LeakWatch(
    _chaosd_by_node,
    cluster.core.post_event,
    settings.operator_namespace,
    settings.leak_watch_seconds,
)
pod_lister = pods.PodLister(cluster.core.list_pods)
world = World(
    list_pods=pod_lister,
    node_labels=cluster.core.node_labels,
    delete_pod=cluster.core.delete_pod,
    kill_container=_kill,
    injector=injector,
    get_pod=cluster.core.get_pod,
    patch_pod=cluster.core.patch_pod,
    namespace_annotations=cluster.core.namespace_annotations,
    emergency_stop=lambda: killswitch.state,
    require_opt_in=settings.require_namespace_opt_in,
    limits=settings.limits,
    pod_failure_image=settings.pod_failure_image,
)


def _obj(plural: str, body: Mapping[str, Any], status: dict[str, Any] | None) -> ChaosObject:
    meta = body["metadata"]
    return ChaosObject(
        kind=KIND_OF[plural],
        namespace=meta["namespace"],
        name=meta["name"],
        uid=meta["uid"],
        spec=dict(body.get("spec") or {}),
        status=status if status is not None else dict(body.get("status") or {}),
        annotations=dict(meta.get("annotations") or {}),
    )


# The last status this process wrote, per object uid. kopf may hand a handler a body that does
# not yet show our previous status patch (a timer right after create); reconciling from that
# stale status would redo one-shot actions and re-tell events. We are the status' only writer,
# so our own copy is the freshest. After a restart it is empty and the stored status is used.
_written: dict[str, dict[str, Any]] = {}
_locks: dict[str, threading.Lock] = {}
_deleted: set[str] = set()
"""Objects whose delete handler ran: nothing may inject for them again."""
_bodies: dict[str, Mapping[str, Any]] = {}
"""The last body of each live object, for reconciles that no kopf handler started."""
_locks_guard = threading.Lock()
deadlines = Deadlines()


def _lock(uid: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(uid, threading.Lock())


def _slim(body: Mapping[str, Any]) -> dict[str, Any]:
    """What a later reconcile and its Events need of a body (not managedFields and the like)."""
    meta = body["metadata"]
    keep = ("name", "namespace", "uid", "annotations", "resourceVersion")
    return {
        "apiVersion": body.get("apiVersion"),
        "kind": body.get("kind"),
        "metadata": {k: meta[k] for k in keep if k in meta},
        "spec": body.get("spec"),
        "status": body.get("status"),
    }


def _event(body: Mapping[str, Any], type_: str, reason: str, message: str) -> None:
    """An Event on the object: queued through kopf inside its handlers; posted directly from
    the kicker's threads (the emergency stop's reconcile of every object), where kopf's event
    queue is not in context and kopf.event raises LookupError."""
    try:
        # kopf annotates `objs` as its Body, but reads it only as a mapping (the object ref).
        kopf.event(dict(body), type=type_, reason=reason, message=message[:1024])  # type: ignore[arg-type]
        return
    except LookupError:
        pass
    meta = body["metadata"]
    involved = {key: str(body.get(key)) for key in ("apiVersion", "kind")}
    involved |= {key: str(meta[key]) for key in ("name", "namespace", "uid")}
    try:
        cluster.core.post_event(involved, type_, reason, message)
    except kube.KubeError as e:  # the status condition says the same; the Event is a courtesy
        logging.getLogger("faultline.operator").warning("could not post an event: %s", e)


def _reconcile(plural: str, body: Mapping[str, Any]) -> dict[str, Any] | None:
    """Reconcile, tell what changed (Events, metrics), arm the deadline; return the status to
    store (None: Finished and nothing to write)."""
    uid = body["metadata"]["uid"]
    with _lock(uid):
        if uid in _deleted:
            return None
        _bodies[uid] = _slim(body)
        obj = _obj(plural, body, _written.get(uid))
        if obj.status.get("phase") == "Finished":
            metrics.set_phase(obj.uid, obj.kind, "Finished")
            # Handlers of one object may patch out of order (a timer can run beside the create
            # handler), so the stored status can lag our Finished one: keep re-sending it.
            return obj.status if uid in _written else None
        started = time.perf_counter()
        status = reconcile(obj, world)
        elapsed = time.perf_counter() - started
        _written[uid] = status
    refusal = newly_refused(obj.status, status)
    if refusal:
        _event(body, "Warning", "Refused", refusal)
    stopped = newly_stopped(obj.status, status)
    if stopped:
        _event(body, "Warning", "EmergencyStop", stopped)
    told = new_events(obj.status, status)
    for ev in told:
        _event(body, ev.severity, ev.reason, f"{ev.target}: {ev.message}")
        metrics.record_event(obj.kind, ev.type)
    if any(ev.type == "Applied" for ev in told):
        metrics.APPLY_SECONDS.labels(obj.kind).observe(elapsed)
    metrics.set_phase(obj.uid, obj.kind, status.get("phase"))
    _arm_deadline(plural, obj, status)
    if status.get("phase") in ("Finished", "Paused"):
        kicker.forget(uid)
    else:
        spaces = selected_namespaces(obj.spec, obj.namespace)
        kicker.track(uid, plural, obj.namespace, obj.name, spaces)
    return status


def _arm_deadline(plural: str, obj: ChaosObject, status: dict[str, Any]) -> None:
    duration = obj.spec.get("duration")
    if not duration or status.get("phase") in ("Finished", "Paused") or "startTime" not in status:
        return
    end = datetime.fromisoformat(status["startTime"]) + timedelta(seconds=parse_duration(duration))
    left = (end - datetime.now(UTC)).total_seconds()
    if left <= settings.tick_seconds + 1:  # later deadlines are armed by a later tick
        deadlines.arm(
            obj.uid, left, lambda: _reconcile_now(obj.uid, plural, obj.namespace, obj.name)
        )


def _changed(body: Mapping[str, Any], status: dict[str, Any] | None) -> bool:
    """Whether `status` differs from the stored one. A tick that changes nothing writes nothing:
    with many objects, a status patch per object per tick was most of the API traffic (and a
    watch event back to every watcher)."""
    if status is None:
        return False
    stored = {k: v for k, v in (body.get("status") or {}).items() if k != "kopf"}
    return stored != status


def _reconcile_now(uid: str, plural: str, namespace: str, name: str) -> None:
    """Reconcile outside kopf's handler cycle (a deadline, a pod event), then write the status.

    From the body kopf last handed us: a chaos spec is immutable, our own status copy is the
    freshest, and a pause-annotation change reaches its own handler. Reading the object first
    had put an API round trip between the deadline and the faults' withdrawal. A deletion is
    safe too: the delete handler takes the object's lock and recovers after any reconcile."""
    kind = KINDS[KIND_OF[plural]]
    body = _bodies.get(uid)
    if body is None:  # not seen by a handler of this process yet
        body = cluster.objects.find(kind, namespace, name)
        if body is None:
            return  # deleted meanwhile: its delete handler recovers it
    status = _reconcile(plural, body)
    if status is not None and _changed(body, status):
        with contextlib.suppress(kube.NotFound):  # deleted meanwhile
            cluster.objects.patch_status(kind, namespace, name, status)


kicker = Kicker(_reconcile_now)


def _run(plural: str, body: kopf.Body, patch: kopf.Patch, logger: kopf.Logger) -> None:
    status = _reconcile(plural, body)
    if status is not None and _changed(body, status):
        patch.status.update(status)
        logger.debug("reconciled: %s", status.get("phase"))


def _register(plural: str) -> None:
    resource = (GROUP, VERSION, plural)

    @kopf.on.create(*resource, id=f"{plural}-create")
    @kopf.on.resume(*resource, id=f"{plural}-resume")
    @kopf.on.field(
        *resource, field=["metadata", "annotations", PAUSE_ANNOTATION], id=f"{plural}-pause"
    )
    def on_change(body: kopf.Body, patch: kopf.Patch, logger: kopf.Logger, **_: Any) -> None:
        _run(plural, body, patch, logger)

    @kopf.timer(*resource, interval=settings.tick_seconds, id=f"{plural}-tick")
    def on_tick(body: kopf.Body, patch: kopf.Patch, logger: kopf.Logger, **_: Any) -> None:
        _run(plural, body, patch, logger)

    @kopf.on.delete(*resource, id=f"{plural}-delete")
    def on_delete(body: kopf.Body, logger: kopf.Logger, **_: Any) -> None:
        uid = body["metadata"]["uid"]
        # Under the object's lock, and marked deleted first: a reconcile already running (a
        # deadline, a pod event) finishes before the recovery, and none starts after it.
        with _lock(uid):
            _deleted.add(uid)
            _bodies.pop(uid, None)
            obj = _obj(plural, body, _written.pop(uid, None))
            metrics.set_phase(obj.uid, obj.kind, None)
            deadlines.cancel(obj.uid)
            kicker.forget(obj.uid)
            errors = recover_all(obj, world)
        with _locks_guard:
            _locks.pop(uid, None)
        failed = still_failed(obj, cluster.core.get_pod)
        if failed:
            # Unlike chaosd's faults, swapped images have no lease that lapses: retry, since
            # restoring needs only the API server, which is reachable if this handler runs.
            raise kopf.TemporaryError(f"pods still failed: {', '.join(failed)}", delay=2)
        if errors:
            # The daemon will recover by itself when the lease lapses; never wedge deletion.
            logger.warning(
                "could not reach chaosd for every target (%s); faults lapse within %ss",
                "; ".join(errors),
                settings.lease_seconds,
            )


for _plural in CHAOS_PLURALS:
    _register(_plural)


class _QuietPodEvents(logging.Filter):
    """kopf logs every handled watch event at INFO; one line per pod event in the cluster
    would drown the operator's log."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "'pods-kick'" not in record.getMessage()


logging.getLogger("kopf.objects").addFilter(_QuietPodEvents())


@kopf.on.event("", "v1", "pods", id="pods-kick")
async def on_pod(event: Mapping[str, Any], **_: Any) -> None:
    # Async and non-blocking: the kicked reconciles run in the kicker's own threads.
    pod = event.get("object") or {}
    namespace = (pod.get("metadata") or {}).get("namespace")
    if namespace:
        pod_lister.invalidate(namespace)
    kicker.pod_event(event.get("type"), pod)


@kopf.on.startup()
def configure(**kwargs: Any) -> None:
    kopf_settings: kopf.OperatorSettings = kwargs["settings"]
    kopf_settings.persistence.finalizer = f"{GROUP}/finalizer"
    kopf_settings.posting.level = logging.WARNING
    kopf_settings.watching.server_timeout = 60
    # Sync handlers run in this pool. asyncio's default (cores + 4: six threads here) let a
    # few slow reconciles (a node's chaosd timing out) hold up every new object behind them.
    kopf_settings.execution.max_workers = HANDLER_WORKERS
    _warm_up()
    killswitch.start()
    leakwatch.start()
    # Experiments and Schedules refuse to start runs while the stop is engaged.
    kwargs["memo"].emergency_stop = killswitch
    if settings.metrics_listen:
        metrics.serve(settings.metrics_listen)


from backend.operator import schedules  # noqa: E402, F401  (registers the Schedule controller)
