"""Faultline's own image (operator, chaosd and dashboard in one), built without Docker.

A Debian bookworm root filesystem from debootstrap (its Python 3.11 matches the project's), the
project's dependencies as wheels built on the host (same glibc), and the source tree installed
editable into /opt/faultline/venv so non-Python files (migrations, static assets) come along.
Each stage is cached by a hash of its inputs, and the tag carries the source hash, so a code
change gives a new tag and pods never run a stale image under an old name.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
import tomllib
from pathlib import Path

from localimages.archive import ImageSpec, docker_archive, import_archive, imported_config_digest
from localimages.catalog import CACHE

REPO = Path(__file__).resolve().parents[3]
MIRROR = "http://deb.debian.org/debian"
SUITE = "bookworm"
# What chaosd needs at run time: netlink/nftables tools, FUSE, NFQUEUE, and Python itself.
PACKAGES = [
    "python3",
    "python3-venv",
    "iproute2",
    "nftables",
    "iptables",
    "fuse3",
    "libfuse3-3",
    "libnetfilter-queue1",
    "procps",
    "ca-certificates",
]
SOURCES = ("backend", "chaosd", "pyproject.toml", "README.md", "web/dist")
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", ".mypy_cache", "node_modules")


def _digest(*parts: bytes) -> str:
    return hashlib.sha256(b"\0".join(parts)).hexdigest()[:12]


def _run(*argv: str) -> None:
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:4])} ...: {result.stderr.strip()[-2000:]}")


def base_rootfs() -> Path:
    """A minimal Debian with PACKAGES, made once per package list."""
    out = CACHE / "rootfs" / f"debian-{SUITE}-{_digest(SUITE.encode(), *map(str.encode, PACKAGES))}"
    if (out / ".complete").exists():
        return out
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.parent.mkdir(parents=True, exist_ok=True)
    _run(
        "debootstrap",
        "--variant=minbase",
        f"--include={','.join(PACKAGES)}",
        SUITE,
        str(tmp),
        MIRROR,
    )
    for junk in (
        "var/cache/apt/archives",
        "var/lib/apt/lists",
        "usr/share/doc",
        "usr/share/man",
        "usr/share/locale",
        "usr/share/info",
    ):
        shutil.rmtree(tmp / junk, ignore_errors=True)
        (tmp / junk).mkdir(parents=True, exist_ok=True)
    (tmp / ".complete").touch()
    tmp.rename(out)
    return out


def dependency_wheels() -> Path:
    """Wheels for every runtime dependency, built by the project's venv (cp311, same glibc)."""
    pyproject = (REPO / "pyproject.toml").read_bytes()
    deps = tomllib.loads(pyproject.decode())["project"]["dependencies"]
    out = CACHE / "wheels" / f"deps-{_digest(pyproject)}"
    if (out / ".complete").exists():
        return out
    out.mkdir(parents=True, exist_ok=True)
    _run(
        str(REPO / ".venv/bin/pip"),
        "wheel",
        "-q",
        "--wheel-dir",
        str(out),
        *deps,
        "setuptools>=68",
        "wheel",
    )
    (out / ".complete").touch()
    return out


def source_hash() -> str:
    h = hashlib.sha256()
    for name in SOURCES:
        root = REPO / name
        files = [root] if root.is_file() else sorted(root.rglob("*")) if root.exists() else []
        for path in files:
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                h.update(str(path.relative_to(REPO)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:12]


def image_tag() -> str:
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    return f"faultline.local/faultline:{version}-{source_hash()}"


def build() -> tuple[Path, str, str]:
    """Build (or reuse) the image archive; return (archive, image ID, tag)."""
    tag = image_tag()
    archive = CACHE / "images" / f"faultline-{tag.rsplit(':', 1)[1]}.tar"
    id_file = archive.with_suffix(".id")
    if archive.exists() and id_file.exists():
        return archive, id_file.read_text(), tag
    base, wheels = base_rootfs(), dependency_wheels()
    with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
        root = Path(tmp) / "rootfs"
        _run("cp", "-a", str(base), str(root))
        (root / ".complete").unlink()
        app = root / "opt/faultline/app"
        app.mkdir(parents=True)
        for name in SOURCES:
            src = REPO / name
            if src.is_dir():
                shutil.copytree(src, app / name, ignore=SKIP)
            elif src.is_file():
                shutil.copy2(src, app / name)
        shutil.copytree(wheels, root / "tmp/wheels")
        venv = "/opt/faultline/venv"
        _run("chroot", str(root), "/usr/bin/python3", "-m", "venv", venv)
        pip = (f"{venv}/bin/pip", "install", "-q", "--no-index", "--find-links", "/tmp/wheels")
        _run("chroot", str(root), *pip, "setuptools", "wheel")
        _run("chroot", str(root), *pip, "--no-build-isolation", "-e", "/opt/faultline/app")
        shutil.rmtree(root / "tmp/wheels")
        spec = ImageSpec(
            tag=tag,
            entrypoint=[],
            cmd=["chaosd", "--help"],
            env=[
                f"PATH={venv}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "PYTHONUNBUFFERED=1",
            ],
            workdir="/opt/faultline/app",
        )
        image_id = docker_archive(root, spec, archive.with_suffix(".tmp"))
    archive.with_suffix(".tmp").rename(archive)
    id_file.write_text(image_id)
    return archive, image_id, tag


def ensure_imported(socket: Path) -> str:
    """Build and import the current Faultline image into the dev cluster; return its tag."""
    archive, image_id, tag = build()
    if imported_config_digest(socket, tag) != image_id:
        import_archive(socket, archive)
    return tag
