"""One IO fault as the FUSE layer applies it, and the path globs rules select files with.

Kept apart from planning (which needs pydantic and the wire model) so the layer server, whose
start-up time is part of time-to-apply, imports only what it runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from chaosd.faults.base import FaultError


@dataclass(frozen=True)
class IORule:
    """One fault as the layer applies it; `methods` empty means every method."""

    action: str
    path: str
    methods: tuple[str, ...] = ()
    percent: float = 100.0
    delay_s: float = 0.0
    errno: int = 0
    attr: tuple[tuple[str, Any], ...] = ()
    filling: str = "zero"
    max_occurrences: int = 1
    max_length: int = 1

    def to_json(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "path": self.path,
            "methods": list(self.methods),
            "percent": self.percent,
            "delay_s": self.delay_s,
            "errno": self.errno,
            "attr": dict(self.attr),
            "filling": self.filling,
            "max_occurrences": self.max_occurrences,
            "max_length": self.max_length,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> IORule:
        return cls(
            action=str(data["action"]),
            path=str(data["path"]),
            methods=tuple(data.get("methods", ())),
            percent=float(data.get("percent", 100.0)),
            delay_s=float(data.get("delay_s", 0.0)),
            errno=int(data.get("errno", 0)),
            attr=tuple(sorted(dict(data.get("attr", {})).items())),
            filling=str(data.get("filling", "zero")),
            max_occurrences=int(data.get("max_occurrences", 1)),
            max_length=int(data.get("max_length", 1)),
        )


def compile_glob(glob: str) -> re.Pattern[str]:
    """'**' crosses directories, '*' and '?' stay within one name, '[...]' is a class."""
    out: list[str] = []
    i = 0
    while i < len(glob):
        c = glob[i]
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            end = glob.find("]", i + 2)
            if end < 0:
                raise FaultError(f"path: unclosed '[' in glob {glob!r}")
            body = glob[i + 1 : end]
            if body.startswith("!"):
                body = "^" + body[1:]
            out.append("[" + body.replace("\\", "\\\\") + "]")
            i = end + 1
        else:
            out.append(re.escape(c))
            i += 1
    try:
        return re.compile("".join(out) + r"\Z")
    except re.error as e:
        raise FaultError(f"path: malformed glob {glob!r}: {e}") from e
