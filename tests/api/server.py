"""Runs the real app under uvicorn on a loopback port in a background thread."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import uvicorn
from fastapi import FastAPI


@dataclass
class RunningServer:
    app: FastAPI
    base_url: str


@contextlib.contextmanager
def serve(app: FastAPI) -> Iterator[RunningServer]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        # Poll, not a deadline: start-up (migrations) may be slow on a busy machine.
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the dashboard server exited during start-up")
            time.sleep(0.01)
        yield RunningServer(app=app, base_url=f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        thread.join()
        sock.close()
