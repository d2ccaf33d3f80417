"""Every migration path: empty -> each revision -> head, and head -> each revision -> head.

The revisions are read from the script directory, so a new migration is covered without
touching this file. Each test runs on SQLite and on a real PostgreSQL server.
"""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text

from backend.db.migrate import alembic_config, current_revision, upgrade_to_head
from backend.db.models import Base

SCRIPTS = ScriptDirectory.from_config(alembic_config())
REVISIONS = [r.revision for r in reversed(list(SCRIPTS.walk_revisions()))]
"""Oldest first."""
HEAD = SCRIPTS.get_current_head()


def schema_diff(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))


def seed_hypothesis(engine: Engine, title: str) -> None:
    """A hypothesis row as the schema of the moment takes one (a namespace from 0003 on,
    tolerances instead of steady-state criteria from 0005 on)."""
    columns = {c["name"] for c in inspect(engine).get_columns("hypotheses")}
    namespace = ("namespace, ", "'shop', ") if "namespace" in columns else ("", "")
    claim = ("tolerances", "[]") if "tolerances" in columns else ("steady_state", "{}")
    with engine.begin() as connection:
        connection.execute(
            text(f"INSERT INTO hypotheses ({namespace[0]}title, description, {claim[0]}, "
                 f"created_at, updated_at) VALUES ({namespace[1]}:t, '', '{claim[1]}', "
                 "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"),
            {"t": title},
        )  # fmt: skip


def hypothesis_titles(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.scalars(text("SELECT title FROM hypotheses ORDER BY id")))


def test_the_script_directory_is_one_linear_history() -> None:
    assert HEAD is not None and len(SCRIPTS.get_heads()) == 1
    assert REVISIONS[-1] == HEAD and SCRIPTS.get_revision(REVISIONS[0]).down_revision is None


@pytest.mark.parametrize("start", REVISIONS)
def test_upgrade_from_each_revision_keeps_data_and_reaches_the_models(
    engine: Engine, start: str
) -> None:
    command.upgrade(alembic_config(engine), start)
    assert current_revision(engine) == start
    seed_hypothesis(engine, f"written at {start}")
    upgrade_to_head(engine)
    assert current_revision(engine) == HEAD
    assert hypothesis_titles(engine) == [f"written at {start}"]
    assert schema_diff(engine) == []


@pytest.mark.parametrize("target", REVISIONS)
def test_downgrade_from_head_to_each_earlier_state_then_up_again(
    engine: Engine, target: str
) -> None:
    """Downgrades head to the revision below `target` (for the first revision: an empty
    database), checks the tables `target` added are gone, then upgrades back to head."""
    upgrade_to_head(engine)
    before = set(inspect(engine).get_table_names())
    below = SCRIPTS.get_revision(target).down_revision
    assert below is None or isinstance(below, str)
    command.downgrade(alembic_config(engine), below or "base")
    assert current_revision(engine) == below
    after = set(inspect(engine).get_table_names()) - {"alembic_version"}
    if below is None:
        assert after == set()
    else:
        assert after <= before
        seed_hypothesis(engine, "kept across the downgrade")
    upgrade_to_head(engine)
    assert current_revision(engine) == HEAD
    assert schema_diff(engine) == []
    assert set(inspect(engine).get_table_names()) == before
    if below is not None:
        assert hypothesis_titles(engine) == ["kept across the downgrade"]
