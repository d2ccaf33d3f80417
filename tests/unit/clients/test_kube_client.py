"""The Kubernetes client's one error tree: every failure the library reports (an API server's
Status answer, no answer at all, no credentials, an ERROR event in a watch) arrives as the error
that says what it means, with the server's own words and per-field causes kept."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from backend.clients import kube
from backend.clients.kube.client import Kube, connect
from backend.clients.kube.objects import Watch
from backend.spec.kinds import KINDS

CHAOS = KINDS["NetworkChaos"]
OP = kube.Op("create", CHAOS.crd_name, "NetworkChaos shop/lag")


def status(code: int, reason: str, message: str, **details: Any) -> str:
    doc = {"kind": "Status", "status": "Failure", "code": code, "reason": reason,
           "message": message, "details": details}  # fmt: skip
    return json.dumps(doc)


def refused(code: int, phrase: str, body: str, op: kube.Op = OP) -> kube.KubeError:
    """What Kube.call raises when the library reports this answer."""

    def call() -> None:
        raise ApiException(status=code, reason=phrase, body=body)

    with pytest.raises(kube.KubeError) as caught:
        Kube(client.ApiClient()).call(op, call)
    assert isinstance(caught.value.__cause__, ApiException)  # chained, not swallowed
    return caught.value


@pytest.mark.parametrize(
    ("code", "phrase", "expected"),
    [
        (400, "Bad Request", kube.BadRequest),
        (401, "Unauthorized", kube.Unauthorized),
        (403, "Forbidden", kube.Forbidden),
        (404, "Not Found", kube.NotFound),
        (410, "Gone", kube.Gone),
        (422, "Unprocessable Entity", kube.Invalid),
        (429, "Too Many Requests", kube.Unavailable),
        (500, "Internal Server Error", kube.Unavailable),
        (503, "Service Unavailable", kube.Unavailable),
        (418, "I'm a teapot", kube.KubeError),
    ],
)
def test_each_status_arrives_as_its_meaning(code: int, phrase: str, expected: type) -> None:
    e = refused(code, phrase, status(code, phrase.replace(" ", ""), "the server's words"))
    assert type(e) is expected
    assert (e.status, e.reason, e.message) == (code, phrase, "the server's words")


def test_an_invalid_object_keeps_the_servers_field_causes() -> None:
    body = status(
        422, "Invalid", 'NetworkChaos.chaos.faultline.dev "lag" is invalid: spec.gracePeriod',
        causes=[{"field": "spec.gracePeriod", "message": "Invalid value: -1: must be >= 0"},
                {"message": "one more thing"}],
    )  # fmt: skip
    e = refused(422, "Unprocessable Entity", body)
    assert isinstance(e, kube.Invalid)
    assert e.causes == ["spec.gracePeriod: Invalid value: -1: must be >= 0", "one more thing"]
    assert str(e).startswith("create NetworkChaos shop/lag: 422 Unprocessable Entity: ")


def test_a_name_taken_on_create_is_already_exists_and_a_stale_write_a_conflict() -> None:
    taken = refused(409, "Conflict", status(409, "AlreadyExists", '"lag" already exists'))
    assert isinstance(taken, kube.AlreadyExists) and isinstance(taken, kube.Conflict)
    patch = kube.Op("patch", CHAOS.crd_name, "NetworkChaos shop/lag")
    stale = refused(409, "Conflict", status(409, "Conflict", "the object has been modified"), patch)
    assert type(stale) is kube.Conflict


def test_rbac_refusals_are_told_apart_from_admission_refusals() -> None:
    rbac = 'networkchaos is forbidden: User "x" cannot create resource "networkchaos" in API group'
    quota = 'networkchaos "lag" is forbidden: exceeded quota: no-network-chaos'
    by_rbac = refused(403, "Forbidden", status(403, "Forbidden", rbac))
    by_quota = refused(403, "Forbidden", status(403, "Forbidden", quota))
    assert isinstance(by_rbac, kube.Forbidden) and by_rbac.by_rbac
    assert isinstance(by_quota, kube.Forbidden) and not by_quota.by_rbac


def test_an_answer_that_is_not_a_status_is_kept_as_text() -> None:
    e = refused(502, "Bad Gateway", "<html>upstream failed</html>")
    assert isinstance(e, kube.Unavailable) and e.message == "<html>upstream failed</html>"
    bare = refused(403, "Forbidden", "")
    assert bare.explanation == "HTTP 403 Forbidden"


def test_a_server_nobody_answers_for_is_unavailable_and_named() -> None:
    configuration = client.Configuration(host="https://127.0.0.1:1")  # nothing listens there
    configuration.retries = 0
    cluster = Kube(client.ApiClient(configuration))
    with pytest.raises(kube.Unavailable) as caught:
        cluster.objects.get(CHAOS, "shop", "lag")
    assert caught.value.status is None
    assert str(caught.value).startswith(
        "get NetworkChaos shop/lag: cannot reach the cluster at https://127.0.0.1:1: "
    )


def test_without_any_credentials_nothing_is_called(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)  # not in a pod
    with pytest.raises(kube.NoCredentials) as caught:
        connect(tmp_path / "absent.kubeconfig", prefer="kubeconfig")
    assert str(caught.value).startswith("no usable Kubernetes credentials: no usable kubeconfig")


class Stream:
    """An HTTP response as the library streams a watch: newline-separated JSON events."""

    def __init__(self, *events: dict[str, Any]) -> None:
        self.lines = [json.dumps(e).encode() + b"\n" for e in events]

    def stream(self, amt: Any = None, decode_content: bool = False) -> Iterator[bytes]:
        yield from self.lines


def test_a_watch_yields_events_until_an_expired_version_ends_it_as_gone() -> None:
    added = {"type": "ADDED", "object": {"metadata": {"name": "lag", "resourceVersion": "7"}}}
    gone = {"kind": "Status", "code": 410, "reason": "Expired", "message": "too old: 1 (7)"}
    expired = {"type": "ERROR", "object": gone}
    seen = []
    with pytest.raises(kube.Gone) as caught:
        for event in Watch(Stream(added, expired), kube.Op("watch", CHAOS.crd_name, "all")):
            seen.append(event)
    assert seen == [added]
    assert caught.value.message == "too old: 1 (7)"
