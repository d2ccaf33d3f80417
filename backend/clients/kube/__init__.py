"""The Kubernetes API: the backend's one client (`kube.client.Kube`) and its one error tree.

Only this package imports the `kubernetes` library (an import-linter contract keeps it so). The
error tree is importable from here without loading that library, which takes half a second:
the CLI's offline commands and the dashboard in local mode never pay for it.
"""

from backend.clients.kube.errors import (
    AlreadyExists,
    BadRequest,
    Conflict,
    Forbidden,
    Gone,
    Invalid,
    KubeError,
    NoCredentials,
    NotFound,
    Op,
    Unauthorized,
    Unavailable,
)

__all__ = [
    "AlreadyExists",
    "BadRequest",
    "Conflict",
    "Forbidden",
    "Gone",
    "Invalid",
    "KubeError",
    "NoCredentials",
    "NotFound",
    "Op",
    "Unauthorized",
    "Unavailable",
]
