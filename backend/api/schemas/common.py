"""Shared field types and the page envelope every list endpoint returns."""

from __future__ import annotations

import math
from typing import Annotated, Any, Generic, TypeVar

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


def _non_finite_path(value: Any, path: str) -> str | None:
    if isinstance(value, float) and not math.isfinite(value):
        return path
    children: Any = ()
    if isinstance(value, dict):
        children = ((f"{path}.{k}" if path else str(k), v) for k, v in value.items())
    elif isinstance(value, list):
        children = ((f"{path}[{i}]", v) for i, v in enumerate(value))
    for child_path, child in children:
        found = _non_finite_path(child, child_path)
        if found is not None:
            return found
    return None


def _reject_non_finite(value: dict[str, Any]) -> dict[str, Any]:
    where = _non_finite_path(value, "")
    if where is not None:
        raise ValueError(
            f"{where or 'the value'} is NaN or Infinity, which JSON does not allow; "
            "give a finite number"
        )
    return value


JsonObject = Annotated[dict[str, Any], AfterValidator(_reject_non_finite)]
"""A free-form JSON object of a request (a spec, metrics): NaN and Infinity, which Python's
parser accepts but JSON (and PostgreSQL's jsonb) does not, are a 422 naming the nested field."""
MAX_ID = 2_147_483_647
"""Row ids are 32-bit on PostgreSQL; a larger id is a 422 naming the field, not a driver error."""
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]
RefId = Annotated[int, Field(ge=1, le=MAX_ID)]
"""A body field that references a row by id."""
Limit = Annotated[int, Field(ge=1, le=500)]
Offset = Annotated[int, Field(ge=0, le=MAX_ID)]


class Strict(BaseModel):
    """Request bodies reject unknown fields (a typo is an error naming the field) and NaN or
    Infinity in number fields (a 422 naming the field, never a 500 from the database)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class Public(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    """Rows matching the filters, across all pages."""
    limit: int
    offset: int
