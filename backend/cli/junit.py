"""JUnit XML reports, the format every CI system shows as test results.

One testcase per hypothesis criterion (Experiment) or per target (chaos object). Expected and
observed values go into testcase properties (for tools that read them) and into system-out and
the failure message (for CI UIs that only show those).
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from backend.cli.outcome import Case, ExitCode, Outcome


def dashboard_link(obj: dict[str, Any]) -> str:
    """A link to the object in the dashboard when FAULTLINE_DASHBOARD_URL is set, else ""."""
    base = os.environ.get("FAULTLINE_DASHBOARD_URL", "").rstrip("/")
    if not base:
        return ""
    meta = obj.get("metadata") or {}
    kind = "experiments" if obj.get("kind") == "Experiment" else "chaos"
    return f"{base}/{kind}/{meta.get('namespace', 'default')}/{meta.get('name', '')}"


def render(obj: dict[str, Any], cases: list[Case], outcome: Outcome, seconds: float) -> bytes:
    meta = obj.get("metadata") or {}
    suite_name = f"{obj.get('kind')}/{meta.get('namespace', '')}/{meta.get('name', '')}"
    link = dashboard_link(obj)
    if not cases:
        # No per-criterion rows (e.g. the run never got that far): report the run itself.
        cases = [
            Case(
                name="run",
                passed=outcome.code == ExitCode.PASSED,
                expected="Passed",
                observed=outcome.summary,
            )
        ]
    failures = sum(not c.passed for c in cases)
    suites = ET.Element("testsuites", name="faultline")
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=suite_name,
        tests=str(len(cases)),
        failures=str(failures),
        errors="0",
        skipped="0",
        time=f"{seconds:.3f}",
    )
    props = ET.SubElement(suite, "properties")
    ET.SubElement(props, "property", name="outcome", value=outcome.code.name)
    ET.SubElement(props, "property", name="summary", value=outcome.summary)
    if link:
        ET.SubElement(props, "property", name="dashboard", value=link)
    for case in cases:
        _case(suite, suite_name, case, link)
    ET.indent(suites)
    return bytes(ET.tostring(suites, encoding="utf-8", xml_declaration=True))


def _case(suite: ET.Element, classname: str, case: Case, link: str) -> None:
    el = ET.SubElement(suite, "testcase", classname=classname, name=case.name, time="0")
    props = ET.SubElement(el, "properties")
    ET.SubElement(props, "property", name="expected", value=case.expected)
    ET.SubElement(props, "property", name="observed", value=case.observed)
    if link:
        ET.SubElement(props, "property", name="dashboard", value=link)
    text = f"expected: {case.expected}\nobserved: {case.observed}"
    if case.message:
        text += f"\nmessage: {case.message}"
    if link:
        text += f"\ndashboard: {link}"
    if not case.passed:
        failure = ET.SubElement(
            el, "failure", message=f"expected {case.expected}, observed {case.observed}"
        )
        failure.text = text
    ET.SubElement(el, "system-out").text = text


def write(
    path: Path, obj: dict[str, Any], cases: list[Case], outcome: Outcome, secs: float
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(render(obj, cases, outcome, secs))
