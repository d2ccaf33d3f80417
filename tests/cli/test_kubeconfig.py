"""The CLI reads KUBECONFIG when it connects, not when the kubernetes package was imported: an
environment that changed since (CliRunner, a CI step that exports it late) is honoured."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from backend.cli.common import connect


def _kubeconfig(path: Path, namespace: str) -> Path:
    path.write_text(
        json.dumps({
            "apiVersion": "v1", "kind": "Config", "current-context": "x",
            "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:1"}}],
            "users": [{"name": "u", "user": {"token": "t"}}],
            "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u",
                                                   "namespace": namespace}}],
        })
    )  # fmt: skip
    return path


def test_kubeconfig_set_after_import_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("KUBECONFIG", str(_kubeconfig(tmp_path / "a.kubeconfig", "team-a")))
    kube = connect()
    assert kube.default_namespace == "team-a"
    assert kube.api.configuration.host == "https://127.0.0.1:1"


def test_a_later_change_of_kubeconfig_is_used_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("KUBECONFIG", str(_kubeconfig(tmp_path / "a.kubeconfig", "team-a")))
    connect()
    monkeypatch.setenv("KUBECONFIG", str(_kubeconfig(tmp_path / "b.kubeconfig", "team-b")))
    assert connect().default_namespace == "team-b"
