"""Fixtures: every API test runs against SQLite and against a real PostgreSQL server.

The app is served by uvicorn on a loopback port and called over real HTTP with httpx.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from backend.api.app import create_app
from backend.db.engine import make_engine
from backend.settings import Settings
from tests.api.postgres import postgres_server, throwaway_database
from tests.api.server import RunningServer, serve


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    with postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'faultline.db'}"
        return
    with throwaway_database(request.getfixturevalue("pg_server")) as url:
        yield url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        housekeeping_enabled=False,
        log_json=True,
        log_level="WARNING",
    )


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def server(settings: Settings) -> Iterator[RunningServer]:
    with serve(create_app(settings)) as running:
        yield running


@pytest.fixture
def admin_token(server: RunningServer) -> str:
    token = server.app.state.initial_admin_token
    assert token, "the first start must create and report an admin token"
    return str(token)


@pytest.fixture
def anon(server: RunningServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url) as client:
        yield client


@pytest.fixture
def client(server: RunningServer, admin_token: str) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {admin_token}"}
    with httpx.Client(base_url=server.base_url, headers=headers) as client:
        yield client
