"""Prints an Experiment's outcome: the verdict, each probe's recovery figures, each criterion.

The figures are the engine's own (status.metrics, status.results), so what the demo prints is
what `kubectl get experiment -o yaml`, the CLI and the dashboard show.
"""

from __future__ import annotations

from typing import Any


def _num(v: Any, unit: str = "", fmt: str = ".1f") -> str:
    return "-" if v is None else f"{v:{fmt}}{unit}"


def print_report(status: dict[str, Any], doc: dict[str, Any], elapsed: float) -> str:
    """Print the outcome and return the verdict ("Passed", "Failed", "Aborted", "Error")."""
    verdict = str(status.get("verdict") or "none")
    timing = doc["spec"]["timing"]
    print()
    print(f"Verdict: {verdict}   ({doc['spec']['hypothesis']['title']})")
    if status.get("message"):
        print(f"  {status['message']}")
    print(
        f"  run {elapsed:.0f}s: baseline {timing['baseline']}, fault {timing['faultDuration']}, "
        f"recovery deadline {timing['recoveryDeadline']}"
    )
    print()
    header = (
        f"  {'probe':<8}{'baseline QPS':>16}{'min QPS':>9}{'dip':>7}{'impact':>8}"
        f"{'recovered':>11}{'after end':>11}{'lost req':>10}{'err% fault':>12}"
    )
    print(header)
    for m in status.get("metrics", []):
        base = f"{_num(m.get('baselineQps'))} (>{_num(m.get('baselineLow'), fmt='.0f')})"
        err = m.get("errorRateDuringFault")
        print(
            f"  {m['probe']:<8}{base:>16}{_num(m.get('minQps')):>9}"
            f"{_num(m.get('dipDepthPercent'), '%', '.0f'):>7}"
            f"{_num(m.get('timeToImpactSeconds'), 's'):>8}"
            f"{_num(m.get('timeToRecoverFromStartSeconds'), 's'):>11}"
            f"{_num(m.get('timeToRecoverFromEndSeconds'), 's'):>11}"
            f"{_num(m.get('lostRequests'), fmt='.0f'):>10}"
            f"{_num(None if err is None else 100 * err, '%'):>12}"
        )
    print(
        "  (baseline: median QPS and the low edge of its noise band; impact: fault start to the"
        "\n   first dip; recovered: fault start to QPS back to >= 90% of baseline and holding;"
        "\n   after end: the same, counted from the end of the fault)"
    )
    print()
    for r in status.get("results", []):
        mark = "PASS" if r.get("passed") else "FAIL"
        print(f"  [{mark}] {r['criterion']}: expected {r['expected']}, observed {r['observed']}")
    return verdict
