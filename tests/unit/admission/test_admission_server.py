"""The webhook's HTTP side, served by uvicorn on a loopback port: AdmissionReview round trips,
and bodies that are refused without reaching the review logic (the e2e module drives it from the
real API server, over TLS)."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from backend.admission.server import MAX_BODY, Webhook, create_app
from backend.domain.limits import TargetLimits
from backend.spec.creator import CREATED_BY_ANNOTATION, Creator
from tests.api.server import serve

USER = {"username": "alice", "groups": ["devs"]}


def _may_in_a(user: Creator, plural: str, namespace: str) -> bool:
    return namespace == "a"


@pytest.fixture(name="http", scope="module")
def http_fixture() -> Iterator[httpx.Client]:
    app = create_app(Webhook(frozenset(), _may_in_a, lambda: None, TargetLimits()))
    with serve(app) as server, httpx.Client(base_url=server.base_url) as http:
        yield http


def _review(namespaces: list[str], annotate: bool = True) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": "kill", "namespace": "a"}
    if annotate:
        meta["annotations"] = {CREATED_BY_ANNOTATION: Creator.from_user_info(USER).encode()}
    obj = {
        "apiVersion": "chaos.faultline.dev/v1alpha1", "kind": "PodChaos", "metadata": meta,
        "spec": {"action": "pod-kill", "mode": "one", "selector": {"namespaces": namespaces}},
    }  # fmt: skip
    return {
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": "7f0b", "operation": "CREATE", "namespace": "a", "kind": {"kind": "PodChaos"},
            "userInfo": USER, "object": obj,
        },
    }  # fmt: skip


def test_validate_answers_with_the_request_uid_and_a_403_naming_the_field(
    http: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="faultline.admission"):
        ok = http.post("/validate", json=_review(["a"])).json()
        denied = http.post("/validate", json=_review(["a", "b"])).json()
    assert ok["kind"] == "AdmissionReview" and ok["response"] == {"uid": "7f0b", "allowed": True}
    assert denied["response"]["allowed"] is False
    assert denied["response"]["status"]["code"] == 403
    assert denied["response"]["status"]["message"] == (
        'spec.selector.namespaces[1]: user "alice" may not create podchaos in namespace "b"'
    )
    assert any("a/kill by alice: denied" in r.getMessage() for r in caplog.records)


def test_mutate_returns_a_json_patch(http: httpx.Client) -> None:
    out = http.post("/mutate", json=_review(["a"], annotate=False)).json()["response"]
    assert out["allowed"] and out["patchType"] == "JSONPatch"
    (op,) = json.loads(base64.b64decode(out["patch"]))
    assert Creator.decode(op["value"][CREATED_BY_ANNOTATION]) == Creator.from_user_info(USER)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"{not json", 400),
        (b"[]", 400),
        (json.dumps({"kind": "AdmissionReview", "request": {"uid": 1}}).encode(), 400),
        (json.dumps({"kind": "Pod"}).encode(), 400),
        (b"x" * (MAX_BODY + 1), 413),
    ],
)
def test_malformed_or_oversized_bodies_are_refused_and_the_server_keeps_serving(
    http: httpx.Client, body: bytes, status: int
) -> None:
    assert http.post("/validate", content=body).status_code == status
    assert http.post("/validate", json=_review(["a"])).json()["response"]["allowed"] is True


def test_an_authorizer_failure_fails_closed_with_a_reason() -> None:
    def broken(user: Creator, plural: str, namespace: str) -> bool:
        raise RuntimeError("SubjectAccessReview: 503 Service Unavailable")

    with serve(create_app(Webhook(frozenset(), broken, lambda: None, TargetLimits()))) as server:
        out = httpx.post(f"{server.base_url}/validate", json=_review(["a"])).json()["response"]
    assert out["allowed"] is False and "503" in out["status"]["message"]
