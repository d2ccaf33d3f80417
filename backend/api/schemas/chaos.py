"""Chaos objects and schedules: read from the mirror, written through the cluster."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from backend.api.schemas.common import JsonObject, Name, Namespace, Page, Public, Strict

ChaosKind = Literal["PodChaos", "NetworkChaos", "IOChaos"]
CHAOS_KINDS: tuple[str, ...] = ("PodChaos", "NetworkChaos", "IOChaos")


def plural(kind: str) -> str:
    """The RBAC resource name of a kind, e.g. NetworkChaos -> networkchaos."""
    return kind.lower() if kind.endswith("Chaos") else kind.lower() + "s"


class ChaosObjectCreate(Strict):
    kind: ChaosKind
    namespace: Namespace
    name: Name
    spec: JsonObject


class ChaosObjectPublic(Public):
    id: int
    kind: str
    namespace: str
    name: str
    uid: str
    spec: dict[str, Any]
    status: dict[str, Any]
    phase: str
    updated_at: datetime


class ChaosObjectPage(Page[ChaosObjectPublic]):
    pass


class ScheduleCreate(Strict):
    namespace: Namespace
    name: Name
    schedule: str
    """Cron expression or `@every 30s`."""
    type: ChaosKind
    spec: JsonObject


class SchedulePublic(Public):
    id: int
    namespace: str
    name: str
    uid: str
    schedule: str
    type: str
    spec: dict[str, Any]
    status: dict[str, Any]
    phase: str
    updated_at: datetime


class SchedulePage(Page[SchedulePublic]):
    pass


class ArchivedObjectPublic(Public):
    """The last state of a custom resource that was deleted from the cluster."""

    id: int
    kind: str
    namespace: str
    name: str
    uid: str
    spec: dict[str, Any]
    status: dict[str, Any]
    phase: str
    archived_at: datetime
    """When the dashboard saw the deletion."""


class ArchivedObjectPage(Page[ArchivedObjectPublic]):
    pass


class Accepted(Public):
    """The cluster took the request; the mirror shows the object once the watcher sees it."""

    kind: str
    namespace: str
    name: str
    uid: str | None = None
    detail: str
