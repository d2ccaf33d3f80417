"""Commands on objects already in the cluster: get, describe, pause, resume, abort, logs."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from backend.cli.common import cluster_failed, connect, fail, out
from backend.cli.emergency import print_banner
from backend.cli.follow import stop
from backend.cli.kinds import resolve_kind
from backend.cli.outcome import ExitCode, experiment_results
from backend.clients.kube import KubeError
from backend.spec.kinds import KINDS, PAUSE_ANNOTATION, Kind

if TYPE_CHECKING:
    from backend.clients.kube.client import Kube

KindArg = Annotated[str, typer.Argument(help="Kind, plural or short name (e.g. flnet).")]
NameArg = Annotated[str, typer.Argument(help="Object name.")]
Namespace = Annotated[
    str | None, typer.Option("--namespace", "-n", help="Namespace (default: kubeconfig's).")
]


def _kind(name: str) -> Kind:
    try:
        return resolve_kind(name)
    except ValueError as e:
        fail(ExitCode.INVALID, f"kind: {e}")


def _get(kube: Kube, kind: Kind, ns: str, name: str) -> dict[str, Any]:
    try:
        return kube.objects.get(kind, ns, name)
    except KubeError as e:
        cluster_failed(e)


def _summary(obj: dict[str, Any]) -> str:
    status = obj.get("status") or {}
    if obj.get("kind") == "Experiment":
        return str(status.get("verdict") or "-")
    return f"{status.get('injectedTargets', 0)}/{status.get('desiredTargets', 0)}"


def get(
    kind: Annotated[str | None, typer.Argument(help="Kind (default: every kind).")] = None,
    name: Annotated[str | None, typer.Argument()] = None,
    namespace: Namespace = None,
    all_namespaces: Annotated[bool, typer.Option("--all-namespaces", "-A")] = False,
    output: Annotated[str, typer.Option("--output", "-o", help="table or json")] = "table",
) -> None:
    """List Faultline objects with phase and injected targets (or verdict)."""
    kube = connect()
    ns = None if all_namespaces else (namespace or kube.default_namespace)
    kinds = [_kind(kind)] if kind else list(KINDS.values())
    try:
        if name:
            items = [kube.objects.get(kinds[0], ns or kube.default_namespace, name)]
        else:
            items = [o for k in kinds for o in kube.objects.items(k, ns)]
    except KubeError as e:
        cluster_failed(e)
    if output == "json":
        print_banner(kube, to_stderr=True)
        print(json.dumps(items, indent=2))
        return
    print_banner(kube)
    table = Table("KIND", "NAMESPACE", "NAME", "PHASE", "INJECTED/VERDICT", box=None)
    for o in items:
        meta = o.get("metadata") or {}
        phase = str((o.get("status") or {}).get("phase", "Pending"))
        table.add_row(o.get("kind"), meta.get("namespace"), meta.get("name"), phase, _summary(o))
    out.print(table)


def describe(kind: KindArg, name: NameArg, namespace: Namespace = None) -> None:
    """Show an object's spec, conditions and per-target records (or per-criterion results)."""
    kube = connect()
    k = _kind(kind)
    obj = _get(kube, k, namespace or kube.default_namespace, name)
    status = obj.get("status") or {}
    out.print(f"[bold]{k.kind}/{name}[/bold]  phase {status.get('phase', 'Pending')}")
    if status.get("message"):
        out.print(f"message: {status['message']}", markup=False)
    out.print("spec:", markup=False)
    out.print(json.dumps(obj.get("spec"), indent=2), markup=False)
    for c in status.get("conditions", []):
        out.print(f"condition {c.get('type')}={c.get('status')} ({c.get('reason', '')})")
    if k.kind == "Experiment":
        out.print(f"verdict: {status.get('verdict') or '-'}")
        results = Table("CRITERION", "EXPECTED", "OBSERVED", "HELD", box=None)
        for r in experiment_results(status):
            held = "yes" if r.get("passed") else "no"
            name = str(r.get("criterion") or r.get("name") or "")
            results.add_row(name, str(r.get("expected", "")), str(r.get("observed", "")), held)
        out.print(results)
        return
    table = Table("TARGET", "NODE", "PHASE", "INJECTED", "RECOVERED", "LAST ERROR", box=None)
    for r in status.get("records", []):
        table.add_row(
            r.get("id"),
            r.get("node", ""),
            r.get("phase"),
            str(r.get("injectedCount", 0)),
            str(r.get("recoveredCount", 0)),
            r.get("lastError", ""),
        )
    out.print(table)


def _pause(kind: str, name: str, namespace: str | None, value: str | None) -> None:
    kube = connect()
    k = _kind(kind)
    patch = {"metadata": {"annotations": {PAUSE_ANNOTATION: value}}}  # None removes it
    action = "pause" if value else "resume"
    try:
        kube.objects.merge_patch(k, namespace or kube.default_namespace, name, patch, action=action)
    except KubeError as e:
        cluster_failed(e)
    out.print(f"{k.kind}/{name} {'paused' if value else 'resumed'}")


def pause(kind: KindArg, name: NameArg, namespace: Namespace = None) -> None:
    """Withdraw the faults but keep the object (annotation chaos.faultline.dev/pause)."""
    _pause(kind, name, namespace, "true")


def resume(kind: KindArg, name: NameArg, namespace: Namespace = None) -> None:
    """Re-inject a paused object."""
    _pause(kind, name, namespace, None)


def abort(kind: KindArg, name: NameArg, namespace: Namespace = None) -> None:
    """Stop an object now: delete it and wait until its faults are recovered."""
    kube = connect()
    k = _kind(kind)
    ok, detail = stop(kube, k, namespace or kube.default_namespace, name)
    if not ok:
        fail(ExitCode.ERROR, detail)
    out.print(detail)


def logs(kind: KindArg, name: NameArg, namespace: Namespace = None) -> None:
    """What happened to an object: per-target events and Kubernetes Events, oldest first."""
    kube = connect()
    k = _kind(kind)
    ns = namespace or kube.default_namespace
    obj = _get(kube, k, ns, name)
    lines = []
    for r in (obj.get("status") or {}).get("records", []):
        for e in r.get("events", []):
            lines.append((str(e.get("time")), f"{r.get('id')} {e.get('type')}: {e.get('message')}"))
    try:
        for e in kube.core.events_about(ns, name):
            when = str(e.get("lastTimestamp") or e.get("eventTime"))
            lines.append((when, f"{e.get('reason')}: {e.get('message')}"))
    except KubeError as e:
        cluster_failed(e)
    for when, text in sorted(lines):
        out.print(f"{when} {text}", markup=False)


def register(app: typer.Typer) -> None:
    for fn in (get, describe, pause, resume, abort, logs):
        app.command()(fn)
