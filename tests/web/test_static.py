"""The API serves the built dashboard at `/`, with the SPA fallback, without hiding the API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from backend.api.app import create_app
from backend.settings import Settings
from tests.api.server import serve


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    root = tmp_path / "dist"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text("<!doctype html><div id=root>faultline-index</div>")
    (root / "assets" / "app-1234.js").write_text("console.log('faultline-asset')")
    (tmp_path / "secret.txt").write_text("outside the dist folder")
    return root


def _settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", housekeeping_enabled=False, log_level="WARNING")


@pytest.fixture
def web(tmp_path: Path, dist: Path) -> Iterator[httpx.Client]:
    with (
        serve(create_app(_settings(tmp_path), web_dist=dist)) as server,
        httpx.Client(base_url=server.base_url) as client,
    ):
        yield client


def test_index_and_client_routes_get_the_app(web: httpx.Client) -> None:
    for path in ("/", "/experiments/12", "/chaos/PodChaos/shop/kill"):
        r = web.get(path)
        assert r.status_code == 200, path
        assert "faultline-index" in r.text
        assert r.headers["cache-control"] == "no-cache"


def test_assets_are_served_and_cached_for_good(web: httpx.Client) -> None:
    r = web.get("/assets/app-1234.js")
    assert r.status_code == 200
    assert "faultline-asset" in r.text
    assert "immutable" in r.headers["cache-control"]


def test_the_api_keeps_its_own_answers(web: httpx.Client) -> None:
    r = web.get("/api/v1/whoami")
    assert r.status_code == 401
    assert "bearer token" in r.json()["detail"]
    r = web.get("/api/v1/no-such-endpoint")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/json")
    assert web.get("/healthz").json()["status"] == "ok"


def test_no_file_outside_the_dist_folder(web: httpx.Client) -> None:
    for path in ("/%2e%2e/secret.txt", "/assets/%2e%2e/%2e%2e/secret.txt", "/..%2fsecret.txt"):
        r = web.get(path)
        assert "outside the dist folder" not in r.text, path


def test_no_dashboard_without_a_build(tmp_path: Path) -> None:
    app = create_app(_settings(tmp_path), web_dist=tmp_path / "missing")
    with serve(app) as server, httpx.Client(base_url=server.base_url) as client:
        assert client.get("/").status_code == 404
        assert client.get("/healthz").status_code == 200


def test_the_fallback_is_not_part_of_the_api_schema(tmp_path: Path, dist: Path) -> None:
    app = create_app(_settings(tmp_path), web_dist=dist)
    try:
        assert not [p for p in app.openapi()["paths"] if "{path" in p]
    finally:
        app.state.engine.dispose()
