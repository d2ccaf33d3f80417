"""How long the Faultline image takes to build without Docker: cold, warm, and after a code change.

Runs the real builder (hack/images/localimages/faultline.py) against a throwaway cache folder, so
the machine's own cache is untouched: the cold build runs debootstrap and fetches every wheel
from PyPI; the warm build is a cache hit; the "code change" build reuses the Debian root and the
wheels and redoes only the last stage (what a developer waits for after editing backend/ or
chaosd/). Prints seconds for each and the archive size. Needs root (debootstrap, chroot) and the
network (the Debian mirror, PyPI). The cache folder is always removed.

    sudo .venv/bin/python bench/faultline_image.py
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BUILD = REPO / "hack" / "images" / "build"


def _timed(cache: Path, extra_env: dict[str, str] | None = None) -> tuple[float, str]:
    env = {
        **os.environ,
        "FAULTLINE_CACHE": str(cache),
        "PIP_NO_CACHE_DIR": "1",
        **(extra_env or {}),
    }
    start = time.monotonic()
    out = subprocess.run(
        [str(BUILD), "build", "faultline"], env=env, capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        sys.exit(f"build failed: {out.stderr.strip()[-2000:]}")
    return time.monotonic() - start, out.stdout.strip().split("\t")[1]


def main() -> None:
    cache = Path(tempfile.mkdtemp(prefix="faultline-image-bench-"))
    try:
        cold, archive = _timed(cache)
        warm, _ = _timed(cache)
        # A code change: drop the final archive, keep the Debian root and the wheels.
        for f in (cache / "images").glob("faultline-*"):
            f.unlink()
        rebuilt, archive = _timed(cache)
        size = Path(archive).stat().st_size / 2**20
        print(f"cold build (debootstrap + PyPI wheels + app): {cold:7.1f} s")
        print(f"warm build (cache hit):                       {warm:7.1f} s")
        print(f"after a code change (last stage only):        {rebuilt:7.1f} s")
        print(f"archive size:                                 {size:7.1f} MiB")
    finally:
        shutil.rmtree(cache, ignore_errors=True)


if __name__ == "__main__":
    main()
