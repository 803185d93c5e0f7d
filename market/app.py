"""The FastAPI application factory."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from market import routes
from market.db.session import make_engine, make_sessionmaker
from market.errors import install_error_handlers, problem_response
from market.logs import configure_logging
from market.observability import BodyLimitMiddleware, Metrics, RequestContextMiddleware
from market.payments.provider import PAYMENT_PROVIDER, OfflineProvider, PaymentProvider
from market.payments.stripe_provider import StripeProvider
from market.privacy.contacts import CONTACT_SENDER, build_contact_sender
from market.runtime import Runtime
from market.settings import Settings, get_settings

DESCRIPTION = """
Data trading exchange backend under the Jilin Province Big Data Regulation (2023):
data-element registration, three-rights separation, prohibited-trade checks,
government-guided pricing for paid public data, fair pricing and a tamper-evident audit log.

Errors are RFC 9457 `application/problem+json`. Lists use cursor pagination.
"""


async def sign_heads_regularly(runtime: Runtime, interval: int) -> None:
    """Sequence new audit entries and sign a tree head every `interval` seconds."""
    from market.audit.service import current_head

    log = logging.getLogger("market.audit")
    while True:
        await asyncio.sleep(interval)
        try:
            async with runtime.sessionmaker() as session, session.begin():
                await current_head(session, runtime.settings)
        except Exception:  # a failed round is retried at the next tick; requests are unaffected
            log.exception("signing the audit tree head failed")


def build_payment_provider(settings: Settings) -> PaymentProvider:
    if settings.payment_provider == "stripe":
        return StripeProvider(settings.stripe_api_key)
    return OfflineProvider(auto_confirm=settings.offline_auto_confirm)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_json, production=settings.mode == "production")
    engine = make_engine(settings.effective_database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        heads = None
        if settings.audit_head_interval_seconds and settings.mode != "test":
            heads = asyncio.create_task(sign_heads_regularly(runtime, settings.audit_head_interval_seconds))
        yield
        if heads is not None:
            heads.cancel()
        await engine.dispose()

    app = FastAPI(
        title="Jilin Data Exchange API",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    runtime = Runtime(settings, make_sessionmaker(engine))
    runtime.provide(PAYMENT_PROVIDER, build_payment_provider(settings))
    runtime.provide(CONTACT_SENDER, build_contact_sender(settings))
    app.state.runtime = runtime
    # For tests and tools that drive the app from outside; features use `market.runtime`.
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = runtime.sessionmaker
    metrics = Metrics()
    app.state.metrics = metrics
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
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    app.add_middleware(
        BodyLimitMiddleware, max_body=settings.max_body_bytes, max_upload=settings.max_upload_bytes
    )
    app.add_middleware(RequestContextMiddleware, metrics=metrics)
    return app
