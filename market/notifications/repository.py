"""Queries on events, endpoints and deliveries; what each caller may read in `readable_*`."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from market.auth.principal import Principal
from market.notifications.models import (
    NotificationEvent,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from market.notifications.states import EndpointStatus


def audience_of(principal: Principal) -> str | None:
    """A participant's users hear about their participant; operators about the exchange."""
    if principal.participant_id is not None:
        return "participant"
    return "operators" if principal.has("operator") else None


def readable_events(principal: Principal) -> Select[NotificationEvent]:
    stmt = select(NotificationEvent).where(NotificationEvent.seq.is_not(None))
    if audience_of(principal) == "participant":
        return stmt.where(NotificationEvent.recipient_id == principal.participant_id)
    if audience_of(principal) == "operators":
        return stmt.where(NotificationEvent.audience == "operators")
    return stmt.where(NotificationEvent.id.is_(None))


def readable_endpoints(principal: Principal) -> Select[WebhookEndpoint]:
    stmt = select(WebhookEndpoint).where(WebhookEndpoint.status != EndpointStatus.DELETED)
    if audience_of(principal) == "participant":
        return stmt.where(WebhookEndpoint.participant_id == principal.participant_id)
    if audience_of(principal) == "operators":
        return stmt.where(WebhookEndpoint.audience == "operators")
    return stmt.where(WebhookEndpoint.id.is_(None))


async def events_after(
    session: AsyncSession, principal: Principal, after: int, limit: int, types: list[str]
) -> list[NotificationEvent]:
    stmt = readable_events(principal).where(NotificationEvent.seq > after)
    if types:
        stmt = stmt.where(NotificationEvent.type.in_(types))
    stmt = stmt.order_by(NotificationEvent.seq).limit(limit)
    return list((await session.execute(stmt)).scalars())


async def endpoints(session: AsyncSession, principal: Principal) -> list[WebhookEndpoint]:
    stmt = readable_endpoints(principal).order_by(WebhookEndpoint.created_at)
    return list((await session.execute(stmt)).scalars())


async def endpoint(
    session: AsyncSession, principal: Principal, endpoint_id: uuid.UUID, *, lock: bool = False
) -> WebhookEndpoint | None:
    stmt = readable_endpoints(principal).where(WebhookEndpoint.id == endpoint_id)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def count_endpoints(session: AsyncSession, principal: Principal) -> int:
    return len(await endpoints(session, principal))


async def deliveries(
    session: AsyncSession, endpoint_id: uuid.UUID, limit: int
) -> list[tuple[WebhookDelivery, NotificationEvent]]:
    stmt = (
        select(WebhookDelivery, NotificationEvent)
        .join(NotificationEvent, NotificationEvent.id == WebhookDelivery.event_id)
        .where(WebhookDelivery.endpoint_id == endpoint_id)
        .order_by(NotificationEvent.seq.desc())
        .limit(limit)
    )
    return [(d, e) for d, e in (await session.execute(stmt)).all()]


async def attempts(session: AsyncSession, delivery_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Any]]:
    found: dict[uuid.UUID, list[Any]] = {d: [] for d in delivery_ids}
    stmt = (
        select(WebhookAttempt)
        .where(WebhookAttempt.delivery_id.in_(delivery_ids))
        .order_by(WebhookAttempt.delivery_id, WebhookAttempt.number)
    )
    for attempt in (await session.execute(stmt)).scalars():
        found[attempt.delivery_id].append(attempt)
    return found


async def delivery_of(
    session: AsyncSession, principal: Principal, delivery_id: uuid.UUID
) -> tuple[WebhookDelivery, WebhookEndpoint] | None:
    stmt = (
        select(WebhookDelivery, WebhookEndpoint)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(
            WebhookDelivery.id == delivery_id,
            WebhookEndpoint.id.in_(readable_endpoints(principal).with_only_columns(WebhookEndpoint.id)),
        )
        .with_for_update(of=WebhookDelivery)
    )
    row = (await session.execute(stmt)).one_or_none()
    return (row[0], row[1]) if row else None
