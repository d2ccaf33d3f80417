"""Dashboard authorization between two namespaces: every route acts on exactly the namespace it
authorized (path, body or stored row), a query naming another is a 400, lists and their totals
show only what the caller may list, and a refused request changes nothing."""

from __future__ import annotations

from typing import Any

import httpx

from backend.spec.creator import Creator
from tests.api.tenants import A, B, Tenants, tenants_fixture  # noqa: F401

LISTS = [
    "/api/v1/experiments", "/api/v1/hypotheses", "/api/v1/archives", "/api/v1/archives/objects",
    "/api/v1/events", "/api/v1/chaos", "/api/v1/schedules",
]  # fmt: skip
TOLERANCES = [{"probe": "web", "atLeast": 1}]
PROBES = {"probes": [{"name": "web", "type": "load", "url": "http://web/"}]}


def two_namespaces(first: str, second: str, where: str = "the body") -> str:
    return (
        f"the request names two namespaces: {where} says {first!r} and the query parameter "
        f"says {second!r}; name one namespace (or the same one in both places)"
    )


def chaos_body(ns: str, name: str = "lag") -> dict[str, Any]:
    spec = {"action": "delay", "mode": "all", "selector": {"namespaces": [ns]}}
    return {"kind": "NetworkChaos", "namespace": ns, "name": name, "spec": spec}


def test_lists_and_totals_show_only_the_callers_namespaces(tenants: Tenants) -> None:
    for path in LISTS:
        everything = tenants.admin.get(path).json()
        mine = tenants.alice.get(path).json()
        assert {i["namespace"] for i in everything["items"]} == {A, B}, path
        assert {i["namespace"] for i in mine["items"]} == {A}, path
        assert mine["total"] == sum(i["namespace"] == A for i in everything["items"]), path
        assert 0 < mine["total"] < everything["total"], path
        # Naming the other namespace is a 403 naming it, not an empty page.
        r = tenants.alice.get(path, params={"namespace": B})
        assert r.status_code == 403, path
        assert f"in namespace '{B}'" in r.json()["detail"], path
    # A filter by experiment id never reaches another namespace's events.
    theirs = tenants.alice.get(
        "/api/v1/events", params={"experiment_id": tenants.rows[B]["experiment"]}
    )
    assert theirs.status_code == 200 and theirs.json()["total"] == 0


def test_rows_of_another_namespace_are_403_and_stay(tenants: Tenants) -> None:
    b = tenants.rows[B]
    for path in [
        f"/api/v1/experiments/{b['experiment']}", f"/api/v1/experiments/{b['experiment']}/runs",
        f"/api/v1/hypotheses/{b['hypothesis']}", f"/api/v1/runs/{b['run']}",
        f"/api/v1/runs/{b['run']}/events", f"/api/v1/archives/objects/{b['archive']}",
        f"/api/v1/chaos/PodChaos/{B}/kill", f"/api/v1/schedules/{B}/nightly",
    ]:  # fmt: skip
        r = tenants.alice.get(path)
        assert r.status_code == 403, path
        assert r.json()["detail"].startswith("alice may not get") or "may not list" in r.text
        assert f"in namespace '{B}'" in r.json()["detail"], path
    assert tenants.alice.delete(f"/api/v1/archives/{b['run']}").status_code == 403
    assert tenants.alice.delete(f"/api/v1/experiments/{b['experiment']}").status_code == 403
    assert tenants.alice.delete(f"/api/v1/hypotheses/{b['hypothesis']}").status_code == 403
    assert tenants.admin.get(f"/api/v1/runs/{b['run']}").json()["archived"] is True
    assert tenants.admin.get(f"/api/v1/experiments/{b['experiment']}").status_code == 200
    assert tenants.admin.get(f"/api/v1/hypotheses/{b['hypothesis']}").status_code == 200


