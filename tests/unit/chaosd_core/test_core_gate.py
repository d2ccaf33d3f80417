"""chaosd's gate over a real uvicorn: a request is judged on its headers before its body is
read, bodies are capped (declared or streamed), and NaN / Infinity get a 422 naming the field.

Raw sockets where the point is *when* chaosd answers: a refusal arrives while the client has not
sent a byte of the body it announced, which is what "not buffered" means on the wire.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from core_fakes import RecordingFamily

from chaosd.auth import AuthConfig
from chaosd.engine import Engine
from chaosd.server import create_app
from tests.support.net import serve_asgi

TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
LIMIT = 4096


@contextlib.contextmanager
def _serve(engine: Engine, max_body: int = LIMIT) -> Iterator[int]:
    app = create_app(engine, AuthConfig(TOKEN, False, "the file /state/token"), max_body=max_body)
    with serve_asgi(app, log_level="warning") as port:
        yield port


@pytest.fixture
def port(engine: Engine) -> Iterator[int]:
    with _serve(engine) as p:
        yield p


def _head_only(port: int, headers: dict[str, str], path: str = "/targets/t1") -> tuple[int, str]:
    """Send a PUT's headers and no body; return chaosd's answer (status, body)."""
    lines = [f"PUT {path} HTTP/1.1", "Host: chaosd", *[f"{k}: {v}" for k, v in headers.items()]]
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        data = b""
        while chunk := s.recv(65536):  # chaosd closes after a refusal: read to the end
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body.decode()


def test_refusals_come_before_the_body_is_sent(
    port: int, engine: Engine, families: dict[str, RecordingFamily]
) -> None:
    big = {"Content-Type": "application/json", "Content-Length": str(10**9)}
    status, body = _head_only(port, big)
    assert status == 401 and "Authorization: Bearer <token>" in body
    status, body = _head_only(port, big | {"Authorization": "Bearer wrong"})
    assert status == 401 and "invalid bearer token" in body
    status, body = _head_only(port, big | AUTH)
    assert status == 413
    assert f"at most {LIMIT} bytes" in body and "--max-body-bytes" in body
    assert engine.targets() == [] and families["network"].calls == []


def test_a_streamed_body_is_counted_and_cut_off(
    port: int, engine: Engine, families: dict[str, RecordingFamily], proc: subprocess.Popen[bytes]
) -> None:
    def chunks() -> Iterator[bytes]:  # no Content-Length: chunked transfer encoding
        yield json.dumps({"pid": proc.pid, "faults": [], "owner": ""})[:-2].encode()
        for _ in range(64):
            yield b"x" * 1024

    r = httpx.put(f"http://127.0.0.1:{port}/targets/t1", content=chunks(), headers=AUTH)
    assert r.status_code == 413 and f"more than {LIMIT} bytes" in r.json()["detail"]
    assert engine.targets() == [] and families["network"].calls == []


def test_a_body_within_the_limit_is_served(
    port: int, families: dict[str, RecordingFamily], proc: subprocess.Popen[bytes]
) -> None:
    body = {"pid": proc.pid, "faults": [{"kind": "loss", "loss": 5}], "owner": ""}
    body["owner"] = "o" * (LIMIT - len(json.dumps(body)))
    assert len(json.dumps(body)) == LIMIT
    r = httpx.put(f"http://127.0.0.1:{port}/targets/t1", json=body, headers=AUTH)
    assert r.status_code == 200, r.text
    assert families["network"].ops("apply") == [("apply", "t1", ["loss"])]


LOSS_BAD = '{"pid": PID, "faults": [{"kind": "loss", "loss": BAD}]}'


@pytest.mark.parametrize("bad", ["NaN", "Infinity", "-Infinity"])
@pytest.mark.parametrize(
    ("template", "loc"),
    [
        (LOSS_BAD, ["body", "faults", 0, "loss", "loss"]),
        ('{"pid": PID, "lease_seconds": BAD}', ["body", "lease_seconds"]),
        ('{"pid": BAD}', ["body", "pid"]),
    ],
)
def test_nan_and_infinity_are_422_naming_the_field(
    port: int,
    families: dict[str, RecordingFamily],
    proc: subprocess.Popen[bytes],
    bad: str,
    template: str,
    loc: list[Any],
) -> None:
    text = template.replace("PID", str(proc.pid)).replace("BAD", bad)
    json_auth = AUTH | {"Content-Type": "application/json"}
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=json_auth) as c:
        r = c.put("/targets/t1", content=text)
        assert r.status_code == 422, r.text
        assert loc in [d["loc"] for d in r.json()["detail"]]
        r = c.post("/targets/t1/renew", content=f'{{"lease_seconds": {bad}}}')
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "lease_seconds"]
        r = c.post("/signal", content=f'{{"pid": {bad}}}')
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "pid"]
    assert families["network"].calls == []


def test_the_limit_is_configurable_and_healthz_stays_open(engine: Engine) -> None:
    with _serve(engine, max_body=16) as p:
        r = httpx.post(f"http://127.0.0.1:{p}/targets/t1/renew", json={"lease_seconds": 30},
                       headers=AUTH)  # fmt: skip
        assert r.status_code == 413 and "at most 16 bytes" in r.json()["detail"]
        assert httpx.get(f"http://127.0.0.1:{p}/healthz").status_code == 200
        # Open means no authentication, not no limit: a body sent there is refused unread.
        status, body = _head_only(p, {"Content-Length": str(10**9)}, path="/healthz")
        assert status == 413 and "at most 16 bytes" in body
    with pytest.raises(ValueError, match="max_body"):
        create_app(engine, AuthConfig(TOKEN, False, "x"), max_body=0).build_middleware_stack()
