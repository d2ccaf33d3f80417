"""Experiments and hypotheses: CRUD, filters, pagination and validation errors."""

from __future__ import annotations

from typing import Any

import httpx

HYPOTHESIS = {
    "namespace": "shop",
    "title": "one replica dies, QPS dips and is back within 60 s",
    "tolerances": [
        {"probe": "web", "recoverTo": 80, "within": "60s"},
        {"probe": "web", "metric": "latencyP99", "atMost": 250, "during": "afterRecovery"},
    ],
}


def make_experiment(client: httpx.Client, namespace: str, name: str, **extra: Any) -> Any:
    r = client.post("/api/v1/experiments", json={"namespace": namespace, "name": name, **extra})
    assert r.status_code == 201, r.text
    return r.json()


def test_experiment_crud_round_trip(client: httpx.Client) -> None:
    hypothesis = client.post("/api/v1/hypotheses", json=HYPOTHESIS).json()
    created = make_experiment(
        client, "shop", "kill-one-cart", hypothesis_id=hypothesis["id"],
        spec={"podChaos": {"action": "pod-kill", "mode": "one"}},
    )  # fmt: skip
    assert created["status"] == "idle" and created["verdict"] is None
    assert created["hypothesis_id"] == hypothesis["id"]

    got = client.get(f"/api/v1/experiments/{created['id']}").json()
    assert got["spec"] == {"podChaos": {"action": "pod-kill", "mode": "one"}}
    assert got["created_at"].endswith("Z") or got["created_at"].endswith("+00:00")

    r = client.patch(f"/api/v1/experiments/{created['id']}", json={"description": "nightly"})
    assert r.status_code == 200
    assert r.json()["description"] == "nightly"
    assert r.json()["spec"] == got["spec"]  # untouched fields keep their values

    r = client.patch(f"/api/v1/experiments/{created['id']}", json={"hypothesis_id": None})
    assert r.json()["hypothesis_id"] is None

    assert client.delete(f"/api/v1/experiments/{created['id']}").status_code == 204
    r = client.get(f"/api/v1/experiments/{created['id']}")
    assert r.status_code == 404
    assert r.json()["detail"] == f"experiment {created['id']} not found"


def test_duplicate_name_in_namespace_is_409(client: httpx.Client) -> None:
    make_experiment(client, "shop", "dup")
    make_experiment(client, "other", "dup")  # same name elsewhere is fine
    r = client.post("/api/v1/experiments", json={"namespace": "shop", "name": "dup"})
    assert r.status_code == 409
    assert "'dup' already exists in namespace 'shop'" in r.json()["detail"]


def test_filters_and_pagination(client: httpx.Client) -> None:
    for i in range(7):
        make_experiment(client, "shop" if i % 2 == 0 else "payments", f"exp-{i}")
    # Finish a run on exp-0 (passed) and exp-2 (failed), leave exp-4 running.
    outcomes = {0: ("Finished", "Passed"), 2: ("Finished", "Failed"), 4: ("Observing", None)}
    for i, (phase, verdict) in outcomes.items():
        run = client.post(f"/api/v1/experiments/{i + 1}/runs", json={}).json()
        body: dict[str, Any] = {"phase": phase}
        if verdict:
            body["verdict"] = verdict
        assert client.patch(f"/api/v1/runs/{run['id']}", json=body).status_code == 200

    def names(**params: Any) -> list[str]:
        page = client.get("/api/v1/experiments", params=params).json()
        return [e["name"] for e in page["items"]]

    assert names(namespace="payments") == ["exp-1", "exp-3", "exp-5"]
    assert names(status="finished") == ["exp-0", "exp-2"]
    assert names(status="running") == ["exp-4"]
    assert names(verdict="Failed") == ["exp-2"]
    assert names(namespace="shop", verdict="Passed") == ["exp-0"]
    assert names(namespace="shop", status="idle") == ["exp-6"]

    page = client.get("/api/v1/experiments", params={"limit": 3, "offset": 3}).json()
    assert page["total"] == 7 and page["limit"] == 3 and page["offset"] == 3
    assert [e["name"] for e in page["items"]] == ["exp-3", "exp-4", "exp-5"]
    last = client.get("/api/v1/experiments", params={"limit": 3, "offset": 6}).json()
    assert [e["name"] for e in last["items"]] == ["exp-6"]


