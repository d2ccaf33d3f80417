"""The generated CRDs: committed files match the models, schemas are structural, and every CEL
rule, run by a real CEL interpreter the way the API server runs it, agrees with the Python
checks that `validate_manifest` uses."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import celpy
import pytest
from spec_samples import INVALID, VALID, doc

from backend.spec.crdgen import build_crd, drifted, render_all
from backend.spec.k8scel import is_cidr, is_ip
from backend.spec.kinds import KINDS
from backend.spec.validate import validate_manifest

ROOT = Path(__file__).resolve().parents[3]
CRDS = {k: build_crd(kind) for k, kind in KINDS.items()}
_FORBIDDEN = {"$ref", "$defs", "anyOf", "oneOf", "allOf", "title", "uniqueItems", "propertyNames"}


def _schema(kind: str) -> dict[str, Any]:
    schema: dict[str, Any] = CRDS[kind]["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return schema


def test_committed_crds_match_the_models() -> None:
    assert drifted(ROOT / "crds") == [], "crds/ is stale: run `make generate`"
    assert sorted(p.name for p in (ROOT / "crds").glob("*.yaml")) == sorted(render_all())


def _walk(node: dict[str, Any], path: str) -> list[str]:
    problems = [f"{path}: {k}" for k in node if k in _FORBIDDEN]
    if "type" not in node:
        problems.append(f"{path}: no type")
    if "properties" in node and "additionalProperties" in node:
        problems.append(f"{path}: properties and additionalProperties")
    for name, sub in node.get("properties", {}).items():
        problems += _walk(sub, f"{path}.{name}")
    for key in ("items", "additionalProperties"):
        if isinstance(node.get(key), dict):
            problems += _walk(node[key], f"{path}[]")
    return problems


@pytest.mark.parametrize("kind", KINDS)
def test_schemas_are_structural(kind: str) -> None:
    assert _walk(_schema(kind), kind) == []


def test_names_columns_and_categories() -> None:
    shorts = [s for crd in CRDS.values() for s in crd["spec"]["names"]["shortNames"]]
    assert len(shorts) == len(set(shorts)) == 5
    for kind, crd in CRDS.items():
        version = crd["spec"]["versions"][0]
        assert "chaos" in crd["spec"]["names"]["categories"]
        assert version["subresources"] == {"status": {}}
        for col in version["additionalPrinterColumns"]:
            parts = col["jsonPath"].strip(".").split(".")
            if parts[0] == "metadata":
                continue
            node = _schema(kind)
            for part in parts:
                node = node["properties"][part]  # KeyError: the column points nowhere
            assert node["type"] == col["type"] or col["type"] == "date", col


def test_chaos_specs_are_immutable_but_schedules_are_not() -> None:
    for kind in KINDS:
        rules = _schema(kind)["properties"]["spec"].get("x-kubernetes-validations", [])
        has_rule = any(r["rule"] == "self == oldSelf" for r in rules)
        assert has_rule == (kind != "Schedule"), kind


# --- a small model of the API server's CEL pass: default, then run every rule where it sits ---

_ENV = celpy.Environment()
# cel-python lacks Kubernetes' CEL library; the rules' own Python twins stand in for it, so this
# module checks the expressions around them and tests/e2e/test_crd_validation.py checks the twins
# against the real API server.
_K8S_FUNCTIONS = {
    "isCIDR": lambda s: celpy.celtypes.BoolType(is_cidr(str(s))),
    "isIP": lambda s: celpy.celtypes.BoolType(is_ip(str(s))),
}


def _default(value: Any, schema: dict[str, Any]) -> Any:
    if isinstance(value, dict) and "properties" in schema:
        for name, sub in schema["properties"].items():
            if name not in value and "default" in sub:
                value[name] = copy.deepcopy(sub["default"])
        for name, sub in schema["properties"].items():
            if name in value:
                value[name] = _default(value[name], sub)
    elif isinstance(value, dict) and isinstance(schema.get("additionalProperties"), dict):
        for k in value:
            value[k] = _default(value[k], schema["additionalProperties"])
    elif isinstance(value, list) and "items" in schema:
        value = [_default(v, schema["items"]) for v in value]
    return value


def _cel_failures(value: Any, schema: dict[str, Any], path: str) -> list[tuple[str, str]]:
    out = []
    for rule in schema.get("x-kubernetes-validations", []):
        if "oldSelf" in rule["rule"]:
            continue
        program = _ENV.program(_ENV.compile(rule["rule"]), functions=_K8S_FUNCTIONS)
        result = program.evaluate({"self": celpy.json_to_cel(value)})
        if result is not True and not (isinstance(result, celpy.celtypes.BoolType) and result):
            out.append((path + rule.get("fieldPath", ""), rule["message"]))
    if isinstance(value, dict) and "properties" in schema:
        for name, sub in schema["properties"].items():
            if name in value:
                out += _cel_failures(value[name], sub, f"{path}.{name}")
    elif isinstance(value, dict) and isinstance(schema.get("additionalProperties"), dict):
        for k, v in value.items():
            out += _cel_failures(v, schema["additionalProperties"], f"{path}.{k}")
    elif isinstance(value, list) and "items" in schema:
        for i, v in enumerate(value):
            out += _cel_failures(v, schema["items"], f"{path}[{i}]")
    return out


def _server_view(kind: str, spec: dict[str, Any]) -> list[tuple[str, str]]:
    schema = _schema(kind)["properties"]["spec"]
    return _cel_failures(_default(copy.deepcopy(spec), schema), schema, "spec")


CASES = [(m["kind"], m["spec"]) for m in VALID] + [(k, s) for k, s, _, _ in INVALID]


@pytest.mark.parametrize(
    ("kind", "spec"), CASES, ids=[f"{k}-{i}" for i, (k, _) in enumerate(CASES)]
)
def test_cel_rules_agree_with_python_checks(kind: str, spec: dict[str, Any]) -> None:
    server = _server_view(kind, spec)
    messages = {m for _, m in server}
    python = [
        (e.path, msg)
        for e in validate_manifest(doc(kind, spec))
        for msg in messages | _all_messages()
        if e.message.endswith(msg)
    ]
    assert sorted(python) == sorted(server)


def _all_messages() -> set[str]:
    return {m for _, m in _all_rules()}


def _all_rules() -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()

    def visit(node: dict[str, Any]) -> None:
        for r in node.get("x-kubernetes-validations", []):
            if "oldSelf" not in r["rule"]:
                found.add((r["rule"], r["message"]))
        for sub in node.get("properties", {}).values():
            visit(sub)
        for key in ("items", "additionalProperties"):
            if isinstance(node.get(key), dict):
                visit(node[key])

    for kind in KINDS:
        visit(_schema(kind))
    return found


def test_every_cel_rule_is_seen_failing() -> None:
    failed = {m for k, s, _, _ in INVALID for _, m in _server_view(k, s)}
    assert _all_messages() - failed == set()
