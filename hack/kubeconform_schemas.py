"""Write JSON schemas that kubeconform can load from disk, with no network access.

kubeconform normally downloads its schemas; Faultline's machines cannot. The Kubernetes module
that the dev cluster is built from ships the API's OpenAPI v3 documents
(`api/openapi-spec/v3/*.json`), and our CRDs carry their own openAPIV3Schema, so both are
converted here into one self-contained JSON schema per kind.

Every object schema that lists its properties gets `additionalProperties: false` (unless the API
says unknown fields are preserved), which is what makes `kubeconform -strict` reject misspelled
fields. Files are named `<kind>_<group>_<version>.json` (the core group is written as its version,
`v1`), matching the schema location template `{{ .ResourceKind }}_{{ .Group }}_{{
.ResourceAPIVersion }}.json`.

Usage:
  kubeconform_schemas.py --openapi-dir DIR --out DIR     # Kubernetes built-in kinds
  kubeconform_schemas.py --crd FILE... --out DIR          # CustomResourceDefinitions
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

LOCATION_TEMPLATE = "{{ .ResourceKind }}_{{ .Group }}_{{ .ResourceAPIVersion }}.json"
_REF_PREFIX = "#/components/schemas/"


def file_name(group: str, version: str, kind: str) -> str:
    return f"{kind.lower()}_{group or version}_{version}.json"


def tighten(node: Any) -> Any:
    """Copy a schema, rewriting refs, nullability and int-or-string, and closing objects."""
    if isinstance(node, list):
        return [tighten(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: tighten(v) for k, v in node.items()}
    ref = out.get("$ref")
    if isinstance(ref, str) and ref.startswith(_REF_PREFIX):
        out["$ref"] = "#/definitions/" + ref[len(_REF_PREFIX) :]
    if out.get("x-kubernetes-int-or-string") and "type" not in out and "oneOf" not in out:
        out["oneOf"] = [{"type": "integer"}, {"type": "string"}]
    if out.pop("nullable", False) and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    open_object = out.get("x-kubernetes-preserve-unknown-fields") or any(
        k in out for k in ("allOf", "anyOf", "oneOf")
    )
    if "properties" in out and "additionalProperties" not in out and not open_object:
        out["additionalProperties"] = False
    return out


def _refs(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(_REF_PREFIX):
            found.add(ref[len(_REF_PREFIX) :])
        for v in node.values():
            _refs(v, found)
    elif isinstance(node, list):
        for v in node:
            _refs(v, found)


def _closure(name: str, components: dict[str, Any]) -> dict[str, Any]:
    """The component schemas `name` needs, directly or through other components."""
    todo, seen = [name], set[str]()
    while todo:
        current = todo.pop()
        if current in seen or current not in components:
            continue
        seen.add(current)
        found: set[str] = set()
        _refs(components[current], found)
        todo.extend(found - seen)
    return {n: tighten(components[n]) for n in sorted(seen)}


def from_openapi(openapi_dir: Path, out: Path) -> int:
    """Write one schema per kind found in the Kubernetes OpenAPI v3 documents."""
    written = 0
    for doc_path in sorted(openapi_dir.glob("*.json")):
        components = json.loads(doc_path.read_text()).get("components", {}).get("schemas", {})
        for name, schema in components.items():
            for gvk in schema.get("x-kubernetes-group-version-kind", []):
                target = out / file_name(gvk["group"], gvk["version"], gvk["kind"])
                if target.exists():
                    continue  # the same kind appears in several documents; identical
                document = tighten(schema)
                document["definitions"] = _closure(name, components)
                target.write_text(json.dumps(document))
                written += 1
    return written


def _object_root(schema: dict[str, Any]) -> dict[str, Any]:
    """A CR's root also carries apiVersion, kind and metadata, often left out of the CRD."""
    properties = dict(schema.get("properties", {}))
    properties.setdefault("apiVersion", {"type": "string"})
    properties.setdefault("kind", {"type": "string"})
    properties.setdefault("metadata", {"type": "object"})
    return {**schema, "properties": properties}


def from_crds(crd_files: list[Path], out: Path) -> int:
    """Write one schema per served version of every CustomResourceDefinition in the files."""
    import yaml  # only CRDs need it: the Kubernetes schemas build with a bare python3

    written = 0
    for path in crd_files:
        for doc in yaml.safe_load_all(path.read_text()):
            if not doc or doc.get("kind") != "CustomResourceDefinition":
                continue
            spec = doc["spec"]
            for version in spec.get("versions", []):
                schema = (version.get("schema") or {}).get("openAPIV3Schema")
                if not schema:
                    continue
                target = out / file_name(spec["group"], version["name"], spec["names"]["kind"])
                target.write_text(json.dumps(tighten(_object_root(schema))))
                written += 1
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder to write schemas into")
    parser.add_argument("--openapi-dir", type=Path, help="Kubernetes api/openapi-spec/v3 folder")
    parser.add_argument("--crd", type=Path, nargs="*", default=[], help="CRD YAML files")
    args = parser.parse_args(argv)
    if args.openapi_dir is None and not args.crd:
        parser.error("give --openapi-dir or --crd")
    args.out.mkdir(parents=True, exist_ok=True)
    written = 0
    if args.openapi_dir is not None:
        if not args.openapi_dir.is_dir():
            parser.error(f"--openapi-dir: {args.openapi_dir} is not a folder")
        written += from_openapi(args.openapi_dir, args.out)
    written += from_crds(args.crd, args.out)
    print(f"wrote {written} schemas to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
