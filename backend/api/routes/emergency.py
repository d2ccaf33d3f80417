"""The emergency stop from the dashboard: its state for every signed-in user (the banner), and
engage/lift for those allowed to change the flag.

The flag is the ConfigMap `faultline-killswitch` in the release namespace
(backend/spec/emergency.py); the operator does the stopping. Who may engage or lift it is
Kubernetes RBAC on that one object: `patch` on configmaps named faultline-killswitch there
(the chart's `<release>-faultline-emergency-stop` ClusterRole grants it), checked with a
SubjectAccessReview for the user as TokenReview described them. The dashboard's own
ServiceAccount then writes it, recording the user, not itself, as who engaged it. Local mode has
no cluster to stop: the state reads "not available" and only the admin role may try.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Protocol

from fastapi import APIRouter, Depends, Request, status
from pydantic import BaseModel, Field

from backend.api.auth import Principal
from backend.api.deps import PrincipalDep, SettingsDep
from backend.api.errors import ERROR_RESPONSES, ClusterUnavailable, ErrorResponse, Forbidden
from backend.api.routes import API_PREFIX
from backend.settings import Settings
from backend.spec.emergency import (
    KILLSWITCH_NAME,
    MAX_REASON,
    EmergencyStop,
    engage_data,
    lift_data,
)

if TYPE_CHECKING:
    from backend.clients.kube.client import Kube

POD_NAMESPACE_FILE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
NAMESPACE_ENV = "FAULTLINE_NAMESPACE"

router = APIRouter(
    prefix=f"{API_PREFIX}/emergency-stop",
    tags=["emergency"],
    responses={
        **ERROR_RESPONSES,
        503: {"model": ErrorResponse, "description": "No Kubernetes cluster is connected"},
    },
)


class EmergencyStopState(EmergencyStop):
    """The flag as every reader sees it, and what this user may do about it."""

    available: bool
    """False when the dashboard has no cluster (local mode): there is nothing to stop."""
    mayChange: bool
    """Whether this user may engage and lift the stop (the UI shows the buttons)."""
    namespace: str
    """Where the flag lives (the release namespace)."""


class EngageRequest(BaseModel):
    reason: Annotated[str, Field(max_length=MAX_REASON)] = ""
    """Why: shown in the banner, in `faultline get` and in the operator's Events."""


class Flag(Protocol):
    """The flag in the cluster, and who may change it."""

    namespace: str

    def read(self) -> dict[str, str] | None: ...

    def write(self, data: dict[str, str | None]) -> None: ...

    def may_change(self, principal: Principal) -> bool: ...


def release_namespace() -> str:
    """The dashboard runs in the release namespace; outside a pod, $FAULTLINE_NAMESPACE."""
    try:
        return POD_NAMESPACE_FILE.read_text().strip()
    except OSError:
        return os.environ.get(NAMESPACE_ENV) or "faultline"


class KubeFlag:
    """The ConfigMap in the cluster, written with the dashboard's own credentials; a failed
    call reaches the one handler of Kubernetes errors (backend/api/errors.py)."""

    def __init__(self, cluster: Kube, namespace: str) -> None:
        self.namespace = namespace
        self._core = cluster.core
        self._reviews = cluster.reviews

    def read(self) -> dict[str, str] | None:
        return self._core.config_map(self.namespace, KILLSWITCH_NAME)

    def write(self, data: dict[str, str | None]) -> None:
        self._core.merge_config_map(self.namespace, KILLSWITCH_NAME, data)

    def may_change(self, principal: Principal) -> bool:
        allowed, _ = self._reviews.access(
            principal.creator(), "patch", "", "configmaps", self.namespace, KILLSWITCH_NAME
        )
        return allowed


def get_flag(request: Request, settings: SettingsDep) -> Flag | None:
    """The cluster's flag (made on first use, kept on the app), or None in local mode."""
    flag: Flag | None = getattr(request.app.state, "emergency_flag", None)
    if flag is None and settings.mode == "cluster":
        flag = KubeFlag(request.app.state.kube, release_namespace())
        request.app.state.emergency_flag = flag
    return flag


FlagDep = Annotated[Flag | None, Depends(get_flag)]


def _may_change(flag: Flag | None, principal: Principal, settings: Settings) -> bool:
    if settings.mode == "local":
        return principal.role == "admin"
    return flag is not None and flag.may_change(principal)


def _state(flag: Flag | None, principal: Principal, settings: Settings) -> EmergencyStopState:
    if flag is None:
        may = _may_change(flag, principal, settings)
        return EmergencyStopState(available=False, mayChange=may, namespace="")
    stop = EmergencyStop.from_data(flag.read())
    may = _may_change(flag, principal, settings)
    return EmergencyStopState(
        **stop.model_dump(), available=True, mayChange=may, namespace=flag.namespace
    )


def _changeable(flag: Flag | None, principal: Principal, settings: Settings) -> Flag:
    if not _may_change(flag, principal, settings):
        where = flag.namespace if flag else "the release namespace"
        raise Forbidden(
            f"{principal.name} may not engage or lift the emergency stop: that needs `patch` on "
            f"configmaps/{KILLSWITCH_NAME} in namespace {where!r} (bind the ClusterRole "
            "<release>-faultline-emergency-stop there)"
            if settings.mode == "cluster"
            else f"token {principal.name!r} is not an admin token: only admins may do this"
        )
    if flag is None:
        raise ClusterUnavailable("the dashboard runs in local mode: there is no cluster to stop")
    return flag


@router.get("", response_model=EmergencyStopState)
def get_emergency_stop(
    principal: PrincipalDep, settings: SettingsDep, flag: FlagDep
) -> EmergencyStopState:
    """Whether the emergency stop is engaged, by whom, when and why (any signed-in user)."""
    return _state(flag, principal, settings)


@router.post("", response_model=EmergencyStopState, status_code=status.HTTP_202_ACCEPTED)
def engage_emergency_stop(
    body: EngageRequest, principal: PrincipalDep, settings: SettingsDep, flag: FlagDep
) -> EmergencyStopState:
    """Engage: the operator withdraws every fault in the cluster and refuses new chaos objects,
    runs and schedule firings until the stop is lifted. Engaging it again changes nothing."""
    target = _changeable(flag, principal, settings)
    if not EmergencyStop.from_data(target.read()).engaged:
        target.write(engage_data(principal.name, body.reason, datetime.now(UTC)))
    return _state(target, principal, settings)


@router.delete("", response_model=EmergencyStopState)
def lift_emergency_stop(
    principal: PrincipalDep, settings: SettingsDep, flag: FlagDep
) -> EmergencyStopState:
    """Lift: new faults may start again (objects the stop ended stay ended)."""
    target = _changeable(flag, principal, settings)
    if EmergencyStop.from_data(target.read()).engaged:
        target.write(lift_data(principal.name, datetime.now(UTC)))
    return _state(target, principal, settings)
