"""Rate limits (issue 18, finding 1): moving windows from the `limits` library.

Each limit is a setting in the `limits` notation ("20/minute", "5 per 10 seconds"), read when
it is applied, so an operator (or a test) changes it without a restart. The counters live in
the process (`memory://`, the embedded default) or, with several replicas, in the storage named
by `MARKET_RATE_LIMIT_STORAGE_URL` (`redis://host:6379`), so every replica counts the same hits.

A request over a limit is answered 429 problem+json with `Retry-After` (RFC 9110 §10.2.3) in
whole seconds until the window admits the next one.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections.abc import Sequence
from typing import Annotated, Any, ClassVar

from fastapi import Depends, Request
from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from market.errors import MarketError
from market.runtime import Port, get_runtime
from market.settings import Settings


class TooManyRequests(MarketError):
    code, title, status = "rate-limited", "Too many requests", 429

    def __init__(self, message: str, retry_after: int, *, code: str | None = None) -> None:
        super().__init__(message, code=code, extra={"retry_after": retry_after})
        self.retry_after = retry_after

    def response_headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class AccountLocked(TooManyRequests):
    """Too many wrong passwords for one account: refused, even with the right one, for a while.
    The record of the lock (an alert, for staff accounts) is kept."""

    keeps_changes: ClassVar[bool] = True

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            "Too many failed sign-ins for this account; it is locked for a while. Try again after "
            "Retry-After seconds, or ask an operator.",
            retry_after,
            code="account-locked",
        )


def open_storage(url: str) -> Storage:
    """The counters' store: `memory://` (one process) or a shared one (`redis://...`)."""
    if not url or url.startswith("memory"):
        return MemoryStorage()
    if url.startswith(("redis://", "rediss://")):
        # redis-py's asyncio client (one dependency fewer than limits' default, coredis).
        return RedisStorage(f"async+{url}", implementation="redispy", key_prefix="market")
    storage = storage_from_string(url if url.startswith("async+") else f"async+{url}")
    if not isinstance(storage, Storage):
        raise ValueError(f"{url!r} is not an asynchronous rate-limit store")
    return storage


class RateLimiter:
    """Moving-window counters; `check` counts a hit and refuses it over the limit, `peek` only
    looks, `count` counts without refusing (failures that trip a later refusal)."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.strategy = MovingWindowRateLimiter(storage)

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimiter:
        return cls(open_storage(settings.rate_limit_storage_url))

    async def _retry_after(self, item: RateLimitItem, keys: Sequence[str]) -> int:
        stats = await self.strategy.get_window_stats(item, *keys)
        return max(1, math.ceil(stats.reset_time - time.time()))

    async def check(self, rule: str, *keys: str, message: str | None = None) -> None:
        item = parse(rule)
        if not await self.strategy.hit(item, *keys):
            wait = await self._retry_after(item, keys)
            raise TooManyRequests(message or f"Rate limit of {rule} reached; retry later.", wait)

    async def exhausted(self, rule: str, *keys: str) -> int | None:
        """Seconds until `rule` admits another hit for `keys`, or None if it does now."""
        item = parse(rule)
        if await self.strategy.test(item, *keys):
            return None
        return await self._retry_after(item, keys)

    async def count(self, rule: str, *keys: str) -> bool:
        """Count a hit; whether it was still within the limit."""
        return await self.strategy.hit(parse(rule), *keys)

    async def reset(self) -> None:
        await self.storage.reset()


RATE_LIMITER: Port[RateLimiter] = Port("rate limiter")


def client_address(request: Request) -> str:
    """The caller's IP: the peer's, or, when the peer is a trusted proxy, the address that proxy
    says it saw (the last `X-Forwarded-For` hop not itself a trusted proxy)."""
    peer = request.client.host if request.client else "unknown"
    networks = get_runtime(request).settings.trusted_proxy_networks
    if not networks or not _in(peer, networks):
        return peer
    hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if not _in(hop, networks):
            return hop
    return peer


def _in(host: str, networks: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(address in network for network in networks)


class Limits:
    """What an endpoint needs to apply limits: the limiter, the settings and the caller's IP."""

    def __init__(self, limiter: RateLimiter, settings: Settings, ip: str) -> None:
        self.limiter, self.settings, self.ip = limiter, settings, ip

    @property
    def enabled(self) -> bool:
        return self.settings.rate_limits_enabled

    async def per_ip(self, name: str, rule: str) -> None:
        if self.enabled:
            await self.limiter.check(rule, name, "ip", self.ip)

    async def per_key(self, name: str, rule: str, *keys: str, message: str | None = None) -> None:
        if self.enabled:
            await self.limiter.check(rule, name, *keys, message=message)


async def _limits(request: Request) -> Limits:  # async: no worker-thread hand-off
    runtime = get_runtime(request)
    return Limits(runtime.port(RATE_LIMITER), runtime.settings, client_address(request))


RateLimits = Annotated[Limits, Depends(_limits)]


def limit_per_ip(name: str, setting: str) -> Any:
    """A route dependency: at most the rule in `settings.<setting>` per caller IP."""

    async def _check(limits: RateLimits) -> None:
        await limits.per_ip(name, str(getattr(limits.settings, setting)))

    return Depends(_check)
