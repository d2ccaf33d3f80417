"""Pure checks of what cluster-mode answers say (no cluster needed)."""

from __future__ import annotations

import asyncio
import json

import pytest

from backend.api.auth import Access
from backend.api.cluster import ManifestInvalid, handle_manifest_invalid
from backend.api.kube_auth import grant_command
from backend.spec import API_VERSION, validate_manifest


def test_grant_command_for_a_service_account_in_a_namespace() -> None:
    command = grant_command("system:serviceaccount:shop:ci", Access("delete", "podchaos", "shop"))
    assert command == (
        "`kubectl -n shop create role faultline-podchaos-delete --verb=delete "
        "--resource=podchaos.chaos.faultline.dev` and `kubectl -n shop create rolebinding "
        "faultline-podchaos-delete-ci --role=faultline-podchaos-delete --serviceaccount=shop:ci`"
    )


def test_grant_command_for_a_user_across_namespaces() -> None:
    command = grant_command("Alice@Example.com", Access("list", "schedules"))
    assert command == (
        "`kubectl create clusterrole faultline-schedules-list --verb=list "
        "--resource=schedules.chaos.faultline.dev` and `kubectl create clusterrolebinding "
        "faultline-schedules-list-alice-example.com --clusterrole=faultline-schedules-list "
        "--user=Alice@Example.com`"
    )


@pytest.mark.parametrize(
    ("kind", "spec", "locs"),
    [
        ("NetworkChaos", {"action": "loss", "mode": "all", "selector": {}, "loss": {"loss": "x"}},
         [["body", "spec", "loss", "loss"]]),
        ("Schedule", {"schedule": "soon", "type": "PodChaos",
                      "podChaos": {"action": "pod-kill", "mode": "one", "selector": {}}},
         [["body", "schedule"]]),
        ("Schedule", {"schedule": "@hourly", "type": "PodChaos",
                      "podChaos": {"action": "pod-kill", "mode": "sometimes", "selector": {}}},
         [["body", "spec", "podChaos", "mode"]]),
    ],
)  # fmt: skip
def test_manifest_errors_point_at_request_fields(
    kind: str,
    spec: dict,
    locs: list[list[str]],  # type: ignore[type-arg]
) -> None:
    doc = {"apiVersion": API_VERSION, "kind": kind, "metadata": {"name": "x"}, "spec": spec}
    errors = validate_manifest(doc)
    invalid = ManifestInvalid(kind, errors)
    response = asyncio.run(handle_manifest_invalid(None, invalid))  # type: ignore[arg-type]
    assert response.status_code == 422
    detail = json.loads(bytes(response.body))["detail"]
    assert [d["loc"] for d in detail] == locs
    assert all(d["msg"].startswith("spec.") for d in detail)
