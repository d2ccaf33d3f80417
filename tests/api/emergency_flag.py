"""A stand-in for the emergency stop's ConfigMap, for local-mode apps (API and dashboard tests)."""

from __future__ import annotations


class MemoryFlag:
    namespace = "faultline"

    def __init__(self) -> None:
        self.data: dict[str, str] | None = None

    def read(self) -> dict[str, str] | None:
        return self.data

    def write(self, data: dict[str, str | None]) -> None:
        merged = {**(self.data or {}), **data}
        self.data = {k: v for k, v in merged.items() if v is not None}

    def may_change(self, principal: object) -> bool:
        raise AssertionError("local mode decides by role, never by RBAC")
