"""Every namespace a Faultline object can touch, each named by the field that makes it touch it.

The admission webhook asks, for each of these namespaces, whether the object's creator may create
that kind there; the operator can use the same answer for its own limits. Reach is read from the
spec's shape, not from a list of field names: every pod selector (`PodSelectorSpec`) anywhere in
a spec counts - a chaos object's `selector`, a NetworkChaos's `target.selector`, the chaos spec a
Schedule embeds, each fault of an Experiment. A kind added later that embeds a selector anywhere
is covered without anyone remembering to register it, which is the safe failure for a security
check. A kind that reaches namespaces some other way registers a function in `EXTRA_REACH`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from pydantic import BaseModel

from backend.domain.limits import Touched, touched_by_selector
from backend.spec.common import PodSelectorSpec

ReachFn = Callable[[Any, str], list[Touched]]

EXTRA_REACH: dict[str, ReachFn] = {}
"""Kind -> namespaces it reaches beyond its pod selectors (none today)."""


def _selectors(value: Any, path: str) -> Iterator[tuple[str, PodSelectorSpec]]:
    """Each pod selector inside `value` with its API path (aliases as users write them)."""
    if isinstance(value, PodSelectorSpec):
        yield path, value
    elif isinstance(value, BaseModel):
        for name, info in type(value).model_fields.items():
            yield from _selectors(getattr(value, name), f"{path}.{info.alias or name}")
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from _selectors(item, f"{path}[{i}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _selectors(item, f"{path}[{key}]")


def reach(kind: str, spec: BaseModel, own: str) -> list[Touched]:
    """The namespaces an object of `kind` in namespace `own` with (parsed) `spec` can touch, in
    field order, one entry per field that names a namespace (an empty selector: `own`)."""
    out = [t for path, sel in _selectors(spec, "spec") for t in touched_by_selector(sel, own, path)]
    if kind in EXTRA_REACH:
        out += EXTRA_REACH[kind](spec, own)
    return out


def namespaces(touched: list[Touched]) -> list[str]:
    """The distinct namespaces, in first-seen order."""
    return list(dict.fromkeys(t.namespace for t in touched))
