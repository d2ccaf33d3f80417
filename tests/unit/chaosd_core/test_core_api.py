"""The HTTP API over a real engine and journal (recording families): auth, input errors that
name the field, and the request flow."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from core_fakes import RecordingFamily

from chaosd.auth import AuthConfig, AuthSetupError, generate_token, read_token, resolve
from chaosd.engine import Engine
from chaosd.server import create_app
from tests.support.net import serve_asgi

TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def client(engine: Engine) -> Iterator[httpx.Client]:
    """A real uvicorn on a loopback socket bound by the test (no port guessing)."""
    app = create_app(engine, AuthConfig(TOKEN, False, "the file /state/token"))
    with (
        serve_asgi(app, log_level="warning") as port,
        httpx.Client(base_url=f"http://127.0.0.1:{port}") as c,
    ):
        yield c


def _locs(response: Any) -> list[list[Any]]:
    return [d["loc"] for d in response.json()["detail"]]


def test_requests_without_or_with_wrong_token_are_told_how_to_authenticate(
    client: httpx.Client,
) -> None:
    r = client.get("/targets")
    assert r.status_code == 401
    assert "Authorization: Bearer <token>" in r.json()["detail"]
    assert "/state/token" in r.json()["detail"]
    r = client.get("/targets", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401 and "invalid bearer token" in r.json()["detail"]
    assert client.get("/targets", headers=AUTH).status_code == 200
    assert client.get("/healthz").status_code == 200  # probes need no token


@pytest.mark.parametrize(
    ("fault", "loc"),
    [
        ({"kind": "explode"}, ["body", "faults", 0]),
        ({"kind": "loss", "loss": 150}, ["body", "faults", 0, "loss", "loss"]),
        (
            {"kind": "loss", "loss": 5, "peers": [{"cidr": "10.0.0.300/8"}]},
            ["body", "faults", 0, "loss", "peers", 0, "cidr"],
        ),
        ({"kind": "delay", "latency": "-5ms"}, ["body", "faults", 0, "delay", "latency"]),
    ],
)
def test_bad_faults_name_the_field(
    client: httpx.Client,
    families: dict[str, RecordingFamily],
    proc: subprocess.Popen[bytes],
    fault: dict[str, Any],
    loc: list[Any],
) -> None:
    good = {"kind": "loss", "loss": 10}
    r = client.put("/targets/t1", json={"pid": proc.pid, "faults": [fault, good]}, headers=AUTH)
    assert r.status_code == 422
    assert loc in _locs(r)
    assert families["network"].calls == []  # nothing applied, not even the good fault


def test_missing_pid_negative_lease_and_bad_id(client: httpx.Client) -> None:
    r = client.put("/targets/t1", json={"pid": 4_000_000, "faults": []}, headers=AUTH)
    assert r.status_code == 422 and _locs(r) == [["body", "pid"]]
    assert "4000000" in r.json()["detail"][0]["msg"]
    r = client.put("/targets/t1", json={"pid": 1, "lease_seconds": -1}, headers=AUTH)
    assert r.status_code == 422 and ["body", "lease_seconds"] in _locs(r)
    r = client.put("/targets/Not_Valid", json={"pid": 1}, headers=AUTH)
    assert r.status_code == 422 and ["path", "target_id"] in _locs(r)


def test_unsupported_fault_is_422_naming_the_fault(
    client: httpx.Client, families: dict[str, RecordingFamily], proc: subprocess.Popen[bytes]
) -> None:
    families["network"].fail_plan = "unsupported on this node: kernel lacks sch_netem"
    body = {"pid": proc.pid, "faults": [{"kind": "duplicate", "duplicate": 5}]}
    r = client.put("/targets/t1", json=body, headers=AUTH)
    assert r.status_code == 422 and _locs(r) == [["body", "faults", 0]]
    assert "faults[0] (duplicate)" in r.json()["detail"][0]["msg"]
    assert "sch_netem" in r.json()["detail"][0]["msg"]


def test_put_get_renew_delete_flow(
    client: httpx.Client, families: dict[str, RecordingFamily], proc: subprocess.Popen[bytes]
) -> None:
    body = {"pid": proc.pid, "faults": [{"kind": "loss", "loss": 30}], "owner": "ns/exp"}
    r = client.put("/targets/t1", json=body, headers=AUTH)
    assert r.status_code == 200 and r.json()["status"] == "applied"
    r = client.get("/targets/t1", headers=AUTH)
    assert r.json()["families"]["network"]["mechanism"] == "network-mech"
    assert r.json()["owner"] == "ns/exp"
    assert [t["id"] for t in client.get("/targets", headers=AUTH).json()] == ["t1"]
    r = client.post("/targets/t1/renew", json={"lease_seconds": 500}, headers=AUTH)
    assert r.status_code == 200 and r.json()["lease_remaining"] > 400
    assert client.delete("/targets/t1", headers=AUTH).status_code == 204
    assert families["network"].calls[-1] == ("recover", "t1", None)
    assert client.get("/targets/t1", headers=AUTH).status_code == 404
    metrics = client.get("/metrics", headers=AUTH).text
    assert 'chaosd_operations_total{family="network",operation="apply",result="ok"} 1.0' in metrics


def test_signal_kills_target_and_refuses_init(
    client: httpx.Client, proc: subprocess.Popen[bytes]
) -> None:
    r = client.post("/signal", json={"pid": proc.pid, "signal": 9}, headers=AUTH)
    assert r.status_code == 200 and r.json()["signal"] == "SIGKILL"
    assert proc.wait() == -signal.SIGKILL
    r = client.post("/signal", json={"pid": 1}, headers=AUTH)
    assert r.status_code == 422 and _locs(r) == [["body", "pid"]]
    r = client.post("/signal", json={"pid": 4_000_000}, headers=AUTH)
    assert r.status_code == 422 and "4000000" in r.json()["detail"][0]["msg"]


def test_token_is_generated_once_and_private(tmp_path: Path) -> None:
    config, generated = resolve(state_dir=tmp_path, token_file=None, mtls=False)
    assert generated == tmp_path / "token" and (generated.stat().st_mode & 0o777) == 0o600
    assert config.token == read_token(generated) and len(config.token) >= 32
    assert generate_token(generated) == config.token  # a restart keeps the same token
    config, generated = resolve(
        state_dir=tmp_path / "x", token_file=None, mtls=True, client_identities=["op"]
    )
    assert config.token is None and generated is None and config.client_identities == ("op",)
    # mTLS without an identity would trust every certificate the CA ever signed: refused
    with pytest.raises(AuthSetupError, match="--client-identity: required with --client-ca"):
        resolve(state_dir=tmp_path / "y", token_file=None, mtls=True)
    assert not (tmp_path / "y").exists()
