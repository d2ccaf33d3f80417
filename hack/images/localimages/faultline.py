"""Faultline's own image (operator, chaosd and dashboard in one), built without Docker.

The Helm chart's default image (`image.repository` in values.yaml, tagged with the chart's
appVersion) must exist in containerd before `helm install` can start a pod, and this machine can
neither run `docker build` (images/faultline.Dockerfile) nor pull. So the same image is assembled
here: a Debian bookworm root filesystem from debootstrap (its Python 3.11 matches the project's),
the project's dependencies as wheels fetched from PyPI by the project's venv (same glibc), and the
source tree installed editable into /opt/faultline/venv so non-Python files (migrations, the built
web dashboard) sit where the code expects them, exactly as in a checkout.

Each stage is cached under $FAULTLINE_CACHE by a hash of its inputs (package list; pyproject;
sources + this builder), so a warm build is a cache hit and a code change rebuilds only the
last stage. The tag stays the chart's pinned tag; `ensure_imported` re-imports whenever the
archive's image ID differs from what containerd holds, so pods never run stale code.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
import tomllib
from pathlib import Path

import yaml

from localimages.archive import ImageSpec, docker_archive, import_archive, imported_config_digest
from localimages.catalog import CACHE, partial_path

REPO = Path(__file__).resolve().parents[3]
CHART = REPO / "helm" / "faultline"
MIRROR = "http://deb.debian.org/debian"
SUITE = "bookworm"
# What chaosd needs at run time: nft/ip in target netns, nsenter (util-linux, always present),
# FUSE for IOChaos, NFQUEUE for the delayer, and Python itself.
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
VENV = "/opt/faultline/venv"
# The operator and dashboard run as this user (the chart's runAsUser); chaosd runs as root.
APP_UID = 65532


def _digest(*parts: bytes) -> str:
    return hashlib.sha256(b"\0".join(parts)).hexdigest()[:12]


def _run(*argv: str) -> None:
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:4])} ...: {result.stderr.strip()[-2000:]}")


def chart_image() -> str:
    """The chart's default image reference: `image.repository:(image.tag or appVersion)`."""
    values = yaml.safe_load((CHART / "values.yaml").read_text())["image"]
    tag = values.get("tag") or yaml.safe_load((CHART / "Chart.yaml").read_text())["appVersion"]
    return f"{values['repository']}:{tag}"


def base_rootfs() -> Path:
    """A minimal Debian with PACKAGES, made once per package list."""
    out = CACHE / "rootfs" / f"debian-{SUITE}-{_digest(SUITE.encode(), *map(str.encode, PACKAGES))}"
    if (out / ".complete").exists():
        return out
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.parent.mkdir(parents=True, exist_ok=True)
    _run("debootstrap", "--variant=minbase", f"--include={','.join(PACKAGES)}", SUITE, str(tmp),
         MIRROR)  # fmt: skip
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
    """Wheels for every runtime dependency, fetched/built by the project's venv (cp311)."""
    pyproject = (REPO / "pyproject.toml").read_bytes()
    deps = tomllib.loads(pyproject.decode())["project"]["dependencies"]
    build_deps = ["setuptools>=77", "wheel"]
    out = CACHE / "wheels" / f"deps-{_digest(pyproject, *map(str.encode, build_deps))}"
    if (out / ".complete").exists():
        return out
    out.mkdir(parents=True, exist_ok=True)
    _run(str(REPO / ".venv/bin/pip"), "wheel", "-q", "--wheel-dir", str(out), *deps, *build_deps)
    (out / ".complete").touch()
    return out


def input_hash() -> str:
    """Hash of everything that ends up in the image besides the cached base and wheels."""
    h = hashlib.sha256(Path(__file__).read_bytes())
    h.update("\0".join(PACKAGES).encode())
    for name in SOURCES:
        root = REPO / name
        files = [root] if root.is_file() else sorted(root.rglob("*")) if root.exists() else []
        for path in files:
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                h.update(str(path.relative_to(REPO)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:16]


def _install_app(root: Path, wheels: Path) -> None:
    app = root / "opt/faultline/app"
    app.mkdir(parents=True)
    for name in SOURCES:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, app / name, ignore=SKIP)
        elif src.is_file():
            shutil.copy2(src, app / name)
    shutil.copytree(wheels, root / "tmp/wheels")
    _run("chroot", str(root), "/usr/bin/python3", "-m", "venv", VENV)
    pip = (f"{VENV}/bin/pip", "install", "-q", "--no-index", "--find-links", "/tmp/wheels")
    # -U: the venv's bundled setuptools is too old for the project's pyproject (PEP 639 license).
    _run("chroot", str(root), *pip, "-U", "setuptools>=77", "wheel")
    _run("chroot", str(root), *pip, "--no-build-isolation", "-e", "/opt/faultline/app")
    shutil.rmtree(root / "tmp/wheels")
    shutil.rmtree(app / "faultline.egg-info", ignore_errors=True)
    with open(root / "etc/passwd", "a") as f:
        f.write(f"faultline:x:{APP_UID}:{APP_UID}::/nonexistent:/usr/sbin/nologin\n")
    with open(root / "etc/group", "a") as f:
        f.write(f"faultline:x:{APP_UID}:\n")
    # Device nodes from debootstrap are useless (the runtime mounts its own /dev) and only
    # complicate unpacking the layer.
    shutil.rmtree(root / "dev")
    (root / "dev").mkdir()


def build() -> tuple[Path, str, str]:
    """Build (or reuse) the image archive; return (archive, image ID, tag)."""
    tag = chart_image()
    archive = CACHE / "images" / f"faultline-{input_hash()}.tar"
    id_file = archive.with_suffix(".id")
    if archive.exists() and id_file.exists():
        return archive, id_file.read_text(), tag
    base, wheels = base_rootfs(), dependency_wheels()
    archive.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
        root = Path(tmp) / "rootfs"
        _run("cp", "-a", str(base), str(root))
        (root / ".complete").unlink()
        _install_app(root, wheels)
        spec = ImageSpec(
            tag=tag,
            entrypoint=[],
            cmd=["chaosd", "--help"],
            env=[
                f"PATH={VENV}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "PYTHONUNBUFFERED=1",
                "PYTHONDONTWRITEBYTECODE=1",
            ],
            workdir="/opt/faultline/app",
        )
        partial = partial_path(archive)
        image_id = docker_archive(root, spec, partial)
    partial.rename(archive)
    id_file.write_text(image_id)
    _prune(keep=archive)
    return archive, image_id, tag


def _prune(keep: Path, count: int = 2) -> None:
    """Every code change makes a ~400 MB archive; keep only the newest few."""
    archives = sorted(keep.parent.glob("faultline-*.tar"), key=lambda p: p.stat().st_mtime)
    for old in [p for p in archives if p != keep][: max(0, len(archives) - count)]:
        old.unlink(missing_ok=True)
        old.with_suffix(".id").unlink(missing_ok=True)


def containerd_name(tag: str) -> str:
    """The name containerd stores `tag` under: Docker Hub short names get their registry."""
    first, _, rest = tag.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return tag
    return f"docker.io/{tag}" if rest else f"docker.io/library/{tag}"


def ensure_imported(socket: Path) -> str:
    """Build and import the current Faultline image into the dev cluster; return its tag."""
    archive, image_id, tag = build()
    if imported_config_digest(socket, containerd_name(tag)) != image_id:
        import_archive(socket, archive)
    return tag