def test_create_with_a_query_naming_another_namespace_is_400_and_creates_nothing(
    tenants: Tenants,
) -> None:
    for client in (tenants.alice, tenants.admin):  # not an RBAC answer: admin gets it too
        r = client.post("/api/v1/chaos", params={"namespace": A}, json=chaos_body(B))
        assert r.status_code == 400 and r.json()["detail"] == two_namespaces(B, A)
        r = client.post("/api/v1/experiments", params={"namespace": A},
                        json={"namespace": B, "name": "sneaky"})  # fmt: skip
        assert r.status_code == 400 and r.json()["detail"] == two_namespaces(B, A)
        r = client.post("/api/v1/hypotheses", params={"namespace": A},
                        json={"namespace": B, "title": "t", "tolerances": TOLERANCES})  # fmt: skip
        assert r.status_code == 400 and r.json()["detail"] == two_namespaces(B, A)
        r = client.post("/api/v1/schedules", params={"namespace": A},
                        json={"namespace": B, "name": "s", "schedule": "@every 1h",
                              "type": "PodChaos", "spec": {}})  # fmt: skip
        assert r.status_code == 400 and r.json()["detail"] == two_namespaces(B, A)
    # Only the body, in a namespace alice may not write: 403 naming it.
    r = tenants.alice.post("/api/v1/chaos", json=chaos_body(B))
    assert r.status_code == 403
    assert r.json()["detail"] == (
        f"alice may not create networkchaos.chaos.faultline.dev in namespace '{B}'"
    )
    assert (
        tenants.alice.post("/api/v1/experiments", json={"namespace": B, "name": "x"}).status_code
        == 403
    )
    assert tenants.gateway.calls == []
    experiments = tenants.admin.get("/api/v1/experiments", params={"namespace": B}).json()
    assert [e["name"] for e in experiments["items"]] == ["exp"]
    assert tenants.admin.get("/api/v1/hypotheses", params={"namespace": B}).json()["total"] == 1


def test_edit_and_start_act_on_the_stored_row_only(tenants: Tenants) -> None:
    a, b = tenants.rows[A], tenants.rows[B]
    mine, theirs = (
        f"/api/v1/experiments/{a['experiment']}",
        f"/api/v1/experiments/{b['experiment']}",
    )
    before = tenants.admin.get(mine).json()
    r = tenants.alice.patch(mine, params={"namespace": B}, json={"description": "x"})
    assert r.status_code == 400
    assert r.json()["detail"] == two_namespaces(A, B, where="the stored row")
    # Another namespace's row is refused before anything is compared with it.
    r = tenants.alice.patch(theirs, params={"namespace": A}, json={"description": "x"})
    assert r.status_code == 403 and f"in namespace '{B}'" in r.json()["detail"]
    # Another namespace's hypothesis does not exist as far as this experiment is concerned.
    r = tenants.alice.patch(mine, json={"hypothesis_id": b["hypothesis"]})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "hypothesis_id"]
    assert tenants.admin.get(mine).json() == before

    r = tenants.alice.post(f"{mine}/start", params={"namespace": B})
    assert r.status_code == 400 and r.json()["detail"] == two_namespaces(A, B, "the stored row")
    r = tenants.alice.post(f"{theirs}/start")
    assert r.status_code == 403 and f"in namespace '{B}'" in r.json()["detail"]
    r = tenants.alice.post(f"{theirs}/runs", json={"phase": "Baseline"})
    assert r.status_code == 403
    assert tenants.gateway.calls == []
    assert tenants.admin.get(f"{theirs}/runs").json()["total"] == 1  # the seeded run only

    # The positive path: alice edits and starts her own; the object carries her record.
    r = tenants.alice.patch(mine, json={"spec": PROBES})
    assert r.status_code == 200, r.text
    r = tenants.alice.post(f"{mine}/start", params={"namespace": A})
    assert r.status_code == 202, r.text
    alice = Creator(username="alice", uid="uid-alice", groups=("system:authenticated",))
    assert tenants.gateway.calls == [("create", "Experiment", A, "exp", alice)]


