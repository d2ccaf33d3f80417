"""The images the dev cluster needs, and how each root filesystem is put together.

- pause: catatonit as the sandbox's init (the upstream pause image cannot be pulled here).
- coredns: the cluster DNS built by hack/cluster/build.sh (only when that binary exists).
- local-path-provisioner: rancher's provisioner behind the default StorageClass, built by
  hack/cluster/build.sh (only when that binary exists). Its helper pods (mkdir/rm of a volume's
  folder on the node) run the demo-http image's busybox.
- demo-http: the demo service (hack/images/demo-http, a static Go binary) plus busybox, so the
  same image also serves as the in-cluster client (`/demo-http get`, `nslookup`) in tests.
  (busybox's wget is left out: static glibc makes it crash in an image this small.)

Archives are cached under $FAULTLINE_CACHE/images keyed by a hash of everything that goes into
them; an image is only imported when containerd does not already hold that exact image.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from localimages.archive import ImageSpec, docker_archive, import_archive, imported_config_digest

CACHE = Path(os.environ.get("FAULTLINE_CACHE", "/var/cache/faultline"))
HERE = Path(__file__).resolve().parents[1]

PAUSE = ImageSpec(tag="faultline.local/pause:3.10-catatonit", entrypoint=["/catatonit", "-P"])
DEMO_HTTP = ImageSpec(
    tag="faultline.local/demo-http:0.1.0", entrypoint=["/demo-http"], ports=[8080]
)
COREDNS_VERSION = os.environ.get("COREDNS_VERSION", "v1.12.4")
COREDNS_BINARY = CACHE / "bin" / f"coredns-{COREDNS_VERSION}" / "coredns"
COREDNS = ImageSpec(tag=f"faultline.local/coredns:{COREDNS_VERSION}", entrypoint=["/coredns"])
LOCAL_PATH_VERSION = os.environ.get("LOCAL_PATH_VERSION", "v0.0.30")
LOCAL_PATH_BINARY = (
    CACHE / "bin" / f"local-path-provisioner-{LOCAL_PATH_VERSION}" / "local-path-provisioner"
)
LOCAL_PATH = ImageSpec(
    tag=f"faultline.local/local-path-provisioner:{LOCAL_PATH_VERSION}",
    entrypoint=["/local-path-provisioner"],
)
BUSYBOX_APPLETS = (
    "sh",
    "wget",
    "nslookup",
    "sleep",
    "cat",
    "ls",
    "ps",
    "echo",
    "true",
    "ip",
    "ping",
    "nc",
    "hostname",
    "env",
    "seq",
    "date",
    "grep",
    "uptime",
    "kill",
)


def _hash(*parts: bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(hashlib.sha256(part).digest())
    return h.hexdigest()[:16]


def _base_files(root: Path) -> None:
    (root / "etc").mkdir(parents=True, exist_ok=True)
    (root / "tmp").mkdir(mode=0o1777, exist_ok=True)
    (root / "etc/passwd").write_text(
        "root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n"
    )
    (root / "etc/group").write_text("root:x:0:\nnogroup:x:65534:\n")
    # Static glibc programs (busybox) look these up before resolving anything.
    (root / "etc/nsswitch.conf").write_text("hosts: files dns\nservices: files\n")
    (root / "etc/services").write_text("http 80/tcp\nhttps 443/tcp\ndomain 53/udp\n")
    (root / "etc/hosts").write_text("127.0.0.1 localhost\n")
    for d in ("proc", "sys", "dev"):
        (root / d).mkdir(exist_ok=True)


def _pause_rootfs(root: Path) -> None:
    _base_files(root)
    shutil.copy2("/usr/bin/catatonit", root / "catatonit")


def _demo_binary() -> Path:
    src = HERE / "demo-http"
    key = _hash(*(p.read_bytes() for p in sorted(src.glob("*.go*"))))
    out = CACHE / "bin" / f"demo-http-{key}" / "demo-http"
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "CGO_ENABLED": "0",
            "GOFLAGS": "-buildvcs=false",
            "GOTOOLCHAIN": "local",
            "GOCACHE": str(CACHE / "go" / "build"),
        }
        subprocess.run(
            ["go", "build", "-trimpath", "-ldflags=-s -w", "-o", str(out), "."],
            cwd=src,
            env=env,
            check=True,
        )
    return out


def _demo_rootfs(root: Path) -> None:
    _base_files(root)
    (root / "bin").mkdir()
    shutil.copy2("/bin/busybox", root / "bin/busybox")
    for applet in BUSYBOX_APPLETS:
        (root / "bin" / applet).symlink_to("busybox")
    shutil.copy2(_demo_binary(), root / "demo-http")


def _coredns_rootfs(root: Path) -> None:
    _base_files(root)
    shutil.copy2(COREDNS_BINARY, root / "coredns")


def _local_path_rootfs(root: Path) -> None:
    _base_files(root)
    shutil.copy2(LOCAL_PATH_BINARY, root / "local-path-provisioner")


BUILDERS: dict[str, tuple[ImageSpec, Callable[[Path], None], Callable[[], bytes]]] = {
    "pause": (PAUSE, _pause_rootfs, lambda: Path("/usr/bin/catatonit").read_bytes()),
    "demo-http": (
        DEMO_HTTP,
        _demo_rootfs,
        lambda: (
            Path("/bin/busybox").read_bytes()
            + b"".join(p.read_bytes() for p in sorted((HERE / "demo-http").glob("*.go*")))
        ),
    ),
    "coredns": (COREDNS, _coredns_rootfs, lambda: COREDNS_BINARY.read_bytes()),
    "local-path-provisioner": (
        LOCAL_PATH,
        _local_path_rootfs,
        lambda: LOCAL_PATH_BINARY.read_bytes(),
    ),
}
# Images built from binaries that hack/cluster/build.sh makes: only available once built.
BUILT_BINARIES = {"coredns": COREDNS_BINARY, "local-path-provisioner": LOCAL_PATH_BINARY}


def available() -> list[str]:
    """Images whose inputs are on this machine (coredns and the provisioner need their binaries
    built first)."""
    return [n for n in BUILDERS if n not in BUILT_BINARIES or BUILT_BINARIES[n].exists()]


def build(name: str) -> tuple[Path, str]:
    """Build (or reuse from cache) the named image's archive; return (archive, image ID)."""
    spec, make_rootfs, inputs = BUILDERS[name]
    key = _hash(
        inputs(),
        json.dumps(asdict(spec), sort_keys=True).encode(),
        b"".join(Path(__file__).with_name(f).read_bytes() for f in ("catalog.py", "archive.py")),
    )
    archive = CACHE / "images" / f"{name}-{key}.tar"
    id_file = archive.with_suffix(".id")
    if not (archive.exists() and id_file.exists()):
        archive.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp) / "rootfs"
            root.mkdir()
            make_rootfs(root)
            partial = partial_path(archive)
            image_id = docker_archive(root, spec, partial)
        partial.rename(archive)
        id_file.write_text(image_id)
        for stale in archive.parent.glob(f"{name}-*"):  # earlier builds of this image
            if stale.stem != archive.stem:
                stale.unlink(missing_ok=True)
    return archive, id_file.read_text()


def partial_path(archive: Path) -> Path:
    """Where one builder writes `archive` before renaming it into place: unique per process, so
    two builds at once never rename each other's file, and hidden from the stale-build globs."""
    return archive.with_name(f".{archive.name}.{os.getpid()}.partial")


def ensure_imported(socket: Path, names: list[str] | None = None) -> list[str]:
    """Make containerd hold the current version of each image; return the tags imported now."""
    imported = []
    for name in names or available():
        archive, image_id = build(name)
        tag = BUILDERS[name][0].tag
        if imported_config_digest(socket, tag) != image_id:
            import_archive(socket, archive)
            imported.append(tag)
    return imported
