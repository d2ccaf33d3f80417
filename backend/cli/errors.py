"""The CLI's error hierarchy for cluster calls, sorted by exit-code tier.

Kept apart from kube.py so commands that never talk to a cluster (validate) do not pay for
importing the Kubernetes client.
"""

from __future__ import annotations


class ClusterError(Exception):
    """The cluster could not be reached, or refused the request for a reason other than the
    manifest (exit code 3)."""


class NotFoundError(ClusterError):
    pass


class AlreadyExistsError(ClusterError):
    """A create found an object of the same name."""


class RejectedError(Exception):
    """The API server rejected the manifest as invalid (exit code 4); `causes` in its words."""

    def __init__(self, message: str, causes: list[str]):
        super().__init__(message)
        self.causes = causes
