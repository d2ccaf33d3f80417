"""The one error tree of Kubernetes calls.

Callers catch a meaning (not found, already exists, refused, unreachable) instead of comparing
HTTP statuses, and each entry point turns the tree into its own answer in one place: the
dashboard API into HTTP statuses (backend/api/errors.py), the CLI into exit codes
(backend/cli/common.py). Nothing here imports the Kubernetes library, so code that only catches
these errors does not pay for importing it.

    KubeError
    ├── Unavailable      no answer, a 5xx or 429 (status None or >= 500)
    │   └── NoCredentials  neither in-cluster credentials nor a usable kubeconfig
    ├── Unauthorized     401: the credentials were not accepted
    ├── Forbidden        403: RBAC, or an admission policy (a quota), said no
    ├── NotFound         404
    ├── Conflict         409: the object changed meanwhile (resourceVersion, uid precondition)
    │   └── AlreadyExists  409 on create: an object of that name exists
    ├── Gone             410: a watch's resourceVersion is older than the server keeps
    ├── BadRequest       400 (e.g. the log of a container that has not started)
    └── Invalid          422: the object fails the schema or a validation rule; `causes`
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Op:
    """One call, as messages and permission hints name it."""

    verb: str
    """The Kubernetes (RBAC) verb: get, list, watch, create, patch, delete."""
    resource: str
    """The resource as RBAC names it: `pods`, `networkchaos.chaos.faultline.dev`."""
    subject: str
    """What the call acts on, for people: `NetworkChaos shop/lag`, `pods in shop`."""
    action: str = ""
    """The caller's word for the call when it is not the verb (`pause` for a patch)."""

    def __str__(self) -> str:
        return f"{self.action or self.verb} {self.subject}"


class KubeError(Exception):
    """A Kubernetes API call failed.

    `status` is the HTTP status (None: no answer), `reason` its phrase, `message` the API
    server's own explanation (its Status.message; for no answer, what went wrong on the way) and
    `causes` the per-field details of an invalid object ("spec.x: Invalid value: ...")."""

    def __init__(
        self,
        op: Op,
        message: str,
        *,
        status: int | None = None,
        reason: str = "",
        causes: Sequence[str] = (),
    ) -> None:
        self.op = op
        self.message = message
        self.status = status
        self.reason = reason
        self.causes = list(causes)
        super().__init__(str(self))

    @property
    def explanation(self) -> str:
        """The server's message, else the bare HTTP status."""
        return self.message or f"HTTP {self.status} {self.reason}".rstrip()

    def __str__(self) -> str:
        said = f": {self.message}" if self.message else ""
        return f"{self.op}: {self.status} {self.reason}{said}"


class Unavailable(KubeError):
    """The API server did not answer, or answered that it cannot serve now (5xx, 429)."""

    def __str__(self) -> str:
        if self.status is None:
            return f"{self.op}: {self.message}"
        return super().__str__()


class NoCredentials(Unavailable):
    """Neither in-cluster credentials nor a usable kubeconfig: no call was made."""

    def __str__(self) -> str:
        return self.message


class Unauthorized(KubeError):
    """The API server did not accept the credentials (401)."""


class Forbidden(KubeError):
    """The API server refused the call (403)."""

    @property
    def by_rbac(self) -> bool:
        """RBAC says `User "x" cannot create resource ...`; a 403 from admission (an exceeded
        ResourceQuota) refuses this object, not the caller's permissions."""
        return " cannot " in self.message and " resource " in self.message


class NotFound(KubeError):
    def __str__(self) -> str:
        return f"{self.op}: not found"


class Conflict(KubeError):
    """The object changed meanwhile: a stale resourceVersion, a failed uid precondition."""


class AlreadyExists(Conflict):
    """A create found an object of the same name."""


class Gone(KubeError):
    """A watch's resourceVersion is older than the API server keeps: list again."""


class BadRequest(KubeError):
    pass


class Invalid(KubeError):
    """The API server found the object invalid (422); `causes` names each field."""


def by_status(status: int | None) -> type[KubeError]:
    """The error class of an HTTP status (None: no answer)."""
    if status is None or status == 0 or status >= 500 or status == 429:
        return Unavailable
    return _BY_STATUS.get(status, KubeError)


_BY_STATUS: dict[int, type[KubeError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    410: Gone,
    422: Invalid,
}


def status_error(op: Op, status: int | None, reason: str, body: Any) -> KubeError:
    """The error for an API server answer: a Status object (its message, reason and causes),
    or any other body as text."""
    try:
        doc = json.loads(body) if isinstance(body, str | bytes) else body
    except ValueError:
        doc = None
    if isinstance(doc, dict):
        message = str(doc.get("message") or "")
        details = doc.get("details") or {}
        causes = [
            f"{c['field']}: {c.get('message', '')}" if c.get("field") else str(c.get("message"))
            for c in details.get("causes") or []
        ]
    else:
        text = body.decode(errors="replace") if isinstance(body, bytes) else str(body or "")
        message, causes, doc = text[:500], [], {}
    cls = by_status(status)
    if status == 409 and (op.verb == "create" or doc.get("reason") == "AlreadyExists"):
        cls = AlreadyExists  # a create can only conflict with an object of the same name
    return cls(op, message, status=status, reason=reason, causes=causes)
