"""Archive-on-delete storage and its endpoints (the watcher side runs in tests/api_cluster)."""

from __future__ import annotations

import httpx
from sqlalchemy.orm import Session, sessionmaker

from backend.db.repositories import mirror
from backend.db.repositories.archived_objects import archive_deleted
from tests.api.server import RunningServer


def test_deleted_objects_are_archived_and_readable(
    server: RunningServer, client: httpx.Client
) -> None:
    sessions: sessionmaker[Session] = server.app.state.sessions
    experiment = client.post(
        "/api/v1/experiments", json={"namespace": "shop", "name": "kill-one", "spec": {}}
    ).json()
    finished = client.post(f"/api/v1/experiments/{experiment['id']}/runs", json={}).json()
    client.patch(f"/api/v1/runs/{finished['id']}", json={"phase": "Finished", "verdict": "Passed"})
    running = client.post(f"/api/v1/experiments/{experiment['id']}/runs", json={}).json()
    with sessions() as session:
        mirror.upsert_chaos_object(
            session, kind="NetworkChaos", namespace="shop", name="lossy", uid="u-1",
            spec={"action": "loss"}, status={"phase": "Running"}, phase="Running",
        )  # fmt: skip
        mirror.upsert_chaos_object(
            session, kind="Experiment", namespace="shop", name="kill-one", uid="u-2", spec={}
        )
        # Deleted while nobody watched: the mirrored state is what is kept.
        archive_deleted(session, "NetworkChaos", "shop", "lossy")
        final = {"metadata": {"uid": "u-2"}, "spec": {"x": 1}, "status": {"phase": "Verdict"}}
        archive_deleted(session, "Experiment", "shop", "kill-one", final)
        # A repeated deletion (relist after the watch event) keeps one record.
        archive_deleted(session, "Experiment", "shop", "kill-one", final)

    assert client.get("/api/v1/chaos", params={"namespace": "shop"}).json()["total"] == 0
    page = client.get("/api/v1/archives/objects", params={"namespace": "shop"}).json()
    assert [(i["kind"], i["phase"]) for i in page["items"]] == [
        ("Experiment", "Verdict"),
        ("NetworkChaos", "Running"),
    ]
    assert page["items"][1]["spec"] == {"action": "loss"}
    only = client.get("/api/v1/archives/objects", params={"kind": "NetworkChaos"}).json()
    assert only["total"] == 1
    one = client.get(f"/api/v1/archives/objects/{page['items'][0]['id']}")
    assert one.status_code == 200 and one.json()["spec"] == {"x": 1}
    assert client.get("/api/v1/archives/objects/999999").status_code == 404
    # The experiment's finished run was archived with it; the unfinished one was not.
    runs = client.get("/api/v1/archives", params={"namespace": "shop"}).json()["items"]
    assert [r["id"] for r in runs] == [finished["id"]]
    assert client.get(f"/api/v1/runs/{running['id']}").json()["archived"] is False
    bad = client.get("/api/v1/archives/objects", params={"kind": "Pod"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "kind"]
