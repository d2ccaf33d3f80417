"""Entry point: the Typer app and the commands that submit manifests (validate, apply, run).

Usage errors exit with 4 (invalid input), not click's 2, because 2 means Aborted to a pipeline.
"""

from __future__ import annotations

import json
import sys
import time
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.exceptions import TyperException

from backend.cli import dashboard, emergency, junit, objects
from backend.cli.common import cluster_failed, connect, err, fail, out
from backend.cli.display import Progress
from backend.cli.follow import follow, stop
from backend.cli.manifests import Manifest, ManifestError, load, load_valid, namespace_of, problems
from backend.cli.outcome import ExitCode, Outcome, cases
from backend.clients.kube import AlreadyExists, KubeError
from backend.spec.kinds import KINDS, still_running
from chaosd.duration import DurationError, parse_duration

if TYPE_CHECKING:
    from backend.clients.kube.client import Kube

USAGE_ERROR = 2
FIELD_MANAGER = "faultline-cli"
"""click's exit code for a bad command line; Faultline reports it as 4 (invalid input)."""

app = typer.Typer(
    name="faultline",
    help="Faultline: chaos experiments with hypotheses, verdicts and exit codes.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(dashboard.app, name="dashboard")
objects.register(app)
emergency.register(app)


class OutputFormat(StrEnum):
    text = "text"
    json = "json"


Namespace = Annotated[
    str | None, typer.Option("--namespace", "-n", help="Namespace (default: kubeconfig's).")
]


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="Manifest files (YAML, multi-document).")],
) -> None:
    """Check manifests offline against the CRD schemas (no cluster needed; for pre-commit)."""
    bad = False
    for path in files:
        try:
            manifests = load(str(path))
        except ManifestError as e:
            bad = True
            for line in e.problems:
                err.print(line, markup=False)
            continue
        found = [p for m in manifests for p in problems(m)]
        for line in found:
            err.print(line, markup=False)
        if found:
            bad = True
        else:
            out.print(f"{path}: valid ({len(manifests)} object(s))")
    if bad:
        raise typer.Exit(int(ExitCode.INVALID))


def _submit(
    kube: Kube, m: Manifest, namespace: str | None, create: bool, said: list[str] | None = None
) -> dict[str, Any]:
    """Create (run) or server-side apply (apply) one object. A create that finds an object of
    the same name that has run to its end replaces it, so a pipeline can run the same
    experiment on every push; what was replaced is added to `said`."""
    ns = namespace_of(m, namespace, kube.default_namespace)
    doc = {**m.doc, "metadata": {**m.doc["metadata"], "namespace": ns}}
    try:
        if not create:
            return kube.objects.apply(doc, field_manager=FIELD_MANAGER)
        try:
            return kube.objects.create(doc, field_manager=FIELD_MANAGER)
        except AlreadyExists:
            line = _replace_ended(kube, m, ns)
            if said is not None:
                said.append(line)
            return kube.objects.create(doc, field_manager=FIELD_MANAGER)
    except KubeError as e:
        cluster_failed(e, f"{m.source}: {m.label}")


def _replace_ended(kube: Kube, m: Manifest, ns: str) -> str:
    """Delete the earlier object of `m`'s name once it has ended, and wait until it is gone."""
    kind = KINDS[m.doc["kind"]]
    name = m.doc["metadata"]["name"]
    old = kube.objects.find(kind, ns, name)
    if old is None:
        return f"{kind.kind}/{ns}/{name}: the earlier run was deleted meanwhile"
    why = still_running(old)
    if why:
        fail(ExitCode.ERROR, f"{m.source}: {m.label}: {why} (faultline abort {kind.kind} {name})")
    ok, detail = stop(kube, kind, ns, name, old)
    if not ok:
        fail(ExitCode.ERROR, f"{m.source}: {m.label}: could not replace the earlier run: {detail}")
    status = old.get("status") or {}
    ended = status.get("verdict") or status.get("phase") or "ended"
    return f"{kind.kind}/{ns}/{name}: replaced the earlier run ({ended})"


def _valid(files: list[str]) -> list[Manifest]:
    try:
        return load_valid(files)
    except ManifestError as e:
        fail(ExitCode.INVALID, *e.problems)


