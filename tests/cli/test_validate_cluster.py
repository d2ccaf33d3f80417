"""`faultline validate` says what the API server says: every corpus manifest is rejected by
`kubectl apply --dry-run=server` with the same field paths and messages that the CLI printed
offline."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.cli.helpers import CORPUS, cli

pytestmark = pytest.mark.cluster

SERVER_CORPUS = sorted(CORPUS.glob("*.yaml"))  # offline-only/ is not compared


def _offline_messages(path: Path) -> list[str]:
    """The `path: message` part of each line `faultline validate` printed."""
    result = cli("validate", str(path))
    assert result.returncode == 4, result.stdout
    prefix_len = len(f"{path}: ")
    out = []
    for line in result.stderr.splitlines():
        assert line.startswith(f"{path}: "), line
        # drop "FILE: " and "Kind/name: " to keep what the API server would say
        out.append(line[prefix_len:].split(": ", 1)[1])
    return out


@pytest.mark.parametrize("path", SERVER_CORPUS, ids=lambda p: p.stem)
def test_offline_messages_match_the_api_server(cluster, namespace, crds, path: Path) -> None:  # type: ignore[no-untyped-def]
    offline = _offline_messages(path)
    assert offline
    server = subprocess.run(
        [
            str(cluster.kubectl_path),
            f"--kubeconfig={cluster.kubeconfig}",
            "apply",
            "--dry-run=server",
            "-n",
            namespace,
            "-f",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert server.returncode != 0, f"the API server accepted {path.name}"
    for message in offline:
        assert message in server.stderr, (message, server.stderr)
