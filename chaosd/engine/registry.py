"""Which fault family realises which fault kind, and which families this build has.

The engine never imports a family directly: it asks the registry, so a node whose build lacks a
family rejects that family's faults with a clear error instead of failing to start.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from chaosd.engine.errors import InvalidRequest
from chaosd.faults.base import FaultFamily
from chaosd.model import Fault

KIND_FAMILY: Mapping[str, str] = {
    "partition": "network",
    "loss": "network",
    "delay": "network",
    "duplicate": "network",
    "corrupt": "network",
    "bandwidth": "network",
    "io": "io",
}

# module that exposes a `family` attribute, per family name
FAMILY_MODULES: Mapping[str, str] = {
    "network": "chaosd.faults.network",
    "io": "chaosd.faults.io",
}


@dataclass
class Group:
    """The faults of one family inside one desired state, with their positions in `faults`."""

    indices: list[int]
    faults: list[Fault]


class Registry:
    def __init__(
        self, families: Mapping[str, FaultFamily], kind_family: Mapping[str, str] = KIND_FAMILY
    ) -> None:
        self.families = dict(families)
        self.kind_family = dict(kind_family)

    @classmethod
    def default(cls, *, logger: logging.Logger) -> Registry:
        """Every family this build ships; a missing one is logged, not fatal."""
        families: dict[str, FaultFamily] = {}
        for name, module in FAMILY_MODULES.items():
            try:
                families[name] = importlib.import_module(module).family
            except (ImportError, AttributeError) as e:
                logger.info("fault family %r unavailable: %s", name, e)
        return cls(families)

    def group(self, faults: Sequence[Fault]) -> dict[str, Group]:
        """Split faults by family; a kind without a family here is an error naming the fault."""
        groups: dict[str, Group] = {}
        for i, fault in enumerate(faults):
            name = self.kind_family.get(fault.kind)
            if name is None or name not in self.families:
                raise InvalidRequest(
                    ("faults", i),
                    f"fault kind {fault.kind!r} is not supported by this chaosd "
                    f"(families available: {', '.join(sorted(self.families)) or 'none'})",
                )
            group = groups.setdefault(name, Group([], []))
            group.indices.append(i)
            group.faults.append(fault)
        return groups
