"""Who may call the API: the `Authenticator` protocol and its local-mode implementation.

Every 401/403 answer says exactly what is missing and how to get it, because "Unauthorized" after
pasting a token is the most common dashboard complaint. Permissions follow Kubernetes RBAC verbs
on chaos.faultline.dev resources: read = get/list, write = create/patch/delete.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

from sqlalchemy.orm import Session, sessionmaker

from backend.api.errors import Forbidden, Unauthenticated
from backend.db.repositories.tokens import find_token
from backend.spec.creator import Creator

Verb = Literal["get", "list", "create", "patch", "delete"]
READ_VERBS: frozenset[str] = frozenset({"get", "list"})
API_GROUP = "chaos.faultline.dev"

LOCAL_TOKEN_HELP = (
    "the local admin token was printed to the dashboard log at first start; "
    "reset it with `faultline dashboard reset-token`"
)


@dataclass(frozen=True)
class Access:
    """One permission an endpoint needs, in RBAC terms."""

    verb: Verb
    resource: str
    namespace: str | None = None

    def describe(self) -> str:
        where = f" in namespace {self.namespace!r}" if self.namespace else " in all namespaces"
        return f"{self.verb} {self.resource}.{API_GROUP}{where}"


@dataclass(frozen=True)
class Principal:
    """Who made a request: in cluster mode, the TokenReview's `status.user` as it is, because
    RBAC (and the admission webhook, through the created-by record) judges uid and extra too."""

    name: str
    role: str = ""
    """Local mode: admin or viewer. Cluster mode: empty (RBAC decides per request)."""
    groups: tuple[str, ...] = field(default_factory=tuple)
    uid: str = ""
    extra: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """UserInfo.extra as sorted pairs, so a Principal stays hashable (a cache key)."""

    def creator(self) -> Creator:
        """The record written on every object the dashboard creates for this user."""
        return Creator(username=self.name, uid=self.uid, groups=self.groups, extra=dict(self.extra))


class Authenticator(Protocol):
    missing_token_help: str
    """Appended to 401 answers: how this deployment's users obtain a token."""

    def authenticate(self, token: str) -> Principal:
        """Returns who holds the token or raises Unauthenticated naming the problem."""

    def authorize(self, principal: Principal, access: Access) -> None:
        """Returns if allowed, else raises Forbidden naming the missing permission."""

    def listable(
        self, principal: Principal, resources: list[str], candidates: list[str]
    ) -> frozenset[str] | None:
        """Which of `candidates` the principal may `list` every one of `resources` in;
        None when it may list them in all namespaces (no filter needed)."""


def parse_authorization(header: str | None, help_text: str) -> str:
    """Extracts the token from an Authorization header, or explains what is wrong with it."""
    if header is None or not header.strip():
        raise Unauthenticated(f"no bearer token: pass `Authorization: Bearer <token>`; {help_text}")
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        raise Unauthenticated(
            f"the Authorization header uses the {scheme!r} scheme; the dashboard expects "
            f"`Authorization: Bearer <token>`; {help_text}"
        )
    token = token.strip()
    if not token:
        raise Unauthenticated(
            f"the Authorization header says Bearer but carries no token after it; {help_text}"
        )
    return token


class LocalAuthenticator:
    """Tokens stored (hashed) in the dashboard's own database; roles admin and viewer."""

    missing_token_help = LOCAL_TOKEN_HELP

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def authenticate(self, token: str) -> Principal:
        with self.sessions() as session:
            row = find_token(session, token)
        if row is None:
            raise Unauthenticated(
                "the bearer token is not a token of this dashboard (it may have been replaced by "
                f"`faultline dashboard reset-token`, or belong to another installation); "
                f"{LOCAL_TOKEN_HELP}"
            )
        return Principal(name=row.name, role=row.role)

    def authorize(self, principal: Principal, access: Access) -> None:
        if principal.role == "admin" or access.verb in READ_VERBS:
            return
        raise Forbidden(
            f"token {principal.name!r} has the {principal.role} role, which can only read; "
            f"this request needs to {access.describe()}: use the admin token ({LOCAL_TOKEN_HELP})"
        )

    def listable(
        self, principal: Principal, resources: list[str], candidates: list[str]
    ) -> frozenset[str] | None:
        return None  # both local roles read everything
