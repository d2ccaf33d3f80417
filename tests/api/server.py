"""Runs the real app under uvicorn on a loopback port in a background thread."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

from fastapi import FastAPI

from tests.support.net import serve_asgi


@dataclass
class RunningServer:
    app: FastAPI
    base_url: str


@contextlib.contextmanager
def serve(app: FastAPI) -> Iterator[RunningServer]:
    with serve_asgi(app, log_config=None, access_log=False, lifespan="on") as port:
        yield RunningServer(app=app, base_url=f"http://127.0.0.1:{port}")
