"""Writes the API's OpenAPI document without starting a server (used by hack/gen-client.sh).

Usage: python -m backend.api.openapi [OUTPUT.json]   (default: stdout)
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from backend.api.app import create_app
from backend.settings import Settings


def openapi_document() -> dict[str, Any]:
    # The schema does not depend on the database; a throwaway data dir keeps this side-effect free.
    with tempfile.TemporaryDirectory(prefix="faultline-openapi-") as data_dir:
        settings = Settings(data_dir=Path(data_dir), housekeeping_enabled=False)
        app = create_app(settings, configure_logs=False)
        document = app.openapi()
        app.state.engine.dispose()
        return document


def render() -> str:
    return json.dumps(openapi_document(), indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    text = render()
    if args:
        Path(args[0]).write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
