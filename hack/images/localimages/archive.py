"""Turn a root filesystem folder into a docker-archive (`docker save` format) and import it.

The archive holds one layer tar, the image config JSON and a manifest.json with the repo tag;
`ctr images import` understands it. Layers are written reproducibly (sorted names, zero mtimes,
root ownership) so the same folder always gives the same image ID and re-imports are no-ops.
"""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class ImageSpec:
    tag: str  # always a pinned tag, never :latest (that would force pulls)
    entrypoint: list[str]
    cmd: list[str] = field(default_factory=list)
    env: list[str] = field(default_factory=lambda: ["PATH=/bin:/usr/bin:/usr/local/bin"])
    workdir: str = "/"
    ports: list[int] = field(default_factory=list)


def _reset(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    info.mtime = 0
    return info


def layer_tar(rootfs: Path, out: Path) -> str:
    """Write rootfs as an uncompressed layer tar; return its sha256 (the layer's diff ID)."""
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(rootfs.rglob("*")):
            rel = path.relative_to(rootfs).as_posix()
            tar.add(path, arcname=rel, recursive=False, filter=_reset)
    return hashlib.sha256(out.read_bytes()).hexdigest()


def docker_archive(rootfs: Path, spec: ImageSpec, out: Path) -> str:
    """Build the archive at `out`; return the image ID (sha256 of the config)."""
    if spec.tag.endswith(":latest") or ":" not in spec.tag.rsplit("/", 1)[-1]:
        raise ValueError(f"tag: {spec.tag!r} must carry a pinned version, not latest")
    with tempfile.TemporaryDirectory() as tmp:
        layer = Path(tmp) / "layer.tar"
        diff_id = layer_tar(rootfs, layer)
        config = {
            "architecture": "amd64",
            "os": "linux",
            "config": {
                "Entrypoint": spec.entrypoint or None,
                "Cmd": spec.cmd or None,
                "Env": spec.env,
                "WorkingDir": spec.workdir,
                "ExposedPorts": {f"{p}/tcp": {} for p in spec.ports} or None,
            },
            "rootfs": {"type": "layers", "diff_ids": [f"sha256:{diff_id}"]},
            "history": [{"created_by": "faultline hack/images"}],
        }
        config_bytes = json.dumps(config, sort_keys=True).encode()
        image_id = hashlib.sha256(config_bytes).hexdigest()
        manifest = [
            {
                "Config": f"{image_id}.json",
                "RepoTags": [spec.tag],
                "Layers": [f"{diff_id}/layer.tar"],
            }
        ]
        with tarfile.open(out, "w") as tar:
            tar.add(layer, arcname=f"{diff_id}/layer.tar", filter=_reset)
            for name, data in (
                (f"{image_id}.json", config_bytes),
                ("manifest.json", json.dumps(manifest).encode()),
            ):
                info = _reset(tarfile.TarInfo(name))
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return image_id


def _ctr(socket: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ctr", "--address", str(socket), "-n", "k8s.io", *args],
        capture_output=True,
        text=True,
        check=False,
    )


def imported_config_digest(socket: Path, tag: str) -> str | None:
    """The config digest (image ID) containerd holds for tag, or None when it has no such image."""
    out = _ctr(socket, "images", "ls", f"name=={tag}").stdout.splitlines()
    if len(out) < 2:
        return None
    # The manifest is tiny; read it back to learn which config it points at.
    digest = out[1].split()[2]
    content = _ctr(socket, "content", "get", digest)
    if content.returncode != 0:
        return None
    return str(json.loads(content.stdout)["config"]["digest"]).removeprefix("sha256:")


def import_archive(socket: Path, archive: Path) -> None:
    result = _ctr(socket, "images", "import", str(archive))
    if result.returncode != 0:
        raise RuntimeError(f"ctr images import {archive}: {result.stderr.strip()}")
