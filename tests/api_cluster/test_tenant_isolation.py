"""Adversarial dashboard use on the real kube-apiserver: a ServiceAccount with `edit` (and the
chart's chaos role) in namespace A only tries to reach namespace B through the dashboard API.

Every attempt is refused with the status and the message that say why, and nothing happens: no
object appears in B, B's object keeps its annotations, B's rows are unchanged. The same account
can still do everything in A, and its objects carry its creator record.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from backend.db.repositories import experiments, mirror
from backend.spec.creator import CREATED_BY_ANNOTATION, Creator
from tests.api.server import RunningServer
from tests.api_cluster.helpers import api_client, get_object, loss_body
from tests.api_cluster.tenancy import (  # noqa: F401
    EXPERIMENT_SPEC,
    TOLERANCES,
    Tenancy,
    seed_rows,
    tenancy_fixture,
)
from tests.support.cluster import Cluster

pytestmark = pytest.mark.cluster


def two(first: tuple[str, str], second: str) -> str:
    where, value = first
    return (
        f"the request names two namespaces: {where} says {value!r} and the query parameter says "
        f"{second!r}; name one namespace (or the same one in both places)"
    )


def may_not(t: Tenancy, verb: str, resource: str, ns: str) -> str:
    return f"{t.username} may not {verb} {resource}.chaos.faultline.dev in namespace '{ns}'"


@pytest.fixture
def alice(dashboard: RunningServer, tenancy: Tenancy) -> Iterator[httpx.Client]:
    with api_client(dashboard, tenancy.token) as client:
        yield client


def rows_of(dashboard: RunningServer, path: str) -> Any:
    """What the database holds, read past the API (the test's own view, not alice's)."""
    with dashboard.app.state.sessions() as session:
        row = experiments.get_experiment(session, int(path.rsplit("/", 1)[1]))
        return (row.namespace, row.name, row.description, row.spec, row.hypothesis_id)


def test_writes_into_another_namespace_are_refused_and_change_nothing(
    cluster: Cluster,
    dashboard: RunningServer,
    tenancy: Tenancy,
    alice: httpx.Client,
) -> None:
    t = tenancy
    ids = seed_rows(dashboard, (t.a, t.b))
    # Create chaos in B, authorized on A's name in the query: 400, nothing in either namespace.
    r = alice.post("/api/v1/chaos", params={"namespace": t.a}, json=loss_body(t.b, "escape"))
    assert r.status_code == 400 and r.json()["detail"] == two(("the body", t.b), t.a)
    # The same create with B named only in the body: RBAC in B says no.
    r = alice.post("/api/v1/chaos", json=loss_body(t.b, "escape"))
    assert r.status_code == 403
    assert r.json()["detail"].startswith(may_not(t, "create", "networkchaos", t.b))
    for ns in (t.a, t.b):
        assert get_object(cluster, ns, "NetworkChaos", "escape") is None
    # A schedule the same way.
    sched = {"namespace": t.b, "name": "nightly", "schedule": "@every 1h", "type": "NetworkChaos",
             "spec": loss_body(t.b, "x")["spec"]}  # fmt: skip
    r = alice.post("/api/v1/schedules", params={"namespace": t.a}, json=sched)
    assert r.status_code == 400 and r.json()["detail"] == two(("the body", t.b), t.a)
    assert get_object(cluster, t.b, "Schedule", "nightly") is None

    # Edit B's experiment, and A's one with B in the query.
    mine = f"/api/v1/experiments/{ids[t.a]['experiment']}"
    theirs = f"/api/v1/experiments/{ids[t.b]['experiment']}"
    before = rows_of(dashboard, mine), rows_of(dashboard, theirs)
    r = alice.patch(theirs, json={"description": "owned"})
    assert r.status_code == 403
    assert r.json()["detail"].startswith(may_not(t, "patch", "experiments", t.b))
    r = alice.patch(mine, params={"namespace": t.b}, json={"description": "owned"})
    assert r.status_code == 400 and r.json()["detail"] == two(("the stored row", t.a), t.b)
    r = alice.patch(mine, json={"hypothesis_id": ids[t.b]["hypothesis"]})
    assert r.status_code == 422 and f"in namespace '{t.a}'" in r.json()["detail"][0]["msg"]
    assert (rows_of(dashboard, mine), rows_of(dashboard, theirs)) == before

    # Start B's experiment, and A's with B in the query: no Experiment object anywhere.
    r = alice.post(f"{theirs}/start")
    assert r.status_code == 403
    assert r.json()["detail"].startswith(may_not(t, "create", "experiments", t.b))
    r = alice.post(f"{mine}/start", params={"namespace": t.b})
    assert r.status_code == 400 and r.json()["detail"] == two(("the stored row", t.a), t.b)
    for ns in (t.a, t.b):
        assert get_object(cluster, ns, "Experiment", "exp") is None

    # Pause and delete B's chaos object: refused, the object keeps its state.
    base = f"/api/v1/chaos/NetworkChaos/{t.b}/theirs"
    r = alice.post(f"{base}/pause")
    assert r.status_code == 403
    assert r.json()["detail"].startswith(may_not(t, "patch", "networkchaos", t.b))
    r = alice.post(f"/api/v1/chaos/NetworkChaos/{t.a}/theirs/pause", params={"namespace": t.b})
    assert r.status_code == 400 and r.json()["detail"] == two(("the path", t.a), t.b)
    r = alice.delete(base)
    assert r.status_code == 403
    assert r.json()["detail"].startswith(may_not(t, "delete", "networkchaos", t.b))
    obj = get_object(cluster, t.b, "NetworkChaos", "theirs")
    assert obj is not None and not obj["metadata"].get("deletionTimestamp")
    assert "chaos.faultline.dev/pause" not in (obj["metadata"].get("annotations") or {})


def test_reads_and_lists_show_nothing_of_another_namespace(
    dashboard: RunningServer,
    tenancy: Tenancy,
    alice: httpx.Client,
) -> None:
    t = tenancy
    ids = seed_rows(dashboard, (t.a, t.b))
    b = ids[t.b]
    for path, verb in [
        (f"/api/v1/runs/{b['run']}", "get"),
        (f"/api/v1/runs/{b['run']}/events", "list"),
        (f"/api/v1/experiments/{b['experiment']}/runs", "list"),
        (f"/api/v1/archives/objects/{b['archive']}", "get"),
        (f"/api/v1/hypotheses/{b['hypothesis']}", "get"),
        (f"/api/v1/chaos/NetworkChaos/{t.b}/theirs", "get"),
    ]:
        r = alice.get(path)
        assert r.status_code == 403, path
        resource = "networkchaos" if "/chaos/" in path else "experiments"
        assert r.json()["detail"].startswith(may_not(t, verb, resource, t.b)), path
    r = alice.delete(f"/api/v1/archives/{b['run']}")
    assert r.status_code == 403
    assert r.json()["detail"].startswith(may_not(t, "delete", "experiments", t.b))
    assert (
        alice.get(f"/api/v1/runs/{ids[t.a]['run']}", params={"namespace": t.b}).status_code == 400
    )

    # Lists: alice has no cluster-wide `list`, yet every page works and shows A only.
    def mirrored() -> bool:
        with dashboard.app.state.sessions() as session:
            _, total = mirror.list_chaos_objects(session, namespace=t.b, namespaces=None)
        return total == 1

    Cluster.wait_for("B's chaos object in the mirror", mirrored)
    r = alice.post("/api/v1/chaos", json=loss_body(t.a, "mine"))
    assert r.status_code == 202, r.text

    def listed() -> bool:
        return alice.get("/api/v1/chaos").json()["total"] == 1

    Cluster.wait_for("A's chaos object in alice's list", listed)
    for path in ["/api/v1/experiments", "/api/v1/hypotheses", "/api/v1/archives",
                 "/api/v1/archives/objects", "/api/v1/events", "/api/v1/chaos"]:  # fmt: skip
        page = alice.get(path)
        assert page.status_code == 200, (path, page.text)
        assert {i["namespace"] for i in page.json()["items"]} == {t.a}, path
        assert page.json()["total"] == len(page.json()["items"]), path
        r = alice.get(path, params={"namespace": t.b})
        assert r.status_code == 403 and f"in namespace '{t.b}'" in r.json()["detail"], path
    assert alice.get("/api/v1/schedules").json() == {
        "items": [],
        "total": 0,
        "limit": 50,
        "offset": 0,
    }
    events = alice.get("/api/v1/events", params={"experiment_id": b["experiment"]}).json()
    assert events["total"] == 0


def test_the_same_user_does_everything_in_its_own_namespace(
    cluster: Cluster,
    dashboard: RunningServer,
    tenancy: Tenancy,
    alice: httpx.Client,
) -> None:
    t = tenancy
    r = alice.post("/api/v1/chaos", params={"namespace": t.a}, json=loss_body(t.a, "lossy"))
    assert r.status_code == 202, r.text
    obj = get_object(cluster, t.a, "NetworkChaos", "lossy")
    assert obj is not None and obj["metadata"]["uid"] == r.json()["uid"]
    creator = Creator.decode(obj["metadata"]["annotations"][CREATED_BY_ANNOTATION])
    assert creator is not None and creator.username == t.username and creator.uid
    assert alice.post(f"/api/v1/chaos/NetworkChaos/{t.a}/lossy/pause").status_code == 202
    paused = get_object(cluster, t.a, "NetworkChaos", "lossy")
    assert (
        paused is not None
        and paused["metadata"]["annotations"]["chaos.faultline.dev/pause"] == "true"
    )

    body = {"namespace": t.a, "title": "web keeps serving", "tolerances": TOLERANCES}
    hypothesis = alice.post("/api/v1/hypotheses", json=body)
    assert hypothesis.status_code == 201, hypothesis.text
    exp = alice.post("/api/v1/experiments", params={"namespace": t.a}, json={
        "namespace": t.a, "name": "run-me", "spec": EXPERIMENT_SPEC,
        "hypothesis_id": hypothesis.json()["id"],
    })  # fmt: skip
    assert exp.status_code == 201, exp.text
    assert alice.get("/api/v1/experiments").json()["total"] == 1
    r = alice.post(f"/api/v1/experiments/{exp.json()['id']}/start")
    assert r.status_code == 202, r.text
    made = get_object(cluster, t.a, "Experiment", "run-me")
    assert made is not None and made["metadata"]["uid"] == r.json()["uid"]
    record = Creator.decode(made["metadata"]["annotations"][CREATED_BY_ANNOTATION])
    assert record == creator  # the same user, exactly as TokenReview described it

    assert alice.delete(f"/api/v1/chaos/NetworkChaos/{t.a}/lossy").status_code == 202
