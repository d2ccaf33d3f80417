"""Who a token belongs to and what a user may do, asked of the API server: TokenReview,
SubjectAccessReview and SelfSubjectReview. The webhook, the dashboard and the CLI all ask here."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kubernetes import client

from backend.clients.kube.errors import KubeError, Op
from backend.spec.creator import Creator

if TYPE_CHECKING:
    from backend.clients.kube.client import Kube


class Reviews:
    def __init__(self, kube: Kube) -> None:
        self._kube = kube

    def token(self, token: str, audiences: list[str] | None = None) -> tuple[Creator | None, str]:
        """(the user the token authenticates, "") or (None, why the API server rejected it)."""
        review = client.V1TokenReview(
            spec=client.V1TokenReviewSpec(token=token, audiences=audiences)
        )
        op = Op(
            "create", "tokenreviews.authentication.k8s.io", "the bearer token with a TokenReview",
            action="check",
        )  # fmt: skip
        api = client.AuthenticationV1Api(self._kube.api)
        status = self._kube.call(op, api.create_token_review, review).status
        if not status or not status.authenticated or status.user is None:
            return None, (status.error if status else None) or "token not recognised"
        user = status.user
        if not user.username:
            return None, "token not recognised"
        extra = {k: tuple(v or ()) for k, v in (user.extra or {}).items()}
        return Creator(user.username, user.uid or "", tuple(user.groups or ()), extra), ""

    def access(
        self,
        user: Creator,
        verb: str,
        group: str,
        resource: str,
        namespace: str = "",
        name: str = "",
    ) -> tuple[bool, str]:
        """One SubjectAccessReview for `user` exactly as the API server authenticated them
        (username, uid, groups and extra): (allowed, the authorizer's reason)."""
        attributes: dict[str, Any] = {"verb": verb, "group": group, "resource": resource}
        if namespace:
            attributes["namespace"] = namespace
        if name:
            attributes["name"] = name
        review = client.V1SubjectAccessReview(
            spec=client.V1SubjectAccessReviewSpec(
                user=user.username,
                uid=user.uid or None,
                groups=list(user.groups) or None,
                extra={k: list(v) for k, v in user.extra.items()} or None,
                resource_attributes=client.V1ResourceAttributes(**attributes),
            )
        )
        op = Op(
            "create", "subjectaccessreviews.authorization.k8s.io",
            f"the permissions of {user.username} with a SubjectAccessReview", action="check",
        )  # fmt: skip
        api = client.AuthorizationV1Api(self._kube.api)
        status: Any = self._kube.call(op, api.create_subject_access_review, review).status
        if status is None:
            return False, "the authorizer gave no answer"
        allowed = bool(status.allowed) and not status.denied
        return allowed, status.reason or ("" if allowed else "no RBAC rule allows it")

    def whoami(self) -> str:
        """The user the cluster authenticates us as (a SelfSubjectReview), else the kubeconfig's
        user name where that API is off (before Kubernetes 1.28, or forbidden), else unknown."""
        op = Op("create", "selfsubjectreviews.authentication.k8s.io", "who we are", "review")
        api = client.AuthenticationV1Api(self._kube.api)
        body = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
        try:
            review = self._kube.call(op, api.create_self_subject_review, body)
            info = review.status.user_info if review.status else None
            if info is not None and info.username:
                return str(info.username)
        except KubeError:
            pass
        return self._kube.credentials.user or "unknown"
