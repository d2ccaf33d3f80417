"""The dashboard API's app factory.

`create_app(settings)` builds everything from explicit settings (no globals), so the CLI, uvicorn
and tests each get an independent app. Start-up migrates the database to the newest schema,
creates the local admin token on first start and starts the housekeeping scheduler.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.routing import APIRoute
from prometheus_client import CollectorRegistry

from backend.api.auth import Authenticator, LocalAuthenticator
from backend.api.cluster import ClusterGateway, NoClusterGateway
from backend.api.errors import install_error_handler
from backend.api.jobs import make_scheduler
from backend.api.observability import MetricsMiddleware, RequestMetrics, configure_logging
from backend.api.routes import archives, chaos, experiments, hypotheses, meta, runs, schedules
from backend.db.engine import make_engine, make_sessionmaker
from backend.db.migrate import upgrade_to_head
from backend.db.repositories.tokens import ensure_admin_token
from backend.settings import Settings

log = logging.getLogger("faultline.api")


def _default_authenticator(app: FastAPI, settings: Settings) -> Authenticator:
    if settings.mode == "local":
        return LocalAuthenticator(app.state.sessions)
    from kubernetes import client, config

    from backend.api.kube_auth import KubernetesAuthenticator

    config.load_incluster_config()  # type: ignore[no-untyped-call]
    return KubernetesAuthenticator(client.ApiClient(), token_hint=settings.token_hint)


def operation_id(route: APIRoute) -> str:
    """Short, stable operation ids (e.g. experiments-list_experiments) for the generated client."""
    return f"{route.tags[0]}-{route.name}" if route.tags else route.name


def create_app(
    settings: Settings,
    *,
    gateway: ClusterGateway | None = None,
    authenticator: Authenticator | None = None,
    configure_logs: bool = True,
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
        if app.state.authenticator is None:
            app.state.authenticator = _default_authenticator(app, settings)
        scheduler = make_scheduler(app.state.sessions, settings)
        app.state.scheduler = scheduler
        if settings.housekeeping_enabled:
            scheduler.start()
        try:
            yield
        finally:
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
        else "no cluster gateway was given to create_app"
    )
    app.state.authenticator = authenticator
    app.state.initial_admin_token = None
    app.state.registry = CollectorRegistry()
    install_error_handler(app)
    app.add_middleware(MetricsMiddleware, metrics=RequestMetrics(app.state.registry))
    app.include_router(meta.router)
    for module in (experiments, hypotheses, runs, archives, chaos, schedules):
        app.include_router(module.router)
    return app
