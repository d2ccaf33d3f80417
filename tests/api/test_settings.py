"""Settings from FAULTLINE_* variables; bad values are reported by variable name."""

from __future__ import annotations

from pathlib import Path

import pytest

from backend.settings import Settings, SettingsError


def test_defaults_to_sqlite_in_the_data_dir(tmp_path: Path) -> None:
    settings = Settings.from_env({"FAULTLINE_DATA_DIR": str(tmp_path)})
    assert settings.sqlalchemy_url == f"sqlite:///{tmp_path}/faultline.db"
    assert settings.is_sqlite and settings.mode == "local"


def test_postgres_url_and_numbers() -> None:
    settings = Settings.from_env({
        "FAULTLINE_DATABASE_URL": "postgresql+psycopg://u@db/faultline",
        "FAULTLINE_RETENTION_DAYS": "7",
        "FAULTLINE_HOUSEKEEPING_ENABLED": "false",
    })  # fmt: skip
    assert settings.sqlalchemy_url == "postgresql+psycopg://u@db/faultline"
    assert not settings.is_sqlite
    assert settings.retention_days == 7 and settings.housekeeping_enabled is False


def test_bad_values_name_the_variable() -> None:
    with pytest.raises(SettingsError) as e:
        Settings.from_env({"FAULTLINE_RETENTION_DAYS": "soon", "FAULTLINE_MODE": "cloud"})
    message = str(e.value)
    assert "FAULTLINE_RETENTION_DAYS: Input should be a valid integer" in message
    assert "'soon'" in message
    assert "FAULTLINE_MODE: Input should be 'local' or 'cluster'" in message
