"""Offline validation of a Faultline manifest, worded like the API server's rejections.

`faultline validate` and the dashboard run this so a user learns about a bad manifest before
(or without) a cluster. Messages follow kube-apiserver's field.Error wording
(`spec.loss.loss: Invalid value: "string": must be a percentage ...`) because users already
know how to read those and can grep for them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from backend.spec.crdgen import IMMUTABLE_RULE
from backend.spec.cron import CronError, parse
from backend.spec.kinds import API_VERSION, KINDS
from backend.spec.rules import RULE_ERROR
from backend.spec.schedule import CRON_PATTERN

_TOP_LEVEL = {"apiVersion", "kind", "metadata", "spec", "status"}


@dataclass(frozen=True)
class FieldError:
    path: str
    """Dotted path as the API server prints it, e.g. `spec.target.value`."""
    message: str
    """Everything after the path, e.g. `Required value`."""

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if value is None:
        return "null"
    return "object"


def _path(loc: tuple[int | str, ...], prefix: str) -> str:
    out = prefix
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


_TYPE_ERRORS = {
    "string_type": "string",
    "int_type": "integer",
    "int_from_float": "integer",
    "float_type": "number",
    "bool_type": "boolean",
    "list_type": "array",
    "dict_type": "object",
    "model_type": "object",
    "model_attributes_type": "object",
}


def _message(err: ErrorDetails, path: str) -> tuple[str, str]:
    """Pydantic error -> (path, API-server-style message)."""
    kind, ctx, value = err["type"], err.get("ctx", {}), err.get("input")
    shown = (
        json.dumps(value)
        if isinstance(value, str | int | float | bool)
        else f'"{_json_type(value)}"'
    )
    if kind == "missing":
        return path, "Required value"
    if kind == "extra_forbidden":
        return "", f'unknown field "{path}"'
    if kind == "literal_error":
        choices = ", ".join(f'"{c}"' for c in re.findall(r"'([^']*)'", str(ctx.get("expected"))))
        return path, f"Unsupported value: {shown}: supported values: {choices}"
    if kind in _TYPE_ERRORS:
        got = _json_type(value)
        return (
            path,
            f'Invalid value: "{got}": {path} in body must be of type {_TYPE_ERRORS[kind]}: "{got}"',
        )
    if kind == RULE_ERROR:
        at = path + str(ctx.get("field_path", ""))
        return at, f'Invalid value: "{_json_type(value)}": {ctx["message"]}'
    bounds = {
        "greater_than_equal": ("should be greater than or equal to", "ge"),
        "less_than_equal": ("should be less than or equal to", "le"),
        "greater_than": ("should be greater than", "gt"),
        "less_than": ("should be less than", "lt"),
    }
    if kind in bounds:
        words, key = bounds[kind]
        return path, f"Invalid value: {shown}: {path} in body {words} {ctx[key]}"
    if kind == "string_pattern_mismatch":
        return path, f"Invalid value: {shown}: {path} in body should match '{ctx['pattern']}'"
    if kind == "finite_number":
        return path, f"Invalid value: {shown}: must be a finite number, not NaN or Infinity"
    if kind == "string_too_long":
        return path, f"Too long: may not be more than {ctx['max_length']} bytes"
    if kind == "string_too_short":
        return (
            path,
            f"Invalid value: {shown}: {path} in body should be at least "
            f"{ctx['min_length']} chars long",
        )
    if kind == "too_long":
        return (
            path,
            f"Too many: {ctx.get('actual_length')}: must have at most {ctx['max_length']} items",
        )
    if kind == "too_short":
        return (
            path,
            f"Invalid value: {ctx.get('actual_length')}: {path} in body should have at least "
            f"{ctx['min_length']} items",
        )
    return path, f"Invalid value: {shown}: {err['msg']}"


def _cron_errors(spec: Any, prefix: str) -> list[FieldError]:
    expr = spec.get("schedule") if isinstance(spec, dict) else None
    if not isinstance(expr, str) or not re.fullmatch(CRON_PATTERN, expr):
        return []  # missing or misshapen: the schema's own error says so
    try:
        parse(expr)
    except CronError as e:
        return [FieldError(f"{prefix}.schedule", f"Invalid value: {json.dumps(expr)}: {e}")]
    return []


_BEYOND_SCHEMA = {"Schedule": _cron_errors}
"""Checks the CRD schema cannot express (a cron field's range, a day no month has). The API
server runs them through the admission webhook, which calls validate_manifest."""


def spec_errors(kind: str, spec: Any, prefix: str = "spec") -> list[FieldError]:
    """Validate one spec of `kind` as the API server and its admission webhook would (no type
    coercion)."""
    out = []
    try:
        KINDS[kind].spec.model_validate(spec, strict=True)
    except ValidationError as e:
        for err in e.errors():
            path, message = _message(err, _path(err["loc"], prefix))
            out.append(FieldError(path, message))
    if kind in _BEYOND_SCHEMA:
        out += _BEYOND_SCHEMA[kind](spec, prefix)
    return out


def _defaulted(kind: str, spec: Any) -> Any:
    return KINDS[kind].spec.model_validate(spec, strict=True).model_dump(mode="json")


def validate_manifest(doc: Any, old: Any = None) -> list[FieldError]:
    """Every problem with one manifest (empty list: valid). Give `old` (the stored object) to
    check an update as well, e.g. that a chaos object's spec did not change."""
    if not isinstance(doc, dict):
        return [FieldError("", f"a manifest must be a mapping, got {_json_type(doc)}")]
    errors = []
    api_version, kind = doc.get("apiVersion"), doc.get("kind")
    if api_version != API_VERSION:
        hint = ""
        if isinstance(api_version, str) and api_version.startswith("chaos-mesh.org/"):
            hint = f" (a Chaos Mesh manifest ports by setting apiVersion: {API_VERSION})"
        shown = json.dumps(api_version) if api_version is not None else '""'
        errors.append(
            FieldError(
                "apiVersion", f'Unsupported value: {shown}: supported values: "{API_VERSION}"{hint}'
            )
        )
    if kind not in KINDS:
        choices = ", ".join(f'"{k}"' for k in KINDS)
        errors.append(
            FieldError(
                "kind", f"Unsupported value: {json.dumps(kind)}: supported values: {choices}"
            )
        )
        return errors
    metadata = doc.get("metadata")
    if not isinstance(metadata, dict) or not metadata.get("name"):
        errors.append(
            FieldError("metadata.name", "Required value: name or generateName is required")
        )
    errors += [FieldError("", f'unknown field "{k}"') for k in doc if k not in _TOP_LEVEL]
    if "spec" not in doc:
        return [*errors, FieldError("spec", "Required value")]
    spec_problems = spec_errors(kind, doc["spec"])
    errors += spec_problems
    if old is not None and not spec_problems and KINDS[kind].immutable_spec:
        old_spec = old.get("spec") if isinstance(old, dict) else None
        if not spec_errors(kind, old_spec) and _defaulted(kind, old_spec) != _defaulted(
            kind, doc["spec"]
        ):
            errors.append(
                FieldError("spec", f'Invalid value: "object": {IMMUTABLE_RULE["message"]}')
            )
    return errors
