"""Request ids (bound into every log line of the request), Prometheus metrics and the request-body
limit (pure ASGI). The log format itself is set in `market.logs`."""

from __future__ import annotations

import logging
import time
import uuid
from urllib.parse import parse_qsl

import structlog
from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from market.common import clock
from market.errors import problem_response

REQUEST_ID = "request_id"


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "market_http_requests_total",
            "HTTP requests",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "market_http_request_seconds",
            "HTTP request latency",
            ["method", "route"],
            registry=self.registry,
        )


class RequestContextMiddleware:
    """Gives every request an id (echoed as X-Request-ID), logs it and counts it."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics
        self.log = logging.getLogger("market.http")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if 0 < len(incoming) <= 64 and incoming.isprintable() else uuid.uuid4().hex
        scope.setdefault("state", {})[REQUEST_ID] = request_id
        started = time.perf_counter()
        status_holder = {"status": 500}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        try:
            with (
                structlog.contextvars.bound_contextvars(**{REQUEST_ID: request_id}),
                clock.offset_per_request(),
            ):
                await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            route_path = getattr(route, "path", "unmatched")
            self.metrics.requests.labels(scope["method"], route_path, status_holder["status"]).inc()
            self.metrics.latency.labels(scope["method"], route_path).observe(elapsed)
            self.log.info(
                "request",
                extra={
                    REQUEST_ID: request_id,
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status_holder["status"],
                    "ms": round(elapsed * 1000, 2),
                },
            )


class BodyLimitMiddleware:
    """Refuses bodies over the limit with 413 before they reach a handler or the database.

    Upload routes (paths in `upload_paths`) get the larger upload limit and are streamed.
    """

    def __init__(
        self,
        app: ASGIApp,
        max_body: int,
        max_upload: int,
        upload_suffixes: tuple[str, ...] = ("/sample",),
    ) -> None:
        self.app = app
        self.max_body = max_body
        self.max_upload = max_upload
        self.upload_suffixes = upload_suffixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_upload if scope["path"].endswith(self.upload_suffixes) else self.max_body
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await self._refuse(scope, receive, send, limit)
            return
        if declared is None and limit == self.max_body:
            # A body of unknown length (chunked) is read here, up to the limit, so an oversize
            # one is refused with 413 before any handler sees it; uploads stream instead.
            buffered, size, more = [], 0, True
            while more:
                message = await receive()
                if message["type"] != "http.request":
                    break
                size += len(message.get("body", b""))
                if size > limit:
                    await self._refuse(scope, receive, send, limit)
                    return
                buffered.append(message.get("body", b""))
                more = message.get("more_body", False)
            replay = [{"type": "http.request", "body": b"".join(buffered), "more_body": False}]

            async def replay_receive() -> Message:
                return replay.pop() if replay else await receive()

            await self.app(scope, replay_receive, send)
            return
        received = 0
        too_large = False

        async def limited_receive() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    too_large = True
                    raise _BodyTooLarge
            return message

        try:
            await self.app(scope, limited_receive, send)
        except _BodyTooLarge:
            await self._refuse(scope, receive, send, limit)

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        response = problem_response(
            413,
            "payload-too-large",
            "Payload too large",
            f"The request body exceeds the limit of {limit} bytes; nothing was stored.",
            fields=[("body", f"larger than {limit} bytes")],
        )
        await response(scope, receive, send)


class _BodyTooLarge(Exception):
    pass


class NulRefusalMiddleware:
    """Refuses a NUL character in the path or the query string with 422 naming where it was.

    No text column or JSON document in PostgreSQL can hold NUL, so such a value would reach the
    database only to fail there (a 500 on PostgreSQL, a silent mismatch on SQLite); no resource
    name, search text or parameter of this API can contain one. JSON bodies are checked by
    `market.common.schemas.StrictModel`.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            where = _nul_location(scope)
            if where is not None:
                response = problem_response(
                    422,
                    "validation-error",
                    "Invalid input",
                    f"{where}: contains a NUL character",
                    fields=[(where, "contains a NUL character")],
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _nul_location(scope: Scope) -> str | None:
    path = scope.get("path", "")
    if "\x00" in path or "%00" in scope.get("raw_path", b"").decode("latin-1"):
        return "path"
    query = scope.get("query_string", b"").decode("latin-1")
    if "%00" in query or "\x00" in query:
        for name, value in parse_qsl(query, keep_blank_values=True):
            if "\x00" in name:
                return "query"
            if "\x00" in value:
                return f"query.{name}"
        return "query"
    return None


CONSOLE_CSP = (
    b"default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    b"frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)


class SecurityHeadersMiddleware:
    """Headers every answer carries (OWASP Secure Headers): no MIME sniffing, no framing, no
    referrer; HSTS when the service runs in production (behind TLS). An answer to a request
    that carried a credential, or from `/v1/auth/`, is `Cache-Control: no-store` unless its
    route chose otherwise: it may hold a token or another party's private data."""

    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_headers = dict(scope["headers"])
        private = (
            b"authorization" in request_headers
            or b"x-api-key" in request_headers
            or scope["path"].startswith("/v1/auth/")
        )
        docs = scope["path"] in ("/docs", "/redoc", "/docs/oauth2-redirect")
        console = scope["path"] == "/" or scope["path"].startswith("/console")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.setdefault("headers", [])
                present = {name.lower() for name, _ in headers}
                extra = [
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"no-referrer"),
                ]
                if console:  # the console's pages load the scripts and styles vendored with it, no more
                    extra.append((b"content-security-policy", CONSOLE_CSP))
                elif not docs:  # the docs pages set their own; the API itself loads nothing
                    extra.append((b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"))
                if self.hsts:
                    extra.append((b"strict-transport-security", b"max-age=63072000; includeSubDomains"))
                if private:
                    extra.append((b"cache-control", b"no-store"))
                headers.extend((name, value) for name, value in extra if name not in present)
            await send(message)

        await self.app(scope, receive, send_with_headers)
