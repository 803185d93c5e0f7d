"""Delivering the outbox: sequence new events into the feed and fan each out to its
recipient's endpoints (once, under the sequencer's lock), then send what is due.

Sending never holds a lock: a batch of due deliveries is claimed (`claimed_until`, with SKIP
LOCKED so concurrent senders take different ones) and committed, the requests go out, and each
result is recorded in a short transaction of its own. A 2xx delivers; anything else is retried
after base, 2*base, 4*base, ... seconds up to `webhook_max_attempts`, and after
`webhook_disable_after_failures` failed attempts in a row the endpoint is disabled (its owner
enables it again, and can replay what failed). Delivery is at least once: a sender that dies
mid-request lets its claim lapse and the delivery goes out again with the same `webhook-id`,
on which receivers deduplicate.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import timedelta

from sqlalchemy import func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from market.common.clock import now
from market.notifications import signing
from market.notifications.models import (
    NotificationEvent,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from market.notifications.sender import SendResult, WebhookSender
from market.notifications.states import DELIVERIES, ENDPOINTS, DeliveryStatus, EndpointStatus
from market.settings import Settings

SEQUENCER_LOCK = 7_262_017  # one sequencer of the feed at a time (PostgreSQL advisory lock)
BATCH = 20


def message_id(event_id: uuid.UUID) -> str:
    return f"evt_{event_id.hex}"


def body_of(event: NotificationEvent) -> bytes:
    return json.dumps(
        {
            "id": message_id(event.id),
            "type": event.type,
            "timestamp": event.created_at.isoformat(),
            "data": {"subject_type": event.subject_type, "subject_id": event.subject_id, **event.data},
        },
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode("utf-8")


def _wants(endpoint: WebhookEndpoint, event: NotificationEvent) -> bool:
    return not endpoint.event_types or event.type in endpoint.event_types


async def sequence_events(session: AsyncSession) -> int:
    """Number the committed, unsequenced events (the feed's order) and create their
    deliveries. The lock makes each event sequenced, and fanned out, exactly once."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": SEQUENCER_LOCK})
    top = int(await session.scalar(select(func.coalesce(func.max(NotificationEvent.seq), 0))) or 0)
    pending = list(
        (
            await session.execute(
                select(NotificationEvent)
                .where(NotificationEvent.seq.is_(None))
                .order_by(NotificationEvent.created_at, NotificationEvent.id)
                .limit(1000)
            )
        ).scalars()
    )
    if not pending:
        return 0
    endpoints = list(
        (
            await session.execute(
                select(WebhookEndpoint).where(WebhookEndpoint.status != EndpointStatus.DELETED)
            )
        ).scalars()
    )
    at = now()
    for offset, event in enumerate(pending, start=1):
        event.seq = top + offset
        for endpoint in endpoints:
            mine = (
                endpoint.audience == "operators"
                if event.audience == "operators"
                else endpoint.participant_id == event.recipient_id
            )
            if mine and _wants(endpoint, event):
                session.add(
                    WebhookDelivery(
                        id=uuid.uuid4(),
                        event_id=event.id,
                        endpoint_id=endpoint.id,
                        status=DeliveryStatus.PENDING,
                        attempts=0,
                        next_attempt_at=at,
                        created_at=at,
                    )
                )
    await session.flush()
    return len(pending)


async def claim_due(session: AsyncSession, settings: Settings) -> list[uuid.UUID]:
    """Take up to BATCH due deliveries to enabled endpoints for one sending round."""
    at = now()
    due = (
        select(WebhookDelivery.id)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(
            WebhookDelivery.status == DeliveryStatus.PENDING,
            WebhookDelivery.next_attempt_at <= at,
            or_(WebhookDelivery.claimed_until.is_(None), WebhookDelivery.claimed_until < at),
            WebhookEndpoint.status == EndpointStatus.ENABLED,
        )
        .order_by(WebhookDelivery.next_attempt_at)
        .limit(BATCH)
        .with_for_update(of=WebhookDelivery, skip_locked=True)
    )
    ids = list((await session.execute(due)).scalars())
    if ids:
        lease = timedelta(seconds=2 * settings.webhook_timeout_seconds + 5)
        await session.execute(
            update(WebhookDelivery).where(WebhookDelivery.id.in_(ids)).values(claimed_until=at + lease)
        )
    return ids


