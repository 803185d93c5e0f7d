"""The FastAPI application factory."""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from market import all_jobs, routes
from market.audit.macs import session_info as audit_session_info
from market.audit.metrics import AuditMetrics
from market.auth.principal import require_roles
from market.auth.tokens import STAFF_ROLES
from market.common import clock
from market.console.mount import install as install_console
from market.db.session import RetryDroppedConnection, make_engine, make_sessionmaker
from market.errors import install_error_handlers, problem_response
from market.gateway.proxy import GATEWAY, UPSTREAM_CLIENT, Gateway, build_client
from market.jobs.embedded import EmbeddedRunner
from market.logs import configure_logging
from market.notifications.sender import WEBHOOK_SENDER, HttpxWebhookSender
from market.observability import (
    BodyLimitMiddleware,
    Metrics,
    NulRefusalMiddleware,
    RequestContextMiddleware,
    SecurityHeadersMiddleware,
)
from market.payments import rights_changes  # noqa: F401  (registers what a revocation does to licences)
from market.payments.payout_provider import PAYOUT_PROVIDER, OfflinePayoutProvider
from market.payments.provider import PAYMENT_PROVIDER, OfflineProvider, PaymentProvider
from market.payments.stripe_provider import StripeProvider
from market.privacy.contacts import CONTACT_SENDER, build_contact_sender
from market.ratelimits import RATE_LIMITER, RateLimiter
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
    # Demo time moved by `market clock advance` (embedded mode) counts in this process too.
    clock.use_stored_offset(settings.demo_clock_file)
    runtime.provide(PAYMENT_PROVIDER, build_payment_provider(settings))
    runtime.provide(WEBHOOK_SENDER, HttpxWebhookSender(settings))
    # Sellers are paid by bank transfer, recorded by an operator (a Stripe Connect provider fits
    # the same port).
    runtime.provide(PAYOUT_PROVIDER, OfflinePayoutProvider())
    runtime.provide(CONTACT_SENDER, build_contact_sender(settings))
    # Where the audit publisher mirrors the log's tiles (and, later, where files are kept).
    runtime.provide(BLOB_STORE, open_store(settings))
    # The API gateway: one pooled client for every upstream, and this process's meter.
    runtime.provide(UPSTREAM_CLIENT, build_client())
    runtime.provide(GATEWAY, Gateway(runtime))
    # Rate-limit counters: in this process, or shared by the replicas (MARKET_RATE_LIMIT_STORAGE_URL).
    runtime.provide(RATE_LIMITER, RateLimiter.from_settings(settings))
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
        gateway = runtime.port(GATEWAY)
        gateway.start()
        try:
            yield
        finally:
            await gateway.stop()  # counted calls written, unused reservations given back
            await runtime.port(UPSTREAM_CLIENT).aclose()
            if runner is not None:
                await runner.stop()
            await engine.dispose()

    # Production does not show its API surface to anyone who asks (issue 18, finding 7).
    docs = settings.effective_api_docs()
    public_docs = docs == "public"
    app = FastAPI(
        title="Jilin Data Exchange API",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_url="/openapi.json" if public_docs else None,
        # The console serves /docs and /redoc from vendored assets (FastAPI's load from a CDN).
        docs_url=None,
        redoc_url=None,
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
    install_console(app, docs)

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

    if docs == "staff":
        _staff_docs(app)

    @app.get(
        "/metrics",
        tags=["ops"],
        summary="Prometheus metrics",
        response_class=Response,
        responses={200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}}},
    )
    async def prometheus_metrics(request: Request) -> Response:
        # Metrics tell login failures and order counts: behind a token, and not served at all
        # by production without one.
        token = runtime.settings.metrics_token
        if not token and runtime.settings.mode == "production":
            return problem_response(404, "not-found", "Not Found", "Not Found", request)
        sent = request.headers.get("authorization", "")
        if token and not hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
            return problem_response(
                401,
                "unauthenticated",
                "Authentication required",
                "send the metrics token as a bearer token",
                request,
                headers={"WWW-Authenticate": "Bearer"},
            )
        await audit_metrics.refresh(runtime.sessionmaker)
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    app.add_middleware(RetryDroppedConnection)  # innermost: replays only what the app received
    app.add_middleware(
        BodyLimitMiddleware,
        max_body=settings.max_body_bytes,
        max_upload=settings.max_upload_bytes,
        upload_suffixes=("/sample", "/files"),
    )
    app.add_middleware(NulRefusalMiddleware)
    app.add_middleware(SecurityHeadersMiddleware, hsts=settings.mode == "production")
    app.add_middleware(RequestContextMiddleware, metrics=metrics)
    return app


def _staff_docs(app: FastAPI) -> None:
    """The OpenAPI document for staff only: a staff bearer token or API key must be sent (the
    console serves the /docs and /redoc pages under the same rule)."""
    staff = Depends(require_roles(*sorted(STAFF_ROLES)))

    @app.get("/openapi.json", include_in_schema=False, dependencies=[staff])
    async def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())
