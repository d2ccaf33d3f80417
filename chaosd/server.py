"""chaosd's HTTP API: the operator PUTs each target's complete desired fault set, renews its
lease while the experiment runs and DELETEs it at the end. All routes but /healthz need auth,
checked by chaosd/gate.py before a request's body is read; bodies are capped in size.

Domain errors map to HTTP in one place (`_install_error_handlers`), and input errors use the
same shape as FastAPI's own validation errors, so a client always finds the field path in
`detail[].loc`.
"""

from __future__ import annotations

import logging
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import uvicorn
from fastapi import APIRouter, FastAPI, Query, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel, ConfigDict, Field

from chaosd.auth import AuthConfig
from chaosd.cri import ContainerNotFound
from chaosd.cri_grpc import CRIError
from chaosd.engine import (
    ApplyFailed,
    Engine,
    InvalidRequest,
    RecoverFailed,
    TargetGuard,
    TargetNotFound,
    TargetStatus,
)
from chaosd.faults.base import FaultError, TargetGone
from chaosd.faults.process import ProcessFamily
from chaosd.gate import DEFAULT_MAX_BODY, Gate
from chaosd.leaks import Scanner
from chaosd.lookup import ContainerLookup, ProcLookup
from chaosd.model import TARGET_ID_PATTERN, DesiredState, SignalRequest
from chaosd.tlspeer import PeerIdentityProtocol

TargetId = Annotated[str, PathParam(pattern=TARGET_ID_PATTERN, description="Stable target id")]


class RenewRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    lease_seconds: Annotated[float, Field(gt=0, le=86400)] | None = None
    """New lease length; default: the lease_seconds of the desired state."""


class SignalResult(BaseModel):
    pid: int
    signal: str


class ResolvedContainer(BaseModel):
    containerID: str
    pid: int
    via: str
    """How the PID was found: `cri:<socket>` or `proc` (the /proc/*/cgroup fallback)."""