async def load(
    session: AsyncSession, delivery_ids: list[uuid.UUID]
) -> list[tuple[WebhookDelivery, NotificationEvent, WebhookEndpoint]]:
    stmt = (
        select(WebhookDelivery, NotificationEvent, WebhookEndpoint)
        .join(NotificationEvent, NotificationEvent.id == WebhookDelivery.event_id)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(WebhookDelivery.id.in_(delivery_ids))
    )
    return [(d, e, p) for d, e, p in (await session.execute(stmt)).all()]


async def send_one(sender: WebhookSender, event: NotificationEvent, endpoint: WebhookEndpoint) -> SendResult:
    body = body_of(event)
    headers = signing.headers(endpoint.secret, message_id(event.id), int(now().timestamp()), body)
    return await sender.send(endpoint.url, headers, body)


def backoff(settings: Settings, attempts: int) -> timedelta:
    return timedelta(seconds=settings.webhook_backoff_base_seconds * 2 ** max(0, attempts - 1))


async def record(
    session: AsyncSession,
    settings: Settings,
    delivery_id: uuid.UUID,
    result: SendResult,
) -> timedelta | None:
    """Log the attempt and move the delivery on; the delay until its retry, if there is one."""
    delivery = await session.get(WebhookDelivery, delivery_id, with_for_update=True, populate_existing=True)
    assert delivery is not None
    endpoint = await session.get(
        WebhookEndpoint, delivery.endpoint_id, with_for_update=True, populate_existing=True
    )
    assert endpoint is not None
    at = now()
    delivery.attempts += 1
    trigger = "replay" if delivery.replay_requested_by else "automatic"
    delivery.replay_requested_by = None
    session.add(
        WebhookAttempt(
            delivery_id=delivery.id,
            number=delivery.attempts,
            trigger=trigger,
            attempted_at=at,
            status_code=result.status_code,
            error=result.error,
            duration_ms=result.duration_ms,
        )
    )
    delivery.claimed_until = None
    delivery.last_status_code, delivery.last_error = result.status_code, result.error
    if delivery.status != DeliveryStatus.PENDING:
        return None  # delivered meanwhile by a sender whose claim outlived ours
    if result.ok:
        DELIVERIES.check(delivery.status, DeliveryStatus.DELIVERED)
        delivery.status, delivery.delivered_at = DeliveryStatus.DELIVERED, at
        endpoint.consecutive_failures = 0
        return None
    endpoint.consecutive_failures += 1
    if (
        endpoint.status == EndpointStatus.ENABLED
        and endpoint.consecutive_failures >= settings.webhook_disable_after_failures
    ):
        ENDPOINTS.check(endpoint.status, EndpointStatus.DISABLED)
        endpoint.status = EndpointStatus.DISABLED
        endpoint.status_reason = (
            f"disabled after {endpoint.consecutive_failures} failed deliveries in a row "
            f"(last: {result.status_code or result.error})"
        )
        endpoint.updated_at = at
    if delivery.attempts >= settings.webhook_max_attempts:
        DELIVERIES.check(delivery.status, DeliveryStatus.FAILED)
        delivery.status = DeliveryStatus.FAILED
        return None
    wait = backoff(settings, delivery.attempts)
    delivery.next_attempt_at = at + wait
    return wait


async def send_claimed(
    settings: Settings,
    sender: WebhookSender,
    claimed: list[tuple[WebhookDelivery, NotificationEvent, WebhookEndpoint]],
) -> list[tuple[uuid.UUID, SendResult]]:
    """The requests of one round, side by side (a slow endpoint does not hold up the others)."""
    results = await asyncio.gather(*(send_one(sender, event, endpoint) for _d, event, endpoint in claimed))
    return [(delivery.id, result) for (delivery, _e, _p), result in zip(claimed, results, strict=True)]
