"""Cluster-mode auth: Kubernetes TokenReview for identity, SubjectAccessReview for permission.

The dashboard holds no user database in a cluster: a user presents any token the API server
accepts (e.g. from `kubectl create token`), and Kubernetes RBAC on chaos.faultline.dev decides
what they may do, exactly as it would for kubectl.
"""

from __future__ import annotations

import hashlib
import re
import time
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from backend.api.auth import API_GROUP, Access, Principal
from backend.api.errors import ClusterUnavailable, Forbidden, Unauthenticated

REVIEW_CACHE_SECONDS = 10.0
"""TokenReview answers are reused briefly so a page load is not a burst of API calls."""
CACHE_LIMIT = 1000


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
        principal = Principal(name=status.user.username, groups=tuple(status.user.groups or ()))
        now = time.monotonic()
        if len(self._cache) > CACHE_LIMIT:  # many distinct tokens: forget the expired ones
            self._cache = {k: v for k, v in self._cache.items() if v[0] > now}
        self._cache[key] = (now + REVIEW_CACHE_SECONDS, principal)
        return principal

    def authorize(self, principal: Principal, access: Access) -> None:
        attributes: dict[str, Any] = {
            "group": API_GROUP,
            "resource": access.resource,
            "verb": access.verb,
        }
        if access.namespace:
            attributes["namespace"] = access.namespace
        review = client.V1SubjectAccessReview(
            spec=client.V1SubjectAccessReviewSpec(
                user=principal.name,
                groups=list(principal.groups),
                resource_attributes=client.V1ResourceAttributes(**attributes),
            )
        )
        try:
            status = self.authz.create_subject_access_review(review).status
        except ApiException as e:
            raise ClusterUnavailable(
                f"could not check permissions with the Kubernetes API server "
                f"(SubjectAccessReview failed with HTTP {e.status}: {e.reason}); the dashboard's "
                "ServiceAccount needs `create` on subjectaccessreviews.authorization.k8s.io"
            ) from e
        if status is not None and status.allowed:
            return
        reason = (status.reason if status else None) or "no RBAC rule allows it"
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
