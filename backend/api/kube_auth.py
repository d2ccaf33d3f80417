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

from backend.api.auth import API_GROUP, Access, Principal
from backend.api.errors import Forbidden, Unauthenticated
from backend.clients.kube.client import Kube
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
        cluster: Kube,
        *,
        token_hint: str,
        audiences: list[str] | None = None,
    ) -> None:
        self.reviews = cluster.reviews
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
        user, error = self.reviews.token(token, self.audiences)
        if user is None:
            raise Unauthenticated(
                f"the Kubernetes API server rejected the bearer token ({error}); tokens from "
                f"`kubectl create token` expire (1 hour by default); {self.missing_token_help}"
            )
        principal = Principal(
            name=user.username,
            groups=user.groups,
            uid=user.uid,
            extra=tuple(sorted(user.extra.items())),
        )
        now = time.monotonic()
        if len(self._cache) > CACHE_LIMIT:  # many distinct tokens: forget the expired ones
            self._cache = {k: v for k, v in self._cache.items() if v[0] > now}
        self._cache[key] = (now + REVIEW_CACHE_SECONDS, principal)
        return principal

    def _review(self, principal: Principal, access: Access) -> tuple[bool, str]:
        """One SubjectAccessReview for the principal exactly as TokenReview described it."""
        user = Creator(principal.name, principal.uid, principal.groups, dict(principal.extra))
        return self.reviews.access(
            user, access.verb, API_GROUP, access.resource, access.namespace or ""
        )

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
