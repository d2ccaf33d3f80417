"""Progress of a followed object: a Rich live panel on a terminal, plain lines in CI logs.

CI logs are files, where a redrawn panel turns into noise, so plain mode prints one line per
change (and a heartbeat every 30 s so a long phase does not look hung).
"""

from __future__ import annotations

import os
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

BARS = "▁▂▃▄▅▆▇█"
HEARTBEAT_SECONDS = 30.0


def sparkline(values: list[float], width: int = 40) -> str:
    """Unicode bars for the last `width` values, scaled between their min and max."""
    values = values[-width:]
    if not values:
        return ""
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    return "".join(BARS[min(len(BARS) - 1, int((v - low) / span * len(BARS)))] for v in values)


def qps_series(status: dict[str, Any]) -> list[float]:
    """QPS observations from an Experiment status, if the engine recorded any."""
    metrics = status.get("metrics")
    series: Any = None
    if isinstance(metrics, dict):
        series = metrics.get("qps") or metrics.get("QPS")
    elif isinstance(metrics, list):
        series = [m.get("qps") for m in metrics if isinstance(m, dict)]
    if not isinstance(series, list):
        return []
    return [float(v) for v in series if isinstance(v, int | float)]


def describe_progress(obj: dict[str, Any]) -> str:
    status = obj.get("status") or {}
    parts = [f"phase {status.get('phase', 'Pending')}"]
    if obj.get("kind") == "Experiment":
        if status.get("verdict"):
            parts.append(f"verdict {status['verdict']}")
        for m in status.get("metrics") or []:
            if isinstance(m, dict) and m.get("baselineQps") is not None:
                low = m.get("minQps")
                parts.append(
                    f"{m.get('probe')}: baseline {m['baselineQps']} qps"
                    + (f", min {low} qps" if low is not None else "")
                )
    else:
        parts.append(
            f"injected {status.get('injectedTargets', 0)}/{status.get('desiredTargets', 0)}"
        )
    if status.get("message"):
        parts.append(str(status["message"])[:200])
    return ", ".join(parts)


def interactive(console: Console) -> bool:
    return console.is_terminal and not os.environ.get("CI")


class Progress:
    """Shows the object's progress; `update` is called after every poll."""

    def __init__(self, console: Console, title: str):
        self.console = console
        self.title = title
        self.live: Live | None = None
        self.last_line = ""
        self.last_print = 0.0
        if interactive(console):
            self.live = Live(console=console, refresh_per_second=4, transient=False)
            self.live.start()

    def update(self, obj: dict[str, Any], elapsed: float) -> None:
        line = describe_progress(obj)
        if self.live is not None:
            self.live.update(self._panel(obj, line, elapsed))
            return
        if line != self.last_line or elapsed - self.last_print >= HEARTBEAT_SECONDS:
            self.console.print(f"[{elapsed:5.0f}s] {self.title}: {line}", highlight=False)
            self.last_line, self.last_print = line, elapsed

    def note(self, message: str) -> None:
        self.console.print(message, highlight=False)

    def _panel(self, obj: dict[str, Any], line: str, elapsed: float) -> Group:
        table = Table.grid(padding=(0, 2))
        table.add_row(Text(self.title, style="bold"), Text(f"{elapsed:.0f}s elapsed"))
        table.add_row("status", line)
        qps = qps_series(obj.get("status") or {})
        if qps:
            table.add_row("QPS", Text(f"{sparkline(qps)} {qps[-1]:.1f}", style="cyan"))
        return Group(table)

    def close(self) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None
