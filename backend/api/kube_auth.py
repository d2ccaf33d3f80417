"""Cluster-mode auth: Kubernetes TokenReview for identity, SubjectAccessReview for permission.

The dashboard holds no user database in a cluster: a user presents any token the API server
accepts (e.g. from `kubectl create token`), and Kubernetes RBAC on chaos.faultline.dev decides
what they may do, exactly as it would for kubectl.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from backend.api.auth import API_GROUP, Access, Principal
from backend.api.errors import ClusterUnavailable, Forbidden, Unauthenticated
from backend.clients.kube import review_access
from backend.spec.creator import Creator

REVIEW_CACHE_SECONDS = 10.0
"""TokenReview answers, and the SubjectAccessReviews that scope a list, are reused briefly so a
page load is not a burst of API calls. Single checks of a write are never cached: a revoked
permission stops writes at once."""
CACHE_LIMIT = 1000
LIST_SCOPE_WORKERS = 8
"""SubjectAccessReviews of one list run this many at a time (one per namespace and resource)."""


class KubernetesAuthenticator:
    def __init__(
        self,
        api_client: client.ApiClient,
        *,
        token_hint: str,
        audiences: list[str] | None = None,
    ) -> None:
        self.authn = client.AuthenticationV1Api(api_client)
        self.authz = client.AuthorizationV1Api(api_client)
        self.audiences = audiences
        self.missing_token_help = (
            f"get a token for a ServiceAccount bound to a Faultline role with `{token_hint}`"
        )
        self._cache: dict[str, tuple[float, Principal]] = {}
        self._decisions: dict[tuple[Principal, Access], tuple[float, bool]] = {}
        self._decisions_lock = threading.Lock()  # filled from the list-scope threads

    def authenticate(self, token: str) -> Principal:
        key = hashlib.sha256(token.encode()).hexdigest()
        cached = self._cache.get(key)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        review = client.V1TokenReview(
            spec=client.V1TokenReviewSpec(token=token, audiences=self.audiences)
        )
        try:
            status = self.authn.create_token_review(review).status
        except ApiException as e:
            raise ClusterUnavailable(
                f"could not check the token with the Kubernetes API server (TokenReview failed "
                f"with HTTP {e.status}: {e.reason}); the dashboard's ServiceAccount needs "
                "`create` on tokenreviews.authentication.k8s.io"
            ) from e
        if (
            not status
            or not status.authenticated
            or status.user is None
            or not status.user.username
        ):
            error = (status.error if status else None) or "token not recognised"
            raise Unauthenticated(
                f"the Kubernetes API server rejected the bearer token ({error}); tokens from "
                f"`kubectl create token` expire (1 hour by default); {self.missing_token_help}"
            )
        user = status.user
        principal = Principal(
            name=str(user.username),  # checked non-empty above
            groups=tuple(user.groups or ()),
            uid=user.uid or "",
            extra=tuple(sorted((k, tuple(v or ())) for k, v in (user.extra or {}).items())),
        )
        now = time.monotonic()
        if len(self._cache) > CACHE_LIMIT:  # many distinct tokens: forget the expired ones
            self._cache = {k: v for k, v in self._cache.items() if v[0] > now}
        self._cache[key] = (now + REVIEW_CACHE_SECONDS, principal)
        return principal

    def _review(self, principal: Principal, access: Access) -> tuple[bool, str]:
        """One SubjectAccessReview for the principal exactly as TokenReview described it."""
        user = Creator(principal.name, principal.uid, principal.groups, dict(principal.extra))
        try:
            return review_access(
                self.authz, user, access.verb, API_GROUP, access.resource, access.namespace or ""
            )
        except ApiException as e:
            raise ClusterUnavailable(
                f"could not check permissions with the Kubernetes API server "
                f"(SubjectAccessReview failed with HTTP {e.status}: {e.reason}); the dashboard's "
                "ServiceAccount needs `create` on subjectaccessreviews.authorization.k8s.io"
            ) from e

    def _allowed_cached(self, principal: Principal, access: Access) -> bool:
        key = (principal, access)
        with self._decisions_lock:
            cached = self._decisions.get(key)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        allowed, _ = self._review(principal, access)
        now = time.monotonic()
        with self._decisions_lock:
            if len(self._decisions) > CACHE_LIMIT * 10:
                self._decisions = {k: v for k, v in self._decisions.items() if v[0] > now}
            self._decisions[key] = (now + REVIEW_CACHE_SECONDS, allowed)
        return allowed

    def listable(
        self, principal: Principal, resources: list[str], candidates: list[str]
    ) -> frozenset[str] | None:
        """Cluster-wide `list` first (one review per resource); otherwise one review per
        candidate namespace and resource, in parallel, each answer kept for a few seconds."""
        if all(self._allowed_cached(principal, Access("list", r)) for r in resources):
            return None
        checks = [Access("list", r, ns) for ns in candidates for r in resources]
        with ThreadPoolExecutor(max_workers=LIST_SCOPE_WORKERS) as pool:
            answers = list(pool.map(lambda a: self._allowed_cached(principal, a), checks))
        denied = {a.namespace for a, ok in zip(checks, answers, strict=True) if not ok}
        return frozenset(ns for ns in candidates if ns not in denied)

    def authorize(self, principal: Principal, access: Access) -> None:
        allowed, reason = self._review(principal, access)
        if allowed:
            return
        raise Forbidden(
            f"{principal.name} may not {access.describe()} ({reason}); grant it with: "
            f"{grant_command(principal.name, access)}"
        )


SERVICE_ACCOUNT_PREFIX = "system:serviceaccount:"


def grant_command(user: str, access: Access) -> str:
    """The kubectl commands that create a Role (or ClusterRole) with exactly the missing
    permission and bind it to the caller, ready to paste."""
    resource = f"{access.resource}.{API_GROUP}"
    role = f"faultline-{access.resource}-{access.verb}"
    if user.startswith(SERVICE_ACCOUNT_PREFIX):
        subject = f"--serviceaccount={user.removeprefix(SERVICE_ACCOUNT_PREFIX)}"
        binding = f"{role}-{user.rsplit(':', 1)[-1]}"
    else:
        subject = f"--user={user}"
        binding = f"{role}-{re.sub(r'[^a-z0-9.-]+', '-', user.lower()).strip('-.')}"
    if access.namespace:
        scope, where = "", f"-n {access.namespace} "
    else:
        scope, where = "cluster", ""
    return (
        f"`kubectl {where}create {scope}role {role} --verb={access.verb} --resource={resource}` "
        f"and `kubectl {where}create {scope}rolebinding {binding} --{scope}role={role} {subject}`"
    )
