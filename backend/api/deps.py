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
from backend.api.errors import Mismatch
from backend.api.schemas.common import MAX_ID
from backend.db.errors import NotFound
from backend.db.repositories import archived_objects, experiments, runs
from backend.db.repositories.namespaces import known_namespaces
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
    "hypothesis_id": experiments.get_hypothesis,
    "run_id": runs.get_run,
    "archive_id": archived_objects.get_archived_object,
}


def row_namespace(request: Request, session: Session) -> tuple[bool, str | None]:
    """Whether the route names a row by id, and that row's namespace (an experiment, a
    hypothesis, a run, an archived object), so `/experiments/7/start` is checked in experiment
    7's namespace and a namespaced Role is enough. An id that names no row gives (True, None):
    the request is checked at cluster scope whatever else it says, and the route answers 404
    or 422 if that passes (so whether a row exists is never told to someone who may not read
    it, and a row created meanwhile under that id is never acted on with a namespaced check)."""
    for param, lookup in _ROW_LOOKUPS.items():
        raw = request.path_params.get(param)
        if raw is None:
            continue
        if isinstance(raw, str) and raw.isdigit() and 1 <= int(raw) <= MAX_ID:
            try:
                return True, str(lookup(session, int(raw)).namespace)
            except NotFound:
                return True, None
        return True, None
    return False, None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def agreed(field: str, sources: list[tuple[str, str | None]]) -> str | None:
    """The one value every source that names `field` gives, or None when none does. Two that
    differ are a 400 naming both: the request is never authorized on one and acted on the
    other (e.g. `POST /chaos?namespace=mine` with a body naming another namespace)."""
    named = [(where, value) for where, value in sources if value is not None]
    for where, value in named[1:]:
        if value != named[0][1]:
            first, first_value = named[0]
            raise Mismatch(
                f"the request names two {field}s: {first} says {first_value!r} and {where} "
                f"says {value!r}; name one {field} (or the same one in both places)"
            )
    return named[0][1] if named else None


NamespaceScope = frozenset[str] | None
"""The namespaces a list may show: None for every namespace, else exactly these."""


def authorize(resources: list[str] | Resources) -> Callable[..., Principal]:
    """Router dependency: authenticates, then checks the verb of the request on `resources` in
    exactly the namespace the route acts on.

    That namespace is the stored row's (item routes by id), else the path's, else the body's
    (creates), else the query's (a list filter); every other source that names one must agree
    (400 otherwise). The row is checked first, so a row of a namespace the caller may not see
    is a 403 before anything about the request is compared with it. A list without a namespace
    is scoped instead of refused: it shows the namespaces the caller may list (see
    `namespace_scope`)."""

    def dependency(
        request: Request,
        principal: PrincipalDep,
        body: Annotated[dict[str, Any], Depends(json_body)],
        session: SessionDep,
    ) -> Principal:
        authenticator: Authenticator = request.app.state.authenticator
        names = resources(request) if callable(resources) else resources
        verb = request_verb(request)
        query = request.query_params
        by_id, row = row_namespace(request, session)
        if by_id:
            # Checked where the row lives, or at cluster scope when there is no row.
            for resource in names:
                authenticator.authorize(principal, Access(verb, resource, row))
        namespace = agreed(
            "namespace",
            [
                ("the stored row", row),
                ("the path", _text(request.path_params.get("namespace"))),
                ("the body", _text(body.get("namespace"))),
                *[("the query parameter", _text(v)) for v in query.getlist("namespace")],
            ],
        )
        request.state.authorized_namespace = namespace
        scope: NamespaceScope = frozenset({namespace}) if namespace else None
        if not by_id and namespace is None and verb == "list":
            scope = authenticator.listable(principal, names, known_namespaces(session))
        elif not by_id:
            for resource in names:
                authenticator.authorize(principal, Access(verb, resource, namespace))
        request.state.namespace_scope = scope
        return principal

    return dependency


def namespace_scope(request: Request) -> NamespaceScope:
    """The namespaces the router's `authorize` found the caller may list."""
    if not hasattr(request.state, "namespace_scope"):
        raise RuntimeError(f"{request.url.path}: the router does not authorize its requests")
    scope: NamespaceScope = request.state.namespace_scope
    return scope


ScopeDep = Annotated[NamespaceScope, Depends(namespace_scope)]


def acting_in(request: Request, namespace: str) -> str:
    """`namespace`, once it is checked to be the one `authorize` checked: a create acts on the
    validated body, `authorize` read the raw one, and the two must never drift apart."""
    if getattr(request.state, "authorized_namespace", None) != namespace:
        raise Mismatch(
            f"the request was authorized for namespace "
            f"{getattr(request.state, 'authorized_namespace', None)!r} but acts on {namespace!r}"
        )
    return namespace
