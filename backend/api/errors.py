"""The API's error hierarchy and the one handler that turns every domain error into HTTP.

Routes, repositories and the Kubernetes client raise plain exceptions that say what went wrong;
only this module knows which status code each one becomes, and how a refusal by the cluster is
explained (the dashboard's own account lacking a permission is a 503 naming it, not the user's
fault).
"""

from __future__ import annotations

import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from backend.clients import kube
from backend.db.errors import Conflict, InvalidReference, NotFound, StorageError


class ErrorResponse(BaseModel):
    detail: str
    """What went wrong and, where there is one, how to fix it."""


class ApiError(Exception):
    """Base of errors raised by the API layer itself (auth, cluster access)."""


class Unauthenticated(ApiError):
    """No usable credentials: the message says what is missing and how to obtain it."""


class Forbidden(ApiError):
    """Valid credentials without the needed permission: the message names the permission."""


class Mismatch(ApiError):
    """Two parts of one request (path, query, body, the stored row) name different namespaces
    or kinds. The request is refused rather than authorized on one and acted on the other."""


class ClusterUnavailable(ApiError):
    """The write needs a Kubernetes cluster and none is connected (or it cannot be reached)."""


class ClusterRejected(ApiError):
    """The cluster refused the write (e.g. admission rejected the manifest)."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


_STATUS: list[tuple[type[Exception], int]] = [
    (Mismatch, 400),
    (Unauthenticated, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (Conflict, 409),
    (ClusterUnavailable, 503),
]


def _status_of(exc: Exception) -> int:
    if isinstance(exc, ClusterRejected):
        return exc.status
    for cls, status in _STATUS:
        if isinstance(exc, cls):
            return status
    return 500


def kube_answer(e: kube.KubeError) -> tuple[int, str]:
    """The HTTP status and message for a failed Kubernetes call the dashboard made."""
    op = e.op
    if isinstance(e, kube.NoCredentials):
        return 503, f"no Kubernetes cluster is connected: {e}"
    if isinstance(e, kube.Unavailable):
        return 503, f"could not {op}: the Kubernetes API server did not answer ({e.explanation})"
    if isinstance(e, kube.Unauthorized) or (isinstance(e, kube.Forbidden) and e.by_rbac):
        return 503, (
            f"could not {op}: the dashboard's own Kubernetes account was refused "
            f"({e.explanation}); give its ServiceAccount {op.verb} on {op.resource} (the Helm "
            "chart's ClusterRole does)"
        )
    if isinstance(e, kube.NotFound) and op.verb != "create":  # on create: no such namespace
        return 404, f"{op.subject} not found"
    if isinstance(e, kube.Conflict):
        return 409, f"cannot {op}: {e.explanation}"
    # Admission, a quota, an unknown namespace: the request cannot be carried out as it is.
    return 422, f"the Kubernetes API server refused to {op}: {e.explanation}"


async def handle_error(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, kube.KubeError):
        status, message = kube_answer(exc)
        return JSONResponse({"detail": message}, status_code=status)
    if isinstance(exc, InvalidReference):
        # Same shape as FastAPI's own validation errors, so clients show it next to the field.
        body = {"detail": [{"loc": ["body", exc.field], "msg": exc.reason, "type": "reference"}]}
        return JSONResponse(body, status_code=422)
    status = _status_of(exc)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"detail": str(exc)}, status_code=status, headers=headers)


def json_safe(value: Any) -> Any:
    """`value` with NaN and ±Infinity as the strings "NaN", "Infinity" and "-Infinity": a 422
    echoes the input it refused, and JSON has no such numbers (the response would be a 500)."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


async def handle_validation_error(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's own 422 body, made JSON-safe (a request may carry NaN, which Python's parser
    accepts)."""
    assert isinstance(exc, RequestValidationError)
    return JSONResponse({"detail": json_safe(jsonable_encoder(exc.errors()))}, status_code=422)


def install_error_handler(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, handle_error)
    app.add_exception_handler(StorageError, handle_error)
    app.add_exception_handler(kube.KubeError, handle_error)
    app.add_exception_handler(RequestValidationError, handle_validation_error)


Responses = dict[int | str, dict[str, Any]]
"""The `responses=` argument of FastAPI route decorators."""

ERROR_RESPONSES: Responses = {
    400: {
        "model": ErrorResponse,
        "description": "Two parts of the request name different namespaces (or kinds)",
    },
    401: {"model": ErrorResponse, "description": "Missing, malformed or unknown bearer token"},
    403: {"model": ErrorResponse, "description": "The token lacks the needed permission"},
}
