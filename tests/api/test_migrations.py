"""Migrations bring an empty database to a schema that matches the models exactly."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text

from backend.db.engine import make_engine
from backend.db.migrate import alembic_config, current_revision, upgrade_to_head
from backend.db.models import Base
from backend.settings import Settings


def test_upgrade_from_empty_reaches_head_and_matches_models(engine: Engine) -> None:
    assert inspect(engine).get_table_names() == []
    upgrade_to_head(engine)
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert current_revision(engine) == head
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    with engine.connect() as connection:
        diff = compare_metadata(
            MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata
        )
    assert diff == []


def test_upgrade_twice_changes_nothing(engine: Engine) -> None:
    upgrade_to_head(engine)
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO hypotheses (namespace, title, description, tolerances, "
                 "created_at, updated_at) VALUES ('shop', 't', '', '[]', CURRENT_TIMESTAMP, "
                 "CURRENT_TIMESTAMP)")
        )  # fmt: skip
    upgrade_to_head(engine)
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM hypotheses")) == 1


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    engine = make_engine(Settings(data_dir=tmp_path))
    try:
        with engine.connect() as connection:
            assert connection.scalar(text("PRAGMA journal_mode")) == "wal"
            assert connection.scalar(text("PRAGMA foreign_keys")) == 1
        assert (tmp_path / "faultline.db").exists()
    finally:
        engine.dispose()
