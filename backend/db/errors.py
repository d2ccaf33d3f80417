"""Errors the repositories raise; the API maps each one to an HTTP answer in one place."""

from __future__ import annotations


class StorageError(Exception):
    """Base of every repository error. The message is meant for the user as it is."""


class NotFound(StorageError):
    def __init__(self, what: str, key: object) -> None:
        super().__init__(f"{what} {key} not found")
        self.what = what
        self.key = key


class Conflict(StorageError):
    """The write clashes with existing data (a duplicate name, a run that is not finished...)."""


class InvalidReference(StorageError):
    """A field points at something that does not exist (e.g. an unknown hypothesis_id)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.reason = message
