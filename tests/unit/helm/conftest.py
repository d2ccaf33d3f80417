"""Real helm and kubeconform binaries for the chart tests, plus a `render` helper.

The binaries and the Kubernetes schemas come from hack/tools.sh (pinned versions, cached outside
the repo). A cold cache means a Go build of several minutes, which must not count against a
single test's timeout, so it happens once after collection instead of inside a fixture.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
CHART = REPO / "helm" / "faultline"
TOOLS = REPO / "hack" / "tools.sh"
KUBE_VERSION = "1.33.0"
HERE = Path(__file__).resolve().parent


def _tool(name: str) -> Path:
    out = subprocess.run([str(TOOLS), name], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"hack/tools.sh {name} failed:\n{out.stderr}")
    return Path(out.stdout.strip().splitlines()[-1])


def pytest_collection_finish(session: pytest.Session) -> None:
    if any(HERE in Path(str(item.path)).parents for item in session.items):
        for name in ("helm", "kubeconform", "kube-schemas"):
            _tool(name)


@dataclass(frozen=True)
class Rendered:
    text: str
    objects: list[dict[str, Any]]

    def find(self, kind: str, suffix: str = "") -> dict[str, Any]:
        """The one object of `kind` whose name ends with `suffix`."""
        hits = [
            o for o in self.objects if o["kind"] == kind and o["metadata"]["name"].endswith(suffix)
        ]
        assert len(hits) == 1, f"expected one {kind} *{suffix}, found {len(hits)}"
        return hits[0]

    def find_all(self, kind: str) -> list[dict[str, Any]]:
        return [o for o in self.objects if o["kind"] == kind]

    def kinds(self, *, besides: str = "") -> set[str]:
        """The kinds rendered; `besides` leaves out one component's objects (e.g. "webhook")."""
        return {o["kind"] for o in self.objects if not besides or _component(o) != besides}


def _component(obj: dict[str, Any]) -> str:
    return str(obj["metadata"].get("labels", {}).get("app.kubernetes.io/component", ""))


@dataclass(frozen=True)
class Tools:
    helm: Path
    kubeconform: Path
    kube_schemas: Path


@pytest.fixture(scope="session")
def tools() -> Tools:
    return Tools(_tool("helm"), _tool("kubeconform"), _tool("kube-schemas"))


@pytest.fixture(scope="session")
def crd_schemas(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """kubeconform schemas for Faultline's own kinds, converted from the chart's CRDs."""
    out = tmp_path_factory.mktemp("crd-schemas")
    crds = sorted((CHART / "crds").glob("*.yaml"))
    subprocess.run(
        [sys.executable, str(REPO / "hack" / "kubeconform_schemas.py"), "--out", str(out), "--crd"]
        + [str(p) for p in crds],
        check=True,
        capture_output=True,
    )
    return out


RenderFn = Callable[..., Rendered]


@pytest.fixture(scope="session")
def render(tools: Tools) -> RenderFn:
    """`helm template` the chart; raises CalledProcessError (with stderr) when helm refuses."""

    def run(*args: str, values: dict[str, Any] | None = None, crds: bool = False) -> Rendered:
        cmd = [str(tools.helm), "template", "fl", str(CHART), "--namespace", "faultline"]
        cmd += ["--kube-version", KUBE_VERSION, *args]
        if crds:
            cmd.append("--include-crds")
        stdin = None
        if values is not None:
            cmd += ["--values", "-"]
            stdin = yaml.safe_dump(values)
        out = subprocess.run(cmd, input=stdin, capture_output=True, text=True, check=True)
        objects = [d for d in yaml.safe_load_all(out.stdout) if d]
        return Rendered(out.stdout, objects)

    return run


@pytest.fixture(scope="session")
def kubeconform(tools: Tools, crd_schemas: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run `kubeconform -strict` on manifests against the built-in and Faultline CRD schemas."""
    template = "{{ .ResourceKind }}_{{ .Group }}_{{ .ResourceAPIVersion }}.json"

    def run(manifests: str, *extra: str) -> subprocess.CompletedProcess[str]:
        cmd = [str(tools.kubeconform), "-strict", "-summary", "-output", "text"]
        for folder in (tools.kube_schemas, crd_schemas):
            cmd += ["-schema-location", f"{folder}/{template}"]
        cmd += [*extra, "-"]
        return subprocess.run(cmd, input=manifests, capture_output=True, text=True)

    return run
