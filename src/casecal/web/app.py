"""The composition root: ``create_app(settings)`` builds the FastAPI app and its resources."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp

from casecal import __version__
from casecal.auth.encryption import secret_material
from casecal.config import Settings
from casecal.services.notify import connection_status_changed
from casecal.services.operations import ping
from casecal.store.db import make_engine, make_sessionmaker
from casecal.store.private_files import secure_data_dir
from casecal.store.tables import ConnectionStatus
from casecal.sync.channels import ChannelManager
from casecal.sync.connector import ConnectionProviders
from casecal.sync.engine import SyncEngine
from casecal.sync.entitlement_effects import EntitlementEffects
from casecal.sync.kicks import OutboxTrigger, kicker_for, session_class
from casecal.sync.scheduler import Scheduler
from casecal.web import api_docs
from casecal.web import metrics as metrics_routes
from casecal.web.hooks import include_ui
from casecal.web.metrics import Metrics, provider_hosts
from casecal.web.middleware import RequestIdMiddleware, SecurityHeadersMiddleware
from casecal.web.problems import install_problem_handlers, problem
from casecal.web.routes import webhooks


class CaseCalApp(FastAPI):
    """FastAPI with the security headers outermost, around Starlette's own error middleware:
    even the plain 500 of an unhandled error carries them."""

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeadersMiddleware(super().build_middleware_stack())


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        secure_data_dir(settings)
        engine = make_engine(settings.database_url)
        app.state.engine = engine
        app.state.sessionmaker = sessionmaker = make_sessionmaker(
            engine, sync_session_class=session_class()
        )
        metrics = Metrics(
            provider_hosts(settings.google_api_base_url, settings.microsoft_graph_base_url)
        )
        app.state.metrics = metrics
        hooks = {"response": [metrics.response_hook()]}
        async with httpx.AsyncClient(timeout=30, event_hooks=hooks) as http:
            app.state.http = http
            providers = ConnectionProviders(settings, sessionmaker, http)

            async def on_status(
                connection_id: uuid.UUID, status: ConnectionStatus, reason: str
            ) -> None:
                await connection_status_changed(
                    sessionmaker, settings, connection_id, status, reason
                )

            app.state.sync_engine = SyncEngine(
                sessionmaker, providers, base_url=settings.base_url, on_status=on_status
            )
            scheduler = Scheduler(
                sessionmaker,
                app.state.sync_engine,
                poll_minutes=settings.poll_minutes,
                retry_after=metrics.retry_after.take,
                observer=metrics,
            )
            async with kicker_for(settings, scheduler) as kicker:
                channels = ChannelManager(
                    sessionmaker,
                    providers,
                    webhook_base_url=settings.webhook_base_url or settings.base_url,
                    secret_keys=secret_material(settings),
                    kick=kicker.kick,
                )
                scheduler.on_sweep.append(channels.renew_due)
                app.state.scheduler, app.state.channels = scheduler, channels
                app.state.kicker = kicker
                app.state.outbox_trigger = OutboxTrigger(sessionmaker, kicker)
                app.state.entitlement_effects = EntitlementEffects(sessionmaker, channels, kicker)
                if settings.embedded_scheduler:
                    await scheduler.start()
                try:
                    yield
                finally:
                    await scheduler.stop()
                    await app.state.outbox_trigger.settle()
                    await app.state.entitlement_effects.settle()
                    await engine.dispose()

    app = CaseCalApp(
        title="CaseCal",
        version=__version__,
        summary="Two-way calendar sync for case-management practices.",
        docs_url=None,  # casecal.web.api_docs serves it, from installed files
        openapi_url="/api/openapi.json",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.add_middleware(RequestIdMiddleware)
    install_problem_handlers(app)

    @app.get("/healthz", tags=["operations"], summary="The process is up")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"], summary="The database answers")
    async def readyz() -> JSONResponse:
        try:
            await ping(app.state.engine)
        except Exception as exc:  # any failure to reach the database means not ready
            return problem(503, "Not ready", f"database unreachable: {type(exc).__name__}")
        return JSONResponse({"status": "ready"})

    from casecal.web.routes import api_router

    app.include_router(api_router)
    app.include_router(webhooks.router)
    app.include_router(metrics_routes.router)
    app.include_router(api_docs.router)
    include_ui(app)
    return app
