"""The gateway's use cases: a seller sets its API product's upstream; a licence's usage by day is
read by its parties and summarised into the audit log; a delivery credential resolves to what
the gateway needs to forward a call (`resolve`)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from market.audit.log import record
from market.auth.principal import Principal
from market.catalog import products
from market.common.clock import now
from market.delivery import service as delivery
from market.errors import InvalidInput, MarketError, NotFound
from market.gateway import addresses, repository, sealing
from market.gateway.models import Upstream, UsageDay
from market.gateway.schemas import UpstreamIn, UpstreamOut, UsageDayOut, UsageOut
from market.settings import Settings


class UpstreamFailed(MarketError):
    code, title, status = "upstream-error", "The upstream failed", 502


class UpstreamTimeout(MarketError):
    code, title, status = "upstream-timeout", "The upstream did not answer in time", 504


class RateLimited(MarketError):
    code, title, status = "rate-limited", "Too many calls", 429


def private_upstreams_allowed(settings: Settings) -> bool:
    """Only production refuses loopback and private upstreams: embedded and test runs let a
    seller try its API on its own machine."""
    return settings.mode != "production"


async def check_upstream_url(settings: Settings, url: str) -> None:
    """422 naming `body.base_url` for a URL that is not an upstream, or (production) one that
    resolves into a loopback, private or link-local network. Resolves names: call it before the
    request's session opens."""
    try:
        addresses.parse(url)
        if not private_upstreams_allowed(settings):
            await addresses.check_public(url)
    except addresses.UnsafeUpstream as exc:
        raise InvalidInput(f"base_url {exc}", fields=[("body.base_url", str(exc))]) from exc


async def _sellers_api_product(session: AsyncSession, principal: Principal, product_id: uuid.UUID) -> None:
    product = await products.find(session, product_id)
    if product is None or product.seller_id != principal.participant_id:
        raise NotFound("product not found")
    if product.delivery_mode != "api":
        raise InvalidInput(
            f"product {product_id} is delivered as {product.delivery_mode!r}: "
            "only an API product has an upstream",
            fields=[("path.product_id", "not an API product")],
        )


async def set_upstream(
    session: AsyncSession, settings: Settings, principal: Principal, product_id: uuid.UUID, data: UpstreamIn
) -> Upstream:
    """Create or replace the product's upstream (its seller only); the secret is sealed, and an
    omitted secret keeps the one held. Audited without the secret."""
    await _sellers_api_product(session, principal, product_id)
    row = await repository.upstream(session, product_id, lock=True)
    if data.auth_secret is not None and data.auth_header is None:
        raise InvalidInput(
            "auth_secret needs auth_header", fields=[("body.auth_header", "required with a secret")]
        )
    secret_kept = row is not None and row.sealed_secret is not None and data.auth_secret is None
    if data.auth_header is not None and data.auth_secret is None and not secret_kept:
        raise InvalidInput(
            "auth_header needs auth_secret (none is held yet)", fields=[("body.auth_secret", "required")]
        )
    if row is None:
        row = Upstream(product_id=product_id, created_at=now())
        session.add(row)
    row.base_url = data.base_url.rstrip("/")
    row.auth_header = data.auth_header
    if data.auth_header is None:
        row.sealed_secret = None
    elif data.auth_secret is not None:
        row.sealed_secret = sealing.seal(settings, product_id, data.auth_secret)
    row.allowed_methods = data.allowed_methods
    row.allowed_path_prefixes = data.allowed_path_prefixes
    row.timeout_ms = round(data.timeout_seconds * 1000)
    row.count_failed_calls = data.count_failed_calls
    row.rate_limit = data.rate_limit
    row.updated_by = principal.actor
    row.updated_at = now()
    await record(
        session,
        actor=principal.actor,
        action="gateway.upstream_set",
        subject_type="product",
        subject_id=product_id,
        payload={
            "base_url": row.base_url,
            "auth_header": row.auth_header,
            "secret_changed": data.auth_secret is not None,
            "allowed_methods": row.allowed_methods,
            "allowed_path_prefixes": row.allowed_path_prefixes,
            "timeout_ms": row.timeout_ms,
            "count_failed_calls": row.count_failed_calls,
            "rate_limit": row.rate_limit,
        },
    )
    return row


