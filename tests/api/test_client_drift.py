"""The committed OpenAPI document and TypeScript client match what the app produces now."""

from __future__ import annotations

import subprocess
from pathlib import Path

from backend.api.openapi import render

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
REGENERATE = "the API changed: run hack/gen-client.sh and commit web/openapi.json + schema.ts"


def _openapi_typescript() -> Path:
    tool = WEB / "node_modules" / ".bin" / "openapi-typescript"
    if not tool.exists():  # a fresh checkout: install the pinned generator (package-lock.json)
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=WEB, check=True)
    return tool


def test_openapi_json_is_current() -> None:
    assert (WEB / "openapi.json").read_text() == render(), REGENERATE


def test_typescript_client_is_current(tmp_path: Path) -> None:
    spec = tmp_path / "openapi.json"
    spec.write_text(render())
    out = tmp_path / "schema.ts"
    subprocess.run(
        [str(_openapi_typescript()), str(spec), "--output", str(out)],
        cwd=WEB, check=True, capture_output=True,
    )  # fmt: skip
    assert (WEB / "src" / "client" / "schema.ts").read_text() == out.read_text(), REGENERATE


def test_schema_documents_auth_and_errors() -> None:
    import json

    document = json.loads(render())
    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    get_experiment = document["paths"]["/api/v1/experiments/{experiment_id}"]["get"]
    assert set(get_experiment["responses"]) >= {"200", "401", "403", "404", "422"}
    assert "security" not in document["paths"]["/healthz"]["get"]