def test_pause_and_delete_of_another_namespaces_object_are_refused(tenants: Tenants) -> None:
    for action in ("pause", "resume"):
        r = tenants.alice.post(f"/api/v1/chaos/PodChaos/{B}/kill/{action}")
        assert r.status_code == 403
        assert r.json()["detail"] == (
            f"alice may not patch podchaos.chaos.faultline.dev in namespace '{B}'"
        )
        r = tenants.alice.post(f"/api/v1/chaos/PodChaos/{A}/kill/{action}", params={"namespace": B})
        assert r.status_code == 400
        assert r.json()["detail"] == two_namespaces(A, B, where="the path")
    assert tenants.alice.delete(f"/api/v1/chaos/PodChaos/{B}/kill").status_code == 403
    assert tenants.alice.delete(f"/api/v1/schedules/{B}/nightly").status_code == 403
    assert tenants.gateway.calls == []
    assert tenants.alice.post(f"/api/v1/chaos/PodChaos/{A}/kill/pause").status_code == 202
    assert tenants.alice.delete(f"/api/v1/schedules/{A}/nightly").status_code == 202
    assert tenants.gateway.calls == [
        ("set_paused", "PodChaos", A, "kill", True), ("delete", "Schedule", A, "nightly"),
    ]  # fmt: skip


def test_creates_in_the_callers_namespace_carry_the_creator(tenants: Tenants) -> None:
    r = tenants.alice.post("/api/v1/chaos", params={"namespace": A}, json=chaos_body(A))
    assert r.status_code == 202, r.text
    r = tenants.alice.post(
        "/api/v1/hypotheses", json={"namespace": A, "title": "mine", "tolerances": TOLERANCES}
    )
    assert r.status_code == 201 and r.json()["namespace"] == A
    r = tenants.alice.post(
        "/api/v1/experiments", json={"namespace": A, "name": "new", "hypothesis_id": r.json()["id"]}
    )
    assert r.status_code == 201, r.text
    [(call, kind, ns, name, creator)] = tenants.gateway.calls
    assert (call, kind, ns, name, creator.username, creator.uid) == (
        "create", "NetworkChaos", A, "lag", "alice", "uid-alice",
    )  # fmt: skip


def _raw(client: httpx.Client, method: str, path: str, body: str) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    return client.request(method, path, content=body.encode(), headers=headers)


def test_nan_and_infinity_in_a_body_are_422_naming_the_field(tenants: Tenants) -> None:
    a = tenants.rows[A]
    cases = [
        ("POST", "/api/v1/experiments",
         f'{{"namespace": "{A}", "name": "n", "spec": {{"probes": [{{"weight": NaN}}]}}}}',
         ["body", "spec"], "probes[0].weight is NaN or Infinity"),
        ("POST", "/api/v1/chaos",
         f'{{"kind": "PodChaos", "namespace": "{A}", "name": "n", "spec": {{"value": Infinity}}}}',
         ["body", "spec"], "value is NaN or Infinity"),
        ("POST", "/api/v1/hypotheses",
         f'{{"namespace": "{A}", "title": "t", "tolerances": '
         '[{"probe": "web", "atLeast": NaN}]}',
         ["body", "tolerances", 0, "atLeast"], "finite number"),
        ("POST", f"/api/v1/runs/{a['run']}/observations:batch",
         '{"points": [{"probe": "web", "ts": 1, "qps": Infinity}]}',
         ["body", "points", 0, "qps"], "finite number"),
        ("PATCH", f"/api/v1/runs/{a['run']}", '{"metrics": {"recovery_s": -Infinity}}',
         ["body", "metrics"], "recovery_s is NaN or Infinity"),
    ]  # fmt: skip
    for method, path, body, loc, words in cases:
        r = _raw(tenants.alice, method, path, body)
        assert r.status_code == 422, (path, r.text)
        [error] = r.json()["detail"]
        assert error["loc"] == loc and words in error["msg"], (path, error)
    assert tenants.gateway.calls == []
    assert tenants.admin.get("/api/v1/experiments", params={"namespace": A}).json()["total"] == 1
