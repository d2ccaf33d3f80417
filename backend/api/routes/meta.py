"""Endpoints about the dashboard itself: health (no auth), identity and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from sqlalchemy import text

from backend.api.deps import PrincipalDep, SessionDep, SettingsDep
from backend.api.errors import ERROR_RESPONSES

router = APIRouter(tags=["meta"])


class Health(BaseModel):
    status: str
    database: str


class WhoAmI(BaseModel):
    name: str
    role: str
    groups: list[str]
    mode: str


@router.get("/healthz", response_model=Health)
def healthz(session: SessionDep) -> Health:
    """Liveness and database reachability; the only endpoint that needs no token."""
    session.execute(text("SELECT 1"))
    return Health(status="ok", database="ok")


@router.get("/api/v1/whoami", response_model=WhoAmI, responses=ERROR_RESPONSES)
def whoami(principal: PrincipalDep, settings: SettingsDep) -> WhoAmI:
    """Lets the UI check a pasted token right away and show who it belongs to."""
    return WhoAmI(
        name=principal.name, role=principal.role, groups=list(principal.groups), mode=settings.mode
    )


@router.get(
    "/metrics",
    response_class=Response,
    responses={**ERROR_RESPONSES, 200: {"content": {CONTENT_TYPE_LATEST: {}}}},
)
def metrics(request: Request, _principal: PrincipalDep) -> Response:
    """Prometheus text format: request counts and latencies per route."""
    return Response(generate_latest(request.app.state.registry), media_type=CONTENT_TYPE_LATEST)
