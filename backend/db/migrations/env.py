"""Alembic environment wired to the dashboard's settings.

The app passes its own engine through `config.attributes["engine"]`; the `alembic` command line
(e.g. `alembic -c backend/db/alembic.ini revision --autogenerate`) falls back to the engine built
from FAULTLINE_* environment variables, so both act on the same database.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from backend.db.engine import make_engine
from backend.db.models import Base
from backend.settings import Settings

config = context.config
engine: Engine = config.attributes.get("engine") or make_engine(Settings.from_env())

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds tables instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
