"""The engine's error hierarchy; the HTTP server maps each class to one status code, the CLI
prints the message. Every message names the field or the cause so a user can act on it."""

from __future__ import annotations


class EngineError(Exception):
    """Base of everything the engine raises on purpose."""


class InvalidRequest(EngineError):
    """The desired state cannot be accepted; `loc` is the field path inside the request body."""

    def __init__(self, loc: tuple[str | int, ...], msg: str) -> None:
        super().__init__(f"{'.'.join(str(p) for p in loc)}: {msg}")
        self.loc = loc
        self.msg = msg


class TargetNotFound(EngineError):
    """No journal entry for this target id (never created, deleted, or its lease lapsed)."""


class ApplyFailed(EngineError):
    """The kernel refused part of an accepted plan; the target was fully recovered."""


class RecoverFailed(EngineError):
    """Some family could not remove what it owns; the entry stays journaled and is retried."""
