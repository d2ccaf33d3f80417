"""Which cluster the Kubernetes demo runs on, and the images it needs there.

The demo uses the cluster in KUBECONFIG when one is set and reachable (kind, a CI cluster), and
otherwise starts (or reuses) the local dev cluster from hack/cluster. Only the dev cluster can
receive locally built images: this machine has no registry and no Docker, so on another
cluster the images must already be on its nodes.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
for _folder in ("hack/cluster", "hack/images", "hack/demo"):
    if str(ROOT / _folder) not in sys.path:
        sys.path.insert(0, str(ROOT / _folder))

import etcd_image  # noqa: E402
from devcluster import lifecycle  # noqa: E402
from devcluster.external import external_kubeconfig  # noqa: E402
from devcluster.settings import Settings  # noqa: E402
from localimages import catalog  # noqa: E402
from localimages import faultline as faultline_image  # noqa: E402


class DemoError(Exception):
    """A step of the demo could not be done; the message says which and why."""


@dataclass
class DemoCluster:
    kubeconfig: Path
    kubectl_path: Path
    helm_path: Path
    local: bool  # the dev cluster from hack/cluster (images can be imported into it)
    settings: Settings

    def kubectl(self, *args: str, stdin: str | None = None, check: bool = True) -> str:
        return _run(
            [str(self.kubectl_path), f"--kubeconfig={self.kubeconfig}", *args], stdin, check
        )

    def kubectl_json(self, *args: str) -> Any:
        return yaml.safe_load(self.kubectl(*args, "-o", "json"))

    def apply(self, doc: dict[str, Any] | list[dict[str, Any]], namespace: str) -> None:
        docs = doc if isinstance(doc, list) else [doc]
        self.kubectl("apply", "-n", namespace, "-f", "-", stdin=yaml.safe_dump_all(docs))

    def helm(self, *args: str, values: dict[str, Any] | None = None) -> str:
        cmd = [str(self.helm_path), f"--kubeconfig={self.kubeconfig}", *args]
        if values is not None:
            cmd += ["--values", "-"]
        return _run(cmd, yaml.safe_dump(values) if values is not None else None, True)


def _run(cmd: list[str], stdin: str | None, check: bool) -> str:
    out = subprocess.run(cmd, input=stdin, capture_output=True, text=True, check=False)
    if check and out.returncode != 0:
        raise DemoError(f"{Path(cmd[0]).name} {' '.join(cmd[2:6])} ...: {out.stderr.strip()}")
    return out.stdout


def _tool(built: Path, name: str) -> Path:
    if built.exists():
        return built
    found = shutil.which(name)
    if found is None:
        raise DemoError(f"{name} not found: put it on PATH (or run `make cluster-up` once)")
    return Path(found)


def connect() -> DemoCluster:
    """The KUBECONFIG cluster when reachable, else the dev cluster (started when needed)."""
    s = Settings()
    external = external_kubeconfig(s)
    if external is not None:
        return DemoCluster(
            external, _tool(s.kubectl, "kubectl"), _tool(s.helm, "helm"), local=False, settings=s
        )
    lifecycle.up(s)  # reuses a running cluster; builds the binaries on a fresh machine
    return DemoCluster(s.admin_kubeconfig, s.kubectl, s.helm, local=True, settings=s)


def ensure_images(c: DemoCluster) -> str:
    """Build (cached) and import the Faultline and etcd images; returns Faultline's image ID,
    which the release puts in a pod annotation so a rebuilt image rolls the pods."""
    if not c.local:
        return ""  # another cluster: its nodes must already hold the images
    socket = c.settings.containerd_socket
    catalog.ensure_imported(socket, ["pause"])
    etcd_image.ensure_imported(socket)
    faultline_image.ensure_imported(socket)
    return faultline_image.build()[1]  # cached: the build above made it
