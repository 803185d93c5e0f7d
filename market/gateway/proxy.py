"""The gateway's data plane: `/gateway/{product_id}/{path}` forwards a licensee's call to the
product's upstream, streamed both ways through one shared httpx client.

Per call, nothing is written to the database: the credential's licence and the product's
upstream are cached for `TARGET_TTL` (so a revocation takes effect at every gateway process
within that time), the rate limit is a moving window in memory, and the quota is spent from
the process's reservation (market.gateway.meter).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import math
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from urllib.parse import quote

import httpx
from fastapi import Request, Response
from fastapi.responses import StreamingResponse
from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter
from starlette.background import BackgroundTask

from market.common.clock import now
from market.delivery.service import DeliveryRevoked, QuotaExceeded
from market.errors import Forbidden, NotFound, Unauthenticated, problem_response
from market.gateway import service
from market.gateway.meter import Meter
from market.gateway.schemas import HOP_BY_HOP
from market.runtime import Port, Runtime

TARGET_TTL = timedelta(seconds=1)
FLUSH_SECONDS = 1.0
_CACHE_MAX = 10_000
SMALL_BODY = 64 * 1024  # bytes: read whole, not streamed
# Never forwarded upstream: the buyer's credential, the exchange's cookies, and what the
# connection to the gateway (not the upstream) is about.
_NOT_FORWARDED = HOP_BY_HOP | {"host", "authorization", "x-delivery-credential", "cookie"}
# Set by the gateway's own server on the way back.
_NOT_RETURNED = HOP_BY_HOP | {"date", "server"}


def build_client() -> httpx.AsyncClient:
    """The one client every call goes through (its connection pool is the gateway's). Redirects
    are returned to the buyer, never followed: a redirect could point into the exchange's network."""
    return httpx.AsyncClient(
        follow_redirects=False,
        trust_env=False,
        timeout=httpx.Timeout(10.0),
        limits=httpx.Limits(max_connections=512, max_keepalive_connections=128),
    )


UPSTREAM_CLIENT: Port[httpx.AsyncClient] = Port("gateway upstream client")


def credential_of(request: Request) -> str | None:
    if found := request.headers.get("x-delivery-credential"):
        return found.strip()
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip().startswith("dk_"):
        return value.strip()
    return None


def _path_allowed(path: str, prefixes: tuple[str, ...]) -> bool:
    for prefix in prefixes:
        if (
            prefix == "/"
            or path == prefix.rstrip("/")
            or path.startswith(prefix if prefix.endswith("/") else prefix + "/")
        ):
            return True
    return False


def _forwarded_headers(request: Request, upstream: service.UpstreamTarget) -> list[tuple[str, str]]:
    named_by_connection = {
        token.strip().lower() for token in request.headers.get("connection", "").split(",") if token.strip()
    }
    own = (upstream.auth_header or "").lower()
    headers = [
        (name, value)
        for name, value in request.headers.items()
        if name not in _NOT_FORWARDED and name not in named_by_connection and name != own
    ]
    if upstream.auth_header and upstream.auth_secret is not None:
        headers.append((upstream.auth_header, upstream.auth_secret))
    return headers


def _returned_headers(response: httpx.Response) -> list[tuple[str, str]]:
    named_by_connection = {
        token.strip().lower() for token in response.headers.get("connection", "").split(",") if token.strip()
    }
    return [
        (name, value)
        for name, value in response.headers.multi_items()
        if name.lower() not in _NOT_RETURNED and name.lower() not in named_by_connection
    ]


class Gateway:
    """Per process: the cache of resolved credentials, the rate limiter and the meter."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.meter = Meter(runtime)
        self._targets: dict[str, tuple[service.Target, float]] = {}
        self._resolving: dict[str, asyncio.Future[service.Target | None]] = {}
        # Made in the event loop, on first use: the asyncio storage expires entries in a task
        # (the threaded one starts a timer thread per call when idle).
        self._limiter: MovingWindowRateLimiter | None = None
        self._rates: dict[str, RateLimitItem] = {}
        self._flusher: asyncio.Task[None] | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        """Flush the meter every second (the app's lifespan starts it)."""
        if self._flusher is None:
            self._flusher = asyncio.create_task(self._flush_forever())

    async def _flush_forever(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_SECONDS)
            await self.meter.flush()

    async def stop(self) -> None:
        """Write what was counted and give every unused reservation back."""
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
            self._flusher = None
        await self.meter.flush(release_all=True)

    # -- one call --------------------------------------------------------------------------
    async def _target(self, credential: str) -> service.Target | None:
        key = hashlib.sha256(credential.encode()).hexdigest()
        # Business time (market.common.clock), so tests see a revocation by moving it on.
        cached = self._targets.get(key)
        if cached is not None and cached[1] > now().timestamp():
            return cached[0]
        # One lookup per credential at a time: a burst of calls after the cache expired waits
        # for it instead of each taking a database connection.
        pending = self._resolving.get(key)
        if pending is None:
            pending = asyncio.ensure_future(self._resolve(credential, key))
            self._resolving[key] = pending
            pending.add_done_callback(lambda _: self._resolving.pop(key, None))
        return await asyncio.shield(pending)

    async def _resolve(self, credential: str, key: str) -> service.Target | None:
        async with self.runtime.sessionmaker() as session:
            target = await service.resolve(session, self.runtime.settings, credential)
        if target is not None:
            target = await service.vetted(self.runtime.settings, target)
            if len(self._targets) >= _CACHE_MAX:
                self._targets.clear()
            self._targets[key] = (target, now().timestamp() + TARGET_TTL.total_seconds())
        return target

    def _rate(self, spec: str) -> RateLimitItem:
        item = self._rates.get(spec)
        if item is None:
            item = self._rates[spec] = parse(spec)
        return item

    async def forward(
        self, request: Request, product_id: str, path: str, client: httpx.AsyncClient
    ) -> Response:
        credential = credential_of(request)
        if not credential:
            raise Unauthenticated(
                "send the licence's delivery credential in X-Delivery-Credential "
                "or as Authorization: Bearer dk_…"
            )
        target = await self._target(credential)
        if target is None:
            raise Unauthenticated("invalid delivery credential")
        access, upstream = target.access, target.upstream
        if str(access.licence.product_id) != product_id:
            raise NotFound("this credential holds no licence of this product")
        if not access.usable:
            raise DeliveryRevoked(f"this licence cannot be used: {access.why}", extra={"reason": access.why})
        if upstream is None:
            raise NotFound("the seller has not set this product's upstream yet")
        if target.refused:
            raise service.UpstreamFailed(f"the upstream is refused: {target.refused}")
        method = request.method.upper()
        if method not in upstream.allowed_methods:
            raise Forbidden(
                f"{method} is not allowed on this API "
                f"(allowed: {', '.join(sorted(upstream.allowed_methods))})"
            )
        segments = path.split("/")
        if any(s in (".", "..") for s in segments) or not _path_allowed(
            "/" + path, upstream.allowed_path_prefixes
        ):
            raise NotFound(f"/{path} is not part of this API")
        rate = self._rate(upstream.rate_limit)
        licence_key = str(access.licence.id)
        if self._limiter is None:
            self._limiter = MovingWindowRateLimiter(MemoryStorage())
        if not await self._limiter.hit(rate, licence_key):
            reset = (await self._limiter.get_window_stats(rate, licence_key)).reset_time
            wait = max(1, math.ceil(reset - time.time()))
            return problem_response(
                429,
                service.RateLimited.code,
                service.RateLimited.title,
                f"more than {upstream.rate_limit} calls of this licence; retry in {wait} s",
                request,
                extra={"retry_after": wait},
                headers={"Retry-After": str(wait)},
            )
        ticket = await self.meter.acquire(access, now())
        if ticket is None:
            raise QuotaExceeded(
                "this licence's call quota is used up"
                + (f" for this {access.quota_period}" if access.quota_period else ""),
                extra={"remaining": 0, "call_quota": access.call_quota},
            )
        day = now().date()
        counted_if_failed = upstream.count_failed_calls
        try:
            url = httpx.URL(
                upstream.base_url + "/" + quote(path, safe="/:@!$&'()*+,;=-._~"),
                query=request.url.query.encode(),
            )
            has_body = "content-length" in request.headers or "transfer-encoding" in request.headers
            outbound = client.build_request(
                method,
                url,
                headers=_forwarded_headers(request, upstream),
                content=_body(request) if has_body else None,
                timeout=upstream.timeout_seconds,
            )
            response = await client.send(outbound, stream=True)
        except httpx.TimeoutException as exc:
            ticket.finish(counted=counted_if_failed, day=day)
            raise service.UpstreamTimeout(
                f"the upstream did not answer within {upstream.timeout_seconds:g} s"
            ) from exc
        except httpx.HTTPError as exc:
            ticket.finish(counted=counted_if_failed, day=day)
            raise service.UpstreamFailed(f"the upstream could not be reached ({type(exc).__name__})") from exc
        except BaseException:
            ticket.finish(counted=False, day=day)
            raise
        if response.status_code >= 500:
            await response.aclose()
            ticket.finish(counted=counted_if_failed, day=day)
            raise service.UpstreamFailed(
                f"the upstream answered {response.status_code}",
                extra={"upstream_status": response.status_code},
            )
        try:
            answer = await _streamed(response)
        except httpx.TimeoutException as exc:
            ticket.finish(counted=counted_if_failed, day=day)
            raise service.UpstreamTimeout(
                f"the upstream did not answer within {upstream.timeout_seconds:g} s"
            ) from exc
        except httpx.HTTPError as exc:
            ticket.finish(counted=counted_if_failed, day=day)
            raise service.UpstreamFailed(f"the upstream's answer broke off ({type(exc).__name__})") from exc
        ticket.finish(counted=True, day=day)
        return answer


async def _body(request: Request) -> AsyncIterator[bytes]:
    async for chunk in request.stream():
        if chunk:
            yield chunk


async def _streamed(response: httpx.Response) -> Response:
    out: Response
    length = response.headers.get("content-length", "")
    if response.is_stream_consumed:  # a transport that answered with the whole body at once
        out = Response(response.content, status_code=response.status_code)
    elif length.isdigit() and int(length) <= SMALL_BODY:
        # A small body is read whole and sent as one: cheaper than a streamed response.
        try:
            body = b"".join([chunk async for chunk in response.aiter_raw()])
        finally:
            await response.aclose()
        out = Response(body, status_code=response.status_code)
    else:
        out = StreamingResponse(
            response.aiter_raw(), status_code=response.status_code, background=BackgroundTask(response.aclose)
        )
    # StreamingResponse's own headers would be replaced, not merged: set the upstream's raw list.
    out.raw_headers = [
        (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in _returned_headers(response)
    ]
    return out


GATEWAY: Port[Gateway] = Port("API gateway")
