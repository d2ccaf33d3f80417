"""Go-style durations ("300ms", "1m30s") as used across Faultline's APIs and CRDs."""

from __future__ import annotations

import re

_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
DURATION_PATTERN = r"^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$"


class DurationError(ValueError):
    """A duration string that is not Go-style."""


def parse_duration(text: str) -> float:
    """Return seconds for a Go-style duration; negative or malformed values raise."""
    if not isinstance(text, str) or not re.fullmatch(DURATION_PATTERN, text):
        raise DurationError(
            f"invalid duration {text!r}: use a Go-style duration such as '30s', '500ms' or '1m30s'"
        )
    return sum(float(num) * _UNITS[unit] for num, unit in _PART.findall(text))


def format_duration(seconds: float) -> str:
    """Render seconds as the shortest exact Go-style string we can (ms precision)."""
    ms = round(seconds * 1000)
    if ms % 1000:
        return f"{ms}ms"
    s = ms // 1000
    if s % 60 or s < 60:
        return f"{s}s"
    return f"{s // 60}m"
