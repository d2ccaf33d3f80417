"""Shared field types and the page envelope every list endpoint returns."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from fastapi import Path
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

T = TypeVar("T")

Namespace = Annotated[
    str, Field(min_length=1, max_length=63, pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
]
"""A Kubernetes namespace name (RFC 1123 label)."""
Name = Annotated[
    str, Field(min_length=1, max_length=253, pattern=r"^[a-z0-9]([-.a-z0-9]*[a-z0-9])?$")
]
"""A Kubernetes object name (RFC 1123 subdomain)."""


def _reject_null(value: T) -> T:
    if value is None:
        raise ValueError("may be left out to keep the current value, but cannot be null")
    return value


NotNull = AfterValidator(_reject_null)
"""For update models: a field that is optional in the request but not nullable in storage."""
MAX_ID = 2_147_483_647
"""Row ids are 32-bit on PostgreSQL; a larger id is a 422 naming the field, not a driver error."""
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]
RefId = Annotated[int, Field(ge=1, le=MAX_ID)]
"""A body field that references a row by id."""
Limit = Annotated[int, Field(ge=1, le=500)]
Offset = Annotated[int, Field(ge=0, le=MAX_ID)]


class Strict(BaseModel):
    """Request bodies reject unknown fields: a typo is an error naming the field."""

    model_config = ConfigDict(extra="forbid")


class Public(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    """Rows matching the filters, across all pages."""
    limit: int
    offset: int