@app.command()
def apply(
    files: Annotated[list[Path], typer.Argument(help="Manifest files.")],
    namespace: Namespace = None,
) -> None:
    """Validate offline, then create or update the objects (server-side apply)."""
    manifests = _valid([str(f) for f in files])
    kube = connect()
    for m in manifests:
        obj = _submit(kube, m, namespace, create=False)
        out.print(f"{m.doc['kind']}/{obj['metadata']['name']} applied")


def _timeout(text: str) -> float:
    try:
        return parse_duration(text)
    except DurationError as e:
        fail(ExitCode.INVALID, f"--timeout: {e}")


@app.command()
def run(
    file: Annotated[Path, typer.Argument(help="One Experiment or chaos object manifest.")],
    wait: Annotated[
        bool, typer.Option(help="Follow it to its outcome; exit with its code.")
    ] = False,
    timeout: Annotated[str, typer.Option(help="Give up (and stop it) after this long.")] = "10m",
    junit_path: Annotated[
        Path | None, typer.Option("--junit", help="Write a JUnit report.")
    ] = None,
    output: Annotated[
        OutputFormat, typer.Option(help="text, or json for scripts.")
    ] = OutputFormat.text,
    namespace: Namespace = None,
) -> None:
    """Validate, create and (with --wait) follow an object.

    Exit codes: 0 passed, 1 hypothesis failed, 2 aborted or cancelled, 3 error (could not inject,
    cluster problem, timeout), 4 invalid input. Ctrl-C / SIGTERM stop the object and wait until
    its faults are recovered.
    """
    seconds = _timeout(timeout)
    manifests = _valid([str(file)])
    if len(manifests) != 1:
        fail(ExitCode.INVALID, f"{file}: run takes one object, found {len(manifests)}")
    m = manifests[0]
    if m.doc["kind"] == "Schedule":
        fail(
            ExitCode.INVALID,
            f"{file}: kind: run follows one run to its outcome; a Schedule has "
            "none of its own: use `faultline apply` for it",
        )
    kube = connect()
    said: list[str] = []
    created = _submit(kube, m, namespace, create=True, said=said)
    meta = created["metadata"]
    title = f"{created['kind']}/{meta['namespace']}/{meta['name']}"
    progress_console = err if output == OutputFormat.json else out
    for line in said:
        progress_console.print(line, markup=False)
    progress_console.print(f"{title} created")
    if not wait:
        if output == OutputFormat.json:
            print(json.dumps({"object": title, "created": True}))
        return
    start = time.monotonic()
    progress = Progress(progress_console, title)
    outcome, obj = follow(
        kube, KINDS[created["kind"]], meta["namespace"], meta["name"], seconds, progress
    )
    _report(obj, outcome, time.monotonic() - start, junit_path, output)
    raise typer.Exit(int(outcome.code))


def _report(
    obj: dict[str, Any], outcome: Outcome, secs: float, junit_path: Path | None, fmt: OutputFormat
) -> None:
    rows = cases(obj)
    if junit_path is not None:
        junit.write(junit_path, obj, rows, outcome, secs)
    status = obj.get("status") or {}
    if fmt == OutputFormat.json:
        meta = obj.get("metadata") or {}
        print(
            json.dumps(
                {
                    "kind": obj.get("kind"),
                    "namespace": meta.get("namespace"),
                    "name": meta.get("name"),
                    "result": outcome.code.name.capitalize(),
                    "exitCode": int(outcome.code),
                    "summary": outcome.summary,
                    "phase": status.get("phase"),
                    "verdict": status.get("verdict"),
                    "elapsedSeconds": round(secs, 1),
                    "dashboard": junit.dashboard_link(obj) or None,
                    "cases": [c.__dict__ for c in rows],
                },
                indent=2,
            )
        )
        return
    for c in rows:
        mark = "PASS" if c.passed else "FAIL"
        extra = f" ({c.message})" if c.message else ""
        out.print(f"  {mark} {c.name}: expected {c.expected}; observed {c.observed}{extra}")
    out.print(f"{outcome.code.name.capitalize()}: {outcome.summary}")


def main() -> None:
    command = typer.main.get_command(app)
    try:
        code = command.main(standalone_mode=False)
    except typer.Abort:
        sys.exit(int(ExitCode.ABORTED))
    except TyperException as e:  # click's usage errors (exit code 2) and friends
        show = getattr(e, "show", None)
        if show is not None:
            show()
        code = getattr(e, "exit_code", 1)
        sys.exit(int(ExitCode.INVALID) if code == USAGE_ERROR else code)
    sys.exit(code if isinstance(code, int) else 0)
