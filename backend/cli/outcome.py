"""Turning an object's status into an exit code and report rows; pure, so it is unit-testable.

The status is read defensively (plain dicts, missing fields allowed) because the CLI must keep
working against an operator that is older or newer than itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any


class ExitCode(IntEnum):
    PASSED = 0
    FAILED = 1
    """The hypothesis did not hold."""
    ABORTED = 2
    """An abort condition fired, or the run was cancelled (Ctrl-C, SIGTERM, CI cancel)."""
    ERROR = 3
    """Could not inject, cluster problem, or timeout."""
    INVALID = 4
    """The manifest or the command line is wrong."""


@dataclass(frozen=True)
class Outcome:
    code: ExitCode
    summary: str


@dataclass(frozen=True)
class Case:
    """One JUnit testcase: a hypothesis criterion, or a target of a chaos object."""

    name: str
    passed: bool
    expected: str
    observed: str
    message: str = ""


def _status(obj: dict[str, Any]) -> dict[str, Any]:
    status = obj.get("status")
    return status if isinstance(status, dict) else {}


def judge_chaos(obj: dict[str, Any]) -> Outcome | None:
    """Decided outcome of a PodChaos/NetworkChaos/IOChaos, or None to keep waiting.

    Passed means every selected target was injected: at Finished (a bounded fault ran its
    course) or, for a fault without `duration`, as soon as every target is injected (it is left
    in force, like `kubectl apply` would). A Failed phase is not final: the operator retries.
    """
    status = _status(obj)
    phase = status.get("phase")
    records = [r for r in status.get("records", []) if isinstance(r, dict)]
    if phase == "Finished":
        missed = [r.get("id", "?") for r in records if not r.get("injectedCount")]
        if records and not missed:
            return Outcome(ExitCode.PASSED, f"finished: {len(records)} target(s) injected")
        why = f"never injected: {', '.join(missed)}" if missed else "no target was selected"
        return Outcome(ExitCode.ERROR, f"finished without injecting ({why})")
    desired, injected = status.get("desiredTargets", 0), status.get("injectedTargets", 0)
    unbounded = not (obj.get("spec") or {}).get("duration")
    if phase == "Running" and unbounded and desired and injected == desired:
        return Outcome(ExitCode.PASSED, f"running: {injected}/{desired} target(s) injected")
    return None


def judge_experiment(obj: dict[str, Any]) -> Outcome | None:
    """Decided outcome of an Experiment, or None while it is still running.

    Only a final phase counts: the engine writes the verdict a moment before the per-criterion
    results and metrics, and an aborted run removes its faults before it reaches Finished.
    """
    status = _status(obj)
    verdict, phase = status.get("verdict"), status.get("phase")
    if phase not in ("Finished", "Failed"):
        return None
    message = status.get("message") or ""
    if status.get("aborted") or verdict == "Aborted":
        return Outcome(ExitCode.ABORTED, _with(message, "aborted"))
    if verdict == "Passed":
        return Outcome(ExitCode.PASSED, "hypothesis held")
    if verdict == "Failed":
        return Outcome(ExitCode.FAILED, _with(message, "hypothesis failed"))
    if verdict in ("Error", "Inconclusive"):
        return Outcome(ExitCode.ERROR, _with(message, str(verdict).lower()))
    return Outcome(
        ExitCode.ERROR, _with(message, f"experiment {str(phase).lower()} without a verdict")
    )


def _with(message: str, prefix: str) -> str:
    if message.startswith(prefix):  # the engine often says "aborted: ..." itself
        return message
    return f"{prefix}: {message}" if message else prefix


def judge(obj: dict[str, Any]) -> Outcome | None:
    return judge_experiment(obj) if obj.get("kind") == "Experiment" else judge_chaos(obj)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _result_passed(item: dict[str, Any]) -> bool:
    for key in ("passed", "ok", "held"):
        if isinstance(item.get(key), bool):
            return bool(item[key])
    return str(item.get("result") or item.get("verdict") or "").lower() in ("passed", "held")


def experiment_results(status: dict[str, Any]) -> list[dict[str, Any]]:
    """The per-criterion results, under whichever name the engine stores them."""
    for key in ("results", "criteria", "hypothesisResults"):
        items = status.get(key)
        if isinstance(items, list):
            return [i for i in items if isinstance(i, dict)]
    return []


def cases(obj: dict[str, Any]) -> list[Case]:
    status = _status(obj)
    if obj.get("kind") == "Experiment":
        out = []
        for item in experiment_results(status):
            name = item.get("name") or item.get("criterion") or item.get("probe") or "criterion"
            out.append(
                Case(
                    name=str(name),
                    passed=_result_passed(item),
                    expected=_text(item.get("expected")),
                    observed=_text(item.get("observed")),
                    message=_text(item.get("message")),
                )
            )
        return out
    return [_record_case(r) for r in status.get("records", []) if isinstance(r, dict)]


def _record_case(record: dict[str, Any]) -> Case:
    injected, recovered = record.get("injectedCount", 0), record.get("recoveredCount", 0)
    phase = record.get("phase", "NotInjected")
    return Case(
        name=str(record.get("id", "?")),
        passed=bool(injected) and phase != "Failed",
        expected="fault injected",
        observed=f"phase {phase}, injected {injected}x, recovered {recovered}x",
        message=_text(record.get("lastError")),
    )
