"""Field types and selector models shared by every chaos kind.

Names and shapes follow Chaos Mesh v1alpha1 (`selector`, `mode`, `value`, `duration`,
`containerNames`) so a Chaos Mesh manifest ports by changing `apiVersion` only.
"""

from __future__ import annotations

import re
from typing import Annotated, ClassVar, Literal

from pydantic import Field

from backend.spec.rules import Rule, SpecModel, cel_regex
from chaosd.duration import DURATION_PATTERN, parse_duration

# CEL's matches() uses RE2, so every pattern here sticks to the syntax Python and RE2 share.
_PERCENT_RE = r"^[0-9]+([.][0-9]+)?$"
_WHOLE_RE = r"^[0-9]+$"

MAX_DURATION = "168h"
"""The longest any duration field may be (one week): a fault that outlives a week is more likely
forgotten than meant, and every timing of an experiment stays within what a person watches."""
MAX_SECONDS = int(parse_duration(MAX_DURATION))
"""MAX_DURATION in seconds, for the fields counted in whole seconds."""


def _is_percent(v: str) -> bool:
    return re.fullmatch(_PERCENT_RE, v) is not None and float(v) <= 100


def _within_max(v: str) -> bool:
    # A malformed value is the shape rule's to report, as the CEL guard below does.
    return re.fullmatch(DURATION_PATTERN, v) is None or parse_duration(v) <= MAX_SECONDS


Duration = Annotated[
    str,
    Field(max_length=64, examples=["30s"]),
    Rule(
        f"self.matches({cel_regex(DURATION_PATTERN)})",
        "must be a Go-style duration such as 30s, 500ms or 1m30s",
        lambda v: re.fullmatch(DURATION_PATTERN, v) is not None,
    ),
    Rule(
        f"!self.matches({cel_regex(DURATION_PATTERN)}) "
        f"|| duration(self) <= duration('{MAX_DURATION}')",
        f"must be at most {MAX_DURATION} (7 days)",
        _within_max,
    ),
]
PercentString = Annotated[
    str,
    Field(max_length=16),
    Rule(
        f"self.matches({cel_regex(_PERCENT_RE)}) && double(self) <= 100.0",
        'must be a percentage between 0 and 100 written as a string, e.g. "25"',
        _is_percent,
    ),
]
"""Chaos Mesh writes probabilities as strings ("25"); Faultline keeps that for portability."""

Name = Annotated[str, Field(min_length=1, max_length=253)]
ShortString = Annotated[str, Field(max_length=253)]
Mode = Literal["one", "all", "fixed", "fixed-percent", "random-max-percent"]
PodPhase = Literal["Pending", "Running", "Succeeded", "Failed", "Unknown"]
FIELD_SELECTOR_KEYS = ("metadata.name", "metadata.namespace", "spec.nodeName", "status.phase")
StringMap = Annotated[dict[ShortString, ShortString], Field(max_length=64)]
NameList = Annotated[list[Name], Field(max_length=256)]


class ExpressionRequirement(SpecModel):
    """A set-based label requirement, as in a Kubernetes LabelSelector's matchExpressions."""

    key: Name
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist"]
    values: NameList = []

    __rules__: ClassVar[tuple[Rule, ...]] = (
        Rule(
            "!(self.operator in ['In', 'NotIn']) || (has(self.values) && size(self.values) > 0)",
            "values must be non-empty when operator is In or NotIn",
            lambda s: s.operator not in ("In", "NotIn") or bool(s.values),
            ".values",
        ),
        Rule(
            "!(self.operator in ['Exists', 'DoesNotExist']) || !has(self.values) "
            "|| size(self.values) == 0",
            "values must be empty when operator is Exists or DoesNotExist",
            lambda s: s.operator not in ("Exists", "DoesNotExist") or not s.values,
            ".values",
        ),
    )


_field_keys_cel = ", ".join(f"'{k}'" for k in FIELD_SELECTOR_KEYS)


class PodSelectorSpec(SpecModel):
    """Which pods a fault may pick from. Every non-empty selector must match (logical AND)."""

    namespaces: NameList = []
    """Namespaces the pods live in; empty means the chaos object's own namespace."""
    labelSelectors: StringMap = {}
    expressionSelectors: Annotated[list[ExpressionRequirement], Field(max_length=32)] = []
    annotationSelectors: StringMap = {}
    fieldSelectors: Annotated[
        StringMap,
        Rule(
            f"self.all(k, k in [{_field_keys_cel}])",
            "supported keys are " + ", ".join(FIELD_SELECTOR_KEYS),
            lambda m: all(k in FIELD_SELECTOR_KEYS for k in m),
        ),
    ] = {}
    nodes: NameList = []
    """Node names the pods must run on."""
    pods: Annotated[dict[Name, NameList], Field(max_length=64)] = {}
    """Namespace -> pod names; when set, only these pods are candidates."""
    nodeSelectors: StringMap = {}
    """Labels the pod's node must carry (needs the node objects to evaluate)."""
    podPhaseSelectors: Annotated[list[PodPhase], Field(max_length=5)] = []


_VALUE_MODES = ("fixed", "fixed-percent", "random-max-percent")


def _value_ok(s: PodSelector) -> bool:
    if s.value is None or s.mode not in _VALUE_MODES:
        return True
    if not re.fullmatch(_WHOLE_RE, s.value):
        return False
    return s.mode == "fixed" or int(s.value) <= 100


class PodSelector(SpecModel):
    """A selector plus how many of the matching pods to pick."""

    selector: PodSelectorSpec
    mode: Mode
    value: Annotated[str, Field(max_length=16)] | None = None
    """A count for `fixed`, a whole percentage (0-100) for `fixed-percent` and
    `random-max-percent`; a string, as in Chaos Mesh."""

    __rules__: ClassVar[tuple[Rule, ...]] = (
        Rule(
            "!(self.mode in ['fixed', 'fixed-percent', 'random-max-percent']) || has(self.value)",
            "value is required when mode is fixed, fixed-percent or random-max-percent",
            lambda s: s.mode not in _VALUE_MODES or s.value is not None,
            ".value",
        ),
        Rule(
            "!has(self.value) || !(self.mode in ['fixed', 'fixed-percent', 'random-max-percent'])"
            f" || (self.value.matches({cel_regex(_WHOLE_RE)})"
            " && (self.mode == 'fixed' || int(self.value) <= 100))",
            "value must be a whole number of pods for mode fixed, "
            "or a whole percentage from 0 to 100 for fixed-percent and random-max-percent",
            _value_ok,
            ".value",
        ),
    )


class ContainerSelector(PodSelector):
    containerNames: NameList = []
    """Containers to act on; empty means every container of the pod (or the pod itself)."""
