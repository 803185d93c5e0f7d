"""HTTP: an API product's upstream, a licence's usage by day, and the gateway itself."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response

from market.auth.principal import Authenticated, Seller
from market.db.session import Session
from market.delivery.service import DeliveryRevoked, QuotaExceeded
from market.errors import Forbidden, NotFound, Unauthenticated, problem_responses
from market.gateway import service
from market.gateway.proxy import GATEWAY, UPSTREAM_CLIENT
from market.gateway.schemas import METHODS, UpstreamIn, UpstreamOut, UsageOut
from market.runtime import AppSettings, get_runtime

router = APIRouter(tags=["gateway"])


@router.put(
    "/v1/products/{product_id}/upstream",
    response_model=UpstreamOut,
    summary="Set where the gateway forwards an API product's calls (its secret is never shown again)",
    responses=problem_responses(NotFound),
)
async def put_upstream(
    product_id: uuid.UUID, data: UpstreamIn, settings: AppSettings, principal: Seller, session: Session
) -> UpstreamOut:
    # Resolving the upstream's name may take a while: before the session's transaction starts.
    await service.check_upstream_url(settings, data.base_url)
    row = await service.set_upstream(session, settings, principal, product_id, data)
    return service.upstream_out(row)


@router.get(
    "/v1/products/{product_id}/upstream",
    response_model=UpstreamOut,
    summary="An API product's upstream, without its secret",
    responses=problem_responses(NotFound),
)
async def get_upstream(product_id: uuid.UUID, principal: Authenticated, session: Session) -> UpstreamOut:
    return service.upstream_out(await service.read_upstream(session, principal, product_id))


@router.get(
    "/v1/deliveries/{licence_id}/usage",
    response_model=UsageOut,
    summary="A licence's quota and its gateway calls by day (buyer, seller)",
    responses=problem_responses(NotFound),
)
async def get_usage(licence_id: uuid.UUID, principal: Authenticated, session: Session) -> UsageOut:
    return await service.usage(session, principal, licence_id)


@router.api_route(
    "/gateway/{product_id}/{path:path}",
    methods=list(METHODS),
    summary="Call a bought API through the exchange (delivery credential in X-Delivery-Credential or Bearer)",
    response_class=Response,
    responses={
        200: {
            "description": "the upstream's answer, streamed as it came (status, body and content headers)",
            "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
        },
        **problem_responses(
            Unauthenticated,
            Forbidden,
            NotFound,
            DeliveryRevoked,
            QuotaExceeded,
            service.UpstreamFailed,
            service.UpstreamTimeout,
        ),
    },
)
async def gateway(product_id: str, path: str, request: Request) -> Response:
    # The ports are looked up here rather than as dependencies: FastAPI runs a sync dependency
    # in a worker thread, a hop every call through the gateway would pay.
    runtime = get_runtime(request)
    return await runtime.port(GATEWAY).forward(request, product_id, path, runtime.port(UPSTREAM_CLIENT))
