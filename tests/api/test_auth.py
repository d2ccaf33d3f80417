"""Every endpoint but /healthz needs a bearer token, and every refusal says how to fix it."""

from __future__ import annotations

import httpx
import pytest

from backend.db.repositories.tokens import create_token, digest, reset_admin_token
from tests.api.server import RunningServer


def test_healthz_needs_no_token_and_checks_the_database(anon: httpx.Client) -> None:
    r = anon.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "database": "ok"}


@pytest.mark.parametrize(
    "path", ["/api/v1/experiments", "/api/v1/chaos", "/api/v1/archives", "/metrics"]
)
def test_missing_token_is_401_with_instructions(anon: httpx.Client, path: str) -> None:
    r = anon.get(path)
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"
    detail = r.json()["detail"]
    assert detail.startswith("no bearer token: pass `Authorization: Bearer <token>`")
    assert "printed to the dashboard log at first start" in detail
    assert "`faultline dashboard reset-token`" in detail


def test_wrong_scheme_is_named(anon: httpx.Client) -> None:
    r = anon.get("/api/v1/experiments", headers={"Authorization": "Basic YWRtaW46eA=="})
    assert r.status_code == 401
    assert "uses the 'Basic' scheme" in r.json()["detail"]


def test_bearer_without_token_is_named(anon: httpx.Client) -> None:
    r = anon.get("/api/v1/experiments", headers={"Authorization": "Bearer"})
    assert r.status_code == 401
    assert "carries no token" in r.json()["detail"]


def test_unknown_token_is_401(anon: httpx.Client) -> None:
    r = anon.get("/api/v1/experiments", headers={"Authorization": "Bearer flt_not-a-real-token"})
    assert r.status_code == 401
    assert "not a token of this dashboard" in r.json()["detail"]


def test_admin_token_is_stored_hashed_and_works(
    server: RunningServer, client: httpx.Client, admin_token: str
) -> None:
    from backend.db.models import ApiToken

    with server.app.state.sessions() as session:
        rows = session.query(ApiToken).all()
    assert [(t.name, t.role) for t in rows] == [("admin", "admin")]
    assert rows[0].token_hash == digest(admin_token) != admin_token
    r = client.get("/api/v1/whoami")
    assert r.status_code == 200
    assert r.json() == {"name": "admin", "role": "admin", "groups": [], "mode": "local"}


def test_reset_token_revokes_the_old_one(
    server: RunningServer, anon: httpx.Client, admin_token: str
) -> None:
    with server.app.state.sessions() as session:
        new = reset_admin_token(session)
    old = anon.get("/api/v1/whoami", headers={"Authorization": f"Bearer {admin_token}"})
    assert old.status_code == 401
    assert "reset-token" in old.json()["detail"]
    fresh = anon.get("/api/v1/whoami", headers={"Authorization": f"Bearer {new}"})
    assert fresh.status_code == 200


def test_viewer_reads_but_cannot_write(server: RunningServer, anon: httpx.Client) -> None:
    with server.app.state.sessions() as session:
        token = create_token(session, "ci-viewer", "viewer")
    headers = {"Authorization": f"Bearer {token}"}
    assert anon.get("/api/v1/experiments", headers=headers).status_code == 200
    r = anon.post(
        "/api/v1/experiments",
        headers=headers,
        json={"namespace": "shop", "name": "kill-one"},
    )
    assert r.status_code == 403
    detail = r.json()["detail"]
    assert "token 'ci-viewer' has the viewer role, which can only read" in detail
    assert "create experiments.chaos.faultline.dev" in detail
    assert "use the admin token" in detail
    # Nothing was written.
    listed = anon.get("/api/v1/experiments", headers=headers).json()
    assert listed["total"] == 0


def test_second_start_creates_no_new_token(server: RunningServer, admin_token: str) -> None:
    from backend.api.app import create_app
    from tests.api.server import serve

    with serve(create_app(server.app.state.settings, configure_logs=False)) as again:
        assert again.app.state.initial_admin_token is None
        r = httpx.get(
            again.base_url + "/api/v1/whoami", headers={"Authorization": f"Bearer {admin_token}"}
        )
        assert r.status_code == 200


def test_cli_functions_reset_and_create_tokens(
    server: RunningServer, anon: httpx.Client, admin_token: str
) -> None:
    from backend.api import admin

    settings = server.app.state.settings
    new = admin.reset_admin_token(settings)
    viewer = admin.create_token(settings, "grafana")
    assert (
        anon.get("/api/v1/whoami", headers={"Authorization": f"Bearer {admin_token}"}).status_code
        == 401
    )
    me = anon.get("/api/v1/whoami", headers={"Authorization": f"Bearer {new}"}).json()
    assert (me["name"], me["role"]) == ("admin", "admin")
    me = anon.get("/api/v1/whoami", headers={"Authorization": f"Bearer {viewer}"}).json()
    assert (me["name"], me["role"]) == ("grafana", "viewer")
    with pytest.raises(ValueError, match="role: must be one of admin, viewer, got 'root'"):
        admin.create_token(settings, "x", "root")
