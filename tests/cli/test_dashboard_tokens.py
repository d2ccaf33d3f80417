"""`faultline dashboard reset-token` / `create-token` in local mode, on a real SQLite database:
the printed token is the one stored (by digest) with the right role, and a reset revokes the
previous admin token."""

from __future__ import annotations

from pathlib import Path

from backend.db.engine import make_engine, make_sessionmaker
from backend.db.repositories.tokens import find_token
from backend.settings import Settings
from tests.cli.helpers import cli, cli_env


def _role(data_dir: Path, token: str) -> str | None:
    engine = make_engine(Settings(data_dir=data_dir))
    try:
        with make_sessionmaker(engine)() as session:
            found = find_token(session, token)
            return None if found is None else found.role
    finally:
        engine.dispose()


def test_reset_token_replaces_the_admin_token(tmp_path: Path) -> None:
    env = cli_env(FAULTLINE_DATA_DIR=str(tmp_path))
    first = cli("dashboard", "reset-token", env=env)
    assert first.returncode == 0, first.stderr
    old = first.stdout.strip()
    assert _role(tmp_path, old) == "admin"

    second = cli("dashboard", "reset-token", env=env)
    new = second.stdout.strip()
    assert new and new != old
    assert _role(tmp_path, new) == "admin"
    assert _role(tmp_path, old) is None  # the old token stopped working


def test_create_token_stores_a_viewer_token(tmp_path: Path) -> None:
    env = cli_env(FAULTLINE_DATA_DIR=str(tmp_path))
    made = cli("dashboard", "create-token", "ci-reader", env=env)
    assert made.returncode == 0, made.stderr
    assert _role(tmp_path, made.stdout.strip()) == "viewer"


def test_bad_role_and_bad_settings_are_invalid_input(tmp_path: Path) -> None:
    env = cli_env(FAULTLINE_DATA_DIR=str(tmp_path))
    bad_role = cli("dashboard", "create-token", "x", "--role", "root", env=env)
    assert bad_role.returncode == 4
    assert "--role: must be viewer or admin, got 'root'" in bad_role.stderr
    bad_env = cli("dashboard", "reset-token", env={**env, "FAULTLINE_MODE": "sideways"})
    assert bad_env.returncode == 4
    assert "FAULTLINE_MODE" in bad_env.stderr
