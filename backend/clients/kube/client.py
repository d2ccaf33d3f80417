"""The one Kubernetes client of the backend: credentials, one API client, and the one place where
the library's exceptions become the error tree (backend/clients/kube/errors.py).

The operator, the admission webhook, the dashboard API and the CLI all talk to the API server
through a `Kube`; its parts group the calls the way the API does (custom objects, core and
batch, reviews, leases). Plain manifest-shaped dicts (camelCase) cross this boundary, so no
caller ever sees the library's model classes.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

import urllib3
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from backend.clients.kube.core import Core
from backend.clients.kube.errors import NoCredentials, Op, by_status, status_error
from backend.clients.kube.leases import Leases
from backend.clients.kube.objects import CustomObjects
from backend.clients.kube.reviews import Reviews

T = TypeVar("T")
Prefer = Literal["in-cluster", "kubeconfig"]


@dataclass(frozen=True)
class Credentials:
    api: client.ApiClient
    default_namespace: str = "default"
    """The kubeconfig context's namespace (in a pod: default)."""
    user: str = ""
    """The kubeconfig context's user name, when there is one."""


def _load(kubeconfig: Path | str | None, prefer: Prefer) -> Credentials:
    # KUBECONFIG is read now, not when the library was imported: the CLI can run inside a
    # process whose environment changed since (CliRunner, embedding). None: the library's
    # default, ~/.kube/config; a colon-separated list is merged as kubectl does.
    path = str(kubeconfig) if kubeconfig else (os.environ.get("KUBECONFIG") or None)

    def in_cluster() -> Credentials:
        configuration = client.Configuration()  # private: no global configuration changes
        config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
        return Credentials(client.ApiClient(configuration))

    def from_kubeconfig() -> Credentials:
        api = config.new_client_from_config(config_file=path)  # type: ignore[no-untyped-call]
        _contexts, active = config.list_kube_config_contexts(config_file=path)  # type: ignore[no-untyped-call]
        context = (active or {}).get("context") or {}
        return Credentials(
            api, str(context.get("namespace") or "default"), str(context.get("user") or "")
        )

    attempts = [in_cluster, from_kubeconfig]
    if prefer == "kubeconfig":
        attempts.reverse()
    problem: Exception | None = None
    for attempt in attempts:
        try:
            return attempt()
        except (config.ConfigException, OSError) as e:
            if attempt is from_kubeconfig:
                problem = e
    raise NoCredentials(
        Op("connect", "", "to the cluster"),
        f"no usable Kubernetes credentials: no usable kubeconfig ({problem}), and not running "
        "in a pod; set KUBECONFIG",
    ) from problem


class Kube:
    """The API server, with credentials loaded on first use (or given). Thread-safe."""

    def __init__(self, source: client.ApiClient | Credentials | Callable[[], Credentials]) -> None:
        """`source`: an API client, credentials, or how to load them on first use."""
        self._credentials: Credentials | None = None
        self._load: Callable[[], Credentials] | None = None
        if isinstance(source, client.ApiClient):
            self._credentials = Credentials(source)
        elif isinstance(source, Credentials):
            self._credentials = source
        else:
            self._load = source
        self._guard = threading.Lock()
        self.objects = CustomObjects(self)
        """Faultline's own kinds (PodChaos ... Experiment)."""
        self.core = Core(self)
        """Pods and their logs, Jobs, ConfigMaps, Events, Namespaces, Nodes, Services."""
        self.reviews = Reviews(self)
        """TokenReview, SubjectAccessReview, SelfSubjectReview."""
        self.leases = Leases(self)
        """coordination.k8s.io Leases (leader election)."""

    @property
    def credentials(self) -> Credentials:
        with self._guard:
            if self._credentials is None:
                assert self._load is not None
                self._credentials = self._load()
            return self._credentials

    @property
    def api(self) -> client.ApiClient:
        return self.credentials.api

    @property
    def default_namespace(self) -> str:
        return self.credentials.default_namespace

    @property
    def host(self) -> str:
        return str(self.api.configuration.host)

    def preload(self) -> None:
        """Load the credentials now rather than on the first call (about half a second)."""
        _ = self.credentials

    def call(self, op: Op, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """`fn(*args, **kwargs)`, a method of the library's API classes; its failures as the
        error tree, chained to the library's exception."""
        try:
            return fn(*args, **kwargs)
        except ApiException as e:
            raise status_error(op, e.status, str(e.reason or ""), e.body) from e
        except (urllib3.exceptions.HTTPError, OSError) as e:
            raise by_status(None)(op, f"cannot reach the cluster at {self.host}: {e}") from e

    def sanitize(self, obj: Any) -> Any:
        """A library model object as the API server's JSON (camelCase dicts)."""
        return self.api.sanitize_for_serialization(obj)  # type: ignore[no-untyped-call]


def connect(
    kubeconfig: Path | str | None = None,
    *,
    prefer: Prefer = "in-cluster",
    retries: int | None = None,
) -> Kube:
    """A client connected now. In-cluster credentials first (a pod's ServiceAccount), else the
    kubeconfig (`kubeconfig`, $KUBECONFIG or ~/.kube/config); the CLI prefers the kubeconfig.
    `retries`: attempts per call (the CLI's one: a dead cluster should fail a run, not hang it).
    Raises NoCredentials."""
    credentials = _load(kubeconfig, prefer)
    if retries is not None:
        credentials.api.configuration.retries = retries
    return Kube(credentials)


@functools.cache
def shared() -> Kube:
    """The process' client for the operator and the webhook (in-cluster credentials, else
    $KUBECONFIG), loaded on first use: importing the operator does no I/O."""
    return Kube(lambda: _load(None, "in-cluster"))