def _locs(response: httpx.Response) -> list[list[Any]]:
    assert response.status_code == 422, response.text
    return [e["loc"] for e in response.json()["detail"]]


def test_validation_errors_name_the_field(client: httpx.Client) -> None:
    r = client.post("/api/v1/experiments", json={"namespace": "Not_Valid", "name": "x"})
    assert _locs(r) == [["body", "namespace"]]
    r = client.post("/api/v1/experiments", json={"namespace": "ok", "name": "x", "spec": []})
    assert _locs(r) == [["body", "spec"]]
    r = client.post("/api/v1/experiments", json={"namespace": "ok", "name": "x", "nmae": "y"})
    assert _locs(r) == [["body", "nmae"]]
    r = client.post(
        "/api/v1/experiments", json={"namespace": "ok", "name": "x", "hypothesis_id": 99}
    )
    assert _locs(r) == [["body", "hypothesis_id"]]
    assert "hypothesis 99 does not exist" in r.json()["detail"][0]["msg"]
    r = client.get("/api/v1/experiments", params={"status": "exploded", "limit": 0})
    assert sorted(_locs(r)) == [["query", "limit"], ["query", "status"]]
    r = client.patch("/api/v1/experiments/1", json={"spec": None})
    assert _locs(r) == [["body", "spec"]]


def test_hypothesis_validation_points_into_the_tolerances(client: httpx.Client) -> None:
    """The API checks a tolerance with the Experiment resource's own model and rules."""
    bad: dict[str, Any] = {
        "namespace": "shop",
        "title": "t",
        "tolerances": [{"probe": "web", "maxDropPercent": 20}, {"probe": "web"}],
    }
    r = client.post("/api/v1/hypotheses", json=bad)
    assert _locs(r) == [["body", "tolerances", 1]]
    assert "give exactly one of atLeastPercentOfBaseline" in r.json()["detail"][0]["msg"]
    bad["tolerances"] = [{"probe": "web", "metric": "rps", "atLeast": 1}]
    assert _locs(client.post("/api/v1/hypotheses", json=bad)) == [
        ["body", "tolerances", 0, "metric"]
    ]
    bad["tolerances"] = [{"probe": "web", "recoverTo": 90}]
    r = client.post("/api/v1/hypotheses", json=bad)
    assert "within is required when recoverTo is set" in r.json()["detail"][0]["msg"]
    bad["tolerances"] = []
    assert _locs(client.post("/api/v1/hypotheses", json=bad)) == [["body", "tolerances"]]
    assert client.get("/api/v1/hypotheses").json()["total"] == 0  # nothing was stored


def test_hypothesis_crud_and_detach_on_delete(client: httpx.Client) -> None:
    h = client.post("/api/v1/hypotheses", json=HYPOTHESIS)
    assert h.status_code == 201
    hid = h.json()["id"]
    # Defaults filled in, as the resource's schema fills them; each tolerance also in words.
    assert h.json()["tolerances"][0] == {
        "probe": "web", "metric": "qps", "during": "fault", "recoverTo": 80.0, "within": "60s",
        "from": "faultEnd", "atLeastPercentOfBaseline": None, "atMostPercentOfBaseline": None,
        "atLeast": None, "atMost": None, "maxDropPercent": None,
    }  # fmt: skip
    assert h.json()["statements"] == [
        "web qps back to 80% of baseline within 60s of faultEnd",
        "web latencyP99 <= 250 during afterRecovery",
    ]
    exp = make_experiment(client, "shop", "with-h", hypothesis_id=hid)
    r = client.patch(f"/api/v1/hypotheses/{hid}", json={"title": "renamed"})
    assert r.json()["title"] == "renamed"
    assert r.json()["tolerances"][1]["atMost"] == 250.0
    r = client.patch(f"/api/v1/hypotheses/{hid}", json={"tolerances": [{"probe": "web"}]})
    assert r.status_code == 422 and _locs(r) == [["body", "tolerances", 0]]
    assert len(client.get(f"/api/v1/hypotheses/{hid}").json()["tolerances"]) == 2  # unchanged
    assert client.get("/api/v1/hypotheses").json()["total"] == 1
    assert client.delete(f"/api/v1/hypotheses/{hid}").status_code == 204
    assert client.get(f"/api/v1/hypotheses/{hid}").status_code == 404
    # The experiment survives its hypothesis.
    assert client.get(f"/api/v1/experiments/{exp['id']}").json()["hypothesis_id"] is None
