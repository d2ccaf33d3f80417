"""Local-mode API tokens. Only SHA-256 digests are stored; a token is shown once, when made.

SHA-256 without salt is enough here because tokens are 256-bit random strings, not passwords:
there is nothing to guess or look up in a table.
"""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.db.errors import Conflict
from backend.db.models import ApiToken

ADMIN_TOKEN_NAME = "admin"
ROLES = ("admin", "viewer")
TOKEN_PREFIX = "flt_"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def create_token(session: Session, name: str, role: str) -> str:
    """Stores a new token and returns it in clear (the only time it is available)."""
    if role not in ROLES:
        raise ValueError(f"role: must be one of {', '.join(ROLES)}, got {role!r}")
    token = _new_token()
    session.add(ApiToken(name=name, token_hash=digest(token), role=role))
    try:
        session.commit()
    except IntegrityError as e:
        session.rollback()
        raise Conflict(f"a token named {name!r} already exists") from e
    return token


def ensure_admin_token(session: Session) -> str | None:
    """Creates the admin token on first start; returns it then, and None on later starts."""
    if session.scalar(select(ApiToken.id).where(ApiToken.name == ADMIN_TOKEN_NAME)) is not None:
        return None
    try:
        return create_token(session, ADMIN_TOKEN_NAME, "admin")
    except Conflict:
        return None  # another worker created it between our check and our insert


def reset_admin_token(session: Session) -> str:
    """Replaces the admin token (the old one stops working at once) and returns the new one."""
    session.execute(delete(ApiToken).where(ApiToken.name == ADMIN_TOKEN_NAME))
    session.commit()
    return create_token(session, ADMIN_TOKEN_NAME, "admin")


def find_token(session: Session, token: str) -> ApiToken | None:
    # Lookup by digest: the comparison happens on hashes, so timing reveals nothing about tokens.
    return session.scalar(select(ApiToken).where(ApiToken.token_hash == digest(token)))
