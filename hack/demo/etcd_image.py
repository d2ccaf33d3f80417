"""The demo's etcd image, built from Debian's etcd-server package (no registry needed).

Debian's etcd is dynamically linked against glibc only, so the image holds the binary, the
loader and libc, plus busybox for debugging. Built once, cached by content hash like the other
local images, and imported into the cluster's containerd when missing.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve()
sys.path.insert(0, str(HERE.parents[1] / "images"))

from localimages.archive import (  # noqa: E402
    ImageSpec,
    docker_archive,
    import_archive,
    imported_config_digest,
)

CACHE = Path("/var/cache/faultline/images")
ETCD = ImageSpec(tag="faultline.local/etcd:3.4.23", entrypoint=["/usr/bin/etcd"], ports=[2379])
FILES = [
    "/usr/bin/etcd",
    "/lib64/ld-linux-x86-64.so.2",
    "/lib/x86_64-linux-gnu/libc.so.6",
    "/bin/busybox",
]


def build() -> tuple[Path, str]:
    h = hashlib.sha256(HERE.read_bytes())
    for f in FILES:
        h.update(Path(f).read_bytes())
    archive = CACHE / f"etcd-{h.hexdigest()[:16]}.tar"
    id_file = archive.with_suffix(".id")
    if archive.exists() and id_file.exists():
        return archive, id_file.read_text()
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "rootfs"
        for f in FILES:
            dest = root / f.lstrip("/")
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(Path(f).resolve(), dest)
        for applet in ("sh", "ls", "cat", "ps"):
            (root / "bin" / applet).symlink_to("busybox")
        for d in ("tmp", "proc", "sys", "dev", "etc", "data"):
            (root / d).mkdir(exist_ok=True)
        (root / "etc/nsswitch.conf").write_text("hosts: files dns\n")
        (root / "etc/hosts").write_text("127.0.0.1 localhost\n")
        image_id = docker_archive(root, ETCD, archive.with_suffix(".tmp"))
    archive.with_suffix(".tmp").rename(archive)
    id_file.write_text(image_id)
    return archive, image_id


def ensure_imported(socket: Path) -> bool:
    """Import the image unless containerd already holds this exact build; True if imported."""
    archive, image_id = build()
    if imported_config_digest(socket, ETCD.tag) == image_id:
        return False
    import_archive(socket, archive)
    return True


if __name__ == "__main__":
    sock = Path(
        sys.argv[1] if len(sys.argv) > 1 else "/run/faultline-cluster/containerd/containerd.sock"
    )
    print("imported" if ensure_imported(sock) else "already present", ETCD.tag)
