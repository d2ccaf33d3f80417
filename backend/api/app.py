"""The dashboard API's app factory.

`create_app(settings)` builds everything from explicit settings (no globals), so the CLI, uvicorn
and tests each get an independent app. Start-up migrates the database to the newest schema,
creates the local admin token on first start and starts the housekeeping scheduler; in cluster
mode it also connects to Kubernetes and starts the watcher that mirrors chaos objects.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse
from fastapi.routing import APIRoute
from prometheus_client import CollectorRegistry

from backend.api.auth import Authenticator, LocalAuthenticator
from backend.api.cluster import ClusterGateway, NoClusterGateway, install_manifest_error_handler
from backend.api.errors import install_error_handler
from backend.api.jobs import make_scheduler
from backend.api.observability import MetricsMiddleware, RequestMetrics, configure_logging
from backend.api.routes import (
    archives,
    chaos,
    emergency,
    events,
    experiments,
    hypotheses,
    meta,
    runs,
    schedules,
)
from backend.db.engine import make_engine, make_sessionmaker
from backend.db.migrate import upgrade_to_head
from backend.db.repositories.tokens import ensure_admin_token
from backend.settings import Settings

if TYPE_CHECKING:
    from backend.api.watcher import Watcher

log = logging.getLogger("faultline.api")


def _connect_cluster(app: FastAPI, settings: Settings, gateway_given: bool) -> Watcher | None:
    """Cluster mode: TokenReview/RBAC auth, writes as custom resources, and the mirror watcher,
    all on one client (in-cluster credentials, else the kubeconfig). The Kubernetes library is
    imported only here: local mode never pays for it."""
    from backend.api.cluster import KubernetesGateway
    from backend.api.kube_auth import KubernetesAuthenticator
    from backend.api.watcher import Watcher
    from backend.clients.kube.client import connect

    cluster = connect(settings.kubeconfig)
    app.state.kube = cluster
    if app.state.authenticator is None:
        app.state.authenticator = KubernetesAuthenticator(cluster, token_hint=settings.token_hint)
    if not gateway_given:
        app.state.gateway = KubernetesGateway(cluster)
    if not settings.watch_cluster:
        return None
    watcher = Watcher(cluster, app.state.sessions)
    watcher.start()
    return watcher


def operation_id(route: APIRoute) -> str:
    """Short, stable operation ids (e.g. experiments-list_experiments) for the generated client."""
    return f"{route.tags[0]}-{route.name}" if route.tags else route.name


WEB_DIST = Path(__file__).resolve().parents[2] / "web" / "dist"
"""The dashboard's built assets (`npm run build` in web/)."""
_NOT_SPA = ("api/", "healthz", "metrics", "docs", "redoc", "openapi.json")


def serve_dashboard(app: FastAPI, dist: Path) -> None:
    """Serves the built dashboard at `/`; unknown non-API paths get index.html, so a reload on a
    client-side route (e.g. /experiments/3) still opens the app."""
    root = dist.resolve()

    @app.get("/{path:path}", include_in_schema=False)
    def dashboard(path: str) -> FileResponse:
        if path.startswith(_NOT_SPA):
            raise HTTPException(status_code=404, detail=f"no such endpoint: /{path}")
        file = (root / path).resolve()
        if path and file.is_file() and file.is_relative_to(root):
            # Hashed asset names change with their content, so they may be cached for good.
            cache = "public, max-age=31536000, immutable" if path.startswith("assets/") else None
            return FileResponse(file, headers={"Cache-Control": cache} if cache else None)
        return FileResponse(root / "index.html", headers={"Cache-Control": "no-cache"})


def create_app(
    settings: Settings,
    *,
    gateway: ClusterGateway | None = None,
    authenticator: Authenticator | None = None,
    configure_logs: bool = True,
    web_dist: Path | None = WEB_DIST,
) -> FastAPI:
    """Builds the app. The gateway and authenticator are injectable for cluster mode and tests."""
    if configure_logs:
        configure_logging(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        upgrade_to_head(app.state.engine)
        if settings.mode == "local":
            with app.state.sessions() as session:
                token = ensure_admin_token(session)
            app.state.initial_admin_token = token
            if token is not None:
                # Printed exactly once: only its hash is stored.
                log.warning(
                    "created the local admin token (shown only now; reset it with "
                    "`faultline dashboard reset-token`): %s",
                    token,
                )
        watcher = None
        if settings.mode == "cluster":
            watcher = _connect_cluster(app, settings, gateway_given=gateway is not None)
        elif app.state.authenticator is None:
            app.state.authenticator = LocalAuthenticator(app.state.sessions)
        app.state.watcher = watcher
        scheduler = make_scheduler(app.state.sessions, settings)
        app.state.scheduler = scheduler
        if settings.housekeeping_enabled:
            scheduler.start()
        try:
            yield
        finally:
            if watcher is not None:
                watcher.stop()
            if scheduler.running:
                scheduler.shutdown(wait=True)
            app.state.engine.dispose()

    app = FastAPI(
        title="Faultline dashboard API",
        version="1",
        summary="Experiments, hypotheses, runs, observations and chaos objects of Faultline.",
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
    )
    engine = make_engine(settings)
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = make_sessionmaker(engine)
    app.state.gateway = gateway or NoClusterGateway(
        "the dashboard runs in local mode (FAULTLINE_MODE=local)"
        if settings.mode == "local"
        else "the cluster connection is made at start-up"
    )
    app.state.authenticator = authenticator
    app.state.kube = None
    app.state.initial_admin_token = None
    app.state.watcher = None
    app.state.registry = CollectorRegistry()
    install_error_handler(app)
    install_manifest_error_handler(app)
    app.add_middleware(MetricsMiddleware, metrics=RequestMetrics(app.state.registry))
    app.include_router(meta.router)
    for module in (experiments, hypotheses, runs, events, archives, chaos, schedules, emergency):
        app.include_router(module.router)
    if web_dist is not None and (web_dist / "index.html").is_file():
        serve_dashboard(app, web_dist)
    return app
