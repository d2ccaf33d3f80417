"""Validation rules declared once and enforced twice: by the API server and by Python.

A `Rule` carries a CEL expression (emitted into the CRD as `x-kubernetes-validations`) and a
Python predicate with the same meaning, so `kubectl apply`, the dashboard API and
`faultline validate` reject the same manifests with the same message. Attach a rule to a field
with `Annotated[str, Rule(...)]`, or to a model by listing it in the model's `__rules__`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import (
    BaseModel,
    ConfigDict,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

RULE_ERROR = "faultline_rule"
"""Pydantic error type of a failed rule; its context holds `message` and `field_path`."""


@dataclass(frozen=True)
class Rule:
    cel: str | None
    """CEL for the API server; None when the server enforces it structurally (list-map keys)."""
    message: str
    check: Callable[[Any], bool]
    """Python predicate with the same meaning as `cel`; True means valid."""
    field_path: str | None = None
    """Where the API server reports a model-level failure, e.g. ".value"."""

    def as_k8s(self) -> dict[str, str]:
        out = {"rule": self.cel or "", "message": self.message}
        if self.field_path:
            out["fieldPath"] = self.field_path
        return out

    def error(self) -> PydanticCustomError:
        return PydanticCustomError(
            RULE_ERROR, "{message}", {"message": self.message, "field_path": self.field_path or ""}
        )

    # Used as Annotated metadata on a field: validate after the base type, and add the CEL.
    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        def _validate(value: Any) -> Any:
            if not self.check(value):
                raise self.error()
            return value

        return core_schema.no_info_after_validator_function(_validate, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        out = handler(schema)
        if self.cel:
            out.setdefault("x-kubernetes-validations", []).append(self.as_k8s())
        return out


def cel_regex(pattern: str) -> str:
    """Quote a Python regex for CEL's matches(): avoid backslashes, which CEL would unescape."""
    out = pattern.replace(r"\d", "[0-9]").replace(r"\.", "[.]")
    if "\\" in out or "'" in out:
        raise ValueError(f"pattern {pattern!r} needs escapes CEL cannot take as written")
    return f"'{out}'"


def _model_rules(cls: type) -> list[Rule]:
    """Rules declared on a model and its bases, base classes first."""
    rules: list[Rule] = []
    for klass in reversed(cls.__mro__):
        rules.extend(klass.__dict__.get("__rules__", ()))
    return rules


def _add_model_rules(schema: dict[str, Any], cls: type) -> None:
    cels = [r.as_k8s() for r in _model_rules(cls) if r.cel]
    if cels:
        schema.setdefault("x-kubernetes-validations", []).extend(cels)


class SpecModel(BaseModel):
    """Base of every CRD model: unknown fields are errors, attribute docstrings document fields,
    floats are finite."""

    model_config = ConfigDict(
        extra="forbid",
        use_attribute_docstrings=True,
        json_schema_extra=_add_model_rules,
        # JSON (so the API server) has no NaN or Infinity; Python's json reads them, and a NaN
        # passes every comparison-free check, so refuse them here, naming the field.
        allow_inf_nan=False,
    )

    __rules__: ClassVar[tuple[Rule, ...]] = ()

    @model_validator(mode="after")
    def _check_rules(self) -> SpecModel:
        for rule in _model_rules(type(self)):
            if not rule.check(self):
                raise rule.error()
        return self
