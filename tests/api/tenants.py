"""A two-tenant dashboard for API tests: RBAC as Kubernetes would answer it, without a cluster.

Tokens are user names. `admin` may do anything anywhere; `alice` may do anything in `team-a`
only (a RoleBinding, no cluster-wide `list`). The gateway records each cluster write, creator
included, so a test can assert that a refused request wrote nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from backend.api.app import create_app
from backend.api.auth import Access, Principal
from backend.api.errors import Forbidden, Unauthenticated
from backend.db.repositories import archived_objects, mirror
from backend.settings import Settings
from backend.spec.creator import Creator
from tests.api.server import RunningServer, serve

A, B = "team-a", "team-b"
GRANTS: dict[str, frozenset[str] | None] = {"admin": None, "alice": frozenset({A})}
POD_KILL = {"action": "pod-kill", "mode": "one", "selector": {"namespaces": [B]}}


class TenantAuthenticator:
    missing_token_help = "tokens are user names in these tests"

    def authenticate(self, token: str) -> Principal:
        if token not in GRANTS:
            raise Unauthenticated(f"unknown token; {self.missing_token_help}")
        return Principal(name=token, uid=f"uid-{token}", groups=("system:authenticated",))

    def authorize(self, principal: Principal, access: Access) -> None:
        allowed = GRANTS[principal.name]
        if allowed is None or access.namespace in allowed:
            return
        raise Forbidden(f"{principal.name} may not {access.describe()}")

    def listable(
        self, principal: Principal, resources: list[str], candidates: list[str]
    ) -> frozenset[str] | None:
        allowed = GRANTS[principal.name]
        return None if allowed is None else frozenset(c for c in candidates if c in allowed)


@dataclass
class RecordingGateway:
    calls: list[tuple[Any, ...]] = field(default_factory=list)

    def create(
        self, kind: str, namespace: str, name: str, spec: dict[str, Any], *, creator: Creator
    ) -> str:
        self.calls.append(("create", kind, namespace, name, creator))
        return f"uid-{len(self.calls)}"

    def replace_ended(
        self, kind: str, namespace: str, name: str, spec: dict[str, Any], *, creator: Creator
    ) -> str:
        return self.create(kind, namespace, name, spec, creator=creator)

    def set_paused(self, kind: str, namespace: str, name: str, paused: bool) -> None:
        self.calls.append(("set_paused", kind, namespace, name, paused))

    def delete(self, kind: str, namespace: str, name: str) -> None:
        self.calls.append(("delete", kind, namespace, name))


@dataclass
class Tenants:
    server: RunningServer
    gateway: RecordingGateway
    admin: httpx.Client
    alice: httpx.Client
    rows: dict[str, dict[str, Any]]
    """Per namespace: the ids of its experiment, hypothesis, run and archived object."""


def _seed(server: RunningServer, admin: httpx.Client) -> dict[str, dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    tolerances = [{"probe": "web", "atLeast": 1}]
    for ns in (A, B):
        h = admin.post(
            "/api/v1/hypotheses", json={"namespace": ns, "title": ns, "tolerances": tolerances}
        )
        assert h.status_code == 201, h.text
        e = admin.post(
            "/api/v1/experiments",
            json={"namespace": ns, "name": "exp", "hypothesis_id": h.json()["id"]},
        )
        assert e.status_code == 201, e.text
        eid = e.json()["id"]
        run = admin.post(f"/api/v1/experiments/{eid}/runs", json={"phase": "Baseline"}).json()
        now = datetime.now(UTC).isoformat()
        events = {"events": [{"ts": now, "reason": f"Started-{ns}"}]}
        assert admin.post(f"/api/v1/runs/{run['id']}/events:batch", json=events).status_code == 201
        finished = {"phase": "Finished", "verdict": "Passed"}
        assert admin.patch(f"/api/v1/runs/{run['id']}", json=finished).status_code == 200
        assert admin.post(f"/api/v1/runs/{run['id']}/archive").status_code == 200
        with server.app.state.sessions() as session:
            mirror.upsert_chaos_object(
                session, kind="PodChaos", namespace=ns, name="kill", uid=f"u-{ns}",
                spec=POD_KILL, phase="Injecting",
            )  # fmt: skip
            mirror.upsert_schedule(
                session, namespace=ns, name="nightly", uid=f"s-{ns}", schedule="@every 24h",
                type="PodChaos", spec=POD_KILL,
            )  # fmt: skip
            mirror.upsert_chaos_object(
                session, kind="NetworkChaos", namespace=ns, name="gone", uid=f"g-{ns}",
                spec={"action": "loss"}, phase="Injecting",
            )  # fmt: skip
            archived = archived_objects.archive_deleted(session, "NetworkChaos", ns, "gone")
            assert archived is not None
            archive_id = archived.id
        rows[ns] = {
            "experiment": eid, "hypothesis": h.json()["id"], "run": run["id"],
            "archive": archive_id,
        }  # fmt: skip
    return rows


@pytest.fixture(name="tenants")
def tenants_fixture(settings: Settings) -> Iterator[Tenants]:
    gateway = RecordingGateway()
    app = create_app(
        settings, gateway=gateway, authenticator=TenantAuthenticator(), configure_logs=False
    )
    with serve(app) as running:
        base = running.base_url
        with (
            httpx.Client(base_url=base, headers={"Authorization": "Bearer admin"}) as admin,
            httpx.Client(base_url=base, headers={"Authorization": "Bearer alice"}) as alice,
        ):
            rows = _seed(running, admin)
            yield Tenants(running, gateway, admin, alice, rows)
