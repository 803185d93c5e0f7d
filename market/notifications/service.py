"""Use cases: register, list, delete and re-enable webhook endpoints, read the delivery log,
replay a delivery, and read the event feed."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from market.audit.log import record
from market.auth.principal import Principal
from market.common.clock import now
from market.errors import Conflict, Forbidden, NotFound
from market.jobs import enqueue
from market.notifications import repository, signing, targets
from market.notifications.models import NotificationEvent, WebhookDelivery, WebhookEndpoint
from market.notifications.schemas import EndpointCreate
from market.notifications.states import DELIVERIES, ENDPOINTS, DeliveryStatus, EndpointStatus
from market.settings import Settings

MAX_ENDPOINTS = 10


def _audience(principal: Principal) -> str:
    audience = repository.audience_of(principal)
    if audience is None:
        raise Forbidden("webhook endpoints belong to participants, or to the exchange's operators")
    return audience


async def create_endpoint(
    session: AsyncSession, settings: Settings, principal: Principal, data: EndpointCreate
) -> tuple[WebhookEndpoint, str]:
    """The endpoint and its signing secret (which the caller shows once)."""
    audience = _audience(principal)
    await targets.check(data.url, production=settings.mode == "production")
    if await repository.count_endpoints(session, principal) >= MAX_ENDPOINTS:
        raise Conflict(f"at most {MAX_ENDPOINTS} webhook endpoints; delete one first")
    secret = signing.new_secret()
    at = now()
    endpoint = WebhookEndpoint(
        id=uuid.uuid4(),
        participant_id=principal.participant_id if audience == "participant" else None,
        audience=audience,
        url=data.url,
        description=data.description,
        event_types=sorted(set(data.event_types)),
        secret=secret,
        status=EndpointStatus.ENABLED,
        consecutive_failures=0,
        created_by=principal.actor,
        created_at=at,
        updated_at=at,
    )
    session.add(endpoint)
    await session.flush()
    await _audit(session, principal, "webhook_endpoint.created", endpoint, {"url": data.url})
    return endpoint, secret


async def _audit(
    session: AsyncSession,
    principal: Principal,
    action: str,
    endpoint: WebhookEndpoint,
    payload: dict[str, str],
) -> None:
    await record(
        session,
        actor=principal.actor,
        action=action,
        subject_type="webhook_endpoint",
        subject_id=endpoint.id,
        payload={**payload, "audience": endpoint.audience},
    )


async def list_endpoints(session: AsyncSession, principal: Principal) -> list[WebhookEndpoint]:
    _audience(principal)
    return await repository.endpoints(session, principal)


async def visible_endpoint(
    session: AsyncSession, principal: Principal, endpoint_id: uuid.UUID, *, lock: bool = False
) -> WebhookEndpoint:
    found = await repository.endpoint(session, principal, endpoint_id, lock=lock)
    if found is None:
        raise NotFound("webhook endpoint not found")
    return found


async def delete_endpoint(session: AsyncSession, principal: Principal, endpoint_id: uuid.UUID) -> None:
    endpoint = await visible_endpoint(session, principal, endpoint_id, lock=True)
    ENDPOINTS.check(endpoint.status, EndpointStatus.DELETED)
    endpoint.status, endpoint.updated_at = EndpointStatus.DELETED, now()
    await _audit(session, principal, "webhook_endpoint.deleted", endpoint, {"url": endpoint.url})


async def enable_endpoint(
    session: AsyncSession, principal: Principal, endpoint_id: uuid.UUID
) -> WebhookEndpoint:
    """Enable again an endpoint disabled after repeated failure; what is pending goes out."""
    endpoint = await visible_endpoint(session, principal, endpoint_id, lock=True)
    ENDPOINTS.check(endpoint.status, EndpointStatus.ENABLED)
    endpoint.status, endpoint.status_reason = EndpointStatus.ENABLED, None
    endpoint.consecutive_failures, endpoint.updated_at = 0, now()
    await _audit(session, principal, "webhook_endpoint.enabled", endpoint, {"url": endpoint.url})
    from market.notifications.jobs import deliver_notifications

    await enqueue(session, deliver_notifications)
    return endpoint


async def delivery_log(
    session: AsyncSession, principal: Principal, endpoint_id: uuid.UUID, limit: int
) -> tuple[list[tuple[WebhookDelivery, NotificationEvent]], dict[uuid.UUID, list[object]]]:
    await visible_endpoint(session, principal, endpoint_id)
    rows = await repository.deliveries(session, endpoint_id, limit)
    return rows, await repository.attempts(session, [d.id for d, _ in rows])


async def replay(session: AsyncSession, principal: Principal, delivery_id: uuid.UUID) -> WebhookDelivery:
    """Send a delivery again (failed, or delivered and lost on the receiver's side)."""
    found = await repository.delivery_of(session, principal, delivery_id)
    if found is None:
        raise NotFound("delivery not found")
    delivery, endpoint = found
    if endpoint.status != EndpointStatus.ENABLED:
        raise Conflict(
            f"the endpoint is {endpoint.status}; enable it first (POST /v1/webhook-endpoints/"
            f"{endpoint.id}/enable)"
        )
    DELIVERIES.check(delivery.status, DeliveryStatus.PENDING)
    delivery.status, delivery.next_attempt_at = DeliveryStatus.PENDING, now()
    delivery.claimed_until, delivery.replay_requested_by = None, principal.actor
    from market.notifications.jobs import deliver_notifications

    await enqueue(session, deliver_notifications)
    return delivery


async def feed(
    session: AsyncSession, principal: Principal, after: int, limit: int, types: list[str]
) -> list[NotificationEvent]:
    _audience(principal)
    return await repository.events_after(session, principal, after, limit, types)
