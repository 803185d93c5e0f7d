"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from market import all_jobs, routes
from market.audit.macs import session_info as audit_session_info
from market.audit.metrics import AuditMetrics
from market.db.session import RetryDroppedConnection, make_engine, make_sessionmaker
from market.errors import install_error_handlers, problem_response
from market.jobs.embedded import EmbeddedRunner
from market.logs import configure_logging
from market.notifications.sender import WEBHOOK_SENDER, HttpxWebhookSender
from market.observability import BodyLimitMiddleware, Metrics, RequestContextMiddleware
from market.payments import rights_changes  # noqa: F401  (registers what a revocation does to licences)
from market.payments.payout_provider import PAYOUT_PROVIDER, OfflinePayoutProvider
from market.payments.provider import PAYMENT_PROVIDER, OfflineProvider, PaymentProvider
from market.payments.stripe_provider import StripeProvider
from market.privacy.contacts import CONTACT_SENDER, build_contact_sender
from market.runtime import Runtime
from market.settings import Settings, get_settings
from market.storage import BLOB_STORE, open_store

DESCRIPTION = """
Data trading exchange backend under the Jilin Province Big Data Regulation (2023):
data-element registration, three-rights separation, prohibited-trade checks,
government-guided pricing for paid public data, fair pricing and a tamper-evident audit log.

Errors are RFC 9457 `application/problem+json`. Lists use cursor pagination.
"""


def build_payment_provider(settings: Settings) -> PaymentProvider:
    if settings.payment_provider == "stripe":
        return StripeProvider(settings.stripe_api_key)
    return OfflineProvider(auto_confirm=settings.offline_auto_confirm)


def build_runtime(settings: Settings, engine: AsyncEngine) -> Runtime:
    """What the app and the worker share: settings, sessions and the ports."""
    # Every session MACs the audit entries it writes with the key derived from the root secret.
    runtime = Runtime(settings, make_sessionmaker(engine, audit_session_info(settings)))
    runtime.provide(PAYMENT_PROVIDER, build_payment_provider(settings))
    runtime.provide(WEBHOOK_SENDER, HttpxWebhookSender(settings))
    # Sellers are paid by bank transfer, recorded by an operator (a Stripe Connect provider fits
    # the same port).
    runtime.provide(PAYOUT_PROVIDER, OfflinePayoutProvider())
    runtime.provide(CONTACT_SENDER, build_contact_sender(settings))
    # Where the audit publisher mirrors the log's tiles (and, later, where files are kept).
    runtime.provide(BLOB_STORE, open_store(settings))
    return runtime


def jobs_in_process(settings: Settings) -> bool:
    if settings.mode == "test":
        return False  # tests run jobs themselves, when they choose
    if settings.jobs_in_process is not None:
        return settings.jobs_in_process
    return settings.effective_database_url.startswith("sqlite")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_json, production=settings.mode == "production")
    engine = make_engine(settings.effective_database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The embedded default runs its jobs here; with PostgreSQL, `market worker` does.
        runner = None
        if jobs_in_process(settings):
            runner = EmbeddedRunner(runtime, all_jobs.jobs())
            runner.start()
        try:
            yield
        finally:
            if runner is not None:
                await runner.stop()
            await engine.dispose()

    app = FastAPI(
        title="Jilin Data Exchange API",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    runtime = build_runtime(settings, engine)
    app.state.runtime = runtime
    # For tests and tools that drive the app from outside; features use `market.runtime`.
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = runtime.sessionmaker
    metrics = Metrics()
    app.state.metrics = metrics
    audit_metrics = AuditMetrics(metrics.registry)
    install_error_handlers(app)
    routes.include_all(app)

    @app.get("/healthz", tags=["ops"], summary="Liveness: the process answers")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["ops"], summary="Readiness: the database answers")
    async def readyz() -> Any:
        try:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception as exc:  # any failure means not ready; the reason is reported
            return problem_response(
                503, "not-ready", "Not ready", f"database unreachable: {type(exc).__name__}"
            )
        return JSONResponse({"status": "ready"})

    @app.get("/metrics", tags=["ops"], summary="Prometheus metrics", include_in_schema=True)
    async def prometheus_metrics() -> Response:
        await audit_metrics.refresh(runtime.sessionmaker)
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    app.add_middleware(RetryDroppedConnection)  # innermost: replays only what the app received
    app.add_middleware(
        BodyLimitMiddleware, max_body=settings.max_body_bytes, max_upload=settings.max_upload_bytes
    )
    app.add_middleware(RequestContextMiddleware, metrics=metrics)
    return app
