"""Reading manifest files and checking them offline, before anything touches a cluster.

Problems are reported per document as `FILE: Kind/name: path: message`, with the API server's
own wording (backend.spec.validate_manifest), so a pre-commit hook and a rejected apply read the
same.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from backend.spec import validate_manifest


class ManifestError(Exception):
    """A file could not be read or parsed, or a document is invalid; `problems` lists them."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Manifest:
    source: str
    """`FILE` or `FILE#N` (N-th document) for messages."""
    doc: dict[str, Any]

    @property
    def label(self) -> str:
        name = (self.doc.get("metadata") or {}).get("name", "?")
        return f"{self.doc.get('kind', '?')}/{name}"


def load(path: str) -> list[Manifest]:
    """Every non-empty YAML document in `path` ("-" reads standard input)."""
    try:
        text = Path("/dev/stdin").read_text() if path == "-" else Path(path).read_text()
    except OSError as e:
        raise ManifestError([f"{path}: cannot read: {e.strerror or e}"]) from e
    try:
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(e, "problem", None) or str(e)
        raise ManifestError([f"{path}: not valid YAML{where}: {problem}"]) from e
    if not docs:
        raise ManifestError([f"{path}: no manifest in the file"])
    out = []
    for i, doc in enumerate(docs):
        source = path if len(docs) == 1 else f"{path}#{i + 1}"
        if not isinstance(doc, dict):
            raise ManifestError([f"{source}: a manifest must be a mapping"])
        out.append(Manifest(source, doc))
    return out


def problems(manifest: Manifest) -> list[str]:
    """Offline validation messages for one document (empty: valid)."""
    return [f"{manifest.source}: {manifest.label}: {e}" for e in validate_manifest(manifest.doc)]


def load_valid(paths: list[str]) -> list[Manifest]:
    """Load every file and validate every document; raise with all problems at once."""
    found: list[Manifest] = []
    errors: list[str] = []
    for path in paths:
        try:
            manifests = load(path)
        except ManifestError as e:
            errors += e.problems
            continue
        for m in manifests:
            errors += problems(m)
        found += manifests
    if errors:
        raise ManifestError(errors)
    return found


def namespace_of(manifest: Manifest, flag: str | None, default: str) -> str:
    """The manifest's own namespace wins over the default; a conflicting --namespace is an
    error, as with kubectl."""
    own = (manifest.doc.get("metadata") or {}).get("namespace")
    if own and flag and own != flag:
        raise ManifestError(
            [f"{manifest.source}: metadata.namespace: {own!r} conflicts with --namespace {flag!r}"]
        )
    return str(own or flag or default)
