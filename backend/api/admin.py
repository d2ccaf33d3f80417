"""Token administration for the `faultline dashboard ...` CLI commands.

These work on the database directly (the dashboard may be stopped) and migrate it first, so
`faultline dashboard reset-token` also works before the dashboard ever started.
"""

from __future__ import annotations

from backend.db.engine import make_engine, make_sessionmaker
from backend.db.migrate import upgrade_to_head
from backend.db.repositories import tokens
from backend.settings import Settings


def reset_admin_token(settings: Settings) -> str:
    """Replaces the local admin token and returns the new one (the old one stops working)."""
    engine = make_engine(settings)
    try:
        upgrade_to_head(engine)
        with make_sessionmaker(engine)() as session:
            return tokens.reset_admin_token(session)
    finally:
        engine.dispose()


def create_token(settings: Settings, name: str, role: str = "viewer") -> str:
    """Creates a named token (role admin or viewer) and returns it; it is shown only now."""
    engine = make_engine(settings)
    try:
        upgrade_to_head(engine)
        with make_sessionmaker(engine)() as session:
            return tokens.create_token(session, name, role)
    finally:
        engine.dispose()
