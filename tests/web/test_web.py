"""The dashboard's own checks, run by pytest so `make test` covers them.

`npm ci`, then TypeScript strict, ESLint, Prettier, the Vitest component tests, and the
Playwright run (playwright-core driving Debian's Chromium) against the real API serving a fresh
production build, seeded through the API itself.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from backend.api.app import create_app
from backend.settings import Settings
from tests.api.emergency_flag import MemoryFlag
from tests.api.server import serve
from tests.web.conftest import run_web_tool as _run
from tests.web.seed import Seeded, seed

PAGES = [
    "login-error", "overview", "experiments", "experiment-live", "experiment-finished",
    "experiment-aborted",
    "new-experiment", "new-experiment-errors", "chaos-list", "chaos-detail", "schedules",
    "events", "archives", "emergency-stop", "mobile-experiment",
]  # fmt: skip


@pytest.mark.timeout(900)
def test_typescript_strict(node_modules: Path) -> None:
    _run([str(node_modules / "tsc"), "--noEmit", "--strict", "-p", "."])


@pytest.mark.timeout(900)
def test_eslint(node_modules: Path) -> None:
    _run([str(node_modules / "eslint"), "--max-warnings", "0", "."])


@pytest.mark.timeout(900)
def test_prettier(node_modules: Path) -> None:
    _run([str(node_modules / "prettier"), "--check", "."])


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_vitest(node_modules: Path) -> None:
    out = _run([str(node_modules / "vitest"), "run", "--reporter=verbose"])
    assert " failed" not in out
    assert "passed" in out


@pytest.fixture
def dashboard(built: Path, tmp_path: Path) -> Iterator[tuple[str, str, httpx.Client, Seeded]]:
    settings = Settings(data_dir=tmp_path / "data", housekeeping_enabled=False, log_level="WARNING")
    app = create_app(settings, web_dist=built)
    app.state.emergency_flag = MemoryFlag()  # local mode has no cluster: a stand-in flag
    with serve(app) as server:
        token = str(app.state.initial_admin_token)
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=server.base_url, headers=headers) as api:
            seeded = seed(api, app.state.sessions)
            yield server.base_url, token, api, seeded


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_dashboard_end_to_end(
    dashboard: tuple[str, str, httpx.Client, Seeded], tmp_path: Path
) -> None:
    base_url, token, api, seeded = dashboard
    # FAULTLINE_SCREENSHOT_DIR=docs/screenshots refreshes the committed screenshots.
    shots = Path(os.environ.get("FAULTLINE_SCREENSHOT_DIR") or tmp_path / "screenshots").resolve()
    shots.mkdir(parents=True, exist_ok=True)
    out = _run(
        ["node", "e2e/dashboard.e2e.mjs"],
        FAULTLINE_URL=base_url,
        FAULTLINE_TOKEN=token,
        FAULTLINE_SEED=json.dumps(dataclasses.asdict(seeded)),
        SCREENSHOT_DIR=str(shots),
    )
    assert "e2e: all checks passed" in out
    for page in PAGES:
        png = (shots / f"{page}.png").read_bytes()
        assert png.startswith(b"\x89PNG") and len(png) > 10_000, page
    # What the browser did is in the database: the experiment made through the form, with the
    # hypothesis it created, and the live run finished with the verdict the page showed.
    made = api.get("/api/v1/experiments", params={"namespace": "default"}).json()["items"]
    assert [e["name"] for e in made] == ["web-loss"]
    hypothesis = api.get(f"/api/v1/hypotheses/{made[0]['hypothesis_id']}").json()
    assert hypothesis["title"] == "Web keeps 70 % of its QPS under 30 % loss"
    live = api.get(f"/api/v1/runs/{seeded.live_run_id}").json()
    assert (live["phase"], live["verdict"]) == ("Finished", "Passed")
