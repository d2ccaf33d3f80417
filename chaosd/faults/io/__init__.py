"""IO faults (latency, fault, attrOverride, mistake) through a FUSE layer over a volume.

`family` is the FaultFamily chaosd's engine uses; `owned(pid)` lists the Faultline FUSE mounts
and layer servers of a target's mount namespace (used by crash-safety checks). See
docs/chaosd-io.md.

Attributes load lazily: the layer server starts as `python -m chaosd.faults.io.server`, and
importing the family (pydantic, the wire model) there would only slow every injection down.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "IOFamily": "chaosd.faults.io.iofamily",
    "owned": "chaosd.faults.io.iofamily",
    "IOPlan": "chaosd.faults.io.plan",
    "VolumePlan": "chaosd.faults.io.plan",
    "build_plan": "chaosd.faults.io.plan",
    "IORule": "chaosd.faults.io.rules",
}


def __getattr__(name: str) -> Any:
    if name == "family":
        value: Any = importlib.import_module("chaosd.faults.io.iofamily").IOFamily()
    elif name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # later look-ups are plain attribute reads
    return value


__all__ = ["IOFamily", "IOPlan", "IORule", "VolumePlan", "build_plan", "family", "owned"]
