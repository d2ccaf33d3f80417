#!/usr/bin/env python3
"""Regenerate crds/*.yaml from the Pydantic models in backend/spec.

Usage: hack/gen-crds.py          write the files
       hack/gen-crds.py --check  exit 1 and list the files that drifted from the models
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from backend.spec.crdgen import drifted, write_all  # noqa: E402


def main() -> int:
    crds = ROOT / "crds"
    if "--check" in sys.argv[1:]:
        stale = drifted(crds)
        for name in stale:
            print(f"crds/{name} differs from backend/spec; run `make generate`", file=sys.stderr)
        return 1 if stale else 0
    for path in write_all(crds):
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
