"""Kind arguments as kubectl accepts them: the kind, its plural or a short name, any case."""

from __future__ import annotations

from backend.spec.kinds import KINDS, Kind


def resolve_kind(name: str) -> Kind:
    wanted = name.lower()
    for kind in KINDS.values():
        if wanted in (kind.kind.lower(), kind.plural, *kind.short_names):
            return kind
    choices = ", ".join(KINDS)
    raise ValueError(f"unknown kind {name!r}: use one of {choices} (or a plural or short name)")
