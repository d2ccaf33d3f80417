"""Loopback plumbing for tests: a free port, a process's health endpoint coming up, a process
stopped for good, and an ASGI app served on a socket the test bound itself."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import uvicorn


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listened on a moment ago (closed again)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, proc: subprocess.Popen[bytes], what: str, timeout: float = 60) -> None:
    """Until `url` answers at all; fails at once should `proc` exit first."""
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise AssertionError(f"{what} exited with {proc.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise AssertionError(f"{what} did not come up at {url}") from None
            time.sleep(0.3)


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 20) -> None:
    """SIGTERM, and SIGKILL should it not have exited within `timeout` seconds."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextlib.contextmanager
def serve_asgi(app: Any, **config: Any) -> Iterator[int]:
    """Runs `app` on a real uvicorn in a thread; yields the loopback port.

    The socket is bound before the server starts, so there is no port to guess and no race with
    another process taking it. `config` goes to uvicorn.Config (log settings, lifespan)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, **config))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        # Poll, not a deadline: start-up (migrations) may be slow on a busy machine.
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the server exited during start-up")
            time.sleep(0.01)
        yield int(sock.getsockname()[1])
    finally:
        server.should_exit = True
        thread.join()
        sock.close()
