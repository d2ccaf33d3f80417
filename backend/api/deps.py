"""Typed FastAPI dependencies: the database session, settings, cluster gateway and auth.

Everything comes from `app.state`, set up by the app factory, so two apps (e.g. in tests) never
share a database, a registry or an authenticator.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from backend.api.auth import Access, Authenticator, Principal, Verb, parse_authorization
from backend.api.cluster import ClusterGateway
from backend.api.schemas.common import MAX_ID
from backend.db.errors import NotFound
from backend.db.repositories import archived_objects, experiments, runs
from backend.settings import Settings

# auto_error=False: our own dependency writes the 401 (with instructions) instead of FastAPI's.
bearer_scheme = HTTPBearer(auto_error=False, description="Dashboard or Kubernetes token")


def get_db(request: Request) -> Iterator[Session]:
    with request.app.state.sessions() as session:
        yield session


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_gateway(request: Request) -> ClusterGateway:
    gateway: ClusterGateway = request.app.state.gateway
    return gateway


SessionDep = Annotated[Session, Depends(get_db)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
GatewayDep = Annotated[ClusterGateway, Depends(get_gateway)]


def authenticate(
    request: Request,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Principal:
    authenticator: Authenticator = request.app.state.authenticator
    header = request.headers.get("authorization")
    token = parse_authorization(header, authenticator.missing_token_help)
    principal = authenticator.authenticate(token)
    request.state.principal = principal
    return principal


PrincipalDep = Annotated[Principal, Depends(authenticate)]

_WRITE_VERBS: dict[str, Verb] = {
    "POST": "create",
    "PUT": "patch",
    "PATCH": "patch",
    "DELETE": "delete",
}
Resources = Callable[[Request], list[str]]


def request_verb(request: Request) -> Verb:
    """RBAC verb of a request: GET on a collection is list, on one item get; pause is patch."""
    if request.method in ("GET", "HEAD"):
        route_path: str = getattr(request.scope.get("route"), "path", "")
        return "get" if route_path.endswith("}") else "list"
    if request.url.path.endswith(("/pause", "/resume")):
        return "patch"
    return _WRITE_VERBS.get(request.method, "patch")


async def json_body(request: Request) -> dict[str, Any]:
    """The JSON object body of a create in a collection (e.g. POST /chaos), else {}; also kept
    on `request.state.json_body`. A create is checked in the namespace (and on the kind) it
    writes to, so a namespaced Role suffices. Other requests (e.g. observation batches of
    100,000 points) are not parsed a second time."""
    body: Any = None
    route_path: str = getattr(request.scope.get("route"), "path", "")
    if request.method == "POST" and "{" not in route_path:
        try:
            body = await request.json()
        except ValueError:
            body = None
    fields = body if isinstance(body, dict) else {}
    request.state.json_body = fields
    return fields


_ROW_LOOKUPS: dict[str, Callable[[Session, int], Any]] = {
    "experiment_id": experiments.get_experiment,
    "run_id": runs.get_run,
    "archive_id": archived_objects.get_archived_object,
}


def row_namespace(request: Request, session: Session) -> str | None:
    """The namespace of the row an item route names (an experiment, a run, an archived object),
    so `/experiments/7/start` is checked in experiment 7's namespace and a namespaced Role is
    enough. An id that names no row, or is not a number, gives None: the request is checked at
    cluster scope, and the route answers 404 or 422 if that passes (so whether a row exists is
    never told to someone who may not read it)."""
    for param, lookup in _ROW_LOOKUPS.items():
        raw = request.path_params.get(param)
        if isinstance(raw, str) and raw.isdigit() and 1 <= int(raw) <= MAX_ID:
            try:
                return str(lookup(session, int(raw)).namespace)
            except NotFound:
                return None
    return None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def authorize(resources: list[str] | Resources) -> Callable[..., Principal]:
    """Router dependency: authenticates, then checks the verb of the request on `resources`."""

    def dependency(
        request: Request,
        principal: PrincipalDep,
        body: Annotated[dict[str, Any], Depends(json_body)],
        session: SessionDep,
    ) -> Principal:
        authenticator: Authenticator = request.app.state.authenticator
        names = resources(request) if callable(resources) else resources
        namespace = (
            request.path_params.get("namespace")
            or request.query_params.get("namespace")
            or _text(body.get("namespace"))
            or row_namespace(request, session)
        )
        verb = request_verb(request)
        for resource in names:
            authenticator.authorize(principal, Access(verb, resource, namespace))
        return principal

    return dependency