async def read_upstream(session: AsyncSession, principal: Principal, product_id: uuid.UUID) -> Upstream:
    """The product's upstream, for its seller (and operators and auditors)."""
    product = await products.find(session, product_id)
    row = await repository.upstream(session, product_id)
    if (
        product is None
        or row is None
        or not (principal.can_see_all() or principal.participant_id == product.seller_id)
    ):
        raise NotFound("upstream not found")
    return row


def upstream_out(row: Upstream) -> UpstreamOut:
    return UpstreamOut(
        product_id=row.product_id,
        base_url=row.base_url,
        auth_header=row.auth_header,
        auth_secret_set=row.sealed_secret is not None,
        allowed_methods=row.allowed_methods,
        allowed_path_prefixes=row.allowed_path_prefixes,
        timeout_seconds=row.timeout_ms / 1000,
        count_failed_calls=row.count_failed_calls,
        rate_limit=row.rate_limit,
        gateway_path=f"/gateway/{row.product_id}/",
        updated_at=row.updated_at,
    )


async def usage(session: AsyncSession, principal: Principal, licence_id: uuid.UUID) -> UsageOut:
    """A licence's quota and its calls by day (as flushed by the gateways), for its buyer and
    seller (and operators and auditors); anyone else 404."""
    licence = await delivery.visible_licence(session, principal, licence_id)
    quota = await delivery.quota_of(session, licence.id)
    days = await repository.usage_days(session, licence.id)
    return UsageOut(
        licence_id=licence.id,
        call_quota=quota.call_quota,
        calls_used=quota.calls_used,
        quota_period=quota.quota_period,
        days=[UsageDayOut(day=d.day, calls=d.calls, failed_calls=d.failed_calls) for d in days],
    )


async def summarise_usage(session: AsyncSession, *, before: date, limit: int = 500) -> Sequence[UsageDay]:
    """Tell the audit log each finished day's calls per licence (one entry per licence and day;
    a day that grew after its summary, from a late flush, gets one more entry with the rest)."""
    days = await repository.unsummarised_days(session, before, limit=limit)
    for day in days:
        await record(
            session,
            actor="system:gateway",
            action="usage.daily",
            subject_type="licence",
            subject_id=day.licence_id,
            payload={
                "day": day.day.isoformat(),
                "calls": day.calls - day.summarised_calls,
                "failed_calls": day.failed_calls - day.summarised_failed_calls,
                "calls_total": day.calls,
            },
        )
        day.summarised_calls, day.summarised_failed_calls = day.calls, day.failed_calls
    return days


@dataclass(frozen=True)
class UpstreamTarget:
    """An upstream as the gateway forwards to it (its secret unsealed, kept in memory only)."""

    base_url: str
    auth_header: str | None
    auth_secret: str | None
    allowed_methods: frozenset[str]
    allowed_path_prefixes: tuple[str, ...]
    timeout_seconds: float
    count_failed_calls: bool
    rate_limit: str


@dataclass(frozen=True)
class Target:
    access: delivery.ApiAccess
    upstream: UpstreamTarget | None
    refused: str | None = None  # why calls to this upstream are refused now (production)


async def vetted(settings: Settings, target: Target) -> Target:
    """In production, the upstream's name is resolved again whenever the target is (each
    second at most per licence and process), so a name that moved into a private network since
    it was set is refused too."""
    if target.upstream is None or private_upstreams_allowed(settings):
        return target
    try:
        await addresses.check_public(target.upstream.base_url)
    except addresses.UnsafeUpstream as exc:
        return Target(target.access, target.upstream, refused=str(exc))
    return target


async def resolve(session: AsyncSession, settings: Settings, credential: str) -> Target | None:
    """What a delivery credential opens, with its product's upstream (None: no such credential)."""
    access = await delivery.api_access(session, credential)
    if access is None:
        return None
    row = await repository.upstream(session, access.licence.product_id)
    if row is None:
        return Target(access, None)
    return Target(
        access,
        UpstreamTarget(
            base_url=row.base_url,
            auth_header=row.auth_header,
            auth_secret=(
                None
                if row.sealed_secret is None
                else sealing.unseal(settings, row.product_id, row.sealed_secret)
            ),
            allowed_methods=frozenset(row.allowed_methods),
            allowed_path_prefixes=tuple(row.allowed_path_prefixes),
            timeout_seconds=row.timeout_ms / 1000,
            count_failed_calls=row.count_failed_calls,
            rate_limit=row.rate_limit,
        ),
    )
