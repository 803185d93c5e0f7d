"""HTTP: webhook endpoints (secret shown once), their delivery log and replay, and the event
feed `GET /v1/events?after=`."""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status
from fastapi.responses import JSONResponse

from market.auth.principal import Authenticated
from market.db.session import Session
from market.errors import Conflict, Forbidden, InvalidInput, NotFound, problem_responses
from market.idempotency.service import IdempotencyKey, idempotent
from market.notifications import service
from market.notifications.delivery import message_id
from market.notifications.models import WebhookEndpoint
from market.notifications.schemas import (
    AttemptOut,
    DeliveryOut,
    EndpointCreate,
    EndpointCreated,
    EndpointOut,
    EventOut,
    EventPage,
)
from market.runtime import AppSettings

router = APIRouter(prefix="/v1", tags=["notifications"])
NO_STORE = {"Cache-Control": "no-store"}


class EndpointAlreadyCreated(Conflict):
    code = "webhook-endpoint-already-created"

    def __init__(self, endpoint_id: str) -> None:
        super().__init__(
            f"webhook endpoint {endpoint_id} was already created under this Idempotency-Key. Its "
            "secret was shown once, in that first answer; if it was lost, delete the endpoint "
            f"(DELETE /v1/webhook-endpoints/{endpoint_id}) and create another.",
            extra={"webhook_endpoint_id": endpoint_id},
        )


def endpoint_out(e: WebhookEndpoint) -> EndpointOut:
    return EndpointOut.model_validate(e, from_attributes=True)


@router.post(
    "/webhook-endpoints",
    status_code=status.HTTP_201_CREATED,
    response_model=EndpointCreated,
    summary="Register a webhook endpoint; its signing secret is shown once",
    responses=problem_responses(InvalidInput, Forbidden, EndpointAlreadyCreated),
)
async def create_endpoint(
    data: EndpointCreate,
    settings: AppSettings,
    session: Session,
    principal: Authenticated,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    call = idempotent(session, principal.actor, idempotency_key, "webhook_endpoints.create", data)
    if first := await call.first():
        raise EndpointAlreadyCreated(json.loads(first.response_body)["id"])
    endpoint, secret = await service.create_endpoint(session, settings, principal, data)
    out = await call.remember(endpoint_out(endpoint))  # the stored answer leaves the secret out
    body = EndpointCreated(**out.model_dump(), secret=secret)
    return JSONResponse(body.model_dump(mode="json"), status_code=201, headers=NO_STORE)


@router.get(
    "/webhook-endpoints",
    response_model=list[EndpointOut],
    summary="Your webhook endpoints (operators: the exchange's)",
    responses=problem_responses(Forbidden),
)
async def list_endpoints(session: Session, principal: Authenticated) -> list[EndpointOut]:
    return [endpoint_out(e) for e in await service.list_endpoints(session, principal)]


@router.get(
    "/webhook-endpoints/{endpoint_id}",
    response_model=EndpointOut,
    summary="A webhook endpoint",
    responses=problem_responses(NotFound),
)
async def read_endpoint(endpoint_id: uuid.UUID, session: Session, principal: Authenticated) -> EndpointOut:
    return endpoint_out(await service.visible_endpoint(session, principal, endpoint_id))


@router.delete(
    "/webhook-endpoints/{endpoint_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a webhook endpoint: nothing more is sent to it",
    responses=problem_responses(NotFound, Conflict),
)
async def delete_endpoint(endpoint_id: uuid.UUID, session: Session, principal: Authenticated) -> Response:
    await service.delete_endpoint(session, principal, endpoint_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/webhook-endpoints/{endpoint_id}/enable",
    response_model=EndpointOut,
    summary="Enable an endpoint disabled after repeated failure",
    responses=problem_responses(NotFound, Conflict),
)
async def enable_endpoint(endpoint_id: uuid.UUID, session: Session, principal: Authenticated) -> EndpointOut:
    return endpoint_out(await service.enable_endpoint(session, principal, endpoint_id))


@router.get(
    "/webhook-endpoints/{endpoint_id}/deliveries",
    response_model=list[DeliveryOut],
    summary="The delivery log of an endpoint: each event, its status and every attempt",
    responses=problem_responses(NotFound),
)
async def delivery_log(
    endpoint_id: uuid.UUID,
    session: Session,
    principal: Authenticated,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[DeliveryOut]:
    rows, attempts = await service.delivery_log(session, principal, endpoint_id, limit)
    return [
        DeliveryOut(
            id=d.id,
            event_id=message_id(e.id),
            event_type=e.type,
            status=d.status,
            attempts=d.attempts,
            next_attempt_at=d.next_attempt_at if d.status == "pending" else None,
            delivered_at=d.delivered_at,
            last_status_code=d.last_status_code,
            last_error=d.last_error,
            log=[AttemptOut.model_validate(a, from_attributes=True) for a in attempts[d.id]],
        )
        for d, e in rows
    ]


@router.post(
    "/webhook-deliveries/{delivery_id}/replay",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Send a delivery again (same webhook-id); it goes out with the next delivery run",
    responses=problem_responses(NotFound, Conflict),
)
async def replay(delivery_id: uuid.UUID, session: Session, principal: Authenticated) -> dict[str, str]:
    delivery = await service.replay(session, principal, delivery_id)
    return {"id": str(delivery.id), "status": delivery.status}


@router.get(
    "/events",
    response_model=EventPage,
    summary="Your notifications as a feed, oldest first; read on with ?after=next_after",
    responses=problem_responses(Forbidden),
)
async def events(
    session: Session,
    principal: Authenticated,
    after: Annotated[int, Query(ge=0, le=2**62, description="The seq to read after (0: the start)")] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    type: Annotated[list[str] | None, Query(max_length=20, description="Only these event types")] = None,
) -> EventPage:
    rows = await service.feed(session, principal, after, limit, type or [])
    items = [
        EventOut(
            id=message_id(e.id),
            seq=e.seq or 0,
            type=e.type,
            subject_type=e.subject_type,
            subject_id=e.subject_id,
            data=e.data,
            created_at=e.created_at,
        )
        for e in rows
    ]
    return EventPage(items=items, next_after=items[-1].seq if items else after)