def _invalid(loc: tuple[str | int, ...], msg: str) -> JSONResponse:
    return JSONResponse(
        status_code=422, content={"detail": [{"loc": list(loc), "msg": msg, "type": "value_error"}]}
    )


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def malformed(request: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's own handler echoes each error's `input`, which may be NaN or Infinity (valid
        # in Python's JSON parser, not in a JSON answer): the answer itself would fail with 500.
        detail = [
            {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": e.get("type")}
            for e in exc.errors()
        ]
        return JSONResponse(status_code=422, content={"detail": detail})

    @app.exception_handler(InvalidRequest)
    async def invalid(request: Request, exc: InvalidRequest) -> JSONResponse:
        where = "path" if exc.loc == ("id",) else "body"
        return _invalid((where, *exc.loc), exc.msg)

    @app.exception_handler(TargetNotFound)
    async def not_found(request: Request, exc: TargetNotFound) -> JSONResponse:
        return JSONResponse(status_code=404, content={"detail": str(exc)})

    @app.exception_handler(CRIError)
    async def runtime_unavailable(request: Request, exc: CRIError) -> JSONResponse:
        # In Kubernetes mode the runtime says whether a PID is a pod's; without its answer the
        # request is refused (fail closed), as retryable: the runtime may be restarting.
        return JSONResponse(status_code=503, content={"detail": str(exc)})

    @app.exception_handler(ApplyFailed)
    @app.exception_handler(RecoverFailed)
    async def kernel_failed(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse(status_code=500, content={"detail": str(exc)})


def _routes(
    engine: Engine,
    process: ProcessFamily,
    containers: ContainerLookup,
    guard: TargetGuard,
    scanner: Scanner,
) -> APIRouter:
    router = APIRouter()

    @router.put("/targets/{target_id}", response_model=TargetStatus)
    def put_target(target_id: TargetId, desired: DesiredState) -> TargetStatus:
        return engine.put(target_id, desired)

    @router.get("/targets", response_model=list[TargetStatus])
    def list_targets() -> list[TargetStatus]:
        return engine.targets()

    @router.get("/targets/{target_id}", response_model=TargetStatus)
    def get_target(target_id: TargetId) -> TargetStatus:
        return engine.get(target_id)

    @router.delete("/targets/{target_id}", status_code=204)
    def delete_target(target_id: TargetId) -> Response:
        engine.delete(target_id)
        return Response(status_code=204)

    @router.post("/targets/{target_id}/renew", response_model=TargetStatus)
    def renew_target(target_id: TargetId, body: RenewRequest | None = None) -> TargetStatus:
        return engine.renew(target_id, body.lease_seconds if body else None)

    @router.post("/signal", response_model=SignalResult)
    def send_signal(req: SignalRequest) -> SignalResult | JSONResponse:
        guard.check_process(req.pid)  # refusals are InvalidRequest: 422 naming body.pid
        try:
            name = process.signal(req.pid, req.signal)
        except TargetGone as e:
            return _invalid(("body", "pid"), str(e))
        except FaultError as e:
            return _invalid(("body", "pid"), str(e))
        engine.metrics.signals.labels(name).inc()
        return SignalResult(pid=req.pid, signal=name)

    @router.get("/containers/resolve", response_model=ResolvedContainer)
    def resolve_container(containerID: str) -> ResolvedContainer | JSONResponse:
        """The main PID of a container on this node, as its container runtime reports it."""
        try:
            found = containers.main_pid(containerID)
        except ValueError as e:
            return _invalid(("query", "containerID"), str(e))
        except ContainerNotFound as e:
            return JSONResponse(status_code=404, content={"detail": str(e)})
        except CRIError as e:  # the runtime is down or restarting: worth a retry
            return JSONResponse(status_code=503, content={"detail": str(e)})
        return ResolvedContainer(containerID=found.container_id, pid=found.pid, via=containers.via)

    @router.get("/doctor")
    def doctor_report() -> dict[str, object]:
        """A leak scan that only looks: every Faultline-owned object on the node, and which of
        them no journal entry desires."""
        return scanner.run(repair=False).as_dict()

    @router.post("/doctor")
    def doctor_repair() -> dict[str, object]:
        """A leak scan that removes every Faultline-owned object no journal entry desires."""
        return scanner.run(repair=True).as_dict()

    @router.get("/doctor/repairs")
    def doctor_repairs(
        after: Annotated[int, Query(ge=0, description="Last repair number already seen")] = 0,
    ) -> dict[str, object]:
        """Repairs since `after` (the last 500 are kept): the operator turns them into Events."""
        return scanner.repairs_after(after)

    @router.get("/metrics")
    def metrics() -> Response:
        return Response(engine.metrics.render(), media_type=CONTENT_TYPE_LATEST)

    return router


def create_app(
    engine: Engine,
    auth: AuthConfig,
    process: ProcessFamily | None = None,
    containers: ContainerLookup | None = None,
    *,
    max_body: int = DEFAULT_MAX_BODY,
    scanner: Scanner | None = None,
) -> FastAPI:
    app = FastAPI(title="chaosd", description="Faultline node daemon", version="0.1.0")
    _install_error_handlers(app)
    # Outermost but for Starlette's error handler: runs before routing and body parsing.
    app.add_middleware(Gate, auth=auth, max_body=max_body)

    # Async: answered on the event loop, so a probe never queues behind busy worker threads.
    @app.get("/healthz")
    async def healthz() -> dict[str, object]:
        return {"ok": True, "families": sorted(engine.registry.families)}

    guard = engine.guard or TargetGuard()  # /signal is guarded even when the engine is not
    routes = _routes(
        engine, process or ProcessFamily(), containers or ProcLookup(), guard,
        scanner or Scanner(engine, interval=0),
    )  # fmt: skip
    app.include_router(routes)
    return app


@dataclass(frozen=True)
class TLSFiles:
    cert: Path
    key: Path
    client_ca: Path | None
    """With a client CA, clients must present a certificate it signed (mTLS)."""


def serve(
    app: FastAPI, *, host: str, port: int, tls: TLSFiles | None, logger: logging.Logger
) -> None:
    """Run uvicorn in the foreground until SIGINT/SIGTERM."""
    extra: dict[str, object] = {}
    if tls:
        extra = {"ssl_certfile": str(tls.cert), "ssl_keyfile": str(tls.key)}
        if tls.client_ca:
            extra |= {"ssl_ca_certs": str(tls.client_ca), "ssl_cert_reqs": ssl.CERT_REQUIRED}
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        http=PeerIdentityProtocol,  # hands the client certificate's names to the Gate
        log_level="warning",
        access_log=False,
        **extra,  # type: ignore[arg-type]
    )
    logger.info("chaosd listening on %s://%s:%d", "https" if tls else "http", host, port)
    uvicorn.Server(config).run()
